"""Sign-in hardening against SQLite and PostgreSQL: OWASP scrypt parameters, re-hashing, throttling.

Throttling, worked out by hand (window 15 minutes, 5 failures per username, 10 per browser):
failures for 'ana' at 12:00:00, :10, :20, :30 and :40 are five inside the window, so the next
attempt waits until the fifth newest (12:00:00) leaves it: 12:15:00. At 12:15:01 only four
remain and the right password signs in.
"""

from __future__ import annotations

import base64
import hashlib
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from journeymap.access import hash_password, needs_rehash, verify_password
from journeymap.errors import UserInputError
from journeymap.store import access as store_access
from journeymap.store import make_engine, session_scope
from journeymap.store.access import (
    ACCOUNT_FAILURE_LIMIT,
    CLIENT_FAILURE_LIMIT,
    FAILURE_WINDOW,
    SignInFailure,
    SignInThrottled,
    UserAccount,
    authenticate,
    create_user,
    sign_in_retry_at,
)

pytestmark = pytest.mark.real_scrypt  # the production parameters are what these tests check

NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
OLD_PARAMS = (2**14, 8, 1)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def old_hash(password: str) -> str:
    """A hash as the previous release wrote it (n=2**14)."""
    n, r, p = OLD_PARAMS
    salt = bytes(range(16))
    key = hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${_b64(salt)}${_b64(key)}"


def _fail(session: Session, username: str, *, at: datetime, client_key: str = "browser-1") -> None:
    with pytest.raises(UserInputError, match="wrong username or password"):
        authenticate(session=session, username=username, password="wrong password", client_key=client_key, now=at)


def _failures(session: Session) -> list[tuple[str, str | None]]:
    session.expire_all()
    rows = session.exec(select(SignInFailure).order_by(col(SignInFailure.id))).all()
    return [(row.username, row.client_hash) for row in rows]


def test_policy_constants_are_the_documented_ones() -> None:
    assert (5, 10, timedelta(minutes=15)) == (ACCOUNT_FAILURE_LIMIT, CLIENT_FAILURE_LIMIT, FAILURE_WINDOW)


def test_new_hashes_use_owasp_parameters_and_take_a_measurable_time() -> None:
    started = time.perf_counter()
    stored = hash_password("correct horse")
    elapsed = time.perf_counter() - started
    assert stored.split("$")[1:4] == ["131072", "8", "1"]
    assert not needs_rehash(stored) and needs_rehash(old_hash("correct horse"))
    assert verify_password("correct horse", stored) and verify_password("correct horse", old_hash("correct horse"))
    # 128 MiB of scrypt work: well above the old ~0.05 s, still well under a second here.
    assert 0.05 < elapsed < 5


def test_a_stored_hash_asking_for_absurd_memory_is_refused_not_computed() -> None:
    salt, key = _b64(b"\0" * 16), _b64(b"\0" * 32)
    started = time.perf_counter()
    assert verify_password("x", f"scrypt${2**30}$8$1${salt}${key}") is False
    assert verify_password("x", f"scrypt$16384$64$1${salt}${key}") is False
    assert time.perf_counter() - started < 0.5


def test_an_old_hash_is_replaced_on_the_next_successful_sign_in_only(session: Session) -> None:
    create_user(session=session, username="ana", password="correct horse", display_name="Ana")
    session.exec(update(UserAccount).values(password_hash=old_hash("correct horse")))
    session.commit()
    _fail(session, "ana", at=NOON)
    session.expire_all()
    assert session.exec(select(UserAccount.password_hash)).one() == old_hash("correct horse")

    account = authenticate(session=session, username="ana", password="correct horse", now=NOON)
    assert account.username == "ana"
    session.expire_all()
    stored = session.exec(select(UserAccount.password_hash)).one()
    assert stored.startswith("scrypt$131072$8$1$") and verify_password("correct horse", stored)
    # And the new hash keeps signing in.
    assert authenticate(session=session, username="ana", password="correct horse", now=NOON).username == "ana"


def test_five_failures_make_the_username_wait_then_the_right_password_works(session: Session) -> None:
    create_user(session=session, username="ana", password="correct horse")
    for second in range(0, 50, 10):
        _fail(session, "ana", at=NOON + timedelta(seconds=second))
    # Even the right password is refused while waiting, and the refusal is not counted as a failure.
    with pytest.raises(SignInThrottled) as refused:
        authenticate(session=session, username="ANA ", password="correct horse", client_key="other", now=NOON)
    assert refused.value.retry_at == NOON + FAILURE_WINDOW
    assert str(refused.value) == (
        "sign in: too many failed sign-ins for this username in the last 15 minutes. "
        "Try again after 12:15:00 UTC (in 15 minutes)."
    )
    assert len(_failures(session)) == 5
    almost = NOON + FAILURE_WINDOW - timedelta(seconds=1)
    with pytest.raises(SignInThrottled, match=r"Try again after 12:15:00 UTC \(in 1 minute\)"):
        authenticate(session=session, username="ana", password="correct horse", now=almost)

    after = NOON + FAILURE_WINDOW + timedelta(seconds=1)
    assert sign_in_retry_at(session=session, username="ana", client_key="browser-1", now=after) is None
    assert authenticate(session=session, username="ana", password="correct horse", now=after).username == "ana"
    assert _failures(session) == []  # a success forgets the username's failures


def test_unknown_usernames_are_throttled_like_real_ones(session: Session) -> None:
    create_user(session=session, username="ana", password="correct horse")
    for second in range(ACCOUNT_FAILURE_LIMIT):
        _fail(session, "nobody", at=NOON + timedelta(seconds=second), client_key=f"c{second}")
    with pytest.raises(SignInThrottled, match="for this username"):
        authenticate(session=session, username="nobody", password="x", client_key="fresh", now=NOON)
    # Other usernames are not affected.
    assert authenticate(session=session, username="ana", password="correct horse", now=NOON).username == "ana"


def test_one_browser_failing_on_many_usernames_has_to_wait(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_access, "CLIENT_FAILURE_LIMIT", 3)  # fewer slow password checks; same rule
    create_user(session=session, username="ana", password="correct horse")
    for index, name in enumerate(["bo", "cy", "di"]):
        _fail(session, name, at=NOON + timedelta(minutes=index), client_key="browser-1")
    with pytest.raises(SignInThrottled) as refused:
        authenticate(session=session, username="ana", password="correct horse", client_key="browser-1", now=NOON)
    assert "from this browser" in str(refused.value)
    assert refused.value.retry_at == NOON + FAILURE_WINDOW
    # Another browser may still sign in as ana; the client key is stored only as a hash.
    assert authenticate(session=session, username="ana", password="correct horse", client_key="browser-2", now=NOON)
    assert all(client != "browser-1" and len(client or "") == 64 for _, client in _failures(session))


def test_failures_are_shared_between_server_processes(engine: Engine) -> None:
    """Two engines on one database stand for two server processes: the count is in the database."""
    other = make_engine(engine.url.render_as_string(hide_password=False))
    try:
        with session_scope(engine) as first:
            create_user(session=first, username="ana", password="correct horse")
        for second in range(ACCOUNT_FAILURE_LIMIT):
            with Session(engine if second % 2 else other) as session:
                _fail(session, "ana", at=NOON + timedelta(seconds=second))
                session.commit()  # what the sign-in service does with a refused attempt
        with Session(other) as session, pytest.raises(SignInThrottled):
            authenticate(session=session, username="ana", password="correct horse", now=NOON + timedelta(minutes=1))
    finally:
        other.dispose()


def test_failures_older_than_the_window_are_dropped(session: Session) -> None:
    create_user(session=session, username="ana", password="correct horse")
    for second in range(3):
        _fail(session, "bo", at=NOON + timedelta(seconds=second))
    assert len(_failures(session)) == 3
    _fail(session, "cy", at=NOON + FAILURE_WINDOW + timedelta(minutes=1))
    assert [name for name, _ in _failures(session)] == ["cy"]


def test_the_sign_in_service_keeps_a_failed_attempt_and_signs_in_on_the_right_password(engine: Engine) -> None:
    from journeymap.access import Actor, Role
    from journeymap.services import accounts

    visitor = Actor("Guest", Role.GUEST)
    with session_scope(engine) as session:
        create_user(session=session, username="ana", password="correct horse", display_name="Ana")
    for _ in range(ACCOUNT_FAILURE_LIMIT):
        attempt = accounts.sign_in(engine, visitor, username="ana", password="wrong", client_key="b1")
        assert attempt.account is None and "wrong username or password" in str(attempt.refusal)
    with Session(engine) as session:
        assert len(_failures(session)) == ACCOUNT_FAILURE_LIMIT  # each refusal was committed
    throttled = accounts.sign_in(engine, visitor, username="ana", password="correct horse", client_key="b2")
    assert isinstance(throttled.refusal, SignInThrottled) and throttled.token == ""
    with session_scope(engine) as session:
        session.exec(update(SignInFailure).values(failed_at=NOON))  # the window has passed
    signed_in = accounts.sign_in(engine, visitor, username="ana", password="correct horse", client_key="b2")
    assert signed_in.refusal is None and signed_in.account is not None
    assert accounts.account_for_sign_in(engine, visitor, token=signed_in.token) == signed_in.account
    with Session(engine) as session:
        assert _failures(session) == []

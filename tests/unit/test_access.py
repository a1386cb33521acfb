"""Password hashing, tokens and role checks."""

from __future__ import annotations

import base64
import hashlib

import pytest

from journeymap.access import (
    Action,
    Actor,
    PermissionDenied,
    Role,
    can,
    check_password_strength,
    hash_password,
    hash_token,
    new_join_code,
    new_share_token,
    require,
    verify_password,
)
from journeymap.errors import UserInputError

pytestmark = pytest.mark.real_scrypt  # the production parameters are what these tests check


def test_right_password_verifies_and_wrong_ones_are_refused() -> None:
    stored = hash_password("correct horse battery")
    assert verify_password("correct horse battery", stored) is True
    assert verify_password("correct horse batterY", stored) is False
    assert verify_password("", stored) is False
    assert verify_password("correct horse battery ", stored) is False


def test_hash_is_not_the_password_and_has_scrypt_parameters() -> None:
    stored = hash_password("correct horse battery")
    assert "correct horse battery" not in stored
    scheme, n, r, p, salt, key = stored.split("$")
    assert (scheme, n, r, p) == ("scrypt", "131072", "8", "1")  # OWASP's scrypt parameters
    assert len(salt) == 22 and len(key) == 43  # 16 and 32 bytes in unpadded base64


def test_same_password_gets_different_hashes_and_both_verify() -> None:
    first, second = hash_password("same password"), hash_password("same password")
    assert first != second
    assert verify_password("same password", first) and verify_password("same password", second)


def test_fixed_salt_gives_the_known_scrypt_key() -> None:
    salt = bytes(range(16))
    expected = hashlib.scrypt(b"pw123456", salt=salt, n=2**17, r=8, p=1, dklen=32, maxmem=2**28)
    stored = hash_password("pw123456", salt=salt)
    assert stored.split("$")[4] == "AAECAwQFBgcICQoLDA0ODw"

    assert base64.urlsafe_b64decode(stored.split("$")[5] + "=") == expected


@pytest.mark.parametrize(
    "stored",
    ["", "plain", "pbkdf2$1$2$3$x$y", "scrypt$16384$8$1$!!!$abc", "scrypt$x$8$1$AAAA$AAAA", "scrypt$16384$8$1$AAAA"],
)
def test_malformed_stored_hash_never_matches(stored: str) -> None:
    assert verify_password("anything", stored) is False


def test_short_password_is_refused_with_the_field_named() -> None:
    with pytest.raises(UserInputError, match="field 'password': is shorter than 8 characters"):
        check_password_strength("1234567")
    check_password_strength("12345678")


def test_share_token_is_random_and_only_its_sha256_is_kept() -> None:
    tokens = {new_share_token() for _ in range(50)}
    assert len(tokens) == 50
    token = tokens.pop()
    assert len(token) == 32
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
    assert token not in hash_token(token)


def test_join_codes_avoid_ambiguous_characters() -> None:
    codes = "".join(new_join_code() for _ in range(200))
    assert not set(codes) & set("01OIL")


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        (Role.OWNER, set(Action)),
        (Role.EDITOR, set(Action) - {Action.MANAGE_ACCOUNTS}),
        (Role.VIEWER, {Action.READ_MAP, Action.READ_WORKSPACE, Action.COMMENT}),
        (Role.GUEST, set()),
    ],
)
def test_permission_table(role: Role, allowed: set[Action]) -> None:
    assert {a for a in Action if can(role, a)} == allowed


def test_require_refuses_with_a_message_that_says_what_to_do() -> None:
    viewer = Actor("Bo", Role.VIEWER)
    with pytest.raises(PermissionDenied) as caught:
        require(viewer, Action.EDIT_MAP)
    assert str(caught.value) == (
        "Bo: viewers may not edit maps. Ask an editor to do this for you, or the owner to make you an editor."
    )
    assert isinstance(caught.value, UserInputError)
    assert require(Actor("Ana", Role.EDITOR), Action.EDIT_MAP).name == "Ana"
    with pytest.raises(PermissionDenied) as editor_refused:
        require(Actor("Ana", Role.EDITOR), Action.MANAGE_ACCOUNTS)
    assert str(editor_refused.value) == (
        "Ana: editors may not manage accounts. Ask the workspace owner to do this for you."
    )
    with pytest.raises(PermissionDenied) as guest_refused:
        require(Actor("Share link", Role.GUEST, map_scope=3), Action.READ_MAP, map_id=4)
    assert str(guest_refused.value) == (
        "Share link: share-link visitors may not read this map. Sign in with an account that may do this."
    )
    assert require(Actor("Share link", Role.GUEST, map_scope=3), Action.READ_MAP, map_id=3).map_scope == 3

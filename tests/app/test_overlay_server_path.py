"""Reading the same file on the server twice, on the Overlay page's "File on the server" tab.

The file's hash is cached per (path, size, modification time); its progress bar is drawn by the page,
outside any cached function, so a second read of the same file (a cache hit) is as quiet as the first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from journeymap.services.data import hash_file
from journeymap.store import create_map, init_db, session_scope
from journeymap.ui.state import OverlayKeys
from tests.fixtures import bopis_map

PAGE = "views/overlay.py"


@pytest.fixture(autouse=True)
def _files_in_tmp_path_are_readable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """ "File on the server" reads only under the data roots: the test's own folder is one."""
    monkeypatch.setenv("JOURNEYMAP_DATA_ROOTS", str(tmp_path))


EVENTS = "customer_id,timestamp,touchpoint\nc1,2024-05-01T10:00:00,web-browse\nc1,2024-05-01T10:05:00,web-cart\n"


def _read(at: AppTest, path: Path) -> AppTest:
    at.text_input(key=OverlayKeys.PATH).input(str(path))
    return at.button(key=OverlayKeys.PATH_SUBMIT).click().run()


def test_the_same_server_path_read_twice_gives_the_same_source_and_no_error(
    make_app: Callable[..., AppTest], engine: object, tmp_path: Path
) -> None:
    init_db(engine)  # type: ignore[arg-type]
    with session_scope(engine) as session:  # type: ignore[arg-type]
        map_id = create_map(session=session, journey_map=bopis_map(), author="Test").map_id
    path = tmp_path / "events.csv"
    path.write_text(EVENTS, encoding="utf-8")
    at = make_app(PAGE)
    at.session_state[OverlayKeys.MAP_ID] = map_id
    at.run()
    first = _read(at, path)
    assert not first.exception, first.exception
    source = first.session_state[OverlayKeys.SOURCE]
    assert source.content_hash == hash_file(path)

    second = _read(first, path)
    assert not second.exception, second.exception
    assert not [e.value for e in second.error]
    assert second.session_state[OverlayKeys.SOURCE] == source

    # A changed file is hashed again: the cache key holds its size and modification time.
    path.write_text(EVENTS + "c2,2024-05-02T09:00:00,web-browse\n", encoding="utf-8")
    third = _read(second, path)
    assert not third.exception, third.exception
    assert third.session_state[OverlayKeys.SOURCE].content_hash == hash_file(path) != source.content_hash

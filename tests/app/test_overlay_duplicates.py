"""The mapping step's "Repeated rows" choice, on a four-line basket export worked out by hand.

``basket.csv``: c1 buys two lines at 09:00 (sku A and B, same price: equal in every mapped column,
different in ``sku``), and the file repeats c2's line exactly (a re-sent row, row 4)::

    row 1  c1  09:00  web  basket-line  A  9.99
    row 2  c1  09:00  web  basket-line  B  9.99
    row 3  c2  10:00  web  basket-line  C  4.99
    row 4  c2  10:00  web  basket-line  C  4.99

By default row 4 is left out and row 2 is kept (3 events); leaving out rows equal in the mapped
columns also drops row 2 (2 events). Row 2 holds 9.99 of the 29.96 in ``amount`` (the value column):
33%.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine
from streamlit.testing.v1 import AppTest

from journeymap.store import list_datasets, session_scope
from journeymap.ui.state import OverlayKeys
from tests.app.test_overlay_goals import _apply, _one, _read, map_id  # noqa: F401 (fixture)

BASKET = """customer_id,timestamp,channel,activity,sku,amount
c1,2024-05-01T09:00:00Z,web,basket-line,A,9.99
c1,2024-05-01T09:00:00Z,web,basket-line,B,9.99
c2,2024-05-01T10:00:00Z,web,basket-line,C,4.99
c2,2024-05-01T10:00:00Z,web,basket-line,C,4.99
"""


@pytest.mark.parametrize(
    ("choice", "events", "lines"),
    [
        (
            None,  # the default
            3,
            [
                "- excluded 1 row(s): exact duplicate event (rows 4)",
                "- 1 row repeats another row in every mapped column but differs in others: kept "
                "(rows 2; 33% of the total of 'amount')",
            ],
        ),
        (
            "drop-mapped",
            2,
            [
                "- excluded 1 row(s): exact duplicate event (rows 4)",
                "- excluded 1 row(s): repeats another row in every mapped column (differs in others) (rows 2)",
                "- the 1 row(s) left out as repeats in every mapped column hold 33% of the total of 'amount'",
            ],
        ),
    ],
)
def test_repeated_rows_are_chosen_in_the_mapping_step(
    make_app: Callable[..., AppTest],
    map_id: int,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    engine: Engine,
    choice: str | None,
    events: int,
    lines: list[str],
) -> None:
    monkeypatch.setenv("JOURNEYMAP_DATA_ROOTS", str(tmp_path))  # "File on the server" reads under the data roots
    path = tmp_path / "basket.csv"
    path.write_text(BASKET, encoding="utf-8")
    at = _read(make_app, map_id, path)
    # The guess offers every short text column as a segment filter: sku would be mapped, and differ.
    _one(at.multiselect, OverlayKeys.M_ATTRIBUTES).set_value([]).run()
    control = _one(at.selectbox, OverlayKeys.M_DUPLICATES)
    assert control.value == "drop-exact"
    if choice is not None:
        control.set_value(choice).run()
    _apply(at)
    with session_scope(engine) as session:
        (dataset,) = list_datasets(session=session)
    assert json.loads(dataset.mapping_json)["duplicates"] == (choice or "drop-exact")
    assert dataset.rows == events
    report = "\n".join(t.value for t in at.text).splitlines()
    assert [line for line in report if "repeat" in line or "duplicate" in line] == lines

"""The ``journeymap`` command end to end on tiny files."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from journeymap.cli import main
from journeymap.events.mapping import guess_mapping, mapping_to_json
from journeymap.events.read import read_events
from journeymap.model import map_to_json
from tests.unit.events.events_fixtures import shop_map, three_customers_csv


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    events = tmp_path / "three.csv"
    events.write_text(three_customers_csv())
    map_path = tmp_path / "map.json"
    map_path.write_text(map_to_json(shop_map()))
    mapping = tmp_path / "mapping.json"
    mapping.write_text(mapping_to_json(guess_mapping(read_events(events), shop_map())))
    return {"events": events, "map": map_path, "mapping": mapping, "dir": tmp_path}


def test_overlay_writes_every_frame(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    out = files["dir"] / "out"
    code = main(
        [
            "overlay",
            str(files["events"]),
            "--map",
            str(files["map"]),
            "--mapping",
            str(files["mapping"]),
            "--out",
            str(out),
            "--format",
            "csv",
            "--gap",
            "3d",
        ]
    )
    assert code == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [
        "channel_switch_matrix.csv",
        "conformance_undesigned.csv",
        "conformance_unknown_touchpoints.csv",
        "conformance_unobserved.csv",
        "designed_handoffs.csv",
        "friction.csv",
        "journeys.csv",
        "kpis.csv",
        "silo_handoffs.csv",
        "summary.txt",
        "team_switch_matrix.csv",
        "teams.csv",
        "touchpoints.csv",
        "transitions.csv",
        "validation.txt",
    ]
    journeys = pl.read_csv(out / "journeys.csv")
    assert journeys["events"].to_list() == [5, 1, 2, 1, 3]
    assert journeys["outcome"].to_list() == ["converted", "abandoned", "abandoned", "ongoing", "abandoned"]
    # The export has no team column: the map's teams never stand in, so there is no team handoff.
    assert journeys["switches"].to_list() == [2, 0, 1, 0, 0]
    assert journeys["team_handoffs"].to_list() == [0, 0, 0, 0, 0]
    # web → phone: A cart → call (1h → 3h) and B home → call (0h → 2h); phone → web: A call → cart (3h → 4h),
    # back to the web A had left.
    switches = pl.read_csv(out / "channel_switch_matrix.csv")
    assert switches.select("from_channel", "to_channel", "count", "customers", "journeys", "ping_pong",
                           "median_wait_s").rows() == [
        ("web", "phone", 2, 2, 2, 0, 7200.0),
        ("phone", "web", 1, 1, 1, 1, 3600.0),
    ]  # fmt: skip
    assert pl.read_csv(out / "team_switch_matrix.csv").height == 0
    assert pl.read_csv(out / "teams.csv").height == 0
    # The map designs cart → call across channel and team; its one move switched channel (no team recorded).
    designed = pl.read_csv(out / "designed_handoffs.csv")
    assert designed.select("source", "target", "designed_crossing", "moves", "channel_switches",
                           "team_handoffs").rows() == [("cart", "call", "channel and team", 1, 1, 0)]  # fmt: skip
    printed = capsys.readouterr().out
    assert "three.csv: 12 rows read, 12 kept." in printed
    assert "events 12 · customers 3 · journeys 5 · completion rate" in printed
    assert "wrote 15 files" in printed
    assert not any(p.name.endswith(".partial") for p in files["dir"].iterdir())


def test_overlay_json_and_gap(files: dict[str, Path]) -> None:
    out = files["dir"] / "json"
    code = main(["overlay", str(files["events"]), "--out", str(out), "--format", "json", "--gap", "30d"])
    assert code == 0
    journeys = json.loads((out / "journeys.json").read_text())
    assert [j["events"] for j in journeys] == [5, 1, 3, 3]


def test_bad_file_exits_2_with_message(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    bad = files["dir"] / "bad.csv"
    bad.write_text("only_one_column\nvalue\n")
    assert main(["overlay", str(bad), "--out", str(files["dir"] / "never")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("journeymap: error: bad.csv, line 1: only one column was found")
    assert "Traceback" not in err
    assert not (files["dir"] / "never").exists()


def test_bad_gap_and_missing_mapping(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["overlay", str(files["events"]), "--gap", "soon"]) == 2
    assert "--gap: 'soon' is not a duration" in capsys.readouterr().err
    assert main(["overlay", str(files["events"]), "--mapping", str(files["dir"] / "nope.json")]) == 2
    assert "nope.json: file not found" in capsys.readouterr().err


def test_mapping_guess_prints_json(files: dict[str, Path], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["mapping", "guess", str(files["events"])]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["customer_ids"], data["timestamp"], data["touchpoint"]) == (["customer"], "time", "event")

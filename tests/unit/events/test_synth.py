"""The seeded sample-data generator: determinism, raw-export shape, and planted problems in the output."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import polars as pl
import pytest

from journeymap.errors import UserInputError
from journeymap.events.mapping import ColumnMapping
from journeymap.events.synth import (
    BAD_TIMESTAMP,
    RAW_COLUMNS,
    HandoffPlant,
    Plants,
    default_plants,
    generate_events,
    template_plants,
)
from journeymap.model import Channel, ChannelKind, JourneyMap, Stage, Touchpoint, Transition
from journeymap.templates import load_template

START = datetime(2025, 1, 1)
CLEAN = Plants(bad_timestamps=0, empty_identifiers=0, duplicates=0)


def line_map() -> JourneyMap:
    """home (web, sign-in) → cart (web) → call (phone) → pickup (store, final)."""
    return JourneyMap(
        name="Line",
        stages=(Stage(id="buy", name="Buy"), Stage(id="get", name="Get")),
        channels=(
            Channel(id="web", name="Web", kind=ChannelKind.DIGITAL, owner_team="Digital"),
            Channel(id="phone", name="Phone", kind=ChannelKind.ASSISTED, owner_team="Care"),
            Channel(id="store", name="Store", kind=ChannelKind.PHYSICAL, owner_team="Stores"),
        ),
        touchpoints=(
            Touchpoint(id="home", name="Home", channel="web", stage="buy", requires_identification=True),
            Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
            Touchpoint(id="call", name="Call", channel="phone", stage="buy"),
            Touchpoint(id="pickup", name="Pickup", channel="store", stage="get", is_final=True),
        ),
        transitions=(
            Transition(source="home", target="cart"),
            Transition(source="cart", target="call"),
            Transition(source="call", target="pickup"),
        ),
    )


def events_of(plants: Plants, customers: int = 400, seed: int = 3) -> pl.DataFrame:
    raw, _ = generate_events(line_map(), customers=customers, seed=seed, start=START, plants=plants)
    return raw


def label_counts(raw: pl.DataFrame) -> dict[str, int]:
    return dict(raw.group_by("event").len().iter_rows())


def test_same_seed_same_frame_other_seed_other_frame() -> None:
    retail = load_template("retail-bopis")
    plants = template_plants("retail-bopis", retail)
    a, mapping_a = generate_events(retail, customers=300, seed=11, start=START, plants=plants)
    b, mapping_b = generate_events(retail, customers=300, seed=11, start=START, plants=plants)
    c, _ = generate_events(retail, customers=300, seed=12, start=START, plants=plants)
    assert a.equals(b)
    assert mapping_a == mapping_b
    assert not a.equals(c)


def test_raw_export_shape_and_mapping() -> None:
    raw, mapping = generate_events(line_map(), customers=200, seed=1, start=START)
    assert tuple(raw.columns) == RAW_COLUMNS
    assert raw.schema["timestamp"] == pl.String
    assert raw["event_id"].head(2).to_list() == ["ev000000000", "ev000000001"]
    parsed = ColumnMapping(**mapping)
    assert parsed.customer_ids == ["email", "device_id", "loyalty_id", "phone"]
    # Every raw channel and event label maps to the map; the legacy code of 'cart' needs the value map.
    assert set(raw["channel"].unique()) == {"web", "call_center", "store"}
    assert parsed.channel_map["call_center"] == "phone"
    assert parsed.value_map["EVT_CART"] == "cart"
    assert set(parsed.identify_values) == {"home:verified", "EVT_CART:verified", "call:verified", "pickup:verified"}


def test_identifiers_differ_by_channel() -> None:
    raw = events_of(CLEAN)
    present = raw.group_by("channel").agg(pl.col("email", "device_id", "loyalty_id", "phone").is_not_null().mean())
    by_channel = {row[0]: row[1:] for row in present.sort("channel").iter_rows()}
    email, device, loyalty, phone = by_channel["web"]
    assert device == 1.0 and loyalty == 0.0 and phone == 0.0 and email > 0.5
    assert by_channel["store"][1] == 0.0 and by_channel["store"][2] > 0.5  # stores: loyalty number, no device
    assert by_channel["call_center"][3] > 0.5 and by_channel["call_center"][1] == 0.0  # calls: phone number


def test_dirty_rows_are_counted_exactly() -> None:
    plants = Plants(bad_timestamps=4, empty_identifiers=3, duplicates=2)
    raw = events_of(plants)
    no_id = pl.all_horizontal(pl.col("email", "device_id", "loyalty_id", "phone").is_null())
    assert int((raw["timestamp"] == BAD_TIMESTAMP).sum()) == 4
    assert raw.filter(no_id).height == 3
    assert int(raw.is_duplicated().sum()) == 4  # two rows, each twice
    assert raw.height == events_of(CLEAN).height + 2


def test_clean_plants_give_a_clean_export() -> None:
    raw = events_of(CLEAN)
    assert int(raw.is_duplicated().sum()) == 0
    assert int((raw["timestamp"] == BAD_TIMESTAMP).sum()) == 0


def test_planted_reidentification_marks_every_switch() -> None:
    counts = label_counts(events_of(Plants(handoffs=(HandoffPlant("cart", "call", reidentify=1.0),))))
    # Customers signed in at home, so every call after the cart identifies again.
    assert counts.get("call", 0) == 0
    assert counts["call:verified"] > 100
    control = label_counts(events_of(CLEAN))
    assert control.get("call:verified", 0) < 0.1 * control["call"]


def test_planted_dropoff_ends_journeys() -> None:
    counts = label_counts(events_of(Plants(dropoffs=(("cart", 1.0),))))
    assert "call" not in counts and "pickup" not in counts
    assert counts["EVT_CART"] > 100


def test_planted_loop_repeats_the_touchpoint() -> None:
    def cart_per_call(plants: Plants) -> float:
        counts = label_counts(events_of(plants))
        return (counts["EVT_CART"] + counts.get("EVT_CART:verified", 0)) / (
            counts.get("call", 0) + counts.get("call:verified", 0)
        )

    assert cart_per_call(Plants(loops=(("cart", 0.5),))) > 1.6
    assert cart_per_call(CLEAN) < 1.2


def test_planted_wait_lengthens_the_time_after_the_touchpoint() -> None:
    def median_home_to_cart(plants: Plants) -> float:
        raw = events_of(replace(plants, bad_timestamps=0)).with_columns(
            pl.col("timestamp").str.to_datetime("%Y-%m-%d %H:%M:%S")
        )
        web = raw.filter(pl.col("channel") == "web").sort("device_id", "timestamp")
        gaps = web.with_columns(
            prev=pl.col("event").shift(1).over("device_id"),
            dt=(pl.col("timestamp") - pl.col("timestamp").shift(1).over("device_id")).dt.total_seconds(),
        ).filter(pl.col("prev").str.starts_with("home") & pl.col("event").str.starts_with("EVT_CART"))
        return float(gaps["dt"].median())  # type: ignore[arg-type]

    assert median_home_to_cart(Plants(waits=(("home", 10.0),))) > 5 * median_home_to_cart(CLEAN)


def test_planted_undesigned_transition_appears() -> None:
    counts = label_counts(events_of(Plants(undesigned=(("home", "pickup", 1.0),))))
    # Everyone jumps from home straight to the pickup: the cart and the call never happen.
    assert "EVT_CART" not in counts and "call" not in counts
    assert counts["pickup"] > 100


def test_unknown_touchpoint_in_plants_is_a_user_error() -> None:
    with pytest.raises(UserInputError, match="planted problems, dropoffs: names touchpoint 'nope'"):
        events_of(Plants(dropoffs=(("nope", 0.5),)))
    with pytest.raises(UserInputError, match="not a probability"):
        events_of(Plants(loops=(("cart", 1.5),)))


def test_default_plants_pick_busy_handoffs_of_the_map() -> None:
    plants = default_plants(line_map())
    assert [(h.source, h.target) for h in plants.handoffs] == [("cart", "call"), ("call", "pickup")]
    assert plants.dropoffs == (("home", 0.3),)

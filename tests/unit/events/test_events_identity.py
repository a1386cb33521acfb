"""Identity resolution on hand-made identifier chains."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from journeymap.events.identity import resolve_identities


def chain() -> pl.DataFrame:
    """email<->device on row 2, device<->loyalty on row 3: rows 1-4 are one customer; row 5 is another."""
    return pl.DataFrame(
        {
            "email": ["ann@x.org", "ann@x.org", None, None, "bob@y.org"],
            "device": [None, "d-1", "d-1", None, None],
            "loyalty": [None, None, "L-7", "L-7", None],
        }
    )


def test_chain_is_one_customer_and_stitching_rate_is_exact() -> None:
    customer, report = resolve_identities(chain(), ["email", "device", "loyalty"])
    assert customer.to_list() == [0, 0, 0, 0, 1]
    assert report.customers == 2
    assert report.identifier_values == 4  # ann, bob, d-1, L-7
    assert report.stitched_customers == 1
    assert report.stitched_events == 4
    assert report.stitching_rate == 4 / 5


def test_without_the_linking_event_identifiers_stay_apart() -> None:
    frame = chain().with_columns(pl.Series("device", [None, None, "d-1", None, None]))
    customer, report = resolve_identities(frame, ["email", "device", "loyalty"])
    assert customer.to_list() == [0, 0, 1, 1, 2]
    assert report.stitched_customers == 1  # device+loyalty customer
    assert report.stitching_rate == 2 / 5


def test_same_text_in_two_columns_is_not_a_link() -> None:
    frame = pl.DataFrame({"email": ["x", None], "phone": [None, "x"]})
    customer, _ = resolve_identities(frame, ["email", "phone"])
    assert customer.to_list() == [0, 1]


def test_session_links_without_counting_as_identifier() -> None:
    frame = pl.DataFrame({"email": [None, "ann@x.org"], "session": ["s1", "s1"]})
    customer, report = resolve_identities(frame, ["email"], link_columns=["session"])
    assert customer.to_list() == [0, 0]
    assert report.stitched_customers == 0
    assert report.identifier_values == 1


def test_rows_without_identifier_get_null() -> None:
    customer, report = resolve_identities(pl.DataFrame({"id": ["a", None, "b", "a"]}), ["id"])
    assert customer.to_list() == [0, None, 1, 0]
    assert report.events == 3


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from([None, "a", "b", "c"]), st.sampled_from([None, "1", "2", "3"])),
        min_size=1,
        max_size=25,
    )
)
def test_resolution_is_idempotent(rows: list[tuple[str | None, str | None]]) -> None:
    frame = pl.DataFrame(
        {"email": [r[0] for r in rows], "device": [r[1] for r in rows]},
        schema={"email": pl.String, "device": pl.String},
    )
    first, _ = resolve_identities(frame, ["email", "device"])
    again, report = resolve_identities(pl.DataFrame({"customer": first.cast(pl.String)}), ["customer"])
    # Same partition: the relabelled customers map one-to-one onto the first ones.
    pairs = pl.DataFrame({"a": first, "b": again}).drop_nulls().unique()
    assert pairs["a"].n_unique() == pairs.height == pairs["b"].n_unique()
    assert report.stitched_customers == 0
    # Rows sharing a value always share a customer.
    for col in ("email", "device"):
        grouped = pl.DataFrame({"v": frame[col], "c": first}).drop_nulls().group_by("v").agg(pl.col("c").n_unique())
        assert grouped.height == 0 or grouped["c"].max() == 1

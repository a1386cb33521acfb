"""Observed silo handoffs on the hand-made support log (see ``analysis_fixtures`` for the table)."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from journeymap.analysis._shared import assisted_channel_codes, format_duration
from journeymap.analysis.silo import (
    DESIGNED_SCHEMA,
    SILO_COLUMNS,
    WEIGHTS,
    TransitionSigns,
    designed_handoff_evidence,
    find_observed_silo_handoffs,
    transition_instances,
)
from journeymap.events.journeys import cut_journeys
from journeymap.events.log import EVENT_SCHEMA, EventLog
from journeymap.events.metrics import prepare
from journeymap.events.settings import OverlaySettings
from journeymap.model import Channel, ChannelKind, ContextCarry, JourneyMap, Stage, Touchpoint, Transition
from tests.unit.analysis.analysis_fixtures import T0, support_journeys, support_log, support_map


def test_the_support_fixture_is_what_cut_journeys_gives() -> None:
    """The hand-made ``journey``, ``step``, ``moved`` and journeys frame agree with the engine's cut."""
    fixture, journeys = support_log(), support_journeys()
    cut, got = cut_journeys(fixture, OverlaySettings())
    for column in ("journey", "step", "moved"):
        assert cut.events[column].to_list() == fixture.events[column].to_list()
    assert got.select(journeys.columns).rows() == journeys.rows()


def test_weights_add_up_to_one() -> None:
    assert sum(WEIGHTS.values()) == pytest.approx(1.0)


def test_transition_instances_flags_every_sign_by_hand() -> None:
    got = transition_instances(support_log(), support_journeys(), None, OverlaySettings())
    assert got.height == 8  # 5 + 2 + 1 consecutive pairs inside journeys
    flags = ["repeat_step", "reidentify", "bounce_back", "repeat_contact", "abandon"]
    switches = got.filter(pl.col("source_channel") != pl.col("target_channel"))
    assert switches.select("source", "target", *flags).rows() == [
        # A faq → chat (c0): verify re-identifies, but on the phone, not in the chat; the call at
        # 00:30 is another contact.
        (1, 2, False, False, False, True, True),
        # B chat → call: faq (done at step 1) comes back at step 5; verify re-identifies on the phone.
        (2, 3, True, True, False, False, True),
        # C verify → faq: faq repeats; the journey ends abandoned right away.
        (4, 1, True, False, False, False, True),
        # D faq → chat (c1): back on the web 5 minutes later; calls on day 5 are within 7 days.
        (1, 2, True, False, True, True, False),
        # E chat → faq: faq repeats; journey 2's call is within 7 days of 00:10.
        (2, 1, True, False, False, True, False),
    ]


def test_returning_along_a_designed_transition_is_no_repeated_step() -> None:
    # The map designs chat → faq (a back-edge) and call → call, but not verify → faq (verify is off the map).
    def repeats(journey_map: JourneyMap | None) -> list[tuple[int, int, bool]]:
        got = transition_instances(support_log(), support_journeys(), journey_map, OverlaySettings())
        return got.select("source", "target", "repeat_step").rows()

    assert repeats(None) == [
        (0, 1, False),  # login → faq: faq, chat, call all new
        (1, 2, False),  # A faq → chat: chat, call, verify all new
        (2, 3, True),  # B chat → call: faq (step 1) comes back 3 events later
        (3, 4, True),  # call → verify: faq comes back 2 events later
        (4, 1, True),  # C verify → faq: the target itself was done at step 1
        (1, 2, True),  # D faq → chat: faq comes back 2 events later
        (2, 1, True),  # E chat → faq: the target itself was done at step 0
        (3, 3, True),  # call → call: the target itself is the first call
    ]
    assert repeats(support_map()) == [
        (0, 1, False),
        (1, 2, False),
        (2, 3, True),
        (3, 4, True),
        (4, 1, True),  # undesigned return: still a repeated step
        (1, 2, True),  # designed, but the repeat is the event after the target
        (2, 1, False),  # designed back-edge: the journey as designed
        (3, 3, False),  # designed self-loop: a second call is on the map
    ]


def test_an_undesigned_return_is_a_repeated_step() -> None:
    # Without chat → faq on the map, E's return to the FAQ is evidence of starting over again.
    designed = support_map()
    journey_map = designed.model_copy(
        update={"transitions": tuple(t for t in designed.transitions if (t.source, t.target) != ("chat", "faq"))}
    )
    got = transition_instances(support_log(), support_journeys(), journey_map, OverlaySettings())
    e_move = got.filter((pl.col("journey") == 1) & (pl.col("source") == 2))
    assert e_move["repeat_step"].to_list() == [True]


def test_rates_scores_and_headlines() -> None:
    silo = find_observed_silo_handoffs(support_log(), support_journeys(), None, OverlaySettings())
    assert silo.columns == list(SILO_COLUMNS)
    # One row per (touchpoint pair, channel pair) of the moves A-E; every one switches channel and,
    # the team being the channel's, hands off to another team. Rates from the flags of
    # test_transition_instances_flags_every_sign_by_hand: chat → call is B alone (1, 1, 0, 0, 1):
    # 0.25 + 0.25 + 0.2 = 0.7; faq → chat is A and D ((0+1)/2, 0, (0+1)/2, (1+1)/2, (1+0)/2):
    # 0.125 + 0.075 + 0.15 + 0.1 = 0.45; verify → faq is C (1, 0, 0, 0, 1): 0.45; chat → faq is E
    # (1, 0, 0, 1, 0): 0.25 + 0.15 = 0.4.
    # Without a map nothing is declared, so nothing is a headline.
    assert silo.drop("finding").rows() == [
        ("chat", "call", "chat", "phone", 1, 1, 1, 1, 1.0, 1.0, 0.0, 0.0, 1.0, 0.7, None, False),
        ("faq", "chat", "web", "chat", 2, 2, 2, 2, 0.5, 0.0, 0.5, 1.0, 0.5, 0.45, None, False),
        ("verify", "faq", "phone", "web", 1, 1, 1, 1, 1.0, 0.0, 0.0, 0.0, 1.0, 0.45, None, False),
        ("chat", "faq", "chat", "web", 1, 1, 1, 1, 1.0, 0.0, 0.0, 1.0, 0.0, 0.4, None, False),
    ]


def test_rates_with_the_map() -> None:
    # The map declares chat → call partial (0.7 ≥ 0.30: headline), faq → chat full (0.375 ≥ 0.15:
    # headline) and chat → faq none (never a headline); verify is off the map. chat → faq is a designed
    # back-edge: E no longer repeats a step (1.0 → 0.0, score 0.4 → 0.15); D's return to the web is no
    # bounce; chat is messaging, so A, D and E reach a phone call within 7 days, B not.
    silo = find_observed_silo_handoffs(support_log(), support_journeys(), support_map(), OverlaySettings())
    assert silo.drop("finding").rows() == [
        ("chat", "call", "chat", "phone", 1, 1, 1, 1, 1.0, 1.0, 0.0, 0.0, 1.0, 0.7, "partial", True),
        ("verify", "faq", "phone", "web", 1, 1, 1, 1, 1.0, 0.0, 0.0, 0.0, 1.0, 0.45, None, False),
        ("faq", "chat", "web", "chat", 2, 2, 2, 2, 0.5, 0.0, 0.0, 1.0, 0.5, 0.375, "full", True),
        ("chat", "faq", "chat", "web", 1, 1, 1, 1, 0.0, 0.0, 0.0, 1.0, 0.0, 0.15, "none", False),
    ]


def test_findings_name_the_dominant_sign_and_the_declaration() -> None:
    silo = find_observed_silo_handoffs(support_log(), support_journeys(), support_map(), OverlaySettings())
    findings = {(row[0], row[1]): row[2] for row in silo.select("source", "target", "finding").iter_rows()}
    assert findings == {
        ("chat", "call"): "In 100% of the 1 move from Chat with us (Chat) to Call (Phone), customers repeat a step "
        "they had already done; the map declares this handoff as partial context.",
        ("faq", "chat"): "In 100% of the 2 moves from FAQ (Website) to Chat with us (Chat), customers need another "
        "assisted contact within 7.0 days; the map declares this handoff as full context.",
        ("verify", "faq"): "In 100% of the 1 move from verify (Phone) to FAQ (Website), customers repeat a step they "
        "had already done; this handoff is not on the map.",
        ("chat", "faq"): "In 100% of the 1 move from Chat with us (Chat) to FAQ (Website), customers need another "
        "assisted contact within 7.0 days; the map already marks this handoff as losing context.",
    }


def test_returning_along_a_designed_transition_is_no_bounce() -> None:
    # D goes faq → chat → faq; the map designs chat → faq, so with the map it is the journey as designed.
    def bounce(journey_map: JourneyMap | None) -> float:
        silo = find_observed_silo_handoffs(support_log(), support_journeys(), journey_map, OverlaySettings())
        return float(silo.filter((pl.col("source") == "faq") & (pl.col("target") == "chat"))["bounce_back_rate"][0])

    assert bounce(None) == 0.5
    assert bounce(support_map()) == 0.0


def test_min_volume_keeps_rare_handoffs_out_of_the_headlines() -> None:
    # With the map, chat → call (1 move) and faq → chat (2 moves) are headlines; min_volume 2 keeps the second.
    silo = find_observed_silo_handoffs(support_log(), support_journeys(), support_map(), OverlaySettings(min_volume=2))
    assert silo.filter(pl.col("headline")).select("source", "target").rows() == [("faq", "chat")]


def test_windows_come_from_the_settings() -> None:
    # A 1-minute bounce window misses D's return after 5 minutes; a 1-day repeat-contact window
    # misses the day-5 calls; a 5-minute abandon window misses A (ends 20 minutes later), not C.
    settings = OverlaySettings(
        bounce_window=timedelta(minutes=1),
        repeat_contact_window=timedelta(days=1),
        abandon_window=timedelta(minutes=5),
    )
    silo = find_observed_silo_handoffs(support_log(), support_journeys(), None, settings)
    faq_chat = silo.filter((pl.col("source") == "faq") & (pl.col("target") == "chat"))
    # A: abandon needs the end (00:40) within 5 min of 00:20 → no; repeat contact (call 10 min later) → yes.
    assert faq_chat.select("bounce_back_rate", "repeat_contact_rate", "abandon_rate").row(0) == (0.0, 0.5, 0.0)
    verify_faq = silo.filter(pl.col("source") == "verify")
    assert verify_faq["abandon_rate"][0] == 1.0


def test_no_silo_row_for_single_channel_transitions() -> None:
    silo = find_observed_silo_handoffs(support_log(), support_journeys(), None, OverlaySettings())
    assert ("call", "call") not in set(silo.select("source", "target").iter_rows())
    assert silo.height == 4


def test_assisted_channels_from_the_map_else_from_the_id() -> None:
    log = support_log()
    assert assisted_channel_codes(log, None) == [1, 2]  # "chat" and "phone" by name
    assert assisted_channel_codes(log, support_map()) == [2]  # the map says chat is messaging


def test_repeat_contacts_follow_the_map_channel_kinds() -> None:
    got = transition_instances(support_log(), support_journeys(), support_map(), OverlaySettings())
    switches = got.filter(pl.col("source_channel") != pl.col("target_channel"))
    # With chat not assisted, A still has the call at 00:30; D and E still reach the day-5 calls.
    assert switches["repeat_contact"].to_list() == [True, False, False, True, True]


@pytest.mark.parametrize(("seconds", "text"), [(45, "45 s"), (720, "12 min"), (12_600, "3.5 h"), (181_440, "2.1 days")])
def test_format_duration(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text


def test_a_team_handoff_inside_one_channel_is_a_silo_row() -> None:
    """The back office (Digital) does c0's verify on the phone: call → verify hands off without a switch.

    call → verify: phone → phone, Phone team → Digital: a team handoff only, back to the Digital team of
    steps 0-1 (moved 2 + 8 = 10). C verify → faq: phone → web, Digital → Digital: a channel switch only
    (back to the web, moved 1 + 4 = 5). The signs do not depend on teams: call → verify shows a repeated
    step (faq at step 5), a new identification (verify) and the abandon 8 minutes later: 0.7; C keeps
    its 0.45. Ties on score and count are sorted by source: call before chat.
    """
    log = support_log()
    events = log.events.with_columns(
        pl.when(pl.col("seq") == 4).then(pl.lit(0, pl.UInt32)).otherwise(pl.col("owner")).alias("owner")
    )
    cut, journeys = cut_journeys(EventLog(events, log.touchpoints, log.channels, log.owners), OverlaySettings())
    assert cut.events["moved"].to_list() == [0, 0, 3, 3, 10, 5, 0, 3, 15, 0, 0]
    assert journeys.select("switches", "team_handoffs", "channel_ping_pong", "team_ping_pong").row(0) == (3, 3, 1, 1)
    silo = find_observed_silo_handoffs(cut, journeys, None, OverlaySettings())
    assert silo.select("source", "target", "source_channel", "target_channel", "count", "channel_switches",
                       "team_handoffs", "context_loss_score").rows() == [
        ("call", "verify", "phone", "phone", 1, 0, 1, 0.7),
        ("chat", "call", "chat", "phone", 1, 1, 1, 0.7),
        ("faq", "chat", "web", "chat", 2, 2, 2, 0.45),
        ("verify", "faq", "phone", "web", 1, 1, 0, 0.45),
        ("chat", "faq", "chat", "web", 1, 1, 1, 0.4),
    ]  # fmt: skip
    # No map was given: nothing is said about one.
    assert silo["finding"][0] == (
        "In 100% of the 1 handoff to another team from call (phone) to verify (phone), customers repeat a step "
        "they had already done."
    )


def _order_map() -> JourneyMap:
    """cart (web, Digital) → track (app, Digital) and cart → call (phone, Care), both full; track → call partial."""
    return JourneyMap(
        name="Order",
        stages=(Stage(id="buy", name="Buy"),),
        channels=(
            Channel(id="web", name="Website", kind=ChannelKind.DIGITAL, owner_team="Digital"),
            Channel(id="app", name="App", kind=ChannelKind.DIGITAL, owner_team="Digital"),
            Channel(id="phone", name="Phone", kind=ChannelKind.ASSISTED, owner_team="Care"),
        ),
        touchpoints=(
            Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
            Touchpoint(id="track", name="Tracking", channel="app", stage="buy"),
            Touchpoint(id="call", name="Order call", channel="phone", stage="buy"),
        ),
        transitions=(
            Transition(source="cart", target="track", context_carry=ContextCarry.FULL),
            Transition(source="cart", target="call", context_carry=ContextCarry.FULL),
            Transition(source="track", target="call", context_carry=ContextCarry.PARTIAL),
        ),
    )


def test_designed_full_handoffs_are_contradicted_only_by_lost_context() -> None:
    """Two customers, one journey each, still ongoing (``ongoing_after`` = T0: no abandon; and without a
    goal no abandon is measured: its rate is null).

    c0: cart (web, Digital) 00:00 → track (app, Digital) 00:10, never identified: a channel switch with
    no sign at all (track is new and last; no phone contact follows) → score 0, the ``full``
    declaration holds. c1: cart (web, Digital, identified) 00:00 → call (phone, Care, identified)
    00:10: a channel switch and a team handoff where the customer identifies again → reidentify 1.0,
    score 0.25 ≥ 0.15 (the ``full`` threshold) over 1 move ≥ min_volume 1: contradicted. track → call
    is designed but never observed.
    """
    rows = [  # customer, minutes, touchpoint, channel, owner, identified
        (0, 0, "cart", "web", "Digital", False),
        (0, 10, "track", "app", "Digital", False),
        (1, 0, "cart", "web", "Digital", True),
        (1, 10, "call", "phone", "Care", True),
    ]
    tps, chs, owners = ("cart", "track", "call"), ("web", "app", "phone"), ("Care", "Digital")
    events = pl.DataFrame(
        {
            "customer": [r[0] for r in rows],
            "ts": [T0 + timedelta(minutes=r[1]) for r in rows],
            "seq": list(range(len(rows))),
            "touchpoint": [tps.index(r[2]) for r in rows],
            "channel": [chs.index(r[3]) for r in rows],
            "owner": [owners.index(r[4]) for r in rows],
            "converted": [False] * len(rows),
            "identified": [r[5] for r in rows],
            "value": [None] * len(rows),
            "sentiment": [None] * len(rows),
        },
        schema=EVENT_SCHEMA,
    )
    settings = OverlaySettings(ongoing_after=T0)
    journey_map = _order_map()
    cut, journeys = cut_journeys(EventLog(events, tps, chs, owners), settings)
    signs = TransitionSigns.of(transition_instances(cut, journeys, journey_map, settings))
    got = designed_handoff_evidence(prepare(cut, journeys), signs, None, journey_map, settings)
    assert got.columns == list(DESIGNED_SCHEMA)
    assert got.rows() == [
        ("cart", "track", "channel", "full", 1, 1, 0, 0.0, 0.0, 0.0, 0.0, None, 0.0, False),
        ("cart", "call", "channel and team", "full", 1, 1, 1, 0.0, 1.0, 0.0, 0.0, None, 0.25, True),
        ("track", "call", "channel and team", "partial", 0, 0, 0, None, None, None, None, None, None, False),
    ]
    # One move is too few when two are needed to contradict a declaration.
    rare = designed_handoff_evidence(prepare(cut, journeys), signs, None, journey_map, OverlaySettings(min_volume=2))
    assert not rare["contradicts_declaration"].any()

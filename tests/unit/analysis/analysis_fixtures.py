"""Tiny hand-made event logs, journeys and transition frames for the analysis tests.

``support_log()`` — two customers, three journeys, worked out on paper:

=========  ====  ========  ========  ======  ==========  =====  =====================
journey    step  time      tp        ch      identified  moved  note
=========  ====  ========  ========  ======  ==========  =====  =====================
0 (c0)     0     00:00     login     web     yes         0
0          1     00:10     faq       web                 0
0          2     00:20     chat      chat                3      switch A faq → chat
0          3     00:30     call      phone               3      switch B chat → call
0          4     00:32     verify    phone   yes         0
0          5     00:40     faq       web                 15     switch C verify → faq
1 (c1)     0     00:00     faq       web                 0
1          1     00:05     chat      chat                3      switch D faq → chat
1          2     00:10     faq       web                 15     switch E chat → faq, converted
2 (c1)     0     day 5     call      phone               0
2          1     day 5+2h  call      phone               0      a second contact
=========  ====  ========  ========  ======  ==========  =====  =====================

Journey 0 is abandoned, journey 1 converted, journey 2 ongoing.

Each event's team (``owner``) is the team of its channel: Digital (web), Chat team (chat),
Phone team (phone), so every channel switch is also a team handoff. ``moved`` holds the
:data:`~journeymap.events.journeys.MOVE_BITS` of the move into the event: A, B, D switch
channel and team (1 + 2 = 3) into a channel and team the journey had not had; C (back to
the web, done at steps 0-1) and E (back to the web of step 0) also return to both
(1 + 2 + 4 + 8 = 15). Per journey: switches = team handoffs = 3, 2, 0 and ping-pong returns
(channel and team alike) 1, 1, 0.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from journeymap.events.log import EVENT_SCHEMA, EventLog
from journeymap.model import Channel, ChannelKind, JourneyMap, Stage, Touchpoint, Transition

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TOUCHPOINTS = ("login", "faq", "chat", "call", "verify")
CHANNELS = ("web", "chat", "phone")

# (customer, journey, step, offset, touchpoint, channel, identified, converted, moved)
_ROWS = [
    (0, 0, 0, timedelta(minutes=0), "login", "web", True, False, 0),
    (0, 0, 1, timedelta(minutes=10), "faq", "web", False, False, 0),
    (0, 0, 2, timedelta(minutes=20), "chat", "chat", False, False, 3),
    (0, 0, 3, timedelta(minutes=30), "call", "phone", False, False, 3),
    (0, 0, 4, timedelta(minutes=32), "verify", "phone", True, False, 0),
    (0, 0, 5, timedelta(minutes=40), "faq", "web", False, False, 15),
    (1, 1, 0, timedelta(minutes=0), "faq", "web", False, False, 0),
    (1, 1, 1, timedelta(minutes=5), "chat", "chat", False, False, 3),
    (1, 1, 2, timedelta(minutes=10), "faq", "web", False, True, 15),
    (1, 2, 0, timedelta(days=5), "call", "phone", False, False, 0),
    (1, 2, 1, timedelta(days=5, hours=2), "call", "phone", False, False, 0),
]


def support_log() -> EventLog:
    """The log of the table above, in the EventLog schema plus ``journey``, ``step`` and ``moved``."""
    events = pl.DataFrame(
        {
            "customer": [r[0] for r in _ROWS],
            "ts": [T0 + r[3] for r in _ROWS],
            "seq": list(range(len(_ROWS))),
            "touchpoint": [TOUCHPOINTS.index(r[4]) for r in _ROWS],
            "channel": [CHANNELS.index(r[5]) for r in _ROWS],
            "owner": [CHANNELS.index(r[5]) for r in _ROWS],
            "converted": [r[7] for r in _ROWS],
            "identified": [r[6] for r in _ROWS],
            "value": [None] * len(_ROWS),
            "sentiment": [None] * len(_ROWS),
            "journey": [r[1] for r in _ROWS],
            "step": [r[2] for r in _ROWS],
            "moved": [r[8] for r in _ROWS],
        },
        schema={**EVENT_SCHEMA, "journey": pl.UInt32(), "step": pl.UInt32(), "moved": pl.UInt8()},
    )
    return EventLog(events, TOUCHPOINTS, CHANNELS, ("Digital", "Chat team", "Phone team"), source="support.csv")


def support_journeys() -> pl.DataFrame:
    """The journeys frame of :func:`support_log`, in the contract's shape."""
    return pl.DataFrame(
        {
            "journey": [0, 1, 2],
            "customer": [0, 1, 1],
            "start": [T0, T0, T0 + timedelta(days=5)],
            "end": [T0 + timedelta(minutes=40), T0 + timedelta(minutes=10), T0 + timedelta(days=5, hours=2)],
            "events": [6, 3, 2],
            "touchpoints": [5, 2, 1],
            "channels": [3, 2, 1],
            "switches": [3, 2, 0],
            "team_handoffs": [3, 2, 0],
            "channel_ping_pong": [1, 1, 0],
            "team_ping_pong": [1, 1, 0],
            "outcome": ["abandoned", "converted", "ongoing"],
            "first_touchpoint": ["login", "faq", "call"],
            "last_touchpoint": ["faq", "faq", "call"],
        },
        schema_overrides={"journey": pl.UInt32, "customer": pl.UInt32, "events": pl.UInt32},
    )


# (source, target, source_channel, target_channel, count, customers, designed, declared_carry)
_TRANSITIONS = [
    ("login", "faq", "web", "web", 1, 1, True, "full"),
    ("faq", "chat", "web", "chat", 2, 2, True, "full"),
    ("chat", "call", "chat", "phone", 1, 1, True, "partial"),
    ("call", "verify", "phone", "phone", 1, 1, False, None),
    ("verify", "faq", "phone", "web", 1, 1, False, None),
    ("chat", "faq", "chat", "web", 1, 1, True, "none"),
    ("call", "call", "phone", "phone", 1, 1, True, "full"),
]


def support_transitions() -> pl.DataFrame:
    """Transition metrics of :func:`support_log` (the columns the analyses read)."""
    return pl.DataFrame(
        {
            "source": [r[0] for r in _TRANSITIONS],
            "target": [r[1] for r in _TRANSITIONS],
            "source_channel": [r[2] for r in _TRANSITIONS],
            "target_channel": [r[3] for r in _TRANSITIONS],
            "count": [r[4] for r in _TRANSITIONS],
            "customers": [r[5] for r in _TRANSITIONS],
            # one channel pair per touchpoint pair, and the team is the channel's: every move of a
            # cross-channel transition is a channel switch and a team handoff
            "channel_switches": [r[4] if r[2] != r[3] else 0 for r in _TRANSITIONS],
            "team_handoffs": [r[4] if r[2] != r[3] else 0 for r in _TRANSITIONS],
            "cross_channel": [r[2] != r[3] for r in _TRANSITIONS],
            "cross_owner": [r[2] != r[3] for r in _TRANSITIONS],
            "designed": [r[6] for r in _TRANSITIONS],
            "declared_carry": [r[7] for r in _TRANSITIONS],
        },
        schema_overrides={
            "count": pl.UInt32,
            "customers": pl.UInt32,
            "channel_switches": pl.UInt32,
            "team_handoffs": pl.UInt32,
            "declared_carry": pl.String,
        },
    )


def support_map() -> JourneyMap:
    """A map of the support journey without the 'verify' touchpoint; chat is messaging, phone assisted."""
    stage = Stage(id="service", name="Service")
    return JourneyMap(
        name="Support",
        stages=(stage,),
        channels=(
            Channel(id="web", name="Website", kind=ChannelKind.DIGITAL, owner_team="Digital"),
            Channel(id="chat", name="Chat", kind=ChannelKind.MESSAGING, owner_team="Chat team"),
            Channel(id="phone", name="Phone", kind=ChannelKind.ASSISTED, owner_team="Phone team"),
        ),
        touchpoints=(
            Touchpoint(id="login", name="Log in", channel="web", stage="service"),
            Touchpoint(id="faq", name="FAQ", channel="web", stage="service"),
            Touchpoint(id="chat", name="Chat with us", channel="chat", stage="service"),
            Touchpoint(id="call", name="Call", channel="phone", stage="service"),
        ),
        transitions=(
            Transition(source="login", target="faq"),
            Transition(source="faq", target="chat"),
            Transition(source="chat", target="call", context_carry="partial"),
            Transition(source="chat", target="faq", context_carry="none"),
            Transition(source="call", target="call"),
            Transition(source="faq", target="login"),
        ),
    )

"""Tiny named event logs and maps whose metrics are worked out by hand in the tests.

``three_customers_log()``, with t in hours from 2024-01-01 00:00 UTC (gap 3 days):

=========  ====  ===========  =======  =========  ==================================
customer   t     touchpoint   channel  owner      note
=========  ====  ===========  =======  =========  ==================================
A (0)      0     home         web      ecom
A          1     cart         web      ecom
A          3     call         phone    care       sentiment 2
A          4     cart         web      ecom
A          5     buy          web      ecom       converted -> journey 0 ends
A          6     home         web      ecom       journey 1 (after the goal)
B (1)      0     home         web      ecom       journey 2
B          2     call         phone    care       sentiment 4
B          242   home         web      ecom       journey 3 (10 days later), ongoing
C (2)      100   home         web      ecom       journey 4
C          101   cart         web      ecom
C          103   cart         web      ecom       repeat, self-loop
=========  ====  ===========  =======  =========  ==================================
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from journeymap.events.log import EVENT_SCHEMA, EventLog
from journeymap.model import Channel, ChannelKind, ContextCarry, JourneyMap, Stage, Touchpoint, Transition

T0 = datetime(2024, 1, 1, tzinfo=UTC)
TOUCHPOINTS = ("buy", "call", "cart", "home")
CHANNELS = ("phone", "web")
OWNERS = ("care", "ecom")

# customer, hour, touchpoint, channel, converted, sentiment
ROWS = [
    ("A", 0, "home", "web", False, None),
    ("A", 1, "cart", "web", False, None),
    ("A", 3, "call", "phone", False, 2.0),
    ("A", 4, "cart", "web", False, None),
    ("A", 5, "buy", "web", True, None),
    ("A", 6, "home", "web", False, None),
    ("B", 0, "home", "web", False, None),
    ("B", 2, "call", "phone", False, 4.0),
    ("B", 242, "home", "web", False, None),
    ("C", 100, "home", "web", False, None),
    ("C", 101, "cart", "web", False, None),
    ("C", 103, "cart", "web", False, None),
]


def three_customers_log() -> EventLog:
    customers = {"A": 0, "B": 1, "C": 2}
    events = pl.DataFrame(
        {
            "customer": [customers[r[0]] for r in ROWS],
            "ts": [T0 + timedelta(hours=r[1]) for r in ROWS],
            "seq": list(range(1, len(ROWS) + 1)),
            "touchpoint": [TOUCHPOINTS.index(r[2]) for r in ROWS],
            "channel": [CHANNELS.index(r[3]) for r in ROWS],
            "owner": [OWNERS.index("care" if r[3] == "phone" else "ecom") for r in ROWS],
            "converted": [r[4] for r in ROWS],
            "identified": [False] * len(ROWS),
            "value": [None] * len(ROWS),
            "sentiment": [r[5] for r in ROWS],
        },
        schema=EVENT_SCHEMA,
    )
    return EventLog(events, TOUCHPOINTS, CHANNELS, OWNERS, source="three.csv")


def three_customers_csv() -> str:
    """The same log as a raw export (with the conversion in an outcome column)."""
    lines = ["customer;time;channel;event;outcome;csat"]
    for customer, hour, touchpoint, channel, converted, sentiment in ROWS:
        ts = (T0 + timedelta(hours=hour)).strftime("%Y-%m-%d %H:%M:%S")
        lines.append(
            f"{customer};{ts};{channel};{touchpoint};{'order' if converted else ''};"
            f"{'' if sentiment is None else sentiment}"
        )
    return "\n".join(lines) + "\n"


def shop_map() -> JourneyMap:
    """home -> cart -> buy on the web, cart -> call on the phone (partial context)."""
    return JourneyMap(
        name="Shop",
        stages=(Stage(id="buy", name="Purchase"),),
        channels=(
            Channel(id="web", name="Website", owner_team="ecom"),
            Channel(id="phone", name="Call center", kind=ChannelKind.ASSISTED, owner_team="care"),
        ),
        touchpoints=(
            Touchpoint(id="home", name="Home", channel="web", stage="buy"),
            Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
            Touchpoint(id="buy", name="Checkout", channel="web", stage="buy", is_final=True),
            Touchpoint(id="call", name="Order call", channel="phone", stage="buy"),
        ),
        transitions=(
            Transition(source="home", target="cart"),
            Transition(source="cart", target="buy"),
            Transition(source="cart", target="call", context_carry=ContextCarry.PARTIAL),
        ),
    )

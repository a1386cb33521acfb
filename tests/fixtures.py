"""Tiny named journey maps whose analysis can be worked out on paper, and one big seeded map.

``bopis_map()`` (buy online, pick up in store) at a glance::

    stages    discover | choose      | buy                     | collect                           | loyalty (empty)
    website   search   |             | checkout, delivery-faq  |                                   |
    app                | stock-check |                         | ready-notice                      |
    store              |             |                         | pickup-desk (final), curbside     |
    call                             |                         | order-help                        |

    T1 search       -> stock-check   partial  web -> app         handoff (channel)
    T2 search       -> checkout      full     web -> web
    T3 stock-check  -> checkout      full     app -> web         handoff (channel)
    T4 checkout     -> delivery-faq  full     web -> web
    T5 checkout     -> ready-notice  full     web -> app         handoff (channel)
    T6 ready-notice -> pickup-desk   none     app -> store       handoff (channel + owner), silo
    T7 ready-notice -> order-help    partial  app -> call        handoff (channel + owner)
    T8 order-help   -> pickup-desk   none     call -> store      handoff (channel + owner), silo
    T9 curbside     -> pickup-desk   full     store -> store     handoff (owner: Store operations -> Fulfilment)

Website and Mobile app are both run by "E-commerce"; the pick-up desk has its own owner,
"Fulfilment". Dead end: delivery-faq. Unreachable: curbside. Empty stage: loyalty.
Cross-channel carry: 2 full, 2 partial, 2 none -> integration factor (2 + 1) / 6 = 0.5.
"""

from __future__ import annotations

import random

from journeymap.model import (
    DEFAULT_STAGES,
    Channel,
    ChannelKind,
    ContextCarry,
    JourneyMap,
    Persona,
    Stage,
    Touchpoint,
    Transition,
)

__all__ = ["big_map", "bopis_map", "linear_journey"]

FULL, PARTIAL, NONE = ContextCarry.FULL, ContextCarry.PARTIAL, ContextCarry.NONE


def linear_journey() -> JourneyMap:
    """Three touchpoints on the website, one per stage, in a line: landing -> cart -> confirmation."""
    return JourneyMap(
        name="Linear journey",
        stages=(
            Stage(id="discover", name="Discover"),
            Stage(id="buy", name="Buy"),
            Stage(id="use", name="Use"),
        ),
        channels=(Channel(id="web", name="Website", kind=ChannelKind.DIGITAL, owner_team="E-commerce"),),
        touchpoints=(
            Touchpoint(id="landing", name="Landing page", channel="web", stage="discover", emotion=1),
            Touchpoint(id="cart", name="Cart", channel="web", stage="buy"),
            Touchpoint(id="confirmation", name="Order confirmation", channel="web", stage="use", is_final=True),
        ),
        transitions=(
            Transition(source="landing", target="cart"),
            Transition(source="cart", target="confirmation"),
        ),
    )


def bopis_map() -> JourneyMap:
    """Buy online, pick up in store: 8 touchpoints over web, app, store and call center (see module docs)."""
    return JourneyMap(
        name="Buy online, pick up in store",
        description="Order on the website or app, collect at the store's pick-up desk.",
        stages=(
            Stage(id="discover", name="Discover"),
            Stage(id="choose", name="Choose"),
            Stage(id="buy", name="Buy"),
            Stage(id="collect", name="Collect"),
            Stage(id="loyalty", name="Loyalty"),
        ),
        channels=(
            Channel(id="web", name="Website", kind=ChannelKind.DIGITAL, owner_team="E-commerce"),
            Channel(id="app", name="Mobile app", kind=ChannelKind.DIGITAL, owner_team="E-commerce"),
            Channel(id="store", name="Store", kind=ChannelKind.PHYSICAL, owner_team="Store operations"),
            Channel(id="call", name="Call center", kind=ChannelKind.ASSISTED, owner_team="Customer service"),
        ),
        touchpoints=(
            Touchpoint(id="search", name="Product search", channel="web", stage="discover", emotion=1),
            Touchpoint(id="stock-check", name="Store stock check", channel="app", stage="choose"),
            Touchpoint(
                id="checkout",
                name="Online checkout",
                channel="web",
                stage="buy",
                requires_identification=True,
            ),
            Touchpoint(
                id="delivery-faq",
                name="Delivery FAQ",
                channel="web",
                stage="buy",
                emotion=-1,
                pain_points=("No pick-up times",),
            ),
            Touchpoint(id="ready-notice", name="Ready-for-pickup notice", channel="app", stage="collect", emotion=1),
            Touchpoint(
                id="pickup-desk",
                name="Pick-up desk",
                channel="store",
                stage="collect",
                owner="Fulfilment",
                requires_identification=True,
                is_final=True,
                emotion=-1,
                pain_points=("Order number asked again", "Queue"),
            ),
            Touchpoint(
                id="order-help",
                name="Order help line",
                channel="call",
                stage="collect",
                requires_identification=True,
                emotion=-2,
            ),
            Touchpoint(id="curbside", name="Curbside hand-over", channel="store", stage="collect"),
        ),
        transitions=(
            Transition(source="search", target="stock-check", context_carry=PARTIAL),
            Transition(source="search", target="checkout", context_carry=FULL),
            Transition(source="stock-check", target="checkout", context_carry=FULL, note="Basket synced"),
            Transition(source="checkout", target="delivery-faq", context_carry=FULL),
            Transition(source="checkout", target="ready-notice", context_carry=FULL),
            Transition(
                source="ready-notice", target="pickup-desk", context_carry=NONE, note="Desk cannot see the order"
            ),
            Transition(source="ready-notice", target="order-help", context_carry=PARTIAL),
            Transition(source="order-help", target="pickup-desk", context_carry=NONE),
            Transition(source="curbside", target="pickup-desk", context_carry=FULL),
        ),
        personas=(
            Persona(
                id="busy-parent",
                name="Busy parent",
                description="Orders at lunch, collects on the way home.",
                goals=("Collect in under 5 minutes", "Know when the order is ready"),
            ),
        ),
    )


_BIG_CHANNELS = (
    ("web", "Website", ChannelKind.DIGITAL, "E-commerce"),
    ("app", "Mobile app", ChannelKind.DIGITAL, "Mobile"),
    ("store", "Store", ChannelKind.PHYSICAL, "Store operations"),
    ("call", "Call center", ChannelKind.ASSISTED, "Customer service"),
    ("chat", "Chat", ChannelKind.MESSAGING, "Customer service"),
    ("email", "Email", ChannelKind.MESSAGING, "CRM"),
    ("social", "Social", ChannelKind.MESSAGING, "Marketing"),
    ("kiosk", "Kiosk", ChannelKind.PHYSICAL, "Store operations"),
)


def big_map(n_touchpoints: int = 300, n_transitions: int = 1000, seed: int = 0) -> JourneyMap:
    """A large map for speed checks: the default stages, 8 channels, random distinct transitions.

    The same arguments always give the same map.
    """
    if n_transitions > n_touchpoints * (n_touchpoints - 1):
        raise ValueError(f"{n_touchpoints} touchpoints allow at most {n_touchpoints * (n_touchpoints - 1)} transitions")
    rng = random.Random(seed)
    stages = tuple(Stage(id=f"stage-{i}", name=name) for i, name in enumerate(DEFAULT_STAGES))
    channels = tuple(Channel(id=c, name=n, kind=k, owner_team=o) for c, n, k, o in _BIG_CHANNELS)
    touchpoints = tuple(
        Touchpoint(
            id=f"tp-{i:04d}",
            name=f"Touchpoint {i}",
            channel=rng.choice(channels).id,
            stage=stages[i * len(stages) // n_touchpoints].id,
            emotion=rng.randint(-2, 2),
            is_final=rng.random() < 0.05,
        )
        for i in range(n_touchpoints)
    )
    pairs: dict[tuple[int, int], None] = {}
    while len(pairs) < n_transitions:
        a, b = rng.randrange(n_touchpoints), rng.randrange(n_touchpoints)
        if a != b:
            pairs.setdefault((a, b))
    carries = (FULL, PARTIAL, NONE)
    transitions = tuple(
        Transition(
            source=touchpoints[a].id,
            target=touchpoints[b].id,
            context_carry=rng.choices(carries, weights=(6, 3, 1))[0],
        )
        for a, b in pairs
    )
    return JourneyMap(
        name=f"Big map ({n_touchpoints} touchpoints)",
        stages=stages,
        channels=channels,
        touchpoints=touchpoints,
        transitions=transitions,
    )


PM4PY_MISSING = "pm4py (AGPL, only the comparison peer) is not installed: pip install -r benchmarks/requirements.txt"
"""Why a parity test against pm4py is skipped where pm4py is not installed."""

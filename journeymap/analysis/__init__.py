"""Analyses of an overlay: silo handoffs, friction ranking, conformance and journey KPIs.

Each module documents its scores in its docstring, with the weights and thresholds as
named constants, so every figure on the overlay page can be explained.
"""

from journeymap.analysis.conformance import Conformance, check_conformance
from journeymap.analysis.friction import rank_friction
from journeymap.analysis.kpis import JourneyKpis, journey_kpis
from journeymap.analysis.silo import find_observed_silo_handoffs

__all__ = [
    "Conformance",
    "JourneyKpis",
    "check_conformance",
    "find_observed_silo_handoffs",
    "journey_kpis",
    "rank_friction",
]

"""Journeymap: designed journeys, observed behaviour and omnichannel maturity, side by side."""

__version__ = "0.1.0"

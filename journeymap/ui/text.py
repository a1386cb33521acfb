"""Untrusted text made safe for Streamlit's markdown."""

from __future__ import annotations

__all__ = ["md"]

_MARKDOWN_SPECIAL = set("\\`*_{}[]()<>#+-.!|~$:&")


def md(text: str) -> str:
    r"""User text made literal for Streamlit's markdown: every markdown and HTML character escaped.

    Examples
    --------
    >>> md("<img src=x> *x*")
    '\\<img src=x\\> \\*x\\*'
    """
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)

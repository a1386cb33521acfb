"""CSV written for people: safe to open in a spreadsheet.

Labels in Journeymap's tables come from the user's data (touchpoint, channel and team names,
raw event labels). A spreadsheet runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return before one) as a formula, so a label such as ``=HYPERLINK("http://x", "Click")``
in an exported table becomes a live link or worse (CSV injection). Every CSV Journeymap writes
for users goes through :func:`csv_safe`: such text cells, and such column names, get a leading
apostrophe, the spreadsheet convention for "this is text". Numbers are never touched: a number
column is written as numbers, and text that is a plain number (``-3``, ``+1.5e3``) opens as that
number, not as a formula.
"""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl

__all__ = ["csv_bytes", "csv_safe", "neutralize_cell", "write_csv"]

_FORMULA = r"^[=+\-@\t\r]"
_NUMBER = r"^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$"
_TEXT_TYPES = (pl.String, pl.Categorical, pl.Enum)


def neutralize_cell(text: str) -> str:
    """One text cell as a spreadsheet should show it: formulas as text, numbers unchanged.

    Examples
    --------
    >>> [neutralize_cell(t) for t in ["=1+2", "@SUM(A1)", "+49 30 1234", "-3", "+1.5e3", "\\t=x", "Web"]]
    ["'=1+2", "'@SUM(A1)", "'+49 30 1234", '-3', '+1.5e3', "'\\t=x", 'Web']
    """
    if re.match(_FORMULA, text) and not re.match(_NUMBER, text):
        return "'" + text
    return text


def csv_safe(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell and column name a spreadsheet would run as a formula quoted.

    Examples
    --------
    >>> safe = csv_safe(pl.DataFrame({"team": ["=HYPERLINK(1)", "-2", None], "count": [-3, 4, 5]}))
    >>> safe.rows()
    [("'=HYPERLINK(1)", -3), ('-2', 4), (None, 5)]
    >>> csv_safe(pl.DataFrame({"=cmd": [1]})).columns
    ["'=cmd"]
    """
    text = [name for name, dtype in frame.schema.items() if isinstance(dtype, _TEXT_TYPES)]
    risky = [
        pl.col(c).cast(pl.String).str.contains(_FORMULA) & ~pl.col(c).cast(pl.String).str.contains(_NUMBER)
        for c in text
    ]
    safe = frame.with_columns(
        pl.when(is_risky).then(pl.lit("'") + pl.col(c).cast(pl.String)).otherwise(pl.col(c).cast(pl.String)).alias(c)
        for c, is_risky in zip(text, risky, strict=True)
    )
    renamed = {name: neutralize_cell(name) for name in safe.columns if neutralize_cell(name) != name}
    return safe.rename(renamed) if renamed else safe


def csv_bytes(frame: pl.DataFrame) -> bytes:
    """A frame as UTF-8 CSV for a download button, formulas quoted (:func:`csv_safe`).

    Examples
    --------
    >>> csv_bytes(pl.DataFrame({"team": ["=1+2", "L1"], "count": [-3, 4]})).decode()
    "team,count\\n'=1+2,-3\\nL1,4\\n"
    """
    return csv_safe(frame).write_csv().encode("utf-8")


def write_csv(frame: pl.DataFrame, path: str | Path) -> None:
    """Write a frame as a CSV file, formulas quoted (:func:`csv_safe`)."""
    csv_safe(frame).write_csv(Path(path))

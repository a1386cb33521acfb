"""Reading a JSON document a user gave: one loader for every entry point.

Python's JSON parser recurses once per nesting level, so ``[`` repeated 100,000 times ends in a
``RecursionError``, and a document nested a few hundred levels deep passes the parser only to
exhaust the stack in whatever walks it next (validation, hashing). Journeymap documents (maps,
column mappings, frameworks, assessments) are a handful of levels deep, so :func:`load_json`
refuses anything nested deeper than :data:`MAX_JSON_DEPTH` or larger than :data:`MAX_JSON_BYTES`
*before* parsing, with a :class:`~journeymap.errors.UserInputError` naming the source, and turns
syntax and encoding errors into the same kind of message.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from journeymap.errors import UserInputError

__all__ = ["MAX_JSON_BYTES", "MAX_JSON_DEPTH", "load_json"]

MAX_JSON_DEPTH = 64
"""Deepest nesting of arrays and objects accepted (a map document is 4 levels deep)."""
MAX_JSON_BYTES = 32 * 1024 * 1024
"""Largest document accepted (a map of 300 touchpoints and 2,000 transitions is about 1 MB)."""

# A JSON string (escapes included): brackets inside strings do not nest.
_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)
_STEP = np.zeros(256, dtype=np.int8)
_STEP[[ord("["), ord("{")]] = 1
_STEP[[ord("]"), ord("}")]] = -1


def load_json(
    text: str | bytes,
    *,
    source: str,
    hint: str,
    max_depth: int = MAX_JSON_DEPTH,
    max_bytes: int = MAX_JSON_BYTES,
) -> Any:
    """The parsed value of a JSON document, or a :class:`UserInputError` naming ``source``.

    Parameters
    ----------
    text:
        The document; bytes are decoded as JSON allows (UTF-8, or UTF-16/32 with their marks).
    source:
        The file or form it came from, first in every message.
    hint:
        What the user can do, last in every message.
    max_depth, max_bytes:
        Limits checked before parsing.

    Examples
    --------
    >>> load_json('{"a": [1, 2]}', source="m.json", hint="Fix it.")
    {'a': [1, 2]}
    >>> load_json("[" * 100_000, source="deep.json", hint="Export it again.")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: deep.json, line 1, column 65: is nested more than 64 levels deep, ...
    >>> load_json('{"a": }', source="m.json", hint="Fix it.")
    Traceback (most recent call last):
    ...
    journeymap.errors.UserInputError: m.json, line 1, column 7: is not valid JSON (Expecting value). Fix it.
    """
    size = len(text) if isinstance(text, bytes | bytearray) or len(text) * 4 <= max_bytes else _utf8_size(text)
    if size > max_bytes:
        raise UserInputError(
            f"is too large for a Journeymap document ({_megabytes(size)}; the limit is {_megabytes(max_bytes)})",
            source=source,
            hint=hint,
        )
    if isinstance(text, bytes | bytearray):
        try:
            text = bytes(text).decode(json.detect_encoding(text), "surrogatepass")
        except UnicodeDecodeError as exc:
            raise UserInputError(
                f"is not UTF-8 text ({exc.reason})", source=source, location=f"byte {exc.start + 1:,}", hint=hint
            ) from None
    if _deeper_than(text, max_depth):
        raise _too_deep(text, source, hint, max_depth)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UserInputError(
            f"is not valid JSON ({exc.msg})",
            source=source,
            location=f"line {exc.lineno}, column {exc.colno}",
            hint=hint,
        ) from None
    except RecursionError:  # a bracket the pre-scan could not see (a malformed string hid it)
        raise _too_deep(text, source, hint, max_depth) from None


def _utf8_size(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:,.1f} MB"


def _deeper_than(text: str, max_depth: int) -> bool:
    """Whether arrays and objects nest deeper than ``max_depth``, at C speed (strings skipped)."""
    if text.count("[") + text.count("{") <= max_depth:
        return False
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    steps = _STEP[np.frombuffer(brackets.encode("ascii"), dtype=np.uint8)].astype(np.int64)
    return bool(steps.size) and int(np.cumsum(steps).max()) > max_depth


def _too_deep(text: str, source: str, hint: str, max_depth: int) -> UserInputError:
    depth = 0
    position = 0
    for match in _TOKEN.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                position = match.start()
                break
        elif token in "]}":
            depth -= 1
    line = text.count("\n", 0, position) + 1
    column = position - text.rfind("\n", 0, position)
    return UserInputError(
        f"is nested more than {max_depth} levels deep, which no Journeymap document is",
        source=source,
        location=f"line {line}, column {column}",
        hint=hint,
    )

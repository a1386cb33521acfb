"""Errors a user can cause, carrying where the problem is and what to do about it.

Every function in :mod:`journeymap` that reads user input (a file, a form, a JSON
document, a column mapping) raises :class:`UserInputError` for problems the user can
fix. Pages show ``str(error)``; they never show a traceback.
"""

from __future__ import annotations

__all__ = ["UserInputError"]


class UserInputError(ValueError):
    """A problem in user-supplied input, described well enough to fix it.

    Parameters
    ----------
    problem:
        What is wrong, in plain words.
    source:
        The file or form the input came from (``"orders.csv"``, ``"map JSON"``).
    location:
        Where inside the source: a row, a field path, a column name.
    hint:
        What the user can do about it.

    Examples
    --------
    >>> str(UserInputError("is not a date", source="events.csv", location="row 12, column 'ts'",
    ...                    hint="Use ISO 8601 such as 2024-05-01T10:00:00."))
    "events.csv, row 12, column 'ts': is not a date. Use ISO 8601 such as 2024-05-01T10:00:00."
    """

    def __init__(
        self,
        problem: str,
        *,
        source: str | None = None,
        location: str | None = None,
        hint: str | None = None,
    ) -> None:
        self.problem = problem
        self.source = source
        self.location = location
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        where = ", ".join(part for part in (self.source, self.location) if part)
        text = f"{where}: {self.problem}" if where else self.problem
        if not text.endswith("."):
            text += "."
        if self.hint:
            text += f" {self.hint}"
        return text

    def __str__(self) -> str:
        return self.message

"""The one error type for bad user input.

Every problem with a file the user gave (design or data) is raised as :class:`InputError`,
which knows the file and, where it applies, the row (1-based data row, header not counted),
the file line, the column or design key. The command line prints ``str(error)`` on one line
and exits with status 2.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["InputError"]


class InputError(Exception):
    """Bad input, located as precisely as possible.

    Examples
    --------
    >>> str(InputError("not a number: 'abc'", file="d.csv", row=3, line=4, column="state"))
    "d.csv: row 3 (line 4), column 'state': not a number: 'abc'"
    >>> str(InputError("unknown key", file="x.toml", key="treatments.LL.nois", line=5))
    "x.toml: line 5, key 'treatments.LL.nois': unknown key"
    """

    def __init__(
        self, message: str, *, file: str | Path | None = None, row: int | None = None,
        line: int | None = None, column: str | None = None, key: str | None = None,
    ) -> None:
        self.message = message
        self.file = None if file is None else str(file)
        self.row = row
        self.line = line
        self.column = column
        self.key = key
        super().__init__(str(self))

    def __str__(self) -> str:
        where = []
        if self.row is not None:
            where.append(f"row {self.row}" + (f" (line {self.line})" if self.line else ""))
        elif self.line is not None:
            where.append(f"line {self.line}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.key is not None:
            where.append(f"key {self.key!r}")
        location = ", ".join(where)
        head = ": ".join(x for x in (self.file, location) if x)
        return f"{head}: {self.message}" if head else self.message

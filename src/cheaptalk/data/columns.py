"""Column maps: reading a data file whose columns have other names (SPEC §4).

A column map sends each of cheaptalk's column names (``state``, ``message``, …) to the file's
own column (``forecast``, ``player.report``, …). On the command line it is written
``NAME=COLUMN,NAME=COLUMN`` (the ``--columns`` option of every command that reads data); in
Python it is a dict ``{NAME: COLUMN}`` (or the same text). The file is never changed: the map
renames the columns of the table read into memory, and error messages name the file's own
columns.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping

import pandas as pd

from .errors import InputError

__all__ = ["KNOWN_COLUMNS", "apply_column_map", "parse_column_map"]

#: The names a column map may map: the required columns and the optional ones cheaptalk reads.
KNOWN_COLUMNS = ("treatment", "round", "sender", "receiver", "state", "message", "action",
                 "session", "demand")

_OPTION = "--columns"


def parse_column_map(text: str | Mapping[str, str] | None) -> dict[str, str]:
    """A column map from ``NAME=COLUMN,...`` text (or a dict, checked); ``{}`` for none.

    Raises
    ------
    InputError
        An entry without ``=``, an unknown NAME, a NAME given twice, two NAMEs mapped to one
        COLUMN.

    Examples
    --------
    >>> parse_column_map("state=forecast, message=report")
    {'state': 'forecast', 'message': 'report'}
    >>> parse_column_map("state=x,message=x")
    Traceback (most recent call last):
    cheaptalk.data.errors.InputError: --columns: column 'x' is mapped to both 'state' and 'message'
    """
    if text is None:
        return {}
    if isinstance(text, Mapping):
        pairs = [(str(k).strip(), str(v).strip()) for k, v in text.items()]
    else:
        pairs = []
        for entry in text.split(","):
            if not entry.strip():
                continue
            name, eq, column = entry.partition("=")
            if not eq or not name.strip() or not column.strip():
                raise InputError(f"{_OPTION}: {entry.strip()!r} is not NAME=COLUMN (e.g. "
                                 "state=forecast,message=report)")
            pairs.append((name.strip(), column.strip()))
        if not pairs:
            raise InputError(f"{_OPTION}: empty column map (write NAME=COLUMN,...)")
    out: dict[str, str] = {}
    for name, column in pairs:
        if name not in KNOWN_COLUMNS:
            close = difflib.get_close_matches(name, KNOWN_COLUMNS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise InputError(f"{_OPTION}: unknown column name {name!r}{hint}; names: "
                             f"{', '.join(KNOWN_COLUMNS)}")
        if name in out:
            raise InputError(f"{_OPTION}: {name!r} is mapped twice")
        other = next((n for n, c in out.items() if c == column), None)
        if other is not None:
            raise InputError(f"{_OPTION}: column {column!r} is mapped to both {other!r} and "
                             f"{name!r}")
        out[name] = column
    return out


def apply_column_map(table: pd.DataFrame, columns: Mapping[str, str], source: str
                     ) -> pd.DataFrame:
    """``table`` with its columns renamed by the map (a copy; ``table`` is not modified).

    Raises
    ------
    InputError
        A COLUMN the file lacks, or a NAME the file already has as another column.

    Examples
    --------
    >>> t = pd.DataFrame({"forecast": [1], "report": [2]})
    >>> list(apply_column_map(t, {"state": "forecast"}, "d.csv").columns)
    ['state', 'report']
    >>> apply_column_map(t, {"state": "demand"}, "d.csv")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    cheaptalk.data.errors.InputError: d.csv: ...: the file has no column 'demand' (its ...
    """
    if not columns:
        return table
    names = [str(c).strip() for c in table.columns]
    for name, column in columns.items():
        if column not in names:
            raise InputError(f"{_OPTION} {name}={column}: the file has no column {column!r} "
                             f"(its columns: {', '.join(names)})", file=source, column=column,
                             line=1)
        if name != column and name in names and name not in columns.values():
            raise InputError(f"{_OPTION} {name}={column}: the file has a column {name!r} "
                             f"too, and two columns cannot both be {name!r} (use that column, "
                             "or rename one in a copy of the file)", file=source, column=name,
                             line=1)
    renamed = {column: name for name, column in columns.items()}
    out = table.copy()
    out.columns = [renamed.get(n, n) for n in names]
    return out

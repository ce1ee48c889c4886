"""Interaction data (SPEC §4): one row per (sender, receiver, round).

Required columns: ``treatment`` (str), ``round`` (int), ``sender`` (str), ``receiver`` (str),
``state``, ``message``, ``action`` (numbers). Other columns (``session``, payoffs, …) are
kept and passed through.

The feedback seen after each round (SPEC §2.4) is read from the game's feedback column
(:attr:`~cheaptalk.games.registry.GameKind.feedback_column`): ``demand`` in forecast sharing
(optional; when present, every value must be a number within the noise band of the row's
forecast), ``state`` in the other games.

Values that fall between grid points map to the nearest grid point (ties: the lower one);
the mapping is reported. A value outside the design's range is an error. Every problem is
raised as :class:`~cheaptalk.data.errors.InputError` naming file, row (1-based data row;
the CSV line is given too) and column. The file is only read, never written.

Whole-number columns (``round``) are read exactly, never through floating point: a value
that is not a whole number, or that does not fit a 64-bit integer, is an error. A CSV file
must be comma-separated and its column names distinct. Each dataset records the SHA-256 of
the file's bytes, so that a saved comparison can tell whether its data have changed.

A column map (:mod:`.columns`) reads a file whose columns have other names; errors then name
the file's own columns, and the dataset records the map. In a game whose messages are labels
(``Game.message_labels``, e.g. a ``matrix`` game with messages "A"/"B"), a message cell must be
one of the labels (a number matches a numeric label by value); the table's ``message`` column
then holds each message's literal value (the state it asserts), and the label is
``game.message_labels[dataset.message]``.

Data may be a CSV file, a Parquet file or a folder of Parquet files (SPEC §5.1). Other
columns are kept in both (:attr:`Dataset.table`), with the values the file holds: text from a
CSV file (it has no types), the stored type from Parquet; ``extra_columns=False`` loads only
the columns cheaptalk reads (the others of a Parquet file are then never read). Parquet data
are read and validated batch by batch (:data:`PARQUET_BATCH_ROWS` rows), so that the
validation's working memory is one batch's; duplicates are then sought over all rows. An
error names the file and its row, as for a CSV file; a column that some files of a folder
have and others lack is an error if cheaptalk reads it, and missing values in the files that
lack it otherwise.

Units of type analysis are (subject, role): where subjects switch roles between rounds, a
subject's sender decisions and receiver decisions form two units (SPEC §4).
"""

from __future__ import annotations

import hashlib
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .columns import KNOWN_COLUMNS, apply_column_map, parse_column_map
from .design import Design
from .errors import InputError
from .files import existing_file

__all__ = ["PARQUET_BATCH_ROWS", "REQUIRED_COLUMNS", "SYNTHETIC_LABEL", "Dataset", "GridMapping",
           "listed_labels", "load_data", "match_labels", "validate_table"]

#: Value of the ``session`` column in every row cheaptalk simulated.
SYNTHETIC_LABEL = "synthetic"

REQUIRED_COLUMNS = ("treatment", "round", "sender", "receiver", "state", "message", "action")
#: Rows of Parquet data read and validated together.
PARQUET_BATCH_ROWS = 100_000
_ID_COLUMNS = ("treatment", "sender", "receiver")
_VALUE_COLUMNS = ("state", "message", "action")


@dataclass(frozen=True)
class GridMapping:
    """How the values of one column were mapped to the design's grid."""

    column: str
    n_values: int
    n_mapped: int
    max_distance: float

    def __str__(self) -> str:
        if self.n_mapped == 0:
            return f"{self.column}: all {self.n_values} values on the grid"
        return (f"{self.column}: {self.n_mapped} of {self.n_values} values mapped to the "
                f"nearest grid point (largest move {self.max_distance:g})")


@dataclass(frozen=True, eq=False)
class Dataset:
    """Validated interaction data, aligned with a design.

    Attributes
    ----------
    table : DataFrame
        The data as read (required columns typed; extra columns untouched).
    design : Design
    state, message, action : ndarray of int
        Grid indices of each row's state, message and action in its treatment's game
        (``t``, ``m``, ``a`` of :mod:`cheaptalk.games.base`).
    mappings : list of GridMapping
    source : str
    sha256 : str
        SHA-256 of the file's bytes (empty for a table built in memory).
    feedback : ndarray of float, or None
        Each row's feedback (module docstring); ``None`` when the data have no feedback
        column.
    columns : dict
        The column map the file was read with (cheaptalk's name → the file's column).
    """

    table: pd.DataFrame
    design: Design
    state: np.ndarray
    message: np.ndarray
    action: np.ndarray
    mappings: list[GridMapping] = field(default_factory=list)
    source: str = "<data>"
    sha256: str = ""
    feedback: np.ndarray | None = None
    columns: dict[str, str] = field(default_factory=dict)

    def _feedback_text(self) -> str:
        column = self.feedback_column
        if self.feedback is None:
            return (f"no {column!r} column (models whose play depends on history, such as "
                    "dynamic_trust, need it)")
        if column == "state":
            return "the state is revealed after each round"
        return f"column {column!r}, every value within the noise band of its state"

    @property
    def feedback_column(self) -> str:
        """The column the feedback comes from (SPEC §2.4)."""
        return self.design.kind.feedback_column

    def require_feedback(self, why: str) -> np.ndarray:
        """The feedback, or an :class:`InputError` naming the missing column."""
        if self.feedback is None:
            raise InputError(f"{why} needs the feedback column {self.feedback_column!r} "
                             "(what each side saw after the round, SPEC §2.4); the data have "
                             "none", file=self.source, column=self.feedback_column)
        return self.feedback

    @property
    def n_decisions(self) -> int:
        """Decisions: each row holds one sender and one receiver decision."""
        return 2 * len(self.table)

    @property
    def synthetic_rows(self) -> int:
        """Rows labelled as simulated by cheaptalk (``session`` = :data:`SYNTHETIC_LABEL`)."""
        if "session" not in self.table.columns:
            return 0
        return int((self.table["session"].astype(str) == SYNTHETIC_LABEL).sum())

    @property
    def senders(self) -> list[str]:
        return sorted(self.table["sender"].unique())

    @property
    def receivers(self) -> list[str]:
        return sorted(self.table["receiver"].unique())

    @property
    def role_switchers(self) -> list[str]:
        """Subjects who appear as sender and as receiver."""
        return sorted(set(self.senders) & set(self.receivers))

    def summary(self) -> dict[str, Any]:
        """Counts by treatment and role, rounds, grid mapping (plain data for JSON/tables)."""
        t = self.table
        by_treatment = []
        for name in self.design.treatments:
            part = t[t["treatment"] == name]
            if part.empty:
                continue
            by_treatment.append({
                "treatment": name,
                "rows": len(part),
                "senders": int(part["sender"].nunique()),
                "receivers": int(part["receiver"].nunique()),
                "rounds": int(part["round"].nunique()),
                "first_round": int(part["round"].min()),
                "last_round": int(part["round"].max()),
            })
        return {
            "source": self.source,
            "design": self.design.source,
            "game": self.design.kind.name,
            "rows": len(t),
            "decisions": self.n_decisions,
            "senders": len(self.senders),
            "receivers": len(self.receivers),
            "role_switchers": len(self.role_switchers),
            "treatments": by_treatment,
            "mapped": [str(m) for m in self.mappings],
            "feedback": self._feedback_text(),
            **({"columns": dict(self.columns)} if self.columns else {}),
        }


# ---------------------------------------------------------------------------- reading
_PARQUET_SUFFIXES = (".parquet", ".pq")


def _read_csv(path: Path, raw: bytes) -> pd.DataFrame:
    if not raw.strip():
        raise InputError("the file is empty", file=path)
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(f"unreadable bytes: not UTF-8 text (byte {e.start})", file=path,
                         line=line) from None
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        raise InputError("unreadable bytes: the file contains NUL characters (binary data?)",
                         file=path, line=line)
    try:
        # Everything as text first, so that each bad cell can be named exactly; the header
        # as a row, so that pandas does not rename a repeated column name ("a", "a.1").
        cells = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            skipinitialspace=True, header=None)
    except pd.errors.ParserError as e:
        raise InputError(f"not a valid CSV table: {e}", file=path) from None
    except pd.errors.EmptyDataError:
        raise InputError("the file is empty", file=path) from None
    names = [name if name.strip() else f"Unnamed: {i}"
             for i, name in enumerate(cells.iloc[0].fillna("").astype(str))]
    table = cells.iloc[1:].reset_index(drop=True)
    table.columns = names
    return table


def _parquet_files(path: Path, shown: str | Path) -> list[Path]:
    """The Parquet file, or the Parquet files of the folder (and its subfolders) by name."""
    if not path.is_dir():
        return [path]
    files = sorted(f for f in path.rglob("*")
                   if f.is_file() and f.suffix.lower() in _PARQUET_SUFFIXES)
    if not files:
        raise InputError("the folder holds no Parquet files (*.parquet, *.pq)", file=shown)
    return files


@dataclass
class _ParquetFile:
    """One Parquet file of the data: the name errors give it, its pyarrow dataset and the
    columns to read."""

    name: str
    fragment: Any
    columns: list[str]
    known: set[str]  # the columns cheaptalk reads that it has (the file's own names)


def _open_parquet(files: list[Path], names: list[str], column_map: dict[str, str],
                  extra_columns: bool) -> list[_ParquetFile]:
    """Each file's schema, header checked (:func:`_check_header`), with pyarrow's dataset
    API; nothing of the rows is read yet."""
    try:
        import pyarrow.dataset as pads
    except ImportError:
        raise InputError("reading Parquet needs pyarrow: pip install 'cheaptalk[parquet]'",
                         file=names[0]) from None
    wanted = {*KNOWN_COLUMNS, *column_map.values()}
    out = []
    for f, name in zip(files, names, strict=True):
        try:
            fragment = pads.dataset(str(f), format="parquet")
            schema = list(fragment.schema.names)
        except Exception as e:  # pyarrow raises many kinds for a corrupt file
            raise InputError(f"not a readable Parquet file ({type(e).__name__})",
                             file=name) from None
        columns = [c for c in schema if extra_columns or str(c).strip() in wanted]
        header = apply_column_map(pd.DataFrame(columns=columns), column_map, name)
        _check_header([str(c).strip() for c in header.columns], name, False,
                      _locator(name, False, column_map))
        out.append(_ParquetFile(name, fragment, columns,
                                {str(c).strip() for c in columns} & wanted))
    # A column cheaptalk reads that some files of a folder have and others lack: name the
    # file that lacks it.
    every = set().union(*(f.known for f in out))
    for f in out:
        lacking = sorted(every - f.known)
        if lacking:
            raise InputError(f"no column {lacking[0]!r}, which other files of the folder "
                             "have", file=f.name, column=lacking[0])
    return out


def _batches(file: _ParquetFile, ids: set[str]) -> Iterator[pd.DataFrame]:
    """The file's rows, :data:`PARQUET_BATCH_ROWS` at a time (empty batches left out); the
    id columns as Python objects, so that numbers there are read as text."""
    batches = iter(file.fragment.to_batches(columns=file.columns,
                                            batch_size=PARQUET_BATCH_ROWS))
    while True:
        try:
            part = next(batches).to_pandas()
        except StopIteration:
            return
        except Exception as e:  # a corrupt row group
            raise InputError(f"not a readable Parquet file ({type(e).__name__})",
                             file=file.name) from None
        if len(part):
            yield part.astype({c: object for c in part.columns if str(c).strip() in ids})


def _load_parquet(path: str | Path, design: Design, column_map: dict[str, str],
                  extra_columns: bool) -> Dataset:
    """:func:`load_data` of a Parquet file or folder: validated batch by batch, then
    concatenated, then checked for duplicates over all rows."""
    p = Path(path)
    if not p.exists():
        raise InputError("data file not found", file=path)
    files = _parquet_files(p, path)
    for f in files:
        try:
            f.open("rb").close()
        except OSError as e:
            raise InputError(f"cannot read file: {e.strerror}", file=f) from None
    # Errors name the file as the user gave it, or the folder's file.
    names = [str(f) for f in files] if p.is_dir() else [str(path)]
    ids = {column_map.get(n, n) for n in _ID_COLUMNS}
    pieces: list[Dataset] = []
    first_row: list[tuple[str, int]] = []  # (file, its first row's position in the data)
    n_rows = 0
    for file in _open_parquet(files, names, column_map, extra_columns):
        first_row.append((file.name, n_rows))
        offset = 0
        for part in _batches(file, ids):
            table = apply_column_map(part, column_map, file.name)
            pieces.append(_validate_rows(table, design, _locator(
                file.name, False, column_map, offset), file.name, column_map))
            offset += len(part)
        n_rows += offset
    if not pieces:
        raise InputError("the file has a header but no data rows", file=path)
    ds = _concatenate(pieces, str(path))

    def locate(row: int) -> tuple[str, int]:
        """The file of a row of the data, and the row's position in it."""
        starts = [start for _, start in first_row]
        i = int(np.searchsorted(starts, row, side="right")) - 1
        return first_row[i][0], row - first_row[i][1]

    def error(message: str, row: int | None = None, column: str | None = None) -> InputError:
        assert row is not None  # duplicates name a row
        name, local = locate(row)
        return _locator(name, False, column_map)(message, row=local, column=column)

    def listed(rows: np.ndarray, at: int) -> str:
        here = locate(at)[0]
        where = [locate(int(j)) for j in rows]
        if all(name == here for name, _ in where):
            return "rows " + ", ".join(str(local + 1) for _, local in where)
        return ", ".join(f"{name} row {local + 1}" for name, local in where)

    _check_duplicates(ds.table, error, listed)
    return replace(ds, sha256=_digest(files, p if p.is_dir() else None))


def _digest(files: list[Path], folder: Path | None) -> str:
    """SHA-256 of a file's bytes; of a folder, of each file's path in it and bytes."""
    h = hashlib.sha256()
    for f in files:
        if folder is not None:
            h.update(f.relative_to(folder).as_posix().encode() + b"\0")
        with f.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                h.update(block)
    return h.hexdigest()


def load_data(path: str | Path, design: Design,
              columns: str | dict[str, str] | None = None, extra_columns: bool = True
              ) -> Dataset:
    """Read a CSV file, a Parquet file or a folder of Parquet files of interactions and
    validate it against ``design``.

    ``columns`` is a column map, ``{NAME: COLUMN}`` or ``"NAME=COLUMN,..."`` (see
    :func:`~cheaptalk.data.columns.parse_column_map`), for a file whose columns have other
    names. Columns cheaptalk does not read are kept in :attr:`Dataset.table` (text from a CSV
    file, the stored type from Parquet); with ``extra_columns=False`` only the columns
    cheaptalk reads are loaded (the required ones, ``session`` and the feedback column
    ``demand``), and the others of a Parquet file are never read. The files of a folder
    (``*.parquet``, ``*.pq``, subfolders included) are read in order of their paths, batch by
    batch (:data:`PARQUET_BATCH_ROWS` rows), and an error names the file and its row.

    Raises
    ------
    InputError
        For a missing, empty or unreadable file and any invalid cell (see the module
        docstring).
    """
    column_map = parse_column_map(columns)
    p = Path(path)
    if p.is_dir() or p.suffix.lower() in _PARQUET_SUFFIXES:
        return _load_parquet(path, design, column_map, extra_columns)
    p = existing_file(path, "data")
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror}", file=path) from None
    table = _read_csv(p, raw)
    if not extra_columns:
        wanted = {*KNOWN_COLUMNS, *column_map.values()}
        table = table.loc[:, [str(c).strip() in wanted for c in table.columns]]
    ds = validate_table(table, design, source=str(path), columns=column_map)
    return replace(ds, sha256=hashlib.sha256(raw).hexdigest())


def validate_table(
    table: pd.DataFrame, design: Design, source: str = "<data>", csv: bool = True,
    columns: str | dict[str, str] | None = None,
) -> Dataset:
    """Validate a table already in memory (see :func:`load_data`). ``table`` is not modified."""
    column_map = parse_column_map(columns)
    table = apply_column_map(table, column_map, source)
    error = _locator(source, csv, column_map)
    _check_header([str(c).strip() for c in table.columns], source, csv, error)
    if len(table) == 0:
        raise InputError("the file has a header but no data rows", file=source)
    return _validate_rows(table, design, error, source, column_map, duplicates=True)


def _locator(source: str, csv: bool, column_map: dict[str, str], first_row: int = 0
             ) -> Callable[..., InputError]:
    """``error(message, row=None, column=None)``: the :class:`InputError` of a problem at a
    0-based ``row`` of a table whose first row is the file's row ``first_row`` (0-based),
    reported 1-based with the CSV line (header = line 1), the column by the file's name."""

    def error(message: str, row: int | None = None, column: str | None = None) -> InputError:
        column = column_map.get(column, column) if column is not None else None
        if row is None:
            return InputError(message, file=source, column=column,
                              line=1 if csv and column else None)
        at = first_row + row
        return InputError(message, file=source, row=at + 1, line=at + 2 if csv else None,
                          column=column)

    return error


def _check_header(columns: list[str], source: str, csv: bool,
                  error: Callable[..., InputError]) -> None:
    """The required columns are there (named by cheaptalk's names), none twice."""
    for c in REQUIRED_COLUMNS:
        if c not in columns:
            delimiter = _other_delimiter(columns) if csv else None
            if delimiter:
                raise InputError(f"the header has no commas but {delimiter}s: a CSV file must "
                                 "be comma-separated (save it with commas as the delimiter)",
                                 file=source, line=1)
            close = [x for x in columns if x.lower() == c]
            hint = f" (found {close[0]!r}: column names are case-sensitive)" if close else ""
            unmapped = [x for x in REQUIRED_COLUMNS if x not in columns]
            raise error(f"missing required column {c!r}{hint}; required: "
                        f"{', '.join(REQUIRED_COLUMNS)}; not found: {', '.join(unmapped)} "
                        f"(a file that names them otherwise is read with a column map: "
                        f"--columns {c}=COLUMN,...)", column=c)
    dupes = sorted({c for c in columns if columns.count(c) > 1})
    if dupes:
        raise error(f"column {dupes[0]!r} appears more than once", column=dupes[0])


def _validate_rows(table: pd.DataFrame, design: Design, error: Callable[..., InputError],
                   source: str, column_map: dict[str, str], duplicates: bool = False
                   ) -> Dataset:
    """Every check of the rows of a table whose header is checked, duplicates only where
    ``duplicates`` (they need every row); the dataset of these rows."""
    columns = [str(c).strip() for c in table.columns]
    data = table.copy()
    data.columns = columns
    n = len(data)

    # ---- text columns: treatment, sender, receiver
    for c in _ID_COLUMNS:
        col = data[c]
        missing = col.isna().to_numpy() | (col.astype(str).str.strip() == "").to_numpy()
        if missing.any():
            raise error("missing value", row=int(np.argmax(missing)), column=c)
        data[c] = col.astype(str).str.strip()
    alone = (data["sender"] == data["receiver"]).to_numpy()
    if alone.any():
        i = int(np.argmax(alone))
        raise error(f"the receiver is the sender ({data['sender'].iloc[i]!r}): a subject cannot "
                    "be matched with themselves", row=i, column="receiver")

    # ---- numeric columns
    labelled = {name for name in design.treatments
                if design.game(name).message_labels is not None}
    message_text = data["message"].astype(str).str.strip().to_numpy()
    for c in ("round", *_VALUE_COLUMNS):
        col = data[c]
        text = col.astype(str).str.strip()
        missing = col.isna().to_numpy() | text.isin(["", "nan", "NaN", "NA", "None"]).to_numpy()
        if missing.any():
            raise error("missing value", row=int(np.argmax(missing)), column=c)
        values = pd.to_numeric(text if col.dtype == object else col, errors="coerce")
        values = values.astype(float).to_numpy()
        bad = ~np.isfinite(values)
        if c == "message" and labelled:  # labels are matched per treatment, below
            bad &= ~data["treatment"].isin(labelled).to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise error(f"not a finite number: {col.iloc[i]!r}", row=i, column=c)
        if c == "round":
            data[c] = _whole_numbers(col, lambda msg, i, c=c: error(msg, row=i, column=c))
        else:
            data[c] = values

    # ---- treatments
    known = design.treatments
    unknown = ~data["treatment"].isin(known).to_numpy()
    if unknown.any():
        i = int(np.argmax(unknown))
        raise error(f"treatment {data['treatment'].iloc[i]!r} is not in the design "
                    f"(known: {', '.join(known)})", row=i, column="treatment")

    if duplicates:
        _check_duplicates(data, error)

    # ---- map to grids, per treatment
    index = {c: np.zeros(n, dtype=np.intp) for c in _VALUE_COLUMNS}
    moved = {c: np.zeros(n) for c in _VALUE_COLUMNS}
    v_name = dict(zip(_VALUE_COLUMNS, design.kind.variables, strict=True))
    for name in known:
        rows = np.flatnonzero((data["treatment"] == name).to_numpy())
        if rows.size == 0:
            continue
        game = design.game(name)
        grids = {"state": game.states, "message": game.messages, "action": game.actions}
        if name in labelled:
            del grids["message"]
            index["message"][rows] = match_labels(
                game.message_labels, message_text[rows],
                lambda text, i, name=name, game=game, rows=rows: error(
                    f"{v_name['message']} {text!r} is not one of the messages of treatment "
                    f"{name!r} ({listed_labels(game.message_labels)})", row=int(rows[i]),
                    column="message"))
            data.loc[data.index[rows], "message"] = game.messages[index["message"][rows]]
        for c, grid in grids.items():
            values = data[c].to_numpy()[rows]
            lo, hi = float(grid.min()), float(grid.max())
            tol = 1e-9 * max(1.0, abs(lo), abs(hi))
            if c == "action" and lo >= 0:
                neg = values < 0
                if neg.any():
                    i = int(rows[np.argmax(neg)])
                    raise error(f"negative {v_name[c]} {_as_given(table, c, i)}", row=i,
                                column=c)
            outside = (values < lo - tol) | (values > hi + tol)
            if outside.any():
                i = int(rows[np.argmax(outside)])
                hint = (" (raise capacity_max in the design)"
                        if c == "action" and "capacity_max" in game.parameters else "")
                raise error(f"{v_name[c]} {_as_given(table, c, i)} is outside the design's range "
                            f"[{lo:g}, {hi:g}] for treatment {name!r}{hint}", row=i, column=c)
            idx, dist = _nearest(grid, values)
            index[c][rows] = idx
            moved[c][rows] = dist

    feedback = _feedback(data, design, error)

    mappings = []
    for c in _VALUE_COLUMNS:
        is_moved = moved[c] > 1e-9
        mappings.append(GridMapping(c, n, int(is_moved.sum()),
                                    float(moved[c].max()) if n else 0.0))
    if labelled:
        data["message"] = data["message"].astype(float)
    return Dataset(table=data, design=design, state=index["state"], message=index["message"],
                   action=index["action"], mappings=mappings, source=source, feedback=feedback,
                   columns=column_map)


def _rows_listed(rows: np.ndarray, at: int) -> str:
    """Rows of one file, 1-based (``at`` is the row an error names)."""
    return "rows " + ", ".join(str(j + 1) for j in rows)


def _check_duplicates(data: pd.DataFrame, error: Callable[..., InputError],
                      listed: Callable[[np.ndarray, int], str] = _rows_listed) -> None:
    """No subject twice in one round and role (of a treatment and session); the error names
    the last of the first such rows and lists them (``listed``)."""
    keys = ["treatment", "round"] + (["session"] if "session" in data.columns else [])
    for role in ("sender", "receiver"):
        dup = data.duplicated(subset=[*keys, role], keep=False).to_numpy()
        if dup.any():
            first = int(np.argmax(dup))
            row = data.iloc[first]
            same = np.flatnonzero(dup & (data[role] == row[role]).to_numpy()
                                  & (data["round"] == row["round"]).to_numpy()
                                  & (data["treatment"] == row["treatment"]).to_numpy())
            raise error(f"duplicate row: {role} {row[role]!r} appears more than once in round "
                        f"{row['round']} of treatment {row['treatment']!r} "
                        f"({listed(same[:5], int(same[-1]))})", row=int(same[-1]),
                        column=role)


def _concatenate(pieces: list[Dataset], source: str) -> Dataset:
    """The datasets of consecutive batches as one (grid mappings summed)."""
    first = pieces[0]
    if len(pieces) == 1:
        return replace(first, source=source)
    mappings = []
    for i, m in enumerate(first.mappings):
        parts = [p.mappings[i] for p in pieces]
        mappings.append(GridMapping(m.column, sum(x.n_values for x in parts),
                                    sum(x.n_mapped for x in parts),
                                    max(x.max_distance for x in parts)))
    feedback = (None if first.feedback is None  # every batch has the column, or none
                else np.concatenate([p.feedback for p in pieces if p.feedback is not None]))
    return Dataset(
        table=pd.concat([p.table for p in pieces], ignore_index=True), design=first.design,
        state=np.concatenate([p.state for p in pieces]),
        message=np.concatenate([p.message for p in pieces]),
        action=np.concatenate([p.action for p in pieces]), mappings=mappings, source=source,
        feedback=feedback, columns=first.columns)


def _feedback(data: pd.DataFrame, design: Design, error: Any) -> np.ndarray | None:
    """The feedback column's values, checked (module docstring); None when absent."""
    column = design.kind.feedback_column
    if column not in data.columns:
        return None
    if column == "state":
        return data["state"].to_numpy(dtype=float)
    col = data[column]
    text = col.astype(str).str.strip()
    missing = col.isna().to_numpy() | text.isin(["", "nan", "NaN", "NA", "None"]).to_numpy()
    if missing.any():
        raise error("missing value", row=int(np.argmax(missing)), column=column)
    values = pd.to_numeric(text if col.dtype == object else col, errors="coerce")
    values = values.astype(float).to_numpy()
    bad = ~np.isfinite(values)
    if bad.any():
        i = int(np.argmax(bad))
        raise error(f"not a finite number: {col.iloc[i]!r}", row=i, column=column)
    state = data["state"].to_numpy(dtype=float)
    treatments = data["treatment"].to_numpy()
    for name in design.treatments:
        rows = np.flatnonzero(treatments == name)
        if rows.size == 0:
            continue
        game = design.game(name)
        outside = ~game.feedback_in_band(state[rows], values[rows])
        if outside.any():
            i = int(rows[np.argmax(outside)])
            e = game.feedback_noise
            raise error(f"{column} {values[i]:g} is outside the noise band of its "
                        f"{design.kind.variables[0]} {state[i]:g} (within {e:g} in treatment "
                        f"{name!r})", row=i, column=column)
    data[column] = values
    return values


def listed_labels(labels: tuple[str, ...], most: int = 12) -> str:
    """Labels for a message: all of them, or the first ``most`` and how many more."""
    more = f", … ({len(labels)} in all)" if len(labels) > most else ""
    return ", ".join(labels[:most]) + more


def match_labels(labels: tuple[str, ...], cells: np.ndarray, error: Any) -> np.ndarray:
    """Index of each cell's message label (a number matches a numeric label by value);
    ``error(text, i)`` builds the error for a cell that is no label."""
    exact = {label: m for m, label in enumerate(labels)}
    numeric = {}
    for m, label in enumerate(labels):
        try:
            numeric.setdefault(float(label), m)
        except ValueError:
            pass
    out = np.empty(cells.size, dtype=np.intp)
    for i, text in enumerate(cells):
        m = exact.get(text)
        if m is None:
            try:
                m = numeric.get(float(text))
            except ValueError:
                m = None
        if m is None:
            raise error(text, i)
        out[i] = m
    return out


def _nearest(grid: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index of the nearest grid point (ties: the lower) and the distance moved."""
    order = np.argsort(grid)
    g = grid[order]
    pos = np.clip(np.searchsorted(g, values), 1, max(g.size - 1, 1))
    if g.size == 1:
        return np.zeros(values.size, dtype=np.intp), np.abs(values - g[0])
    left, right = g[pos - 1], g[pos]
    take_left = (values - left) <= (right - values)
    chosen = np.where(take_left, pos - 1, pos)
    return order[chosen], np.abs(values - g[chosen])


_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "vertical bar"}


def _other_delimiter(columns: list[str]) -> str | None:
    """The name of the delimiter a one-column header is split by, if it looks like one."""
    if len(columns) != 1:
        return None
    counts = {name: columns[0].count(ch) for ch, name in _DELIMITERS.items()}
    name, n = max(counts.items(), key=lambda kv: kv[1])
    return f"{n} {name}" if n else None


def _as_given(table: pd.DataFrame, column: str, row: int) -> str:
    """A cell as the file has it (not rounded for display)."""
    names = [str(c).strip() for c in table.columns]
    return str(table.iloc[row, names.index(column)]).strip()


_INTEGER_TEXT = re.compile(r"[+-]?[0-9]+")
_INT64_MAX = 2**63 - 1


def _whole_numbers(col: pd.Series, error: Any) -> np.ndarray:
    """The column as exact 64-bit integers; ``error(message, row)`` builds the error for a
    value that is not a whole number or does not fit (never rounded through float64)."""
    if pd.api.types.is_integer_dtype(col.dtype) and col.dtype.kind == "i":
        return col.to_numpy(dtype=np.int64)
    out = np.empty(len(col), dtype=np.int64)
    for i, v in enumerate(col.tolist()):
        if isinstance(v, str) and _INTEGER_TEXT.fullmatch(v.strip()):
            whole = int(v.strip())
        elif isinstance(v, int | np.integer) and not isinstance(v, bool | np.bool_):
            whole = int(v)
        else:
            try:
                x = float(v)
            except (TypeError, ValueError):
                raise error(f"not a number: {v!r}", i) from None
            if x != round(x):
                raise error(f"round must be a whole number, got {v!r}", i)
            if abs(x) > 2**53:  # beyond this, float64 does not hold every whole number
                raise error(f"round {v!r} is too large to be read exactly; write it as digits "
                            "(a whole number up to 9223372036854775807)", i)
            whole = int(x)
        if not -_INT64_MAX - 1 <= whole <= _INT64_MAX:
            raise error(f"round {v!r} does not fit a 64-bit integer (largest "
                        f"{_INT64_MAX})", i)
        out[i] = whole
    return out

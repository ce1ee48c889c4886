"""Design files (SPEC §4.1): which game, and each treatment's parameters.

A design is a TOML file::

    game = "forecast_sharing"          # or "crawford_sobel", "binary_deception", "matrix"
    description = "optional free text"

    [treatments.LL]
    forecast_low = 50
    ...
    matching = "fixed"                 # optional, every game (SPEC §2.4): or "random"
    group_size = 8                     # optional: random re-matching within groups
    rounds = 40                        # optional: rounds the simulator and the app run

The same design drives simulation, the experiment and estimation. Besides its game's keys,
every treatment may set how it is played (:class:`Play`). Unknown keys are an
error (with a suggestion when a known key is close), never silently ignored. A treatment
name is non-empty, printable and without leading or trailing spaces (the rule the data's
``treatment`` cells follow); a table of numbers (payoffs) has rows of equal length. A game
builder's ``ValueError`` whose message starts with one of its keys is reported at that key. Bundled
designs can be named instead of a path: see :func:`bundled_designs`. A table key
(:class:`~cheaptalk.games.registry.Table`) may name a CSV file instead, relative to the design
file's folder; its cells are located by file, row and column.
"""

from __future__ import annotations

import difflib
import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from cheaptalk.games.base import Game
from cheaptalk.games.registry import GameKind, Key, Labels, Table, game_kinds

from .errors import InputError
from .files import read_text

__all__ = ["MATCHING", "PLAY_KEYS", "Design", "Play", "bundled_designs", "load_design",
           "parse_design"]

_TOP_LEVEL = ("game", "description", "treatments")

#: How partners are paired from round to round (SPEC §2.4).
MATCHING = ("random", "fixed")


@dataclass(frozen=True)
class Play:
    """How a treatment is played over rounds (SPEC §2.4).

    Attributes
    ----------
    matching : {"random", "fixed"}
        ``"random"``: senders and receivers re-paired at random every round (within matching
        groups of ``group_size`` subjects per role when given); ``"fixed"``: partners stay
        together for all rounds.
    group_size : int or None
    rounds : int or None
        Rounds the simulator and the experiment app run (``None``: the caller's default).
    """

    matching: str = "random"
    group_size: int | None = None
    rounds: int | None = None


#: Treatment keys every game accepts, with their defaults (the :class:`Play` fields).
PLAY_KEYS = {"matching": "random", "group_size": None, "rounds": None}


@dataclass(frozen=True, eq=False)
class Design:
    """A validated design: the game kind and one :class:`~cheaptalk.games.Game` per treatment.

    Attributes
    ----------
    kind : GameKind
    games : dict[str, Game]
        Treatment name → game, in file order.
    settings : dict[str, dict]
        Treatment name → the game's parameters as given (defaults filled in).
    play : dict[str, Play]
        Treatment name → how it is played over rounds.
    source : str
        The file the design came from (or the bundled name).
    description : str
    """

    kind: GameKind
    games: dict[str, Game]
    settings: dict[str, dict[str, Any]]
    source: str = "<design>"
    description: str = ""
    text: str = field(default="", repr=False)
    play: dict[str, Play] = field(default_factory=dict)

    def play_of(self, treatment: str) -> Play:
        """How one treatment is played (the defaults where the design says nothing)."""
        self.game(treatment)  # unknown treatment: KeyError naming the known ones
        return self.play.get(treatment, Play())

    @property
    def treatments(self) -> list[str]:
        return list(self.games)

    def game(self, treatment: str) -> Game:
        """The game of one treatment."""
        try:
            return self.games[treatment]
        except KeyError:
            raise KeyError(
                f"treatment {treatment!r} is not in the design (known: {', '.join(self.games)})"
            ) from None

    def to_toml(self) -> str:
        """The design as TOML text (the file's own text when it came from a file)."""
        if self.text:
            return self.text
        lines = [f'game = "{self.kind.name}"']
        for name, params in self.settings.items():
            lines.append(f"\n[treatments.{name}]")
            play = self.play_of(name)
            for k, v in [*params.items(), *((k, getattr(play, k)) for k in PLAY_KEYS)]:
                if v is not None and not (k in PLAY_KEYS and v == PLAY_KEYS[k]):
                    lines.append(f"{k} = {_toml_value(v)}")
        return "\n".join(lines) + "\n"


def _toml_value(v: Any) -> str:
    if isinstance(v, str):
        return f'"{v}"'
    if isinstance(v, list | tuple):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    return repr(float(v)) if isinstance(v, float) else repr(v)


def bundled_designs() -> dict[str, Path]:
    """Designs shipped with the package, by name (file stem)."""
    folder = resources.files("cheaptalk") / "designs"
    return {Path(str(p)).stem: Path(str(p)) for p in folder.iterdir() if str(p).endswith(".toml")}


def load_design(path: str | Path) -> Design:
    """Read and validate a design file, or a bundled design by name.

    Raises
    ------
    InputError
        Missing or unreadable file, invalid TOML, unknown game or key, bad value.

    Examples
    --------
    >>> d = load_design("forecast_sharing")
    >>> d.treatments
    ['LL', 'LH', 'HL', 'HH']
    >>> d.game("HH").parameters["capacity_cost"]
    0.75
    """
    p = Path(path)
    if not p.exists():
        bundled = bundled_designs()
        if str(path) in bundled:
            p = bundled[str(path)]
        else:
            known = ", ".join(sorted(bundled))
            raise InputError(f"design file not found (bundled designs: {known})", file=path)
    return parse_design(read_text(p, "design", shown=path), source=str(path), folder=p.parent)


def parse_design(text: str, source: str = "<design>", folder: str | Path | None = None
                 ) -> Design:
    """Validate design TOML text (see :func:`load_design`); CSV tables it names are read
    from ``folder`` (default: the folder of ``source``)."""
    folder = Path(source).parent if folder is None else Path(folder)
    if not text.strip():
        raise InputError("design file is empty", file=source)
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        # Python 3.11 puts the position only in the message: "... (at line 3, column 7)".
        found = re.search(r"\(at line (\d+), column \d+\)", str(e))
        line = int(found.group(1)) if found else None
        msg = re.sub(r"\s*\(at (line \d+, column \d+|end of document)\)", "", str(e))
        raise InputError(f"invalid TOML: {msg}", file=source, line=line) from None

    def fail(message: str, key: str, table: str | None = None, name: str | None = None) -> None:
        raise InputError(message, file=source, key=key, line=_line_of(text, table, name or key))

    for k in doc:
        if k not in _TOP_LEVEL:
            fail(f"unknown key{_suggest(k, _TOP_LEVEL)}", k)
    kinds = game_kinds()
    if "game" not in doc:
        raise InputError(f"missing key 'game' (one of: {', '.join(kinds)})", file=source)
    game_name = doc["game"]
    if not isinstance(game_name, str) or game_name not in kinds:
        fail(f"unknown game {game_name!r}{_suggest(str(game_name), kinds)}; "
             f"known games: {', '.join(kinds)}", "game")
    kind = kinds[game_name]
    description = doc.get("description", "")
    if not isinstance(description, str):
        fail("description must be a string", "description")
    treatments = doc.get("treatments")
    if not isinstance(treatments, dict) or not treatments:
        raise InputError("the design has no [treatments.NAME] table", file=source,
                         key="treatments")

    games: dict[str, Game] = {}
    settings: dict[str, dict[str, Any]] = {}
    plays: dict[str, Play] = {}
    for name, table in treatments.items():
        where = f"treatments.{name}"
        if not name or name != name.strip() or not name.isprintable():
            raise InputError(f"treatment name {name!r}: a name must be non-empty, printable and "
                             "without leading or trailing spaces (as in the data's treatment "
                             "column)", file=source, key=where, line=_line_of(text, None, where))
        if not isinstance(table, dict):
            fail("must be a table: [treatments.NAME]", where, None, name)
        plays[name] = _check_play(table, where, text, source)
        read_from: dict[str, Path] = {}
        params = _check_treatment(kind, {k: v for k, v in table.items() if k not in PLAY_KEYS},
                                  where, text, source, folder, read_from)
        try:
            games[name] = kind.build(params, name)
        except (ValueError, TypeError) as e:
            # A message that starts with a key ("step must be > 0") is located at that key.
            first = str(e).split(" ", 1)[0].rstrip(":")
            if first in params:
                csv = f" (the table read from {read_from[first]})" if first in read_from else ""
                raise InputError(f"{e}{csv}", file=source, key=f"{where}.{first}",
                                 line=_line_of(text, where, first)) from None
            raise InputError(f"invalid treatment: {e}", file=source, key=where,
                             line=_line_of(text, None, f"treatments.{name}")) from None
        settings[name] = params
    return Design(kind=kind, games=games, settings=settings, source=source,
                  description=description, text=text, play=plays)


def _check_play(table: dict[str, Any], where: str, text: str, source: str) -> Play:
    """The treatment's :class:`Play` keys, checked."""

    def bad(key: str, message: str) -> InputError:
        return InputError(message, file=source, key=f"{where}.{key}",
                          line=_line_of(text, where, key))

    values: dict[str, Any] = {}
    matching = table.get("matching", PLAY_KEYS["matching"])
    if matching not in MATCHING:
        raise bad("matching", f"must be one of {', '.join(map(repr, MATCHING))}, got "
                  f"{matching!r}")
    values["matching"] = matching
    for key in ("group_size", "rounds"):
        if key not in table:
            continue
        v = table[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise bad(key, f"must be a whole number >= 1, got {v!r}")
        values[key] = v
    if values.get("group_size") is not None and matching == "fixed":
        raise bad("group_size", "applies to random matching only (fixed partners stay "
                  "together whatever the group)")
    return Play(**values)


def _check_treatment(
    kind: GameKind, table: dict[str, Any], where: str, text: str, source: str,
    folder: Path | None = None, read_from: dict[str, Path] | None = None,
) -> dict[str, Any]:
    keys = {k.name: k for k in kind.keys}
    for k in table:
        if k not in keys:
            allowed = [*keys, *PLAY_KEYS]
            raise InputError(
                f"unknown key for a {kind.name} treatment{_suggest(k, allowed)}; "
                f"allowed: {', '.join(allowed)}",
                file=source, key=f"{where}.{k}", line=_line_of(text, where, k),
            )
    params: dict[str, Any] = {}
    for key in kind.keys:
        if key.name not in table:
            if key.required:
                raise InputError(f"missing required key {key.name!r}", file=source, key=where,
                                 line=_line_of(text, None, where))
            params[key.name] = key.default
            continue
        if key.type in (Table, Labels):
            params[key.name] = _table_value(key, table[key.name], f"{where}.{key.name}", text,
                                            source, where, folder or Path("."), read_from)
            continue
        params[key.name] = _coerce(key, table[key.name], f"{where}.{key.name}", text, source,
                                   where)
    return params


def _coerce(key: Key, value: Any, full: str, text: str, source: str, table: str) -> Any:
    def bad(msg: str) -> InputError:
        return InputError(msg, file=source, key=full, line=_line_of(text, table, key.name))

    if key.type is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise bad(f"must be a number, got {value!r}")
        if value != value or value in (float("inf"), float("-inf")):
            raise bad("must be a finite number")
        return value
    if key.type is list:
        if not isinstance(value, list) or not value:
            raise bad(f"must be a non-empty list, got {value!r}")

        def numeric(x: Any) -> bool:
            if isinstance(x, list):
                return bool(x) and all(numeric(y) for y in x)
            return isinstance(x, int | float) and not isinstance(x, bool)

        if not all(numeric(x) for x in value):
            raise bad("must be a list of numbers")
        rows = [x for x in value if isinstance(x, list)]
        if rows:  # a table: every entry a row of numbers, every row as long as the first
            for i, x in enumerate(value, start=1):
                if not isinstance(x, list) or any(isinstance(y, list) for y in x):
                    raise bad(f"row {i} must be a list of numbers (a table has one list per "
                              "row)")
                if len(x) != len(value[0]):
                    raise bad(f"row {i} has {len(x)} entries but row 1 has {len(value[0])}: "
                              "every row needs the same number")
        return value
    return value


def _table_value(key: Key, value: Any, full: str, text: str, source: str, table: str,
                 folder: Path, read_from: dict[str, Path] | None) -> Any:
    """A :class:`Table` (inline rows, or a CSV file's) or :class:`Labels` value."""
    def bad(msg: str) -> InputError:
        return InputError(msg, file=source, key=full, line=_line_of(text, table, key.name))

    def number(x: Any) -> bool:
        return isinstance(x, int | float) and not isinstance(x, bool)

    if key.type is Labels:
        if not isinstance(value, list) or not value:
            raise bad(f"must be a non-empty list of labels or numbers, got {value!r}")
        for x in value:
            if not (isinstance(x, str) or number(x)):
                raise bad(f"must be a list of labels (strings) or numbers; {x!r} is neither")
        return value
    if isinstance(value, str):
        path = folder / value
        if read_from is not None:
            read_from[key.name] = path
        return _csv_table(path, full)
    if not isinstance(value, list) or not value or not all(isinstance(r, list) for r in value):
        raise bad("must be a table (a list of rows, one list of numbers per row) or the name "
                  "of a CSV file")
    return _coerce(Key(key.name, list), value, full, text, source, table)


def _csv_table(path: Path, key: str) -> list[list[float]]:
    """A CSV file of numbers (no header), as a list of rows; errors name file, row, column
    and the design key that named the file."""
    import csv
    import io

    try:
        content = read_text(path, "table")
    except InputError as e:
        raise InputError(e.message, file=path, line=e.line, key=key) from None
    rows = [r for r in csv.reader(io.StringIO(content)) if any(c.strip() for c in r)]
    if not rows:
        raise InputError("the table file is empty", file=path, key=key)
    out = []
    for i, row in enumerate(rows, start=1):
        if len(row) != len(rows[0]):
            raise InputError(f"row {i} has {len(row)} entries but row 1 has {len(rows[0])}: "
                             "every row needs the same number", file=path, row=i, key=key)
        values = []
        for j, cell in enumerate(row, start=1):
            try:
                x = float(cell.strip())
            except ValueError:
                x = float("nan")
            if not np.isfinite(x):
                raise InputError(f"not a finite number: {cell.strip()!r} (a table file holds "
                                 "numbers only, no header)", file=path, row=i, column=str(j),
                                 key=key)
            values.append(x)
        out.append(values)
    return out


def _suggest(word: str, choices: Any) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _line_of(text: str, table: str | None, key: str) -> int | None:
    """Best-effort line number of ``key`` (inside ``[table]`` when given) in TOML text."""
    lines = text.splitlines()
    start = 0
    if table is not None:
        header = re.compile(r"^\s*\[\s*" + re.escape(table) + r"\s*\]")
        for i, line in enumerate(lines):
            if header.match(line):
                start = i + 1
                break
    if key.startswith("treatments."):
        pattern = re.compile(r"^\s*\[\s*" + re.escape(key) + r"\s*\]")
    else:
        pattern = re.compile(r"^\s*" + re.escape(key) + r"\s*=")
    for i in range(start, len(lines)):
        if table is not None and lines[i].lstrip().startswith("["):
            break
        if pattern.match(lines[i]):
            return i + 1
    return None

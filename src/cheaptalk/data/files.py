"""Reading the user's files: every way a file can be unusable (missing, a folder,
unreadable, not UTF-8, not JSON) becomes one :class:`~cheaptalk.data.errors.InputError`
naming the file (and the line where there is one).

Within :func:`tracking_inputs` (each command of the command line) every file read is
recorded, so that no output of the same command replaces it (:func:`is_input`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from .errors import InputError

__all__ = ["existing_file", "is_input", "read_json", "read_text", "tracking_inputs"]

_inputs: ContextVar[set[Path] | None] = ContextVar("cheaptalk_inputs", default=None)


@contextmanager
def tracking_inputs() -> Iterator[set[Path]]:
    """Record, within this block, every file :func:`existing_file` hands to a reader.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "params.json"
    >>> _ = f.write_text("{}")
    >>> with tracking_inputs():
    ...     _ = read_json(f, "parameter")
    ...     is_input(f)
    True
    >>> is_input(f)   # outside a command nothing is tracked
    False
    """
    token = _inputs.set(set())
    try:
        yield _inputs.get()  # type: ignore[misc]
    finally:
        _inputs.reset(token)


def is_input(path: str | Path) -> bool:
    """Whether ``path`` is a file read within the current :func:`tracking_inputs` block."""
    seen = _inputs.get()
    return seen is not None and Path(path).resolve() in seen


def existing_file(path: str | Path, kind: str, shown: str | Path | None = None) -> Path:
    """``path`` as a Path, if it is a file; ``kind`` names it in messages ("data",
    "design", ...), ``shown`` is the name the user gave (default ``path``)."""
    p, shown = Path(path), path if shown is None else shown
    if not p.exists():
        raise InputError(f"{kind} file not found", file=shown)
    if p.is_dir():
        raise InputError(f"is a folder, not a {kind} file", file=shown)
    seen = _inputs.get()
    if seen is not None:
        seen.add(p.resolve())
    return p


def read_text(path: str | Path, kind: str, shown: str | Path | None = None) -> str:
    """The file's text (UTF-8, a byte-order mark allowed).

    Examples
    --------
    >>> read_text("no/such/file.toml", "design")
    Traceback (most recent call last):
    cheaptalk.data.errors.InputError: no/such/file.toml: design file not found
    """
    shown = path if shown is None else shown
    p = existing_file(path, kind, shown)
    try:
        raw = p.read_bytes()
    except OSError as e:
        raise InputError(f"cannot read file: {e.strerror}", file=shown) from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte {e.start})", file=shown, line=line) from None


def read_json(path: str | Path, kind: str) -> Any:
    """The parsed JSON of a file (see :func:`read_text`)."""
    text = read_text(path, kind)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise InputError(f"invalid JSON: {e.msg} (column {e.colno})", file=path,
                         line=e.lineno) from None
    except RecursionError:
        raise InputError("invalid JSON: nested too deeply", file=path) from None

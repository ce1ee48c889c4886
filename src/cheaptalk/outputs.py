"""Writing outputs without losing anything the user has.

Every file or folder a command writes goes through this module, so that the README's promise
holds in one place:

* :func:`check_output` runs *before* the work: the target's folder exists and is writable,
  the target is not a folder, and it does not exist unless ``force`` — so a long fit never
  ends in a failed write.
* :func:`write_atomic` writes a temporary file beside the target and moves it into place.
  Without ``force`` the move never replaces a file (a file that appeared while the work ran,
  or a second run writing the same output, is kept, and the write is refused); with ``force``
  it replaces the target in one step. An interrupted or failed write leaves no partial file.
* :func:`write_json` writes a JSON output that way (:func:`json_text`: indent 1, numpy
  values as plain numbers).
* :func:`atomic_folder` does the same for a folder (the report): it is built beside the
  target and renamed into place when complete.

Every failure is an :class:`~cheaptalk.data.errors.InputError` naming the path.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from cheaptalk.data.errors import InputError
from cheaptalk.data.files import is_input

__all__ = ["REPORT_MARKER", "atomic_folder", "check_folder", "check_output", "check_own_files",
           "json_text", "write_atomic", "write_json"]

#: File that marks a folder as a cheaptalk report (only such a folder is ever replaced).
#: Its first line says so; the others list the files cheaptalk wrote there.
REPORT_MARKER = ".cheaptalk-report"
#: Files a folder's user may add that a replacement may drop (Python's byte-code caches).
_REGENERATED = ("__pycache__",)


def _files_in(folder: Path) -> set[str]:
    """Every file under ``folder``, as a POSIX path relative to it (byte-code caches and
    the marker left out)."""
    return {f.relative_to(folder).as_posix() for f in folder.rglob("*")
            if not f.is_dir() and f.name != REPORT_MARKER
            and not any(part in _REGENERATED for part in f.relative_to(folder).parts)}


def check_own_files(folder: Path) -> None:
    """Refuse to replace a folder cheaptalk wrote (:data:`REPORT_MARKER`) that holds files
    cheaptalk did not write: replacing it would delete them (none are known where the
    marker lists no files)."""
    written = (folder / REPORT_MARKER).read_text(encoding="utf-8").splitlines()[1:]
    foreign = sorted(_files_in(folder) - set(written)) if written else []
    if foreign:
        shown = ", ".join(foreign[:3]) + (f", … ({len(foreign)} in all)"
                                          if len(foreign) > 3 else "")
        raise InputError(f"holds files cheaptalk did not write ({shown}); --force replaces "
                         "only cheaptalk's own: move them, or write elsewhere", file=folder)


def _temporary(target: Path) -> Path:
    return target.parent / f".{target.name}.{uuid.uuid4().hex[:12]}.tmp"


def _check_parent(path: Path) -> None:
    parent = path.parent
    if not parent.exists():
        raise InputError("output folder does not exist", file=parent)
    if not parent.is_dir():
        raise InputError("not a folder", file=parent)
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError("output folder is not writable", file=parent)


def check_output(path: str | Path, force: bool = False) -> Path:
    """Check, before any work, that ``path`` can be written as an output file.

    Raises
    ------
    InputError
        If ``path`` is a folder, its folder is missing or not writable, or it exists and
        ``force`` is false.

    Examples
    --------
    >>> check_output("no/such/folder/out.json")
    Traceback (most recent call last):
    cheaptalk.data.errors.InputError: no/such/folder: output folder does not exist
    """
    p = Path(path)
    if p.is_dir():
        raise InputError("is a folder; give a file name", file=p)
    if is_input(p):  # even with force: the command reads it
        raise InputError("is an input of this command; write the output to another file",
                         file=p)
    _check_parent(p)
    if (p.exists() or p.is_symlink()) and not force:
        raise InputError("output file exists; pass --force to replace it", file=p)
    return p


def _os_error(e: OSError, path: Path) -> InputError:
    reason = e.strerror or str(e)
    if e.errno == errno.ENOSPC:
        reason = "no space left on the device"
    return InputError(f"cannot write: {reason}", file=path)


def write_atomic(path: str | Path, content: str | bytes | Callable[[Path], None],
                 force: bool = False) -> Path:
    """Write ``content`` to ``path`` through a temporary file beside it.

    Parameters
    ----------
    path : path
        The target.
    content : str, bytes or callable
        Text (written as UTF-8), bytes, or a function that writes the file at the path it is
        given (e.g. ``lambda p: df.to_parquet(p)``).
    force : bool
        Replace an existing target; without it, a target that exists when the file is
        moved into place is kept and an :class:`InputError` raised.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> write_atomic(folder / "a.txt", "one").read_text()
    'one'
    >>> write_atomic(folder / "a.txt", "two")
    Traceback (most recent call last):
    cheaptalk.data.errors.InputError: ...a.txt: output file exists; pass --force to replace it
    >>> write_atomic(folder / "a.txt", "two", force=True).read_text()
    'two'
    >>> sorted(p.name for p in folder.iterdir())   # no temporary file left behind
    ['a.txt']
    """
    target = Path(path)
    check_output(target, force)
    tmp = _temporary(target)
    try:
        try:
            if callable(content):
                content(tmp)
            else:
                data = content.encode("utf-8") if isinstance(content, str) else content
                with open(tmp, "xb") as fh:
                    fh.write(data)
                    fh.flush()
                    os.fsync(fh.fileno())
            if force:
                os.replace(tmp, target)
            else:
                _link_new(tmp, target)
        except OSError as e:
            raise _os_error(e, target) from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return target


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(type(x).__name__)


def json_text(obj: Any) -> str:
    """The text of a JSON file written by cheaptalk (indent 1, numpy values as numbers).

    >>> json_text({"a": np.float64(0.5), "b": np.arange(2)})
    '{\\n "a": 0.5,\\n "b": [\\n  0,\\n  1\\n ]\\n}\\n'
    """
    return json.dumps(obj, indent=1, default=_json_default) + "\n"


def write_json(obj: Any, path: str | Path, force: bool = False) -> Path:
    """Write :func:`json_text` of ``obj`` to ``path`` with :func:`write_atomic`."""
    return write_atomic(path, json_text(obj), force)


def _link_new(tmp: Path, target: Path) -> None:
    """Move ``tmp`` to ``target`` unless ``target`` exists (atomically where the file system
    has hard links)."""
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise InputError("output file exists (it appeared while cheaptalk was working); "
                         "pass --force to replace it", file=target) from None
    except OSError as e:
        if e.errno not in (errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EXDEV):
            raise
        # No hard links here: claim the name exclusively, then replace the empty claim.
        try:
            os.close(os.open(target, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
        except FileExistsError:
            raise InputError("output file exists (it appeared while cheaptalk was working); "
                             "pass --force to replace it", file=target) from None
        os.replace(tmp, target)


def check_folder(path: str | Path, force: bool = False) -> Path:
    """Check, before any work, that a report folder can be written at ``path``.

    A folder that does not exist, or an empty one, is fine; an existing cheaptalk report
    (marked by :data:`REPORT_MARKER`) is replaced only with ``force``, and only while it holds
    nothing but the files cheaptalk wrote there; any other existing folder or file is never
    replaced.
    """
    p = Path(path)
    _check_parent(p)
    if p.exists() and not p.is_dir():
        raise InputError("exists and is not a folder", file=p)
    if p.is_dir() and any(p.iterdir()):
        if not (p / REPORT_MARKER).exists():
            raise InputError("folder exists and is not a cheaptalk report; choose another "
                             "folder", file=p)
        if not force:
            raise InputError("a report is already there; pass --force to replace it, or write "
                             "it elsewhere with --report DIR", file=p)
        check_own_files(p)
    return p


@contextlib.contextmanager
def atomic_folder(path: str | Path, force: bool = False) -> Iterator[Path]:
    """Build a folder beside ``path`` and move it into place when the block succeeds.

    Yields the temporary folder to write into. If the block raises (or is interrupted), the
    temporary folder is removed and ``path`` is left as it was.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "report"
    >>> with atomic_folder(target) as tmp:
    ...     _ = (tmp / "index.html").write_text("<p>hi</p>")
    >>> sorted(p.name for p in target.iterdir())
    ['.cheaptalk-report', 'index.html']
    """
    target = check_folder(path, force)
    tmp = _temporary(target)
    try:
        tmp.mkdir()
        (tmp / REPORT_MARKER).write_text("written by cheaptalk\n", encoding="utf-8")
        yield tmp
        (tmp / REPORT_MARKER).write_text(
            "\n".join(["written by cheaptalk", *sorted(_files_in(tmp))]) + "\n",
            encoding="utf-8")
        check_folder(target, force)  # unchanged while we worked?
        old = None
        if target.exists():
            old = _temporary(target)
            os.rename(target, old)
        os.rename(tmp, target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as e:
        raise _os_error(e, target) from None
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

"""The console script ``cheaptalk`` and ``python -m cheaptalk``.

A light module: Ctrl-C while the command line and its libraries are still being imported
(the first second or so) ends with one ``error:`` line and exit status 130, as it does
later, instead of a traceback from inside an import.
"""

from __future__ import annotations

import sys


def main() -> None:
    """Import and run the command line (:func:`cheaptalk.cli.main`)."""
    try:
        from cheaptalk.cli import main as run
        run()
    except KeyboardInterrupt:  # before the command line handles signals itself
        sys.stderr.write("error: interrupted by SIGINT; nothing was done\n")
        sys.exit(130)

"""Registry of game kinds: a game kind is one module in :mod:`cheaptalk.games` with a
module-level ``KIND``; design files name it by ``KIND.name``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .base import Game

__all__ = ["REQUIRED", "GameKind", "Key", "Labels", "Table", "game_kinds"]

#: Marker for a key without a default.
REQUIRED: Any = object()


class Table:
    """Key type: a table of numbers, given inline (a list of rows) or as the name of a CSV
    file (relative to the design file; one line per row, numbers only, no header). The
    builder receives a list of rows."""


class Labels:
    """Key type: a non-empty list whose entries are labels (strings) or numbers."""


@dataclass(frozen=True)
class Key:
    """A treatment parameter in a design file: name, expected type, default."""

    name: str
    type: type
    default: Any = REQUIRED

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


@dataclass(frozen=True)
class GameKind:
    """A family of games a design file can name."""

    name: str
    description: str
    keys: tuple[Key, ...]
    build: Callable[[dict[str, Any], str], Game]
    roles: tuple[str, str] = ("sender", "receiver")
    #: What the state, message and action are called in this game (for reports).
    variables: tuple[str, str, str] = ("state", "message", "action")
    #: The data column that carries the feedback seen after each round (SPEC §2.4):
    #: ``"state"`` where the state itself is revealed.
    feedback_column: str = "state"


def game_kinds() -> dict[str, GameKind]:
    """All game kinds found in the :mod:`cheaptalk.games` package, by name."""
    from cheaptalk import games

    kinds: dict[str, GameKind] = {}
    for info in pkgutil.iter_modules(games.__path__):
        module = importlib.import_module(f"{games.__name__}.{info.name}")
        kind = getattr(module, "KIND", None)
        if isinstance(kind, GameKind):
            kinds[kind.name] = kind
    return kinds

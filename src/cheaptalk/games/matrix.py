r"""Games from tables (SPEC §2.5): any finite sender–receiver game.

A ``matrix`` treatment gives the finite game of SPEC §1 directly:

* ``states`` (values) and, optionally, ``prior`` (uniform by default);
* ``messages`` as they appear in the data (numbers, or labels such as ``"A"``/``"B"``) and
  ``literal``, the state each message asserts (more or fewer messages than states are allowed,
  and several messages may assert the same state); without ``messages``, the messages are the
  states;
* ``actions`` (values);
* ``sender_payoffs[t][a]`` and ``receiver_payoffs[t][a]``, inline or as CSV files named
  relative to the design file.

A message's literal value :math:`v(m)` is the state it asserts, so lie sizes
:math:`|v(m) - t|` and the literal reading are those of SPEC §1. See
:meth:`cheaptalk.games.base.Game.from_tables`.
"""

from __future__ import annotations

from typing import Any

from .base import Game
from .registry import GameKind, Key, Labels, Table

__all__ = ["KIND"]


def _build(params: dict[str, Any], name: str) -> Game:
    return Game.from_tables(**params, name=name)


KIND = GameKind(
    name="matrix",
    description="Any finite cheap-talk game, given by its states, messages, actions and "
                "payoff tables",
    keys=(
        Key("states", list), Key("actions", list),
        Key("sender_payoffs", Table), Key("receiver_payoffs", Table),
        Key("prior", list, None), Key("messages", Labels, None), Key("literal", list, None),
    ),
    build=_build,
    roles=("sender", "receiver"),
    variables=("state", "message", "action"),
)

r"""Binary deception game (Gneezy 2005 style), SPEC §2.3.

Two states, two messages, two actions, coded 0 and 1:

* state ``t``: option ``t`` is the better one *for the receiver* (``0`` = A, ``1`` = B);
* message ``m``: "option ``m`` is better for you" (literal value ``m``);
* action ``a``: the receiver picks option ``a``.

The payoff tables ``sender_payoffs[t][a]`` and ``receiver_payoffs[t][a]`` are the user's.
The default is Gneezy's first treatment: the receiver's better option pays the receiver 6 and
the sender 5, the other pays the receiver 5 and the sender 6. It is the smallest game in
which a lying-averse sender and a strategic (level-k) sender act differently.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Game
from .registry import GameKind, Key

__all__ = ["GNEEZY_RECEIVER", "GNEEZY_SENDER", "KIND", "binary_deception"]

GNEEZY_SENDER = ((5.0, 6.0), (6.0, 5.0))
GNEEZY_RECEIVER = ((6.0, 5.0), (5.0, 6.0))


def binary_deception(
    sender_payoffs: Sequence[Sequence[float]] = GNEEZY_SENDER,
    receiver_payoffs: Sequence[Sequence[float]] = GNEEZY_RECEIVER,
    prior: Sequence[float] = (0.5, 0.5),
    name: str = "binary_deception",
) -> Game:
    """Build a 2-state, 2-message, 2-action deception game.

    Examples
    --------
    >>> g = binary_deception()
    >>> g.literal.tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    u_s = np.asarray(sender_payoffs, dtype=float)
    u_r = np.asarray(receiver_payoffs, dtype=float)
    for key, table in (("sender_payoffs", u_s), ("receiver_payoffs", u_r)):
        if table.shape != (2, 2):
            raise ValueError(f"{key} must be a 2x2 table [state][action], got shape "
                             f"{table.shape}")
    parameters = dict(sender_payoffs=u_s.tolist(), receiver_payoffs=u_r.tolist(),
                      prior=list(prior))
    return Game(states=[0.0, 1.0], prior=prior, messages=[0.0, 1.0], actions=[0.0, 1.0],
                sender_payoff=u_s, receiver_payoff=u_r, name=name, parameters=parameters)


def _build(params: dict[str, Any], name: str) -> Game:
    return binary_deception(**params, name=name)


KIND = GameKind(
    name="binary_deception",
    description="Binary deception game (Gneezy 2005): two states, messages and actions",
    keys=(
        Key("sender_payoffs", list, GNEEZY_SENDER), Key("receiver_payoffs", list, GNEEZY_RECEIVER),
        Key("prior", list, (0.5, 0.5)),
    ),
    build=_build,
    roles=("sender", "receiver"),
    variables=("state", "message", "action"),
)

r"""Discrete Crawford–Sobel games (Cai & Wang 2006 and later experiments), SPEC §2.2.

States :math:`t` with a prior (uniform by default), messages with the states' literal values,
actions :math:`a`. Payoffs

.. math::

    u_R(t, a) = \text{base} - \text{scale}\,|t - a|^{\text{exponent}}, \qquad
    u_S(t, a) = \text{base} - \text{scale}\,|t + d - a|^{\text{exponent}},

with sender bias :math:`d`. The Cai & Wang preset is states ``1, 3, 5, 7, 9``, actions
``1, …, 9``, base 110, scale 10, exponent 1.4; their biases included 0.5, 1.2 and 2. These
are configurable defaults, not claims about any particular session.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .base import Game, check_grid_size
from .registry import GameKind, Key

__all__ = ["CAI_WANG_ACTIONS", "CAI_WANG_STATES", "KIND", "crawford_sobel"]

CAI_WANG_STATES = (1.0, 3.0, 5.0, 7.0, 9.0)
CAI_WANG_ACTIONS = tuple(float(a) for a in range(1, 10))


def crawford_sobel(
    bias: float = 1.2,
    states: Sequence[float] = CAI_WANG_STATES,
    actions: Sequence[float] = CAI_WANG_ACTIONS,
    base: float = 110.0, scale: float = 10.0, exponent: float = 1.4,
    prior: Sequence[float] | None = None, messages: Sequence[float] | None = None,
    name: str = "crawford_sobel",
) -> Game:
    """Build a discrete Crawford–Sobel game.

    Examples
    --------
    >>> g = crawford_sobel(bias=1.2)
    >>> g.shape
    (5, 5, 9)
    >>> float(g.receiver_payoff[0, 0]), round(float(g.sender_payoff[0, 0]), 4)
    (110.0, 97.0922)
    >>> crawford_sobel(states=range(5000), actions=range(5000))
    Traceback (most recent call last):
    ValueError: states gives 5000 states x 5000 actions = 2.5e+07 cells per table (200 MB);...
    """
    t = np.asarray(states, dtype=float)
    a = np.asarray(actions, dtype=float)
    if scale < 0 or exponent <= 0:
        raise ValueError("scale must be >= 0 and exponent > 0")
    # payoff tables [t, a] and strategy tables [t, m] (the messages: the states by default)
    check_grid_size("states", {"states": t.size, "actions": a.size})
    check_grid_size("states", {"states": t.size,
                               "messages": t.size if messages is None else len(messages)})
    p = np.full(t.size, 1.0 / t.size) if prior is None else np.asarray(prior, dtype=float)
    u_r = base - scale * np.abs(t[:, None] - a[None, :]) ** exponent
    u_s = base - scale * np.abs(t[:, None] + bias - a[None, :]) ** exponent
    parameters = dict(states=list(t), actions=list(a), bias=bias, base=base, scale=scale,
                      exponent=exponent)
    return Game(states=t, prior=p, messages=t if messages is None else messages, actions=a,
                sender_payoff=u_s, receiver_payoff=u_r, name=name, parameters=parameters)


def _build(params: dict[str, Any], name: str) -> Game:
    return crawford_sobel(**params, name=name)


KIND = GameKind(
    name="crawford_sobel",
    description="Discrete Crawford–Sobel game with sender bias (Cai & Wang 2006)",
    keys=(
        Key("states", list), Key("actions", list), Key("bias", float),
        Key("base", float, 110.0), Key("scale", float, 10.0), Key("exponent", float, 1.4),
        Key("prior", list, None),
    ),
    build=_build,
    roles=("sender", "receiver"),
    variables=("state", "message", "action"),
)

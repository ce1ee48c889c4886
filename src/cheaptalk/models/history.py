r"""What a unit of type analysis saw in its earlier rounds (SPEC §2.4, §3.6).

A model whose play depends on experience (:attr:`~cheaptalk.models.base.Model.history_roles`)
gets the decisions of one role as a :class:`History`: for decision :math:`d` of unit
:math:`i`, ``previous[d]`` is the unit's decision one round earlier (its own rows in round
order, whichever partner it met) and ``credible[d]`` the credibility :math:`c_d \in \{0, 1\}`
of the report it got, judged from the feedback after that round
(:meth:`~cheaptalk.games.base.Game.credible`). Decisions are indexed as in the arrays given
to :func:`build_history`; nothing is reordered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["History", "build_history"]


@dataclass(frozen=True, eq=False)
class History:
    """Decisions of one role with each unit's order of play.

    Attributes
    ----------
    unit : ndarray of int, shape (n,)
        The unit (subject in this role) of each decision.
    position : ndarray of int, shape (n,)
        How many earlier decisions the unit made (0 for its first).
    previous : ndarray of int, shape (n,)
        Index of the unit's previous decision, -1 for its first.
    credible : ndarray of float, shape (n,)
        Credibility of the decision's report in the light of the feedback after the round
        (NaN where not yet known, e.g. the current round of a simulation).
    levels : list of ndarray of int
        ``levels[k]``: the decisions at position ``k`` (a recursion over rounds runs
        level by level, vectorised over units).
    """

    unit: NDArray[np.intp]
    position: NDArray[np.intp]
    previous: NDArray[np.intp]
    credible: NDArray[np.float64]
    levels: list[NDArray[np.intp]]

    @property
    def n_decisions(self) -> int:
        return int(self.unit.size)


def build_history(unit: ArrayLike, round_: ArrayLike, credible: ArrayLike) -> History:
    """Order each unit's decisions by round (ties: the given order).

    Examples
    --------
    >>> h = build_history([0, 1, 0, 0], [3, 1, 1, 2], [1.0, 0.0, 0.0, 1.0])
    >>> h.position.tolist(), h.previous.tolist()
    ([2, 0, 0, 1], [3, -1, -1, 2])
    >>> [lv.tolist() for lv in h.levels]
    [[1, 2], [3], [0]]
    """
    unit = np.asarray(unit, dtype=np.intp)
    rounds = np.asarray(round_)
    n = unit.size
    order = np.lexsort((np.arange(n), rounds, unit))
    sorted_unit = unit[order]
    first = np.ones(n, dtype=bool)
    first[1:] = sorted_unit[1:] != sorted_unit[:-1]
    start = np.maximum.accumulate(np.where(first, np.arange(n), 0))
    position = np.empty(n, dtype=np.intp)
    position[order] = np.arange(n) - start
    previous = np.full(n, -1, dtype=np.intp)
    previous[order[~first]] = order[np.flatnonzero(~first) - 1]
    n_levels = int(position.max()) + 1 if n else 0
    by_position = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[by_position], np.arange(n_levels + 1))
    levels = [by_position[bounds[k]:bounds[k + 1]] for k in range(n_levels)]
    return History(unit, position, previous, np.asarray(credible, dtype=float), levels)

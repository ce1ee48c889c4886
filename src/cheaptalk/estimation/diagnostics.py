r"""Fit diagnostics: observed against predicted means, bin by bin (SPEC §5).

Two measures per treatment: the mean message given the state (binned by state) and the mean
action given the message (binned by message). A model's prediction for a decision with
conditioning value :math:`x` (a state or a message) is the mean of the next choice under its
population strategy *with the fit's tremble*,

.. math::

    \hat y(x) = \sum_y \big[(1 - \varepsilon)\, s[x, y] + \varepsilon / n_y\big]\, v_y,

and a bin's prediction is the average of :math:`\hat y(x_d)` over the decisions :math:`d`
in the bin, like its observed mean :math:`\bar y`.

The one binning rule (:func:`bin_values`): a grid of at most :data:`MAX_POINTS` values gets a
bin per value; a larger grid gets :data:`N_BINS` equal-width bins over its range, each
closed on the left, the last also on the right. Explicit bin counts or edges may be given.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cheaptalk.choice import tremble
from cheaptalk.data.interactions import Dataset

if TYPE_CHECKING:
    from .mle import FitResults

__all__ = ["MAX_POINTS", "N_BINS", "Bins", "bin_values", "diagnostics"]

#: A grid with at most this many values gets one bin per value.
MAX_POINTS = 12
#: Equal-width bins of a larger grid.
N_BINS = 10


@dataclass(frozen=True)
class Bins:
    """Bins of a set of values.

    Attributes
    ----------
    index : ndarray of int
        The bin of each value (-1: outside every bin).
    low, high : ndarray of float
        Each bin's bounds (equal for a bin of one grid value).
    labels : list of str
        ``"3"`` for a bin of one value, ``"0–10"`` for an interval.
    """

    index: NDArray[np.intp]
    low: NDArray[np.float64]
    high: NDArray[np.float64]
    labels: list[str]


def bin_values(values: ArrayLike, grid: ArrayLike,
               bins: int | Sequence[float] | None = None) -> Bins:
    """Bin ``values`` (points of ``grid``, or within its range) by the one rule of the module
    docstring; ``bins`` overrides it with a number of equal-width bins over the grid's range
    or with increasing edges.

    Examples
    --------
    >>> b = bin_values([1, 3, 3], grid=[3, 1, 2])
    >>> b.index.tolist(), b.labels
    ([0, 2, 2], ['1', '2', '3'])
    >>> b = bin_values([0, 5, 10, 20], grid=np.arange(21), bins=[0, 5, 10])
    >>> b.index.tolist(), b.labels
    ([0, 1, 1, -1], ['0–5', '5–10'])
    """
    x = np.asarray(values, dtype=float)
    g = np.unique(np.asarray(grid, dtype=float))
    if bins is None and g.size <= MAX_POINTS:
        pos = np.clip(np.searchsorted(g, x), 0, g.size - 1)
        index = np.where(g[pos] == x, pos, -1).astype(np.intp)
        return Bins(index, g.copy(), g.copy(), [f"{v:g}" for v in g])
    if bins is None or isinstance(bins, int | np.integer):
        n = N_BINS if bins is None else int(bins)
        if n < 1:
            raise ValueError("bins must be >= 1")
        edges = np.linspace(g[0], g[-1], n + 1)
    else:
        edges = np.asarray(bins, dtype=float)
        if edges.ndim != 1 or edges.size < 2 or np.any(np.diff(edges) <= 0):
            raise ValueError("bin edges must be an increasing sequence of at least two numbers")
    index = np.searchsorted(edges, x, side="right") - 1
    index[x == edges[-1]] = edges.size - 2  # the last bin is closed
    index[(index < 0) | (index > edges.size - 2)] = -1
    return Bins(index.astype(np.intp), edges[:-1].copy(), edges[1:].copy(),
                [f"{lo:g}–{hi:g}" for lo, hi in itertools.pairwise(edges)])


def diagnostics(dataset: Dataset, fits: Mapping[str, FitResults]) -> pd.DataFrame:
    """Mean message by state bin and mean action by message bin: observed and per model
    (population strategy with the fit's tremble; see the module docstring).

    Returns a long table with columns ``treatment, measure, bin, n, observed`` and one
    column per model; empty bins are left out.
    """
    t = dataset.table
    rows = []
    for g in dataset.design.treatments:
        sel = np.flatnonzero((t["treatment"] == g).to_numpy())
        if sel.size == 0:
            continue
        game = dataset.design.game(g)
        preds = {name: f.model.predict(game, f.model_params) for name, f in fits.items()}
        eps = {name: f.epsilon for name, f in fits.items()}
        means = {
            "message by state": {n: tremble(p.sender, eps[n]) @ game.messages
                                 for n, p in preds.items()},
            "action by message": {n: tremble(p.receiver, eps[n]) @ game.actions
                                  for n, p in preds.items()},
        }
        for measure, x_idx, y_vals, x_grid in (
            ("message by state", dataset.state[sel], t["message"].to_numpy()[sel],
             game.states),
            ("action by message", dataset.message[sel], t["action"].to_numpy()[sel],
             game.messages),
        ):
            b = bin_values(x_grid[x_idx], x_grid)
            expected = {name: m[x_idx] for name, m in means[measure].items()}
            for i, label in enumerate(b.labels):
                inside = b.index == i
                if not inside.any():
                    continue
                row = {"treatment": g, "measure": measure, "bin": label,
                       "n": int(inside.sum()), "observed": float(y_vals[inside].mean())}
                row.update({name: float(e[inside].mean()) for name, e in expected.items()})
                rows.append(row)
    return pd.DataFrame(rows)

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

For a model whose play in a role depends on history (``dynamic_trust``'s receivers),
:math:`\hat y` of a decision is the population's mean choice *given the unit's record up to
that round* (:func:`expected_choices`): the type-weighted mean over the role's types of the
model's :meth:`~cheaptalk.models.base.Model.history_strategy_rows`, with the tremble.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cheaptalk.choice import tremble
from cheaptalk.data.interactions import Dataset

if TYPE_CHECKING:
    from cheaptalk.games.base import Game
    from cheaptalk.models.base import Model, Prediction
    from cheaptalk.models.history import History

    from .mle import FitResults

__all__ = [
    "MAX_POINTS",
    "MEASURES",
    "N_BINS",
    "Bins",
    "Measure",
    "bin_values",
    "diagnostics",
    "expected_choices",
    "predicted_means",
    "round_blocks",
    "slope_by_block",
]

#: A grid with at most this many values gets one bin per value.
MAX_POINTS = 12
#: Equal-width bins of a larger grid.
N_BINS = 10
#: (decision, type) pairs whose choice probabilities :func:`expected_choices` may ask a model
#: for at once however small the chunks (a few MB of rows).
_MIN_PAIRS = 4096


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


def expected_choices(model: Model, params: Mapping[str, float], dataset: Dataset, role: str,
                     epsilon: float, chunk_size: int | None = None) -> NDArray[np.float64]:
    """Each row's expected choice value (message for ``"sender"``, action for
    ``"receiver"``) under the model's population, given what the unit saw (module docstring).

    Evaluated over the likelihood's chunks of units
    (:class:`~cheaptalk.estimation.likelihood.Likelihood`, ``chunk_size`` decisions; a unit's
    record is whole within its chunk), so that a history role's choice probabilities are held
    for one chunk at a time; the values do not depend on ``chunk_size``.

    Returns an array of one value per row of ``dataset.table``.
    """
    from cheaptalk.estimation.likelihood import Likelihood

    lk = Likelihood(model, dataset, epsilon=epsilon, chunk_size=chunk_size)
    out = np.full(len(dataset.table), np.nan)
    table_rows = np.flatnonzero(lk.masks[role])
    # Per treatment, once: the choice values, the role's type weights, and (static play)
    # the expected choice given each conditioning value.
    values: dict[str, NDArray[np.float64]] = {}
    weights: dict[str, NDArray[np.float64]] = {}
    static: dict[str, NDArray[np.float64]] = {}
    for g in lk.treatments:
        game = lk.games[g]
        values[g] = game.actions if role == "receiver" else game.messages
        weights[g], strategies, _ = model.predict(game, params).role_types(role)
        if role not in lk.histories:
            population = np.tensordot(weights[g], strategies, axes=1)
            static[g] = tremble(population, epsilon) @ values[g]
    for chunk in lk.chunks[role]:
        for cb in chunk.blocks:
            block, g = cb.block, cb.block.treatment
            if g in static:
                expected = static[g][block.x]
            else:
                expected = _history_expectation(model, params, lk.games[g], role, chunk.history,
                                                block, weights[g], values[g], epsilon,
                                                lk.chunk_size)
            out[table_rows[chunk.decisions[block.rows]]] = expected
    return out


def _history_expectation(model: Model, params: Mapping[str, float], game: Game, role: str,
                         history: History, block: Any, weights: NDArray[np.float64],
                         values: NDArray[np.float64], epsilon: float, budget: int
                         ) -> NDArray[np.float64]:
    """The type-weighted expected choice of a chunk's decisions in one treatment, asking the
    model for the choice probabilities of several types at once: at most ``budget`` (decision,
    type) pairs per call, or :data:`_MIN_PAIRS`, or one type's decisions, whichever is most,
    so that the rows held stay the size of the likelihood's while the model's fixed cost per
    call is paid rarely (tiny chunks too)."""
    n = block.rows.size
    per_call = max(1, max(budget, _MIN_PAIRS) // max(n, 1))
    expected = np.zeros(n)
    for first in range(0, weights.size, per_call):
        types = np.arange(first, min(first + per_call, weights.size), dtype=np.intp)
        rows = model.history_strategy_rows(game, params, role, history,
                                           np.tile(block.rows, types.size),
                                           np.tile(block.x, types.size), np.repeat(types, n))
        mean = (tremble(rows, epsilon) @ values).reshape(types.size, n)
        expected += weights[types] @ mean
    return expected


@dataclass(frozen=True)
class Measure:
    """A relation the diagnostics and the report's figures show: the mean of ``role``'s
    choice (data column ``y``) at each value of what it sees (data column ``x``). The
    game's grids of both are named by the plurals (``states``, ``messages``, ``actions``)."""

    name: str
    role: str
    x: str
    y: str

    @property
    def x_grid(self) -> str:
        return f"{self.x}s"

    @property
    def y_grid(self) -> str:
        return f"{self.y}s"


#: The two relations, by name.
MEASURES = {m.name: m for m in (Measure("message by state", "sender", "state", "message"),
                                Measure("action by message", "receiver", "message", "action"))}


def predicted_means(prediction: Prediction, game: Game, epsilon: float
                    ) -> dict[str, NDArray[np.float64]]:
    """Each of :data:`MEASURES` under a prediction's population strategies with the tremble:
    the mean message at each state and the mean action at each message."""
    return {m.name: tremble(getattr(prediction, m.role), epsilon) @ getattr(game, m.y_grid)
            for m in MEASURES.values()}


def diagnostics(dataset: Dataset, fits: Mapping[str, FitResults]) -> pd.DataFrame:
    """Mean message by state bin and mean action by message bin: observed and per model
    (population strategy with the fit's tremble; see the module docstring).

    Returns a long table with columns ``treatment, measure, bin, n, observed`` and one
    column per model; empty bins are left out.
    """
    t = dataset.table
    rows = []
    by_history = {(name, role): expected_choices(f.model, f.model_params, dataset, role,
                                                 f.epsilon)
                  for name, f in fits.items() for role in f.model.history_roles}
    for g in dataset.design.treatments:
        sel = np.flatnonzero((t["treatment"] == g).to_numpy())
        if sel.size == 0:
            continue
        game = dataset.design.game(g)
        means: dict[str, dict[str, NDArray[np.float64]]] = {m: {} for m in MEASURES}
        for name, f in fits.items():
            by_measure = predicted_means(f.model.predict(game, f.model_params), game,
                                         f.epsilon)
            for measure, mean in by_measure.items():
                means[measure][name] = mean
        for measure, m in MEASURES.items():
            x_idx, y_vals = getattr(dataset, m.x)[sel], t[m.y].to_numpy()[sel]
            x_grid = getattr(game, m.x_grid)
            b = bin_values(x_grid[x_idx], x_grid)
            expected = {name: by_history[(name, m.role)][sel] if (name, m.role) in by_history
                        else mean[x_idx] for name, mean in means[measure].items()}
            for i, label in enumerate(b.labels):
                inside = b.index == i
                if not inside.any():
                    continue
                row = {"treatment": g, "measure": measure, "bin": label,
                       "n": int(inside.sum()), "observed": float(y_vals[inside].mean())}
                row.update({name: float(e[inside].mean()) for name, e in expected.items()})
                rows.append(row)
    return pd.DataFrame(rows)


def round_blocks(rounds: ArrayLike, n_blocks: int = 5) -> tuple[NDArray[np.intp], list[str]]:
    """Split the distinct rounds into at most ``n_blocks`` consecutive blocks of nearly equal
    numbers of rounds; returns each value's block (index) and the blocks' labels.

    Examples
    --------
    >>> block, labels = round_blocks([1, 2, 3, 4, 5, 6, 7], n_blocks=3)
    >>> block.tolist(), labels
    ([0, 0, 0, 1, 1, 2, 2], ['1–3', '4–5', '6–7'])
    """
    r = np.asarray(rounds)
    distinct = np.unique(r)
    groups = [g for g in np.array_split(distinct, min(n_blocks, distinct.size)) if g.size]
    block_of = {int(v): i for i, g in enumerate(groups) for v in g}
    labels = [f"{g[0]}–{g[-1]}" if g.size > 1 else f"{g[0]}" for g in groups]
    return np.array([block_of[int(v)] for v in r], dtype=np.intp), labels


def slope_by_block(x: ArrayLike, y: ArrayLike, block: ArrayLike, cluster: ArrayLike,
                   n_blocks: int) -> pd.DataFrame:
    """OLS slope of ``y`` on ``x`` within each block, with a standard error clustered by
    ``cluster`` (the CR1 sandwich, ``G/(G-1)``) and its 95% interval.

    Examples
    --------
    >>> x = np.arange(8.0); y = 2 * x + 1
    >>> slope_by_block(x, y, [0] * 4 + [1] * 4, np.arange(8), 2)["slope"].tolist()
    [2.0, 2.0]
    """
    from .intervals import Z_95 as z

    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    block, cluster = np.asarray(block), np.asarray(cluster)
    rows = []
    for b in range(n_blocks):
        sel = block == b
        xs, ys = x[sel], y[sel]
        dx = xs - xs.mean()
        sxx = float(dx @ dx)
        if xs.size < 3 or sxx == 0:
            rows.append({"slope": np.nan, "se": np.nan, "lo": np.nan, "hi": np.nan,
                         "n": int(sel.sum())})
            continue
        slope = float(dx @ (ys - ys.mean())) / sxx
        resid = ys - ys.mean() - slope * dx
        _, g = np.unique(cluster[sel], return_inverse=True)
        scores = np.bincount(g, weights=dx * resid)
        n_g = scores.size
        var = float(scores @ scores) / sxx**2 * (n_g / (n_g - 1) if n_g > 1 else np.nan)
        se = float(np.sqrt(var))
        rows.append({"slope": slope, "se": se, "lo": slope - z * se, "hi": slope + z * se,
                     "n": int(sel.sum())})
    return pd.DataFrame(rows)

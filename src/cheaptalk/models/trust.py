r"""Trust-embedded model of cheap talk (Özer, Zheng & Chen 2011; SPEC §3.3).

**Receivers** differ in trust :math:`\alpha \in [0, 1]`. A receiver of trust α takes the
message as true with weight α and otherwise keeps the prior,

.. math::

    q_\alpha[m, t] = \alpha\,L[m, t] + (1 - \alpha)\,p[t], \qquad
    \rho_\alpha = \operatorname{logit}\big(U_R(q_\alpha),\ \lambda_R\big).

Because :math:`U_R` is linear in the belief,
:math:`U_R(q_\alpha) = \alpha\,U_R(L) + (1 - \alpha)\,\bar u_R` with
:math:`\bar u_R[a] = \sum_t p[t]\,u_R(t, a)`: both terms are computed once per game.

**Senders** differ in the disutility of lying β ≥ 0 and know the population of receivers,
:math:`\bar\rho = E_\alpha[\rho_\alpha]` (no tremble):

.. math::

    \sigma_\beta = \operatorname{logit}\big(U_S(\bar\rho) - \beta\,C,\ \lambda_S\big),

with lie cost :math:`C[t, m] = |v(m) - t|` (``lie_cost="linear"``, default),
:math:`|v(m) - t|^2` (``"quadratic"``) or :math:`\max(v(m) - t, 0)` (``"inflation"``: only
overstating costs).

**Population.** :math:`\alpha \sim \mathrm{Beta}(a, b)` (parameters ``alpha_a``,
``alpha_b``) and :math:`\beta \sim \mathrm{LogNormal}(\mu, s)` (``beta_mu``, ``beta_sigma``),
independent. With ``point_masses=True`` the distributions gain atoms: mass ``alpha_p0`` at
α = 0, ``alpha_p1`` at α = 1 (``alpha_p0 + alpha_p1 ≤ 1``; the Beta part has weight
``1 - alpha_p0 - alpha_p1``) and mass ``beta_p0`` at β = 0 (the LogNormal part has weight
``1 - beta_p0``).

**Quadrature** (:mod:`cheaptalk.numerics.quadrature`). α is integrated with tanh–sinh
nodes on (0, 1) and β with a fixed, equally spaced grid in log β over a range set by the
game; only the weights depend on the parameters. Every fit reports the change in
log-likelihood when the nodes are doubled (SPEC §3.3 asks for less than 0.01 at the
defaults :attr:`Trust.n_alpha` = 64 and :attr:`Trust.n_beta` = 161; the evidence is in
benchmarks/README.md). The estimator keeps ``beta_sigma`` at least two log-β grid steps
wide (:func:`~cheaptalk.numerics.quadrature.beta_sigma_floor`, via :meth:`Trust.bounds`)
and flags a fit that stops there.

**Exact derivatives** (:meth:`Trust.predict_with_pullback`). With
:math:`g = P \odot (\bar P - \sum \bar P P)` row by row for each logit strategy :math:`P`
and the adjoints coming in for each type, backwards through the model:

* sender :math:`j`: :math:`\bar\lambda_S \mathrel{+}= \langle g_j, U_S(\bar\rho) - \beta_j
  C\rangle`, :math:`\bar\beta_j = -\lambda_S\langle g_j, C\rangle`, and
  :math:`\bar U_S = \lambda_S\sum_j g_j`; the β nodes are fixed, so μ and s act only
  through the weights: :math:`\bar\mu = \sum_j \bar w_j\,\partial w_j/\partial\mu`,
  likewise s;
* the population strategy: :math:`U_S[t, m] = \sum_a \bar\rho[m, a] u_S[t, a]` gives
  :math:`\bar{\bar\rho} = \bar U_S^{\top} u_S`, which adds :math:`w_i\bar{\bar\rho}` to
  receiver type :math:`i`'s adjoint and :math:`\langle\bar{\bar\rho}, \rho_i\rangle` to
  its weight's (so λ_R, ``alpha_a``, ``alpha_b`` and the α point masses also act through
  the senders);
* receiver :math:`i`: :math:`\bar\lambda_R \mathrel{+}= \langle g_i, \bar u_R +
  \alpha_i(U_R(L) - \bar u_R)\rangle` (fixed nodes, so nothing else);
* weights: the derivatives of the quadrature weights in a, b, μ and s are those of
  :mod:`cheaptalk.numerics.quadrature`; the point masses enter linearly (the continuous
  parts are scaled by :math:`1 - p_0 - p_1` and :math:`1 - p^\beta_0`).

**Computation.** Receivers are computed a batch of types at a time (all of them in a small
game, one in a large one, so that a batch stays in cache), each row shifted by an upper
bound of its maximum, :math:`(1-\alpha)\max_a \bar u_R[a] + \alpha \max_a U_R(L)[m, a]`
(so the exponent is :math:`\alpha` times one matrix plus one vector; a row whose sum falls
below 1e-200 is recomputed directly). The tanh–sinh nodes come in pairs α and 1 − α, whose
exponents :math:`z_\alpha = \alpha S + O` (both ≤ 0) sum to :math:`S + 2O`; in a large game
the second of a pair is therefore one division,
:math:`e^{z_{1-\alpha}} = e^{S + 2O} / e^{z_\alpha}`, while :math:`e^{S + 2O}` is a
normal number (otherwise both are exponentiated): half the exponentials, which are the
cost of an evaluation. It agrees with exponentiating directly to about :math:`|S + 2O|`
units of rounding (relative), the size of that computation's own rounding error. The
batches run side by side on the cores (:func:`cheaptalk._threads.map_in_threads`). Senders
need few exponentials:
with :math:`A[t, m] = e^{\lambda_S(U_S[t, m] - \max_{m'} U_S[t, m'])}` and the distinct lie
costs :math:`c_u` (at most 201 in the forecast game, where :math:`C` depends on
:math:`|v(m) - t|` only),

.. math::

    \sigma_j[t, m] = A[t, m]\,F[j, u(t, m)] / Z[j, t], \qquad
    F[j, u] = e^{-\lambda_S\beta_j c_u}, \qquad Z = F B^{\top},

where :math:`B[t, u]` sums :math:`A[t, m]` over the messages of cost level :math:`u`. A row
whose :math:`Z` falls below 1e-200 (the common shift then costs digits) is recomputed
directly; elsewhere only probabilities below about 1e-100 can lose digits to the shift,
which the tremble makes irrelevant. The full sender tables are built only when read (a
:class:`~cheaptalk.models.base.StrategyTable`, e.g. by the report or a simulation): the
likelihood (:meth:`~cheaptalk.models.base.Prediction.at_cells`) and the pullback take
:math:`\sigma_j` on the observed cells from the factors. The pullback works on the cells
where the adjoints are non-zero (the observed cells,
:class:`~cheaptalk.models.base.CellAdjoints`) and reaches the full strategies only through
contractions: :math:`\sum_j c_{jt}\sigma_j[t, m] = A[t, m]
\sum_j (c_{jt}/Z[j, t]) F[j, u(t, m)]` and :math:`\sum_m \sigma_j[t, m]C[t, m] = \sum_u
F[j, u]\,c_u B[t, u] / Z[j, t]` are products of the small factors.

Derived quantities: ``mean_trust`` :math:`= a / (a + b)` and ``median_lying_cost``
:math:`= e^{\mu}`.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy import sparse

from cheaptalk._threads import map_in_threads
from cheaptalk.choice import logit
from cheaptalk.games.base import Game
from cheaptalk.numerics.quadrature import (
    alpha_quadrature,
    beta_log_nodes,
    beta_quadrature,
    beta_sigma_floor,
    lognormal_weights,
    tanh_sinh01,
)

from ._common import (
    check_interval,
    check_positive,
    check_precision,
    check_size,
    unique_labels,
)
from .base import (
    CellAdjoints,
    Family,
    Model,
    ParameterError,
    Prediction,
    Pullback,
    StrategyTable,
    Type,
)

__all__ = ["Trust", "TrustStrategies", "derived_quantities", "lie_cost_matrix",
           "trust_strategies"]

_LIE_COSTS = ("linear", "quadratic", "inflation")

DEFAULT_PARAMS = {
    "alpha_a": 2.0, "alpha_b": 2.0, "beta_mu": -2.0, "beta_sigma": 1.0,
    "lambda_s": 0.5, "lambda_r": 0.2,
}
DEFAULT_POINT_MASSES = {"alpha_p0": 0.1, "alpha_p1": 0.1, "beta_p0": 0.1}


def lie_cost_matrix(game: Game, kind: str = "linear") -> NDArray[np.float64]:
    """Lie cost ``C[t, m]`` per unit of β.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> lie_cost_matrix(crawford_sobel(), "inflation")[1].tolist()   # state 3
    [0.0, 0.0, 2.0, 4.0, 6.0]
    """
    diff = game.messages[None, :] - game.states[:, None]
    if kind == "linear":
        return np.abs(diff)
    if kind == "quadratic":
        return diff**2
    if kind == "inflation":
        return np.maximum(diff, 0.0)
    raise ValueError(f"lie_cost must be one of {_LIE_COSTS}, got {kind!r}")


#: The range of each of :func:`derived_quantities`.
DERIVED_BOUNDS: dict[str, tuple[float, float]] = {"mean_trust": (0.0, 1.0),
                                                  "median_lying_cost": (0.0, np.inf)}


def derived_quantities(params: Mapping[str, float]) -> dict[str, float]:
    """``mean_trust = a / (a + b)`` and ``median_lying_cost = exp(beta_mu)``.

    These describe the continuous (Beta, LogNormal) parts; point masses are reported as
    parameters in their own right.

    Examples
    --------
    >>> derived_quantities({"alpha_a": 1.0, "alpha_b": 3.0, "beta_mu": 0.0})
    {'mean_trust': 0.25, 'median_lying_cost': 1.0}
    """
    a, b = float(params["alpha_a"]), float(params["alpha_b"])
    with np.errstate(over="ignore"):  # beta_mu > 709 (a fit that ran off): inf, not a warning
        median = float(np.exp(params["beta_mu"]))
    return {"mean_trust": a / (a + b), "median_lying_cost": median}


@dataclass(frozen=True)
class TrustStrategies:
    """Types of the trust-embedded model on their quadrature nodes.

    Attributes
    ----------
    alpha, alpha_weight : ndarray, shape (n_alpha_types,)
        Trust of each receiver type and its population weight (sum one).
    receiver : ndarray, shape (n_alpha_types, n_m, n_a)
    receiver_population : ndarray, shape (n_m, n_a)
        :math:`\\bar\\rho`, the strategy senders respond to.
    beta, beta_weight : ndarray, shape (n_beta_types,)
    senders : StrategyTable
        The sender strategies, built when :attr:`sender` is first read.
    """

    alpha: NDArray[np.float64]
    alpha_weight: NDArray[np.float64]
    receiver: NDArray[np.float64]
    receiver_population: NDArray[np.float64]
    beta: NDArray[np.float64]
    beta_weight: NDArray[np.float64]
    senders: StrategyTable

    @property
    def sender(self) -> NDArray[np.float64]:
        """Sender strategies, shape (n_beta_types, n_t, n_m)."""
        return self.senders.table()


#: Strategy cells processed together: small games take all their types in one batch (no
#: per-type Python cost), large ones one type at a time (each batch stays in cache).
_BATCH_CELLS = 1 << 15
#: Below this, a sender's normaliser has lost too much to the common shift (module docstring,
#: "Computation"): that row is recomputed directly.
_TINY = 1e-200


#: Exponentials at or above this are normal numbers (full relative precision).
_NORMAL = 1e-300


def _mirror_pairs(nodes: NDArray[np.float64]) -> list[tuple[int, int | None]]:
    """The nodes as pairs ``(i, j)`` with ``nodes[i] + nodes[j] = 1`` to rounding, and the
    others as ``(i, None)``.

    Examples
    --------
    >>> _mirror_pairs(np.array([0.0, 1.0, 0.2, 0.5, 0.8]))
    [(0, 1), (2, 4), (3, None)]
    """
    order = np.argsort(nodes, kind="stable")
    lo, hi = 0, nodes.size - 1
    out: list[tuple[int, int | None]] = []
    while lo <= hi:
        i, j = int(order[lo]), int(order[hi])
        total = nodes[i] + nodes[j]
        if lo < hi and abs(total - 1.0) <= 4e-16:
            out.append((i, j))
            lo, hi = lo + 1, hi - 1
        elif total < 1.0 or lo == hi:
            out.append((i, None))
            lo += 1
        else:
            out.append((j, None))
            hi -= 1
    return sorted(out)


#: What a quadrature node holds besides its strategy table (weight, name, type), counted in
#: float64 numbers for :meth:`Trust.check_nodes`: about 720 bytes measured, counted as 1 KiB.
_NODE_NUMBERS = 128


def _batches(n_types: int, n_cells: int) -> list[tuple[int, int]]:
    step = max(1, _BATCH_CELLS // max(n_cells, 1))
    return [(a, min(a + step, n_types)) for a in range(0, n_types, step)]


@dataclass(frozen=True)
class _GameConstants:
    r"""What a trust evaluation needs of a game that no parameter changes (read-only).

    ``gain[m, a]`` is :math:`U_R(L) - \bar u_R`; ``gain_shifted`` and ``prior_shifted`` are
    ``gain`` and :math:`\bar u_R` less the receivers' row shift (module docstring,
    "Computation") per unit of α and of 1; ``levels`` are the distinct lie costs and
    ``level_of[t, m]`` the level of each cell.
    """

    prior_values: NDArray[np.float64]
    gain: NDArray[np.float64]
    gain_shifted: NDArray[np.float64]
    prior_shifted: NDArray[np.float64]
    cost: NDArray[np.float64]
    levels: NDArray[np.float64]
    level_of: NDArray[np.intp]

    @classmethod
    def of(cls, game: Game, lie_cost: str) -> _GameConstants:
        """The constants of ``game`` (computed once per game and lie cost)."""
        per_game = _CONSTANTS.setdefault(game, {})
        if lie_cost not in per_game:
            literal_values = game.receiver_values(game.literal)      # U_R(L)[m, a]
            prior_values = game.prior_values()                        # [a]
            gain = literal_values - prior_values[None, :]
            top_prior = prior_values.max()
            cost = lie_cost_matrix(game, lie_cost)
            levels, level_of = np.unique(cost, return_inverse=True)
            arrays = (prior_values, gain,
                      gain - (literal_values.max(axis=1) - top_prior)[:, None],
                      prior_values - top_prior, cost, levels, level_of.reshape(cost.shape))
            for a in arrays:
                a.setflags(write=False)
            per_game[lie_cost] = cls(*arrays)
        return per_game[lie_cost]


#: :class:`_GameConstants` per game (dropped with it) and lie cost.
_CONSTANTS: weakref.WeakKeyDictionary[Game, dict[str, _GameConstants]] = (
    weakref.WeakKeyDictionary())


def _trust_parts(
    game: Game, alpha: NDArray[np.float64], alpha_weight: NDArray[np.float64],
    beta: NDArray[np.float64], beta_weight: NDArray[np.float64],
    lambda_s: float, lambda_r: float, lie_cost: str = "linear",
) -> tuple[TrustStrategies, dict[str, NDArray[np.float64]]]:
    """:func:`trust_strategies` and the intermediate arrays its pullback needs."""
    alpha = np.asarray(alpha, dtype=float)
    beta = np.asarray(beta, dtype=float)
    const = _GameConstants.of(game, lie_cost)
    prior_values, gain = const.prior_values, const.gain
    receivers = np.empty((alpha.size, game.n_messages, game.n_actions))
    if np.isinf(lambda_r):
        for i, a in enumerate(alpha):
            receivers[i] = logit(prior_values + a * gain, lambda_r)
    else:
        # Shifted by the bound (1 - alpha) max(prior values) + alpha max_a U_R(L)[m, a] of
        # each row's maximum (convexity), so that the exponent is alpha * slope + offset.
        slope = lambda_r * const.gain_shifted
        offset = lambda_r * const.prior_shifted

        def normalise(z: NDArray[np.float64], types: NDArray[np.intp]
                      ) -> NDArray[np.intp] | None:
            # Rows of exponentials z[k, m, :] divided by their sums; the (type, m) of the rows
            # whose sum is below _TINY, redone below.
            total = z.sum(axis=-1, keepdims=True)
            with np.errstate(divide="ignore", invalid="ignore"):
                z /= total
            if np.all(total >= _TINY):
                return None
            k, m = np.nonzero(~(total[..., 0] >= _TINY))
            return np.column_stack([types[k], m])

        # Large games, one type per batch: a node's mirror 1 - alpha (tanh-sinh nodes come in
        # such pairs) is a division, not exponentials (module docstring, "Computation").
        one_type_per_batch = _BATCH_CELLS // max(gain.size, 1) <= 1
        both = np.exp(slope + 2.0 * offset) if one_type_per_batch else None
        if both is not None and not both.min() >= _NORMAL:
            both = None
        work = ([(i, i + 1, j) for i, j in _mirror_pairs(alpha)] if both is not None
                else [(a, b, None) for a, b in _batches(alpha.size, gain.size)])

        def fill(batch: tuple[int, int, int | None]) -> NDArray[np.intp] | None:
            a, b, mirror = batch
            z = receivers[a:b]
            np.multiply(alpha[a:b, None, None], slope, out=z)
            z += offset
            np.exp(z, out=z)
            bad = []
            if mirror is not None:
                # z and 1 - alpha's exponent, both <= 0, sum to slope + 2 offset, whose
                # exponential (both) is normal: so are theirs, and the quotient is exact to
                # rounding.
                zm = receivers[mirror]
                np.divide(both, z[0], out=zm)
                bad.append(normalise(zm[None], np.array([mirror])))
            bad.append(normalise(z, np.arange(a, b)))
            found = [rows for rows in bad if rows is not None]
            return np.concatenate(found) if found else None

        bad = [rows for rows in map_in_threads(fill, work) if rows is not None]
        if bad:
            i, m = np.concatenate(bad).T
            receivers[i, m] = logit(prior_values + alpha[i, None] * gain[m], lambda_r)
    rho_bar = np.tensordot(alpha_weight, receivers, axes=1)
    values = game.sender_values(rho_bar)
    cost = const.cost
    parts = {"prior_values": prior_values, "gain": gain, "values": values, "cost": cost}
    if np.isinf(lambda_s):
        table = np.empty((beta.size, game.n_states, game.n_messages))
        for j, b in enumerate(beta):
            table[j] = logit(values - b * cost if b > 0 else values, lambda_s)
        senders = StrategyTable(table)
    else:
        senders = _SenderTable(values, cost, beta, lambda_s, const.levels, const.level_of)
    strategies = TrustStrategies(alpha, np.asarray(alpha_weight, dtype=float), receivers,
                                 rho_bar, beta, np.asarray(beta_weight, dtype=float), senders)
    return strategies, parts


class _SenderTable(StrategyTable):
    """Logit senders for every β node from few exponentials (module docstring,
    "Computation"): the factors ``base`` A[t, m], ``factor`` F[j, u], ``level_of`` u(t, m),
    ``by_level`` B[t, u] and ``norm`` Z[j, t], and the rows flagged ``bad`` computed
    directly (``bad_rows``, in the order of ``np.nonzero(bad)``). The full table is built
    only when read; :meth:`compute_at_cells` takes a few cells from the factors."""

    def __init__(self, values: NDArray[np.float64], cost: NDArray[np.float64],
                 beta: NDArray[np.float64], lambda_s: float, levels: NDArray[np.float64],
                 level_of: NDArray[np.intp]) -> None:
        super().__init__()
        n_t, n_m = values.shape
        self.shape = (beta.size, n_t, n_m)
        self.levels, self.level_of = levels, level_of  # np.unique(cost), as (n_t, n_m)
        self.base = np.exp(lambda_s * (values - values.max(axis=1, keepdims=True)))
        # B[t, u] = sum of A[t, m] over the messages whose lie cost in state t is level u
        self.by_level = np.bincount(
            (np.arange(n_t)[:, None] * levels.size + self.level_of).ravel(),
            weights=self.base.ravel(), minlength=n_t * levels.size).reshape(n_t, levels.size)
        self.factor = np.exp(-lambda_s * np.multiply.outer(np.where(beta > 0, beta, 0.0),
                                                           levels))
        self.norm = self.factor @ self.by_level.T  # Z[j, t]
        self.bad = ~(self.norm >= _TINY)
        self.norm[self.bad] = 1.0
        j, t = np.nonzero(self.bad)
        self.bad_rows = (logit(values[t] - beta[j, None] * cost[t], lambda_s) if j.size
                         else np.zeros((0, n_m)))
        self.bad_index = np.full((beta.size, n_t), -1, dtype=np.intp)  # row in bad_rows
        self.bad_index[j, t] = np.arange(j.size)

    def build(self) -> NDArray[np.float64]:
        senders = np.empty(self.shape)
        for a, b in _batches(self.shape[0], self.shape[1] * self.shape[2]):
            z = senders[a:b]
            np.take(self.factor[a:b], self.level_of, axis=1, out=z)
            z *= self.base
            z /= self.norm[a:b, :, None]
        if self.bad_rows.size:
            senders[self.bad] = self.bad_rows
        return senders

    def compute_at_cells(self, rows: NDArray[np.intp], cells: NDArray[np.intp]
                         ) -> NDArray[np.float64]:
        # The same operations in the same order as build(): the same numbers.
        n_m = self.shape[2]
        t = cells // n_m
        out = self.factor[rows[:, None], self.level_of.reshape(-1)[cells][None, :]]
        out *= self.base.reshape(-1)[cells]
        out /= self.norm[rows[:, None], t[None, :]]
        if self.bad_rows.size:
            k = self.bad_index[rows[:, None], t[None, :]]
            hit = k >= 0
            if hit.any():
                m = np.broadcast_to(cells % n_m, k.shape)
                out[hit] = self.bad_rows[k[hit], m[hit]]
        return out


def trust_strategies(
    game: Game, alpha: NDArray[np.float64], alpha_weight: NDArray[np.float64],
    beta: NDArray[np.float64], beta_weight: NDArray[np.float64],
    lambda_s: float, lambda_r: float, lie_cost: str = "linear",
) -> TrustStrategies:
    """Receiver strategies for each α and sender strategies for each β.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> g = crawford_sobel()
    >>> s = trust_strategies(g, np.array([0.0, 1.0]), np.array([0.5, 0.5]),
    ...                      np.array([0.0, 100.0]), np.array([0.5, 0.5]), np.inf, np.inf)
    >>> (s.receiver[1].argmax(axis=1) + 1).tolist()   # alpha = 1: action = message
    [1, 3, 5, 7, 9]
    >>> s.sender[1].argmax(axis=1).tolist()            # beta = 100: truthful
    [0, 1, 2, 3, 4]
    """
    return _trust_parts(game, alpha, alpha_weight, beta, beta_weight, lambda_s, lambda_r,
                        lie_cost)[0]


@lru_cache(maxsize=64)
def _labels(nodes: tuple[float, ...], prefix: str) -> tuple[str, ...]:
    return tuple(unique_labels(nodes, prefix))


def _observed(bars: Sequence[NDArray[np.float64] | None], n_cells: int
              ) -> tuple[NDArray[np.float64], NDArray[np.intp]] | None:
    """Adjoints of a role's types on the cells where any of them is non-zero,
    ``(values[type, cell], flat cells)``; ``None`` when every adjoint is missing.

    The likelihood's adjoints are zero outside the observed (seen, chosen) cells, so the
    pullback works on those columns and touches the full strategies only in contractions.
    """
    if isinstance(bars, CellAdjoints):
        return bars.observed() if np.any(bars.rows >= 0) else None
    if all(b is None for b in bars):
        return None
    dense = np.zeros((len(bars), n_cells))
    for k, b in enumerate(bars):
        if b is not None:
            dense[k] = np.reshape(b, -1)
    cells = np.flatnonzero(dense.any(axis=0))
    return dense[:, cells], cells


def _row_sums(values: NDArray[np.float64], cells: NDArray[np.intp], n_cols: int,
              n_rows: int) -> NDArray[np.float64]:
    """``out[k, r] = sum of values[k, c] over the cells c in row r`` (cells flat, row-major)."""
    rows = cells // n_cols
    one_hot = sparse.csr_matrix((np.ones(cells.size), (rows, np.arange(cells.size))),
                                shape=(n_rows, cells.size))
    return np.asarray((one_hot @ values.T).T)


def _scatter(values: NDArray[np.float64], cells: NDArray[np.intp],
             shape: tuple[int, int]) -> NDArray[np.float64]:
    out = np.zeros(shape[0] * shape[1])
    out[cells] = values
    return out.reshape(shape)


class Trust(Model):
    """Trust-embedded model: trusting receivers, lying-averse senders (SPEC §3.3).

    Parameters
    ----------
    lie_cost : {"linear", "quadratic", "inflation"}
        Form of the lie cost per unit of β: ``|v(m) - t|``, its square, or only inflation
        ``max(v(m) - t, 0)``.
    point_masses : bool
        Add parameters ``alpha_p0``, ``alpha_p1`` (masses at α = 0 and α = 1) and
        ``beta_p0`` (mass at β = 0) to the continuous distributions.
    n_alpha, n_beta : int
        Quadrature nodes for α (tanh–sinh) and log β (fixed grid, :func:`beta_log_range`).

    Notes
    -----
    Parameters: ``alpha_a``, ``alpha_b`` (> 0), ``beta_mu`` (real), ``beta_sigma`` (> 0),
    [``alpha_p0``, ``alpha_p1``, ``beta_p0`` in [0, 1] with ``alpha_p0 + alpha_p1 ≤ 1``],
    ``lambda_s``, ``lambda_r`` (≥ 0, ``inf`` allowed). Receiver types are named
    ``"trust alpha=…"`` and carry only a receiver strategy; sender types are named
    ``"trustworthy beta=…"`` and carry only a sender strategy.

    Examples
    --------
    >>> from cheaptalk.games import forecast_sharing
    >>> model, game = Trust(), forecast_sharing(step=10)
    >>> model.parameter_names()
    ('alpha_a', 'alpha_b', 'beta_mu', 'beta_sigma', 'lambda_s', 'lambda_r')
    >>> pred = model.predict(game, model.default_params(game))
    >>> len(pred.types) == Trust.n_alpha + Trust.n_beta
    True
    >>> model.derived(model.default_params(game))["mean_trust"]
    0.5
    """

    name = "trust"
    order = 50
    colour = "#D55E00"  # Okabe–Ito vermillion
    description = ("Trust-embedded: receivers trust reports with weight alpha ~ Beta, senders "
                   "bear a lying cost beta ~ LogNormal")

    #: Default number of tanh–sinh nodes for α.
    n_alpha: int = 64
    #: Default number of grid nodes for log β.
    n_beta: int = 161

    def __init__(self, lie_cost: str = "linear", point_masses: bool = False,
                 n_alpha: int = 64, n_beta: int = 161) -> None:
        if lie_cost not in _LIE_COSTS:
            raise ValueError(f"lie_cost must be one of {_LIE_COSTS}, got {lie_cost!r}")
        if not isinstance(point_masses, bool | np.bool_):  # bool("false") would be True
            raise ValueError(f"point_masses must be True or False, got {point_masses!r}")
        for label, n in (("n_alpha", n_alpha), ("n_beta", n_beta)):
            if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1:
                raise ValueError(f"{label} must be an integer >= 1, got {n!r}")
        self.lie_cost = lie_cost
        self.point_masses = bool(point_masses)
        self.n_alpha = int(n_alpha)
        self.n_beta = int(n_beta)

    def families(self) -> tuple[Family, ...]:
        """Senders' lying costs (``trustworthy``), receivers' trust levels (``trust``)."""
        return (Family("trustworthy", "#E69F00"), Family("trust", "#D55E00", "white"))

    def quadrature(self) -> dict[str, int]:
        """Node counts: ``{"n_alpha": …, "n_beta": …}``."""
        return {"n_alpha": self.n_alpha, "n_beta": self.n_beta}

    def refined(self) -> Trust:
        """Twice the α nodes and twice the β intervals (so the β nodes nest)."""
        return Trust(lie_cost=self.lie_cost, point_masses=self.point_masses,
                     n_alpha=2 * self.n_alpha, n_beta=2 * self.n_beta - 1)

    def parameter_names(self) -> tuple[str, ...]:
        masses = ("alpha_p0", "alpha_p1", "beta_p0") if self.point_masses else ()
        return ("alpha_a", "alpha_b", "beta_mu", "beta_sigma", *masses,
                "lambda_s", "lambda_r")

    def bounds(self, game: Game) -> dict[str, tuple[float, float]]:
        """As for every model, except ``beta_sigma >=``
        :func:`~cheaptalk.numerics.quadrature.beta_sigma_floor` (two grid steps): the
        estimator does not go where the β quadrature cannot resolve the LogNormal.
        ``predict`` accepts any ``beta_sigma > 0``."""
        out = super().bounds(game)
        out["beta_sigma"] = (beta_sigma_floor(game, lie_cost_matrix(game, self.lie_cost),
                                              self.n_beta), np.inf)
        return out

    def default_params(self, game: Game) -> dict[str, float]:
        """Mean trust 0.5 (Beta(2, 2)), median lying cost e^-2 ≈ 0.135 per unit of lie,
        ``beta_sigma = 1``, ``lambda_s = 0.5``, ``lambda_r = 0.2`` (point masses 0.1 each)."""
        out = dict(DEFAULT_PARAMS)
        if self.point_masses:
            out.update(DEFAULT_POINT_MASSES)
        return {n: out[n] for n in self.parameter_names() if n in out}

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """``mean_trust`` and ``median_lying_cost`` (see :func:`derived_quantities`)."""
        return derived_quantities(params)

    def derived_bounds(self) -> dict[str, tuple[float, float]]:
        return dict(DERIVED_BOUNDS)

    def type_values(self, game: Game, params: Mapping[str, float], role: str
                    ) -> dict[str, NDArray[np.float64]]:
        """Senders' ``lying_cost`` (β per unit of lie), receivers' ``trust`` (α), on the
        quadrature nodes (point masses first, as the types)."""
        alpha, _, beta, _, _, _ = self.nodes(self.check(params), game)
        return {"lying_cost": beta} if role == "sender" else {"trust": alpha}

    def check_values(self, params: Mapping[str, float]) -> dict[str, float]:
        """Names, numbers, and the ranges of the trust and lying-cost distributions."""
        return self.check(params)

    def check(self, params: Mapping[str, float]) -> dict[str, float]:
        """Validated parameters (raises :class:`ParameterError`)."""
        p = self.check_params(params)
        return self._check_values(p)

    def _check_values(self, p: dict[str, float]) -> dict[str, float]:
        for n in ("alpha_a", "alpha_b", "beta_sigma"):
            check_positive(self.name, n, p[n])
        if not np.isfinite(p["beta_mu"]):
            raise ParameterError(f"{self.name}: beta_mu must be finite, got {p['beta_mu']}")
        if self.point_masses:
            for n in ("alpha_p0", "alpha_p1", "beta_p0"):
                check_interval(self.name, n, p[n])
            if p["alpha_p0"] + p["alpha_p1"] > 1.0 + 1e-12:
                raise ParameterError(
                    f"{self.name}: alpha_p0 + alpha_p1 must be <= 1, got "
                    f"{p['alpha_p0'] + p['alpha_p1']:.8g}")
        check_precision(self.name, "lambda_s", p["lambda_s"])
        check_precision(self.name, "lambda_r", p["lambda_r"])
        return p

    def check_nodes(self, game: Game) -> None:
        """Refuse node counts whose strategy tables would not fit in memory in ``game``,
        before anything is allocated: receivers ``[alpha, m, a]`` and senders
        ``[beta, t, m]``, one table per node (point masses included), and each node's
        weight, name and type (:data:`_NODE_NUMBERS`).

        Examples
        --------
        >>> from cheaptalk.games import crawford_sobel
        >>> Trust().check_nodes(crawford_sobel())
        >>> Trust(n_alpha=10**8).check_nodes(crawford_sobel())
        Traceback (most recent call last):
        ...
        cheaptalk.models.base.ParameterError: trust: 100000000 trust nodes in a 5x5x9 game ...
        """
        n_t, n_m, n_a = game.shape
        masses = self.point_masses
        n_alpha, n_beta = self.n_alpha + 2 * masses, self.n_beta + masses
        shape = f"{n_t}x{n_m}x{n_a} game"
        check_size(self.name, f"{n_alpha} trust nodes in a {shape}",
                   n_alpha * (n_m * n_a + _NODE_NUMBERS))
        check_size(self.name, f"{n_beta} lying-cost nodes in a {shape}",
                   n_beta * (n_t * n_m + _NODE_NUMBERS))

    def _log_nodes(self, game: Game) -> NDArray[np.float64]:
        return beta_log_nodes(game, _GameConstants.of(game, self.lie_cost).cost, self.n_beta)

    def nodes(self, params: Mapping[str, float], game: Game) -> tuple[
            NDArray[np.float64], NDArray[np.float64], NDArray[np.float64],
            NDArray[np.float64], list[str], list[str]]:
        """α nodes and weights, β nodes and weights, receiver and sender type names.

        With point masses the atoms come first: α = 0, α = 1, then β = 0. Node counts too
        large for the game are refused first (:meth:`check_nodes`).
        """
        self.check_nodes(game)
        alpha, wa = alpha_quadrature(params["alpha_a"], params["alpha_b"], self.n_alpha)
        beta, wb = beta_quadrature(params["beta_mu"], params["beta_sigma"],
                                   self._log_nodes(game))
        r_names = list(_labels(tuple(alpha), "trust alpha="))  # fixed nodes: same names
        s_names = list(_labels(tuple(beta), "trustworthy beta="))
        if self.point_masses:
            p0, p1, q0 = params["alpha_p0"], params["alpha_p1"], params["beta_p0"]
            alpha = np.concatenate([[0.0, 1.0], alpha])
            wa = np.concatenate([[p0, p1], max(1.0 - p0 - p1, 0.0) * wa])
            beta = np.concatenate([[0.0], beta])
            wb = np.concatenate([[q0], (1.0 - q0) * wb])
            r_names = ["trust alpha=0 (point mass)", "trust alpha=1 (point mass)", *r_names]
            s_names = ["trustworthy beta=0 (point mass)", *s_names]
        return alpha, wa, beta, wb, r_names, s_names

    def strategies(self, game: Game, params: Mapping[str, float]) -> TrustStrategies:
        """All type strategies on the quadrature nodes (parameters validated)."""
        p = self.check(params)
        alpha, wa, beta, wb, _, _ = self.nodes(p, game)
        return trust_strategies(game, alpha, wa, beta, wb, p["lambda_s"], p["lambda_r"],
                                self.lie_cost)

    def _compute(self, game: Game, params: Mapping[str, float]
                 ) -> tuple[Prediction, TrustStrategies, dict[str, NDArray[np.float64]],
                            dict[str, float]]:
        p = self.check(params)
        alpha, wa, beta, wb, r_names, s_names = self.nodes(p, game)
        s, parts = _trust_parts(game, alpha, wa, beta, wb, p["lambda_s"], p["lambda_r"],
                                self.lie_cost)
        types = [Type(n, float(w), receiver=r, family="trust")
                 for n, w, r in zip(r_names, wa, s.receiver, strict=True)]
        # Rows of the senders' table, built only when read (the likelihood does not)
        types += [Type(n, float(w), sender=s.senders.row(j), family="trustworthy")
                  for j, (n, w) in enumerate(zip(s_names, wb, strict=True))]
        return Prediction(game, tuple(types), model=self.name, params=p), s, parts, p

    def predict(self, game: Game, params: Mapping[str, float]) -> Prediction:
        return self._compute(game, params)[0]

    def predict_with_pullback(self, game: Game, params: Mapping[str, float]
                              ) -> tuple[Prediction, Pullback]:
        """The prediction and its exact vector–Jacobian product (module docstring,
        "Exact derivatives")."""
        pred, s, parts, p = self._compute(game, params)
        lam_s, lam_r = p["lambda_s"], p["lambda_r"]
        masses = self.point_masses
        n_ra = s.alpha.size
        _, wa_c = alpha_quadrature(p["alpha_a"], p["alpha_b"], self.n_alpha)
        wb_c, dwb_mu, dwb_s = lognormal_weights(p["beta_mu"], p["beta_sigma"],
                                                self._log_nodes(game))
        _, log_x, log_1mx, _ = tanh_sinh01(self.n_alpha)
        uS = game.sender_payoff

        def pullback(w_bar: NDArray[np.float64], sender_bars: list[NDArray[np.float64] | None],
                     receiver_bars: list[NDArray[np.float64] | None]) -> dict[str, float]:
            w_bar = np.asarray(w_bar, dtype=float)
            wa_bar, wb_bar = w_bar[:n_ra].copy(), w_bar[n_ra:]
            out: dict[str, float] = {}
            lam_s_bar, rho_pop_bar = self._sender_pullback(s, parts, lam_s,
                                                           sender_bars[n_ra:], uS)
            # ---- beta weights (fixed nodes: mu and sigma act through the weights only)
            wb_bar_c = (1.0 - p["beta_p0"]) * wb_bar[1:] if masses else wb_bar
            out["beta_mu"] = float(wb_bar_c @ dwb_mu)
            out["beta_sigma"] = float(wb_bar_c @ dwb_s)
            lam_r_bar = self._receiver_pullback(s, parts, lam_r, receiver_bars[:n_ra],
                                                rho_pop_bar, wa_bar)
            # ---- weights
            if masses:
                scale = 1.0 - p["alpha_p0"] - p["alpha_p1"]
                cont_bar = wa_bar[2:]
                d_scale = float(cont_bar @ wa_c) if scale > 0 else 0.0
                out["alpha_p0"] = float(wa_bar[0]) - d_scale
                out["alpha_p1"] = float(wa_bar[1]) - d_scale
                cont_bar = max(scale, 0.0) * cont_bar
                out["beta_p0"] = float(wb_bar[0] - wb_bar[1:] @ wb_c)
            else:
                cont_bar = wa_bar
            weighted = cont_bar * wa_c
            out["alpha_a"] = float(weighted @ (log_x - wa_c @ log_x))
            out["alpha_b"] = float(weighted @ (log_1mx - wa_c @ log_1mx))
            out["lambda_s"], out["lambda_r"] = lam_s_bar, lam_r_bar
            return {n: out[n] for n in self.parameter_names() if n in out}

        return pred, pullback

    @staticmethod
    def _sender_pullback(s: TrustStrategies, parts: dict[str, NDArray[np.float64]],
                         lam_s: float, bars: Sequence[NDArray[np.float64] | None],
                         uS: NDArray[np.float64]
                         ) -> tuple[float, NDArray[np.float64] | None]:
        r"""Adjoint of λ_S and of the receiver population strategy, from the senders'
        adjoints (module docstring, "Exact derivatives" and "Computation").

        With :math:`P_j = \sigma_j \odot \bar\sigma_j` (zero off the observed cells) and
        :math:`c_{jt} = \sum_m P_{jtm}`, :math:`g_j = P_j - c_{jt}\sigma_j`, so
        :math:`\sum_j g_j` and :math:`\langle g_j, C\rangle` need the full strategies only
        through :math:`\sum_j c_{jt}\sigma_{jtm}` and :math:`\sum_m \sigma_{jtm} C_{tm}`,
        both products of the small factors of the senders' logit.
        """
        table = s.senders
        n_sb, n_t, n_m = s.beta.size, *parts["cost"].shape
        observed = _observed(bars, n_t * n_m) if np.isfinite(lam_s) else None
        if observed is None:
            return 0.0, None
        assert isinstance(table, _SenderTable)  # lambda_s finite
        bar, cells = observed
        cost, values = parts["cost"], parts["values"]
        sigma = table.at_cells(np.arange(n_sb), cells)          # the observed cells only
        prod = sigma * bar                                       # P_j on the cells
        c = _row_sums(prod, cells, n_m, n_t)                     # c[j, t]
        factor, norm, bad = table.factor, table.norm, table.bad
        c_good = np.where(bad, 0.0, c) / norm
        # sum_j c[j, t] sigma_j[t, m] = A[t, m] * (sum_j c[j, t] F[j, u(t, m)] / Z[j, t])
        mixed = np.take_along_axis(c_good.T @ factor, table.level_of, axis=1)
        mixed *= table.base
        # sum_m sigma_j[t, m] C[t, m] = (sum_u F[j, u] level_u B[t, u]) / Z[j, t]
        expected_cost = ((factor * table.levels) @ table.by_level.T) / norm
        if bad.any():
            j, t = np.nonzero(bad)
            rows = table.bad_rows
            np.add.at(mixed, t, c[j, t, None] * rows)
            expected_cost[j, t] = np.einsum("rm,rm->r", rows, cost[t])
        g_sum = _scatter(prod.sum(axis=0), cells, (n_t, n_m)) - mixed
        g_cost = prod @ cost.reshape(-1)[cells] - np.einsum("jt,jt->j", c, expected_cost)
        lam_s_bar = float(np.einsum("tm,tm->", g_sum, values) - s.beta @ g_cost)
        rho_pop_bar = lam_s * (g_sum.T @ uS) if lam_s > 0 else None   # [m, a]
        return lam_s_bar, rho_pop_bar

    @staticmethod
    def _receiver_pullback(s: TrustStrategies, parts: dict[str, NDArray[np.float64]],
                           lam_r: float, bars: Sequence[NDArray[np.float64] | None],
                           rho_pop_bar: NDArray[np.float64] | None,
                           wa_bar: NDArray[np.float64]) -> float:
        r"""Adjoint of λ_R; adds the receivers' part to the α weights' adjoint ``wa_bar``.

        Receiver :math:`i`'s adjoint is :math:`\bar\rho_i + w_i Q` (its own, zero off the
        observed cells, and its share of the population strategy's :math:`Q`), so with
        :math:`d_{im} = \sum_a (\bar\rho_i + w_i Q)\rho_i` the sum
        :math:`\sum_i g_i = \sum_i \rho_i\odot\bar\rho_i + \bar\rho\odot Q -
        \sum_i d_{im}\rho_{ima}` and each :math:`\langle g_i, \text{gain}\rangle` need
        contractions of the full strategies, not per-type arrays.
        """
        n_ra, n_m, n_a = s.receiver.shape
        rho = s.receiver
        observed = _observed(bars, n_m * n_a)
        finite = bool(np.isfinite(lam_r))
        if not finite and rho_pop_bar is None:
            return 0.0
        gain = parts["gain"]
        # Row-by-row products of every type's strategy with Q, gain and Q * gain, one
        # batched product over the messages: q[i, m], k[i, m] and sum_m (Q gain)[i, m].
        columns = ([gain] if rho_pop_bar is None
                   else [rho_pop_bar, gain, rho_pop_bar * gain])
        rows = np.matmul(rho.transpose(1, 0, 2), np.stack(columns, axis=-1))  # (m, i, c)
        if rho_pop_bar is not None:
            q = rows[:, :, 0].T
            wa_bar += q.sum(axis=1)
        if not finite or (observed is None and rho_pop_bar is None):
            return 0.0
        d = np.zeros((n_ra, n_m))
        g_rsum = np.zeros((n_m, n_a))
        g_gain = np.zeros(n_ra)
        if observed is not None:
            bar, cells = observed
            prod = rho.reshape(n_ra, -1)[:, cells] * bar
            d += _row_sums(prod, cells, n_a, n_m)
            g_rsum += _scatter(prod.sum(axis=0), cells, (n_m, n_a))
            g_gain += prod @ gain.reshape(-1)[cells]
        if rho_pop_bar is not None:
            w = s.alpha_weight
            d += w[:, None] * q
            g_rsum += s.receiver_population * rho_pop_bar
            g_gain += w * rows[:, :, 2].sum(axis=0)
        g_rsum -= np.einsum("im,ima->ma", d, rho)
        g_gain -= np.einsum("im,mi->i", d, rows[:, :, 0 if rho_pop_bar is None else 1])
        return float(g_rsum.sum(axis=0) @ parts["prior_values"] + s.alpha @ g_gain)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"Trust({opts})"

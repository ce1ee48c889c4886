r"""Quadrature of the trust-embedded model's type distributions (used by
:mod:`cheaptalk.models.trust`): fixed nodes, parameter-dependent weights.

Node *positions* never depend on the parameters, so the derivatives of the weights are
elementary and the likelihood is smooth in the parameters.

**Beta(a, b) on (0, 1)** (:func:`alpha_quadrature`). Tanh–sinh nodes
:math:`x_i = \operatorname{expit}(\pi\sinh t_i)` on an equally spaced grid
:math:`t_i \in [-T, T]` (:data:`T_MAX`), rule weights :math:`\omega_i = dx/dt = \pi\cosh(t_i)
x_i(1 - x_i)`, and type weights :math:`w_i \propto \omega_i\,x_i^{a-1}(1-x_i)^{b-1}`,
normalised to sum to one, so that

.. math::

    \frac{\partial w_i}{\partial a} = w_i\Big(\log x_i - \sum_j w_j \log x_j\Big)

(likewise b with :math:`\log(1 - x_i)`). The nodes crowd doubly exponentially towards 0 and
1, so the rule stays accurate when :math:`a < 1` or :math:`b < 1` (density infinite at an
end), where Gauss–Legendre fails; a very concentrated Beta (:math:`a + b \gtrsim 50`) needs
more nodes.

**LogNormal(μ, s) on a fixed log-grid** (:func:`lognormal_weights`). Nodes :math:`u_j`
equally spaced in :math:`\log\beta` over a range :math:`[u_{lo}, u_{hi}]` set by the game
only (:func:`beta_log_range`: from :math:`\log(R/c_{\max}) - 12` to :math:`\log(R/c_{\min})
+ 1`, with R the range of the sender's payoffs and c the nonzero lie costs; outside it
senders are selfish resp. truthful, so their strategies are constant). Weights: the
trapezoid rule for :math:`N(\mu, s^2)` on the grid extended to all of
:math:`u_0 + h\mathbb{Z}`, each point beyond an end counted at that end node (the tails
are lumped there), normalised. With :math:`q_k` the normalised grid terms and
:math:`d_k = (u_k - \mu)/s`,

.. math::

    \frac{\partial w_j}{\partial\mu} = \sum_{k \to j} q_k \frac{d_k}{s}
        - w_j \sum_k q_k \frac{d_k}{s}, \qquad
    \frac{\partial w_j}{\partial s} = \sum_{k \to j} q_k \frac{d_k^2}{s}
        - w_j \sum_k q_k \frac{d_k^2}{s}.

Both are computed relative to the grid point nearest μ (which changes neither), so that
the weights and their derivatives stay finite for any finite μ and any s > 0: as
:math:`s \to 0` all the mass goes to the node nearest μ.

**Resolution floor** (:func:`beta_sigma_floor`). A LogNormal narrower than the grid spacing
falls between nodes: its weights jump from node to node and the likelihood becomes a step
function of μ (flat, with spurious zero standard errors). The estimator therefore keeps s at
least :data:`BETA_SIGMA_MIN_STEPS` grid steps wide; ``predict`` accepts any s > 0.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, log_expit

from cheaptalk.games.base import Game

__all__ = ["BETA_SIGMA_MIN_STEPS", "DOUBLING_TOLERANCE", "DOUBLING_TOLERANCE_PER_DECISION",
           "T_MAX", "U_ABOVE", "U_BELOW", "alpha_quadrature", "beta_log_nodes",
           "beta_log_range", "beta_quadrature", "beta_sigma_floor", "doubling_tolerance",
           "lognormal_weights", "tanh_sinh01"]

#: The accuracy criterion of SPEC §3.3 on laboratory data: doubling the nodes moves the
#: log-likelihood by less than this.
DOUBLING_TOLERANCE = 0.01
#: Its share per decision on larger data (:func:`doubling_tolerance`).
DOUBLING_TOLERANCE_PER_DECISION = 1e-6


def doubling_tolerance(n_decisions: int) -> float:
    r"""How far doubling the quadrature nodes may move the log-likelihood of ``n_decisions``
    decisions: :data:`DOUBLING_TOLERANCE` (0.01), or :data:`DOUBLING_TOLERANCE_PER_DECISION`
    (:math:`10^{-6}`) per decision where that is larger (beyond 10,000 decisions).

    Why it scales. The log-likelihood is a sum over units, and the quadrature error of each
    unit's mixture is about the same whatever the number of units: the total error grows in
    proportion to the data, so a fixed tolerance would warn on any large dataset though each
    subject's likelihood is as accurate as in the laboratory. The criterion is therefore one
    of accuracy per decision; it is stricter than the laboratory one (0.01 on the demo's
    3,840 decisions is 2.6e-6 per decision), and on a million decisions it allows 1.0 in a
    log-likelihood whose sampling standard deviation is of order √n ≈ 1,000 and whose model
    differences (BIC) are in the hundreds.

    Examples
    --------
    >>> doubling_tolerance(3_840), doubling_tolerance(1_000_000)
    (0.01, 1.0)
    """
    return max(DOUBLING_TOLERANCE, DOUBLING_TOLERANCE_PER_DECISION * n_decisions)

#: Half-width of the tanh–sinh grid for α (in the rule's own variable t).
T_MAX = 3.0
#: The log-β grid reaches this far below log(R / c_max) and above log(R / c_min)
#: (R: range of the sender's payoffs; c: nonzero lie costs), see :func:`beta_log_range`.
U_BELOW, U_ABOVE = 12.0, 1.0
#: At most this many grid steps beyond an end of the log-β grid are summed into its end node.
_EXTEND = 4000
#: The estimator keeps ``beta_sigma`` at least this many log-β grid steps wide.
BETA_SIGMA_MIN_STEPS = 2.0


@lru_cache(maxsize=32)
def tanh_sinh01(n: int) -> tuple[NDArray[np.float64], NDArray[np.float64],
                                 NDArray[np.float64], NDArray[np.float64]]:
    """Tanh–sinh rule on (0, 1): nodes x, log x, log(1 - x), log rule weights.

    ``log(1 - x)`` is computed directly, since ``1 - x`` underflows near 1.

    Examples
    --------
    >>> x, log_x, log_1mx, log_w = tanh_sinh01(5)
    >>> x[2], bool(np.all(np.diff(x) > 0))
    (np.float64(0.5), True)
    """
    t = np.linspace(-T_MAX, T_MAX, n) if n > 1 else np.zeros(1)
    u = np.pi * np.sinh(t)
    log_x, log_1mx = log_expit(u), log_expit(-u)
    return expit(u), log_x, log_1mx, np.log(np.cosh(t)) + log_x + log_1mx


def alpha_quadrature(alpha_a: float, alpha_b: float, n: int
                     ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Fixed nodes and normalised weights for α ~ Beta(alpha_a, alpha_b).

    Examples
    --------
    >>> x, w = alpha_quadrature(2.0, 3.0, 32)
    >>> round(float(w @ x), 10)          # mean 2 / 5
    0.4
    """
    x, log_x, log_1mx, log_omega = tanh_sinh01(n)
    log_w = log_omega + (alpha_a - 1.0) * log_x + (alpha_b - 1.0) * log_1mx
    w = np.exp(log_w - log_w.max())
    return x, w / w.sum()


def beta_log_range(game: Game, cost: NDArray[np.float64]) -> tuple[float, float]:
    """Fixed range ``[u_lo, u_hi]`` of the log-β grid for a game and a lie-cost matrix.

    β matters only relative to the sender's payoff differences: with payoff range ``R``
    (of ``u_S``) and nonzero lie costs ``cost[t, m]`` between ``c_min`` and ``c_max``,
    senders are selfish to within about 1e-6 for ``β ≤ e^-12 R / c_max`` (``λ_S R`` up to
    ~100) and truthful for ``β ≥ e R / c_min`` (``λ_S R`` down to ~10; forecast sharing).

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> g = crawford_sobel()
    >>> lie = np.abs(g.messages[None, :] - g.states[:, None])
    >>> [round(x, 3) for x in beta_log_range(g, lie)]
    [-8.675, 5.712]
    """
    positive = cost[cost > 0]
    c_min, c_max = (float(positive.min()), float(positive.max())) if positive.size else (1, 1)
    payoff_range = float(np.ptp(game.sender_payoff)) or 1.0
    return (float(np.log(payoff_range / c_max)) - U_BELOW,
            float(np.log(payoff_range / c_min)) + U_ABOVE)


def beta_sigma_floor(game: Game, cost: NDArray[np.float64], n: int) -> float:
    """Smallest ``beta_sigma`` the estimator considers: :data:`BETA_SIGMA_MIN_STEPS` steps of
    the ``n``-node log-β grid (about 0.23 in forecast sharing and 0.18 in Crawford–Sobel
    with 161 nodes).

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> g = crawford_sobel()
    >>> round(beta_sigma_floor(g, np.abs(g.messages[None, :] - g.states[:, None]), 161), 4)
    0.1798
    """
    lo, hi = beta_log_range(game, cost)
    return BETA_SIGMA_MIN_STEPS * (hi - lo) / max(n - 1, 1)


def beta_log_nodes(game: Game, cost: NDArray[np.float64], n: int) -> NDArray[np.float64]:
    """``n`` equally spaced log-β nodes over :func:`beta_log_range` (midpoint if n = 1)."""
    lo, hi = beta_log_range(game, cost)
    return np.linspace(lo, hi, n) if n > 1 else np.array([0.5 * (lo + hi)])


def lognormal_weights(beta_mu: float, beta_sigma: float, u: NDArray[np.float64]
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Weights of LogNormal(mu, sigma) on the fixed log-β nodes ``u`` and their derivatives
    ``dw/dmu`` and ``dw/dsigma`` (module docstring). Terms further than 12 sd from ``mu``
    are dropped (< e^-72).

    Examples
    --------
    >>> w, dmu, ds = lognormal_weights(0.3, 1e-300, np.linspace(-1.0, 1.0, 5))
    >>> w.tolist(), dmu.tolist(), ds.tolist()      # all mass at the node nearest 0.3
    ([0.0, 0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0, 0.0])
    """
    n = u.size
    if n == 1:
        return np.ones(1), np.zeros(1), np.zeros(1)
    u0, h = float(u[0]), float(u[1] - u[0])
    with np.errstate(over="ignore", invalid="ignore"):
        reach = 12.0 * beta_sigma
        k_lo = int(np.clip(np.nan_to_num(np.floor((beta_mu - reach - u0) / h)), -_EXTEND, 0))
        k_hi = int(np.clip(np.nan_to_num(np.ceil((beta_mu + reach - u0) / h)), n - 1,
                           n - 1 + _EXTEND))
        k = np.arange(k_lo, k_hi + 1)
        grid = u0 + k * h
        # the grid point nearest mu (from its index: |grid - mu| cancels for a far mu)
        star = int(np.clip(np.nan_to_num(np.rint((beta_mu - u0) / h)), k_lo, k_hi)) - k_lo
        # log of the Gaussian terms relative to the nearest point, -(d^2 - d*^2) / 2, as a
        # product of differences so that it neither overflows nor cancels
        gap = (grid - grid[star]) / beta_sigma                           # d - d*
        span = ((grid - beta_mu) + (grid[star] - beta_mu)) / beta_sigma  # d + d*, same sign
        log_e = np.nan_to_num(-0.5 * gap * span, nan=0.0)  # nan: a tie with the nearest
        log_e[star] = 0.0
        q = np.exp(log_e)
        q /= q.sum()
        # derivatives of log e_k minus those at the nearest point (a constant shift leaves
        # dw unchanged): gap / sigma for mu, -2 log e_k / sigma for sigma; none where the
        # weights jump (a tie as sigma -> 0)
        da, ds = gap / beta_sigma, -2.0 * log_e / beta_sigma
        da = np.where((q > 0) & np.isfinite(da), da, 0.0)
        ds = np.where((q > 0) & np.isfinite(ds), ds, 0.0)
    j = np.clip(k, 0, n - 1)  # node of each grid point
    w = np.bincount(j, q, minlength=n)
    dw_mu = np.bincount(j, q * da, minlength=n) - w * float(q @ da)
    dw_s = np.bincount(j, q * ds, minlength=n) - w * float(q @ ds)
    return w, dw_mu, dw_s


def beta_quadrature(beta_mu: float, beta_sigma: float, log_nodes: NDArray[np.float64]
                    ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Nodes ``exp(log_nodes)`` (fixed, equally spaced) and weights for
    β ~ LogNormal(mu, sigma); the mass beyond the ends is lumped into the end nodes.

    Examples
    --------
    >>> b, w = beta_quadrature(0.0, 1.0, np.linspace(-8.0, 8.0, 81))
    >>> round(float(w @ np.log(b)), 10) + 0.0, round(float(w @ np.log(b) ** 2), 6)
    (0.0, 1.0)
    """
    u = np.asarray(log_nodes, dtype=float)
    return np.exp(u), lognormal_weights(beta_mu, beta_sigma, u)[0]

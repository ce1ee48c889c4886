r"""Trust that moves with experience (SPEC §3.6): the trust-embedded model of
:mod:`cheaptalk.models.trust` with receivers who learn from feedback.

Receiver :math:`i` starts with trust :math:`\alpha_{i1} \sim \mathrm{Beta}(a, b)` (the
α-quadrature nodes of ``trust``, with its point masses when asked). After round :math:`r` it
sees the feedback and judges the report it got: credibility :math:`c_r = 1` if the feedback
is consistent with a truthful report (:meth:`~cheaptalk.games.base.Game.credible`), else 0,
and moves its trust toward it,

.. math::

    \alpha_{i,r+1} = \alpha_{i,r} + \eta_r\,(c_r - \alpha_{i,r}),

with :math:`\eta_r = \eta` (``update="adaptive"``, parameter ``eta`` in [0, 1]; ``eta = 0``
is the static model) or :math:`\eta_r = 1/(\kappa + r)` (``update="counting"``, parameter
``kappa > 0``: the receiver counts truthful reports like a Bayesian with a Beta prior of
weight κ). A receiver's rounds are its own rows in round order, whoever sent the reports. In
round :math:`r` it plays :math:`\operatorname{logit}(U_R(q_{\alpha_{i,r}}), \lambda_R)`
exactly as in ``trust``. Senders are ``trust``'s: lying cost β, best response to the
population of round-1 trust.

**The path is affine in the starting trust.** Unrolling the update,
:math:`\alpha_{i,r} = A_r\,\alpha_{i1} + B_r` with :math:`A_1 = 1, B_1 = 0` and

.. math::

    A_{r+1} = (1 - \eta_r) A_r, \qquad B_{r+1} = (1 - \eta_r) B_r + \eta_r c_r,

which depend on the receiver's credibility record and on η only. So one pass over each
receiver's rounds gives :math:`A, B` and their derivatives in η (or κ) for every quadrature
node at once: :math:`A'_{r+1} = (1 - \eta_r) A'_r - \eta'_r A_r`,
:math:`B'_{r+1} = (1 - \eta_r) B'_r + \eta'_r (c_r - B_r)`, with :math:`\eta'_r = 1`
(adaptive) or :math:`-\eta_r^2` (counting, derivative in κ).

**Likelihood** (SPEC §3.6): a receiver's decisions enter through
:meth:`DynamicTrust.history_probabilities`: for node :math:`\alpha_k` and decision :math:`d`
(message :math:`m_d`, action :math:`a_d`), :math:`u = \bar u_R + \alpha_{kd}\,G[m_d]`
(:math:`G = U_R(L) - \bar u_R`) and :math:`P_{kd} = \operatorname{logit}(u, \lambda_R)[a_d]`.
Its exact derivatives:
:math:`\partial \log P_{kd}/\partial \alpha_{kd} = \lambda_R (G[m_d, a_d] - E_P G[m_d])`,
:math:`\partial \log P_{kd}/\partial \lambda_R = u[a_d] - E_P u`, and
:math:`\partial \alpha_{kd}/\partial \eta = \alpha_k A'_d + B'_d`.

**Mean trust path** (:meth:`DynamicTrust.trust_path`): with senders static, the chance that
a report proves credible is the same every round,
:math:`\bar c = \sum_t p[t] \sum_m \bar\sigma[t, m]\, P(c = 1 \mid t, m)` (forecast sharing:
:math:`P(|t + \varepsilon - v(m)| \le e) = \max(0, 1 - |t - v(m)|/(2e))`; otherwise the
indicator that m asserts t), and the population's mean trust follows
:math:`\bar\alpha_{r+1} = \bar\alpha_r + \eta_r (\bar c - \bar\alpha_r)`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray

from cheaptalk.choice import logit
from cheaptalk.games.base import Game

from ._common import check_interval, check_positive, check_size
from .base import ParameterError, Prediction, Pullback, Restriction
from .history import History
from .trust import Trust

__all__ = ["DynamicTrust", "credibility_rate", "trust_coefficients"]

_UPDATES = {"adaptive": "eta", "counting": "kappa"}


def trust_coefficients(history: History, update: str, rate: float
                       ) -> tuple[NDArray[np.float64], ...]:
    """``A, B, dA, dB`` of every decision in ``history`` (module docstring).

    ``rate`` is ``eta`` (adaptive) or ``kappa`` (counting); the derivatives are in it.

    Examples
    --------
    >>> from cheaptalk.models.history import build_history
    >>> h = build_history([0, 0, 0], [1, 2, 3], [1.0, 0.0, 1.0])
    >>> A, B, dA, dB = trust_coefficients(h, "adaptive", 0.5)
    >>> A.tolist(), B.tolist()        # alpha_2 = alpha/2 + 1/2, alpha_3 = alpha/4 + 1/4
    ([1.0, 0.5, 0.25], [0.0, 0.5, 0.25])
    """
    n = history.n_decisions
    A, B = np.ones(n), np.zeros(n)
    dA, dB = np.zeros(n), np.zeros(n)
    for level in history.levels[1:]:
        prev = history.previous[level]
        c = history.credible[prev]
        if update == "adaptive":
            eta = np.full(level.size, rate)
            d_eta = np.ones(level.size)
        else:  # counting: eta_r = 1 / (kappa + r), r the round just played (1-based)
            eta = 1.0 / (rate + history.position[prev] + 1.0)
            d_eta = -eta**2
        keep = 1.0 - eta
        A[level] = keep * A[prev]
        B[level] = keep * B[prev] + eta * c
        dA[level] = keep * dA[prev] - d_eta * A[prev]
        dB[level] = keep * dB[prev] + d_eta * (c - B[prev])
    return A, B, dA, dB


def credibility_rate(game: Game, sigma: NDArray[np.float64]) -> float:
    """Chance that a report of the population sender ``sigma[t, m]`` proves credible.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> g = crawford_sobel()
    >>> credibility_rate(g, np.eye(5))             # truthful: always credible
    1.0
    """
    claimed = game.literal_state[None, :]
    e = game.feedback_noise
    if e > 0:  # P(|t + eps - s_L(m)| <= e), eps ~ U[-e, e]
        consistent = np.clip(1.0 - np.abs(game.states[:, None] - claimed) / (2 * e), 0, 1)
    else:
        consistent = (game.states[:, None] == claimed).astype(float)
    return float(game.prior @ np.sum(sigma * consistent, axis=1))


class DynamicTrust(Trust):
    """Trust-embedded model whose receivers learn from feedback (SPEC §3.6).

    Parameters
    ----------
    update : {"adaptive", "counting"}
        Constant learning rate ``eta`` in [0, 1], or ``1 / (kappa + r)``.
    lie_cost, point_masses, n_alpha, n_beta
        As for :class:`~cheaptalk.models.trust.Trust`.

    Examples
    --------
    >>> DynamicTrust().parameter_names()[-1], DynamicTrust("counting").parameter_names()[-1]
    ('eta', 'kappa')
    >>> from cheaptalk.games import crawford_sobel
    >>> g = crawford_sobel()
    >>> path = DynamicTrust().trust_path(g, {**DynamicTrust().default_params(g), "eta": 0.5},
    ...                                  rounds=3)
    >>> [round(x, 4) for x in path["mean_trust"]][:1]
    [0.5]
    """

    name = "dynamic_trust"
    order = 55
    colour = "#8C3A00"  # dark vermillion: trust (vermillion) that moves
    description = ("Trust that moves: trust-embedded receivers move their trust toward each "
                   "report's credibility after feedback (eta, or kappa when counting)")
    history_roles = ("receiver",)
    trust_moves = True

    def __init__(self, update: str = "adaptive", lie_cost: str = "linear",
                 point_masses: bool = False, n_alpha: int = 64, n_beta: int = 161) -> None:
        if update not in _UPDATES:
            raise ValueError(f"update must be one of {tuple(_UPDATES)}, got {update!r}")
        super().__init__(lie_cost=lie_cost, point_masses=point_masses, n_alpha=n_alpha,
                         n_beta=n_beta)
        self.update = update

    @property
    def rate_name(self) -> str:
        """``"eta"`` or ``"kappa"``."""
        return _UPDATES[self.update]

    def parameter_names(self) -> tuple[str, ...]:
        return (*super().parameter_names(), self.rate_name)

    def default_params(self, game: Game) -> dict[str, float]:
        """``trust``'s defaults, ``eta = 0.2`` or ``kappa = 4``."""
        out = super().default_params(game)
        out[self.rate_name] = 0.2 if self.update == "adaptive" else 4.0
        return {n: out[n] for n in self.parameter_names()}

    def bounds(self, game: Game) -> dict[str, tuple[float, float]]:
        out = super().bounds(game)
        if self.update == "adaptive":
            out["eta"] = (0.0, 1.0)
        return out

    def restrictions(self) -> tuple[Restriction, ...]:
        """``trust`` with the same options: ``eta = 0`` (adaptive) or ``kappa → ∞``
        (counting), both on the boundary."""
        static = Trust(lie_cost=self.lie_cost, point_masses=self.point_masses,
                       n_alpha=self.n_alpha, n_beta=self.n_beta)
        value = 0.0 if self.update == "adaptive" else np.inf
        return (Restriction(static.label, {self.rate_name: value}, boundary=True),)

    def refined(self) -> DynamicTrust:
        return DynamicTrust(update=self.update, lie_cost=self.lie_cost,
                            point_masses=self.point_masses, n_alpha=2 * self.n_alpha,
                            n_beta=2 * self.n_beta - 1)

    def _check_values(self, p: dict[str, float]) -> dict[str, float]:
        p = super()._check_values(p)
        if self.update == "adaptive":
            check_interval(self.name, "eta", p["eta"])
        else:
            check_positive(self.name, "kappa", p["kappa"])
        return p

    def predict_with_pullback(self, game: Game, params: Mapping[str, float]
                              ) -> tuple[Prediction, Pullback]:
        """Round-1 strategies (``trust``'s) and their pullback; the learning rate acts
        through :meth:`history_probabilities` only."""
        pred, static = super().predict_with_pullback(game, params)
        rate = self.rate_name

        def pullback(w_bar: NDArray[np.float64], sender_bars: list[Any],
                     receiver_bars: list[Any]) -> dict[str, float]:
            out = static(w_bar, sender_bars, receiver_bars)
            out[rate] = 0.0
            return out

        return pred, pullback

    # ------------------------------------------------------------ history
    def _receiver_setup(self, game: Game, params: Mapping[str, float]
                        ) -> tuple[dict[str, float], NDArray[np.float64], NDArray[np.float64],
                                   NDArray[np.float64]]:
        p = self.check(params)
        alpha = self.nodes(p, game)[0]
        prior_values = game.prior_values()
        gain = game.receiver_values(game.literal) - prior_values[None, :]
        return p, alpha, prior_values, gain

    def history_probabilities(
        self, game: Game, params: Mapping[str, float], role: str, history: History,
        rows: NDArray[np.intp], seen: NDArray[np.intp], chosen: NDArray[np.intp],
    ) -> tuple[NDArray[np.float64], Callable[[NDArray[np.float64]], dict[str, float]]]:
        """Each α node's probability of each observed capacity, with its exact pullback
        (module docstring, "Likelihood")."""
        if role != "receiver":
            raise ValueError(f"{self.name}: only receivers' play depends on history")
        p, alpha, prior_values, gain = self._receiver_setup(game, params)
        lam = p["lambda_r"]
        A, B, dA, dB = (x[rows] for x in trust_coefficients(history, self.update,
                                                            p[self.rate_name]))
        g_rows = gain[seen]                                   # (n, n_a)
        g_obs = g_rows[np.arange(rows.size), chosen]           # (n,)
        u0_obs = prior_values[chosen]
        # three tables [alpha, row], and each node's utilities and choices [row, a]
        check_size(self.name, f"{alpha.size} trust nodes x {rows.size} observed rows",
                   3 * alpha.size * rows.size + 3 * rows.size * game.n_actions)
        probs = np.empty((alpha.size, rows.size))
        d_alpha = np.empty_like(probs)   # d log P / d alpha_kd
        d_lam = np.empty_like(probs)     # d log P / d lambda_r
        finite = np.isfinite(lam)
        for k, a in enumerate(alpha):
            a_kd = A * a + B
            u = prior_values[None, :] + a_kd[:, None] * g_rows
            rho = logit(u, lam)
            probs[k] = rho[np.arange(rows.size), chosen]
            if finite:
                d_alpha[k] = lam * (g_obs - np.einsum("ij,ij->i", rho, g_rows))
                d_lam[k] = u0_obs + a_kd * g_obs - np.einsum("ij,ij->i", rho, u)

        def pullback(adjoint: NDArray[np.float64]) -> dict[str, float]:
            out = dict.fromkeys(self.parameter_names(), 0.0)
            if not finite:
                return out
            weighted = adjoint * probs            # d/d log P
            out["lambda_r"] = float(np.sum(weighted * d_lam))
            by_alpha = weighted * d_alpha         # d/d alpha_kd
            out[self.rate_name] = float(alpha @ (by_alpha @ dA) + by_alpha.sum(axis=0) @ dB)
            return out

        return probs, pullback

    def trust_levels(self, game: Game, params: Mapping[str, float], history: History,
                     rows: NDArray[np.intp], type_index: NDArray[np.intp]
                     ) -> NDArray[np.float64]:
        """Trust ``α_i,r`` of decisions ``rows`` of receivers starting at the given α nodes,
        after their records (module docstring)."""
        p = self.check(params)
        alpha = self.nodes(p, game)[0]
        A, B, _, _ = trust_coefficients(history, self.update, p[self.rate_name])
        return A[rows] * alpha[np.asarray(type_index, dtype=np.intp)] + B[rows]

    def history_strategy_rows(
        self, game: Game, params: Mapping[str, float], role: str, history: History,
        rows: NDArray[np.intp], seen: NDArray[np.intp], type_index: NDArray[np.intp],
    ) -> NDArray[np.float64]:
        """Capacity probabilities of receivers of the given α nodes after their records."""
        if role != "receiver":
            raise ValueError(f"{self.name}: only receivers' play depends on history")
        p, _, prior_values, gain = self._receiver_setup(game, params)
        a_d = self.trust_levels(game, p, history, rows, type_index)
        return logit(prior_values[None, :] + a_d[:, None] * gain[seen], p["lambda_r"])

    # --------------------------------------------------------------- path
    def dynamics(self, game: Game, params: Mapping[str, float], rounds: int
                 ) -> dict[str, list[float]]:
        """:meth:`trust_path`."""
        return self.trust_path(game, params, rounds)

    def trust_path(self, game: Game, params: Mapping[str, float], rounds: int
                   ) -> dict[str, list[float]]:
        """The population's mean trust in each round 1..``rounds`` under the model, and the
        chance a report proves credible (module docstring, "Mean trust path").

        Returns ``{"round": [...], "mean_trust": [...], "credibility": [...]}``.
        """
        if rounds < 1:
            raise ParameterError("rounds must be >= 1")
        p = self.check(params)
        pred = self.predict(game, p)
        alpha, wa = self.nodes(p, game)[:2]
        c_bar = credibility_rate(game, pred.sender)
        mean = float(wa @ alpha / wa.sum())
        path = [mean]
        for r in range(1, rounds):
            eta = p["eta"] if self.update == "adaptive" else 1.0 / (p["kappa"] + r)
            mean += eta * (c_bar - mean)
            path.append(mean)
        return {"round": list(range(1, rounds + 1)), "mean_trust": path,
                "credibility": [c_bar] * rounds}

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"DynamicTrust({opts})"

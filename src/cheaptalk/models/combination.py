r"""Combination of the trust-embedded and level-k models (SPEC §3.4).

A finite mixture at the subject level: with probability :math:`\pi` a subject (in a role) is
a trust-embedded type, drawn from that model's population (α ~ Beta for receivers, β ~
LogNormal for senders); otherwise a level-k type, drawn from the level shares. The type list
is the union of the two models' types, trust weights multiplied by :math:`\pi` and level-k
weights by :math:`1 - \pi`, so that within each role the weights still sum to one:

.. math::

    \sigma_{\text{pop}} = \pi\,E_\beta[\sigma_\beta] + (1 - \pi)\sum_k p_k\,\sigma_k, \qquad
    \rho_{\text{pop}} = \pi\,E_\alpha[\rho_\alpha] + (1 - \pi)\sum_k p_k\,\rho_k.

Each component computes its strategies exactly as on its own: trust senders respond to the
trust receiver population :math:`\bar\rho = E_\alpha[\rho_\alpha]` and level-k types to the
noiseless level below (neither reasons about the other component). Both components share
one pair of logit precisions ``lambda_s``, ``lambda_r``: π then measures which theory explains
behaviour, not which one is allowed more noise.

Parameters: ``pi`` ∈ [0, 1], the trust parameters (``alpha_a``, ``alpha_b``, ``beta_mu``,
``beta_sigma`` [, ``alpha_p0``, ``alpha_p1``, ``beta_p0``]), the strategic-model parameters
(``p0…pK`` — or ``p0_s…``/``p0_r…`` — for level-k, ``tau`` for cognitive hierarchy), then
``lambda_s``, ``lambda_r``.

Exact derivatives: the components' pullbacks receive the weight adjoints scaled by π
(trust types) and 1 − π (strategic types) and the strategy adjoints unchanged;
:math:`\bar\pi = \sum_{\text{trust}}\bar w_k w_k - \sum_{\text{strategic}}\bar w_k w_k`
(component weights :math:`w_k`), and the shared precisions sum both components'
contributions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import NDArray

from cheaptalk.games.base import Game

from ._common import check_interval
from .base import Family, MixtureShare, Model, ParameterError, Prediction, Pullback
from .levelk import CognitiveHierarchy, LevelK
from .trust import DERIVED_BOUNDS, Trust, derived_quantities

__all__ = ["Combination"]

_LAMBDAS = ("lambda_s", "lambda_r")
_STRATEGIC = ("levelk", "ch")
#: The strategic component's subjects, in the report's words.
_STRATEGIC_TYPES = {"levelk": "level-k types", "ch": "cognitive-hierarchy types"}


class Combination(Model):
    """Subject-level mixture of trust-embedded (weight π) and level-k (1 − π) types.

    Parameters
    ----------
    levels, l0_sender, l0_receiver, shares
        Options of :class:`~cheaptalk.models.levelk.LevelK` (``shares`` only for
        ``strategic="levelk"``).
    lie_cost, point_masses, n_alpha, n_beta
        Options of :class:`~cheaptalk.models.trust.Trust`.
    strategic : {"levelk", "ch"}
        The strategic component: level-k (default, SPEC §3.4) or cognitive hierarchy.

    Examples
    --------
    >>> from cheaptalk.games import forecast_sharing
    >>> model, game = Combination(), forecast_sharing(step=10)
    >>> model.parameter_names()   # doctest: +NORMALIZE_WHITESPACE
    ('pi', 'alpha_a', 'alpha_b', 'beta_mu', 'beta_sigma', 'p0', 'p1', 'p2', 'p3',
     'lambda_s', 'lambda_r')
    >>> pred = model.predict(game, model.default_params(game))
    >>> round(sum(t.weight for t in pred.types if t.plays("receiver")), 12)
    1.0
    """

    name = "combination"
    order = 60
    colour = "#009E73"  # Okabe–Ito bluish green
    description = ("Mixture: with probability pi a trust-embedded type, otherwise a level-k "
                   "type (shared precisions)")

    def __init__(self, levels: int = 3, l0_sender: str = "truthful",
                 l0_receiver: str = "credulous", shares: str = "common",
                 lie_cost: str = "linear", point_masses: bool = False,
                 n_alpha: int = Trust.n_alpha, n_beta: int = Trust.n_beta,
                 strategic: str = "levelk") -> None:
        if strategic not in _STRATEGIC:
            raise ValueError(f"strategic must be one of {_STRATEGIC}, got {strategic!r}")
        self.trust = Trust(lie_cost=lie_cost, point_masses=point_masses, n_alpha=n_alpha,
                           n_beta=n_beta)
        self.levelk: LevelK | CognitiveHierarchy
        if strategic == "levelk":
            self.levelk = LevelK(levels=levels, l0_sender=l0_sender, l0_receiver=l0_receiver,
                                 shares=shares)
        else:
            if shares != "common":
                raise ValueError("shares='per_role' applies to strategic='levelk' only")
            self.levelk = CognitiveHierarchy(levels=levels, l0_sender=l0_sender,
                                             l0_receiver=l0_receiver)
        self.strategic = strategic
        self.levels, self.l0_sender, self.l0_receiver = levels, l0_sender, l0_receiver
        self.shares = shares
        self.lie_cost, self.point_masses = lie_cost, bool(point_masses)
        self.n_alpha, self.n_beta = int(n_alpha), int(n_beta)

    @staticmethod
    def _own(model: Model) -> tuple[str, ...]:
        return tuple(n for n in model.parameter_names() if n not in _LAMBDAS)

    def nonsmooth_parameters(self) -> tuple[str, ...]:
        """Those of the strategic component (``tau`` with ``strategic="ch"``)."""
        return self.levelk.nonsmooth_parameters()

    def inert_parameters(self, game: Game) -> frozenset[str]:
        """A parameter inert in every component that has it (π is never inert)."""
        parts = (self.trust, self.levelk)
        return frozenset(
            n for n in self.parameter_names()
            if any(n in m.parameter_names() for m in parts)
            and all(n in m.inert_parameters(game) for m in parts if n in m.parameter_names()))

    def mixture_share(self) -> MixtureShare:
        """π: the share of trust types; the rest are the strategic component's types."""
        return MixtureShare("pi", "trust types", _STRATEGIC_TYPES[self.strategic])

    def families(self) -> tuple[Family, ...]:
        """The strategic component's families, then the trust component's."""
        return self.levelk.families() + self.trust.families()

    def quadrature(self) -> dict[str, int]:
        """The trust component's node counts."""
        return self.trust.quadrature()

    def refined(self) -> Combination:
        """The same mixture with the trust component's nodes doubled."""
        finer = self.trust.refined()
        return Combination(levels=self.levels, l0_sender=self.l0_sender,
                           l0_receiver=self.l0_receiver, shares=self.shares,
                           lie_cost=self.lie_cost, point_masses=self.point_masses,
                           n_alpha=finer.n_alpha, n_beta=finer.n_beta, strategic=self.strategic)

    def parameter_names(self) -> tuple[str, ...]:
        return ("pi", *self._own(self.trust), *self._own(self.levelk), *_LAMBDAS)

    def bounds(self, game: Game) -> dict[str, tuple[float, float]]:
        """As for every model, with the trust component's floor on ``beta_sigma``."""
        out = super().bounds(game)
        out["beta_sigma"] = self.trust.bounds(game)["beta_sigma"]
        return out

    def default_params(self, game: Game) -> dict[str, float]:
        """``pi = 0.5`` and the components' defaults (which share the precisions)."""
        out = {"pi": 0.5}
        out.update(self.trust.default_params(game))
        out.update(self.levelk.default_params(game))
        return {n: out[n] for n in self.parameter_names()}

    def derived(self, params: Mapping[str, float]) -> dict[str, float]:
        """The trust component's ``mean_trust`` and ``median_lying_cost``."""
        return derived_quantities(params)

    def derived_bounds(self) -> dict[str, tuple[float, float]]:
        return dict(DERIVED_BOUNDS)

    def type_values(self, game: Game, params: Mapping[str, float], role: str
                    ) -> dict[str, NDArray[np.float64]]:
        """The trust component's scales (:meth:`Trust.type_values`), NaN for the strategic
        types (which follow the trust types, one per level and role)."""
        _, trust_p, _ = self.split(game, params)
        none = np.full(len(self.levelk.level_names), np.nan)
        return {name: np.concatenate([values, none]) for name, values in
                self.trust.type_values(game, trust_p, role).items()}

    def check_values(self, params: Mapping[str, float]) -> dict[str, float]:
        """π in [0, 1] and each component's checks."""
        pi, trust, strategic = self.split(None, params)
        return {"pi": pi, **self.trust.check_values(trust),
                **self.levelk.check_values(strategic)}

    def split(self, game: Game | None, params: Mapping[str, float]
              ) -> tuple[float, dict[str, float], dict[str, float]]:
        """Validated π, trust parameters and strategic-model parameters."""
        p = self.check_params(params)
        pi = check_interval(self.name, "pi", p["pi"])
        trust = {n: p[n] for n in self.trust.parameter_names()}
        strategic = {n: p[n] for n in self.levelk.parameter_names()}
        return pi, trust, strategic

    def _assemble(self, game: Game, pi: float, trust: Prediction, strategic: Prediction,
                  trust_p: dict[str, float], strategic_p: dict[str, float]) -> Prediction:
        types = tuple(
            [t.reweighted(pi * t.weight) for t in trust.types]  # lazy strategies stay so
            + [t.reweighted((1.0 - pi) * t.weight) for t in strategic.types])
        p = {"pi": pi, **trust_p, **strategic_p}
        return Prediction(game, types, model=self.name,
                          params={n: p[n] for n in self.parameter_names()})

    def predict(self, game: Game, params: Mapping[str, float]) -> Prediction:
        pi, trust_p, strategic_p = self.split(game, params)
        try:
            trust = self.trust.predict(game, trust_p)
            strategic = self.levelk.predict(game, strategic_p)
        except ParameterError as err:
            raise ParameterError(f"{self.name} ({err})") from None
        return self._assemble(game, pi, trust, strategic, trust_p, strategic_p)

    def predict_with_pullback(self, game: Game, params: Mapping[str, float]
                              ) -> tuple[Prediction, Pullback]:
        """The prediction and its exact vector–Jacobian product (module docstring)."""
        pi, trust_p, strategic_p = self.split(game, params)
        try:
            trust, trust_pb = self.trust.predict_with_pullback(game, trust_p)
            strategic, strategic_pb = self.levelk.predict_with_pullback(game, strategic_p)
        except ParameterError as err:
            raise ParameterError(f"{self.name} ({err})") from None
        pred = self._assemble(game, pi, trust, strategic, trust_p, strategic_p)
        n_trust = len(trust.types)
        w_trust = np.array([t.weight for t in trust.types])
        w_strategic = np.array([t.weight for t in strategic.types])
        names = self.parameter_names()

        def pullback(w_bar: NDArray[np.float64], sender_bars: list[NDArray[np.float64] | None],
                     receiver_bars: list[NDArray[np.float64] | None]) -> dict[str, float]:
            w_bar = np.asarray(w_bar, dtype=float)
            wt_bar, ws_bar = w_bar[:n_trust], w_bar[n_trust:]
            out = {"pi": float(wt_bar @ w_trust - ws_bar @ w_strategic)}
            # Slices, not copies: a CellAdjoints list keeps its observed cells.
            for part in (trust_pb(pi * wt_bar, sender_bars[:n_trust],
                                  receiver_bars[:n_trust]),
                         strategic_pb((1.0 - pi) * ws_bar, sender_bars[n_trust:],
                                      receiver_bars[n_trust:])):
                for name, value in part.items():
                    out[name] = out.get(name, 0.0) + value
            return {n: out[n] for n in names}

        return pred, pullback

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"Combination({opts})"

r"""Logit agent quantal response equilibrium (AQRE), SPEC §3.1 (McKelvey & Palfrey 1998).

**Definition.** A profile :math:`(\sigma, \rho)` is a logit AQRE with precisions
:math:`\lambda_S, \lambda_R` if

.. math::

    \sigma = \operatorname{logit}\big(U_S(\rho), \lambda_S\big), \qquad
    \rho = \operatorname{logit}\big(U_R(q(\sigma)), \lambda_R\big),

with :math:`q(\sigma)` the Bayes posterior (``Game.posterior``; at finite :math:`\lambda`
every message is sent with positive probability, so it is always defined). Each sender
state and each message is a separate agent, as in Gambit's agent-form logit QRE; payoffs are
the game's own, so :math:`\lambda` is per currency unit and equals Gambit's :math:`\lambda`.
Option ``roles="common"`` uses one parameter ``lambda`` for both roles, ``roles="per_role"``
uses ``lambda_s`` and ``lambda_r``.

**Branches.** At high :math:`\lambda` the game has many AQRE; the option ``branch`` names the
one used.

* ``"principal"``: the homotopy scales both precisions, :math:`(s\lambda_S, s\lambda_R)`,
  from the unique (uniform) solution at :math:`s = 0` — the branch Gambit's
  ``logit_solve_lambda`` follows. In a cheap-talk game messages are payoff-symmetric, so this
  branch is babbling: :math:`\sigma` uniform and :math:`\rho[m] =
  \operatorname{logit}(U_R(p), \lambda_R)` for every message. The tracer computes it (the
  symmetric point solves every homotopy equation exactly); it is not assumed.
* ``"literal"``: the homotopy starts from the credulous profile and removes the credulity.
  At path parameter :math:`h = 1 - s` the receiver's belief is a mixture of the literal
  reading and the Bayes posterior,

  .. math::

      \sigma = \operatorname{logit}\big(U_S(\rho), \lambda_S\big), \qquad
      \rho = \operatorname{logit}\big(U_R(h\,L + (1 - h)\,q(\sigma)), \lambda_R\big).

  At :math:`h = 1` the receiver is credulous (it reads every message as true, as if the
  sender were truthful) and the solution is unique: the sender logit-responds to the
  credulous receiver. As :math:`h \to 0` the credulity vanishes and the path ends at an AQRE
  of the game. This is the fixed point that can show over-communication; where no
  informative AQRE exists it ends at babbling. In Crawford–Sobel games at high
  :math:`\lambda` it ends next to the most informative partition equilibrium.

Both branches are deterministic functions of :math:`(\lambda_S, \lambda_R)`, computed by
homotopy continuation (:mod:`cheaptalk.numerics.continuation`). The literal branch costs
much more than the principal one on large games (benchmarks/README.md): fit it to
forecast data on a coarser design grid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from cheaptalk.games.base import Game
from cheaptalk.numerics.continuation import (
    AQRESolution,
    ConvergenceError,
    aqre_vjp,
    solve_aqre,
    solve_aqre_state,
)

from ._common import indifferent
from .base import Family, Model, ParameterError, Prediction, Pullback, Type

__all__ = ["AQRE", "AQRESolution", "ConvergenceError", "FinitePrecisions",
           "default_precision", "solve_aqre"]


class FinitePrecisions:
    """Mixin for models whose parameters are all logit precisions: finite and ``>= 0``,
    starting at :func:`default_precision` (equilibrium, AQRE)."""

    name: ClassVar[str]

    def default_params(self, game: Game) -> dict[str, float]:
        lam = default_precision(game)
        return {n: lam for n in self.parameter_names()}  # type: ignore[attr-defined]

    def check_params(self, params: Mapping[str, float]) -> dict[str, float]:
        out: dict[str, float] = super().check_params(params)  # type: ignore[misc]
        for n, value in out.items():
            if not 0.0 <= value < np.inf:
                raise ParameterError(f"{self.name}: {n} must be a finite number >= 0, "
                                     f"got {value}")
        return out


def default_precision(game: Game) -> float:
    """A sensible starting precision λ for ``game`` (per currency unit).

    ``30 / range``, where ``range`` is the spread of all material payoffs, rounded to two
    digits and capped at 2: 0.11 in the forecast-sharing game, 0.12 to 0.15 in the bundled
    Cai–Wang games, 2 in a binary game with payoffs 5 and 6.

    Examples
    --------
    >>> from cheaptalk.games import binary_deception, forecast_sharing
    >>> default_precision(forecast_sharing()), default_precision(binary_deception())
    (0.11, 2.0)
    """
    u = np.concatenate([game.sender_payoff.ravel(), game.receiver_payoff.ravel()])
    spread = float(u.max() - u.min())
    if spread <= 0:
        return 1.0
    return float(min(2.0, float(f"{30.0 / spread:.2g}")))


class AQRE(FinitePrecisions, Model):
    """Logit agent quantal response equilibrium.

    Parameters
    ----------
    roles : {"common", "per_role"}
        One precision ``lambda`` for both roles, or ``lambda_s`` and ``lambda_r``.
    branch : {"principal", "literal"}
        Which AQRE (module docstring): the principal branch traced from λ = 0 (babbling in
        cheap-talk games) or the one reached from the truthful/credulous profile.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> model = AQRE(branch="literal")
    >>> model.parameter_names()
    ('lambda',)
    >>> AQRE(roles="per_role").inert_parameters(crawford_sobel())   # principal: babbling
    frozenset({'lambda_s'})
    >>> pred = model.predict(crawford_sobel(bias=0.5), {"lambda": 0.5})
    >>> pred.types[0].name
    'AQRE'
    """

    name: ClassVar[str] = "aqre"
    order: ClassVar[int] = 20
    colour: ClassVar[str] = "#CC79A7"  # Okabe–Ito reddish purple
    description: ClassVar[str] = "Logit agent quantal response equilibrium (McKelvey-Palfrey)"

    def families(self) -> tuple[Family, ...]:
        """One family, ``AQRE`` (grey: standard theory)."""
        return (Family("AQRE", "#BBBBBB"),)

    def __init__(self, roles: str = "common", branch: str = "principal") -> None:
        if roles not in ("common", "per_role"):
            raise ValueError("roles must be 'common' or 'per_role'")
        if branch not in ("principal", "literal"):
            raise ValueError("branch must be 'principal' or 'literal'")
        self.roles, self.branch = roles, branch

    def parameter_names(self) -> tuple[str, ...]:
        return ("lambda",) if self.roles == "common" else ("lambda_s", "lambda_r")

    def inert_parameters(self, game: Game) -> frozenset[str]:
        """On the principal branch, which babbles in every cheap-talk game: ``lambda_s``
        (the sender is uniform whatever her precision), and ``lambda_r`` too where the
        receiver is indifferent between all actions under the prior (then uniform); with one
        precision for both roles, ``lambda`` where both are inert."""
        if self.branch != "principal":
            return frozenset()
        inert = {"lambda_s"}
        if indifferent(game.prior_values()[None, :], game):
            inert.add("lambda_r")
        if self.roles == "common":
            return frozenset({"lambda"}) if len(inert) == 2 else frozenset()
        return frozenset(inert)

    def precisions(self, game: Game, params: Mapping[str, float]) -> tuple[float, float]:
        """``(lambda_s, lambda_r)`` of ``params`` (checked), refusing precisions so large
        that precision times the game's payoffs overflows (with a margin for the sums the
        solver forms)."""
        theta = self.check_params(params)
        if self.roles == "common":
            lam_s = lam_r = theta["lambda"]
        else:
            lam_s, lam_r = theta["lambda_s"], theta["lambda_r"]
        u = np.concatenate([game.sender_payoff.ravel(), game.receiver_payoff.ravel()])
        with np.errstate(over="ignore"):
            if not np.isfinite(4.0 * max(lam_s, lam_r) * float(np.max(np.abs(u)))):
                raise ParameterError(f"{self.name}: precision {max(lam_s, lam_r):g} is too "
                                     "large for this game's payoffs (it overflows)")
        return lam_s, lam_r

    def solve(self, game: Game, params: Mapping[str, float]) -> AQRESolution:
        """The AQRE (with its residual and step count) for checked or unchecked ``params``."""
        return solve_aqre(game, *self.precisions(game, params), self.branch)

    def predict(self, game: Game, params: Mapping[str, float]) -> Prediction:
        sol = self.solve(game, params)
        return Prediction(game=game, types=(Type("AQRE", 1.0, sol.sender, sol.receiver, "AQRE"),),
                          model=self.name, params=self.check_params(params))

    def predict_with_pullback(self, game: Game, params: Mapping[str, float]
                              ) -> tuple[Prediction, Pullback]:
        """The prediction and its exact pullback (implicit function theorem, :func:`aqre_vjp`).

        Each call of the pullback solves one linear system with the transposed Jacobian of
        the fixed-point equations (none at the babbling solution).
        """
        sol, system, y, point = solve_aqre_state(game, *self.precisions(game, params),
                                                 branch=self.branch)
        pred = Prediction(game=game, types=(Type("AQRE", 1.0, sol.sender, sol.receiver, "AQRE"),),
                          model=self.name, params=self.check_params(params))
        common = self.roles == "common"

        def pullback(w_bar: NDArray[np.float64], sender_bars: list[NDArray[np.float64] | None],
                     receiver_bars: list[NDArray[np.float64] | None]) -> dict[str, float]:
            d_s, d_r = aqre_vjp(system, y, point, sender_bars[0], receiver_bars[0])
            if common:
                return {"lambda": d_s + d_r}
            return {"lambda_s": d_s, "lambda_r": d_r}

        return pred, pullback

    def __repr__(self) -> str:
        return f"AQRE(roles={self.roles!r}, branch={self.branch!r})"

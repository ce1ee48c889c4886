r"""Forecast sharing (Özer, Zheng & Chen 2011; Li, Özer & Subramanian 2021), SPEC §2.1.

A manufacturer (sender) privately observes a demand forecast :math:`\xi`; demand is
:math:`D = \xi + \varepsilon` with :math:`\varepsilon \sim U[-e, e]`. She reports
:math:`\hat\xi` to a supplier (receiver), who builds capacity :math:`K` at unit cost
:math:`c_k` before demand is known. Sales are :math:`\min(D, K)`, with expectation

.. math::

    S(\xi, K) = \begin{cases}
        K & K \le \xi - e \\
        \xi & K \ge \xi + e \\
        K - (K - \xi + e)^2 / (4e) & \text{otherwise,}
    \end{cases}

and payoffs :math:`u_S = (r - w)\,S` and :math:`u_R = (w - c)\,S - c_k K`.

Grids: states and reports :math:`\xi_{lo}, \xi_{lo} + \text{step}, \dots, \xi_{hi}` (uniform
prior); capacities :math:`0, \text{step}, \dots, K_{max}` (default :math:`\xi_{hi} + e`,
rounded down to the step grid).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .base import Game, check_grid_size
from .registry import GameKind, Key

__all__ = ["KIND", "expected_sales", "forecast_sharing", "newsvendor_capacity"]


def expected_sales(forecast: ArrayLike, capacity: ArrayLike, noise: float) -> NDArray[np.float64]:
    """Expected sales ``E[min(forecast + eps, capacity)]`` with ``eps ~ U[-noise, noise]``.

    Broadcasts ``forecast`` against ``capacity``.

    Examples
    --------
    >>> float(expected_sales(100, 100, 20))   # K = xi: lose half the upside, E = K - e/4
    95.0
    >>> float(expected_sales(100, 70, 20)), float(expected_sales(100, 130, 20))
    (70.0, 100.0)
    """
    xi = np.asarray(forecast, dtype=float)
    k = np.asarray(capacity, dtype=float)
    if noise < 0:
        raise ValueError("noise must be >= 0")
    if noise == 0:
        return np.minimum(xi, k)
    middle = k - (k - xi + noise) ** 2 / (4.0 * noise)
    return np.where(k <= xi - noise, k, np.where(k >= xi + noise, xi, middle))


def newsvendor_capacity(
    forecast_low: float, forecast_high: float, noise: float,
    margin_receiver: float, capacity_cost: float, n_grid: int = 4001,
) -> float:
    """Capacity at the critical fractile of prior demand (continuous forecast approximation).

    Demand under the prior is the sum of ``U[forecast_low, forecast_high]`` and
    ``U[-noise, noise]``; the newsvendor capacity solves
    ``P(D <= K) = (margin_receiver - capacity_cost) / margin_receiver``, found by root
    finding on the demand CDF (the forecast integrated on ``n_grid`` points).

    Examples
    --------
    >>> round(newsvendor_capacity(50, 250, 0.0, 1.0, 0.25), 1)   # 75% quantile of U[50, 250]
    200.0
    """
    from scipy.optimize import brentq

    fractile = (margin_receiver - capacity_cost) / margin_receiver
    xi = np.linspace(forecast_low, forecast_high, n_grid)

    def cdf(k: float) -> float:
        if noise > 0:
            inner = np.clip((k - xi + noise) / (2 * noise), 0.0, 1.0)
        else:
            inner = (k >= xi).astype(float)
        return float(np.trapezoid(inner, xi) / (forecast_high - forecast_low))

    return float(brentq(lambda k: cdf(k) - fractile, forecast_low - noise,
                        forecast_high + noise, xtol=1e-9))


def forecast_sharing(
    forecast_low: float = 50, forecast_high: float = 250, step: float = 1, noise: float = 20,
    margin_sender: float = 1.0, margin_receiver: float = 1.0, capacity_cost: float = 0.25,
    capacity_max: float | None = None, name: str = "forecast_sharing",
) -> Game:
    """Build the forecast-sharing game on its grids.

    Examples
    --------
    >>> g = forecast_sharing()
    >>> g.shape                      # 201 forecasts, 201 reports, capacities 0..270
    (201, 201, 271)
    >>> float(g.sender_payoff[0, 50])   # xi = 50, K = 50: margin * E[min(50 + eps, 50)]
    45.0
    """
    if step <= 0:
        raise ValueError("step must be > 0")
    if forecast_high <= forecast_low:
        raise ValueError("forecast_high must exceed forecast_low")
    n = (forecast_high - forecast_low) / step
    if not np.isfinite(n):
        raise ValueError(f"step {step:g} is too small for the forecast range")
    if abs(n - round(n)) > 1e-9:
        raise ValueError("forecast_high - forecast_low must be a multiple of step")
    if noise < 0:
        raise ValueError("noise must be >= 0")
    if capacity_cost < 0 or margin_receiver <= 0 or margin_sender < 0:
        raise ValueError("margins must be positive and capacity_cost non-negative")
    if capacity_max is None:
        capacity_max = forecast_high + noise  # rounded down to the grid below (documented)
    elif abs(capacity_max / step - round(capacity_max / step)) > 1e-9:
        raise ValueError(f"capacity_max {capacity_max:g} is not on the step grid (a multiple "
                         f"of step {step:g})")
    if capacity_max < 0:
        raise ValueError("capacity_max must be >= 0")
    n_actions = int(np.floor(capacity_max / step + 1e-9)) + 1
    check_grid_size("step", {"forecasts": round(n) + 1, "capacities": n_actions})
    states = forecast_low + step * np.arange(round(n) + 1)
    actions = step * np.arange(n_actions)
    sales = expected_sales(states[:, None], actions[None, :], noise)
    parameters = dict(
        forecast_low=forecast_low, forecast_high=forecast_high, step=step, noise=noise,
        margin_sender=margin_sender, margin_receiver=margin_receiver,
        capacity_cost=capacity_cost, capacity_max=capacity_max,
    )
    return Game(
        states=states, prior=np.full(states.size, 1.0 / states.size), messages=states,
        actions=actions, sender_payoff=margin_sender * sales,
        receiver_payoff=margin_receiver * sales - capacity_cost * actions[None, :],
        name=name, parameters=parameters, feedback_noise=float(noise),
    )


def _build(params: dict[str, Any], name: str) -> Game:
    return forecast_sharing(**params, name=name)


KIND = GameKind(
    name="forecast_sharing",
    description="Forecast sharing: a manufacturer reports a forecast, a supplier builds capacity",
    keys=(
        Key("forecast_low", float), Key("forecast_high", float), Key("step", float, 1.0),
        Key("noise", float), Key("margin_sender", float, 1.0),
        Key("margin_receiver", float, 1.0), Key("capacity_cost", float),
        Key("capacity_max", float, None),
    ),
    build=_build,
    roles=("manufacturer", "supplier"),
    variables=("forecast", "report", "capacity"),
    feedback_column="demand",
)

r"""Choice rules shared by every model: logit (quantal) response, best response, tremble.

Logit choice with precision :math:`\lambda \ge 0` over the last axis of a value array
:math:`U`:

.. math::

    P(x) = \frac{\exp(\lambda\,U(x))}{\sum_y \exp(\lambda\,U(y))},

computed as :math:`\exp(\lambda(U - \max U))` so that it never overflows. At
:math:`\lambda = 0` the choice is uniform; at :math:`\lambda = \infty` it is the exact best
response, ties split evenly (values within ``tie_tolerance`` of the maximum count as tied,
which absorbs floating-point noise in payoff sums).

The tremble mixes choice probabilities with the uniform distribution,
:math:`(1-\varepsilon)P + \varepsilon / n`. It enters only the likelihood of observed choices,
never a model's reasoning (SPEC §1).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["DEFAULT_TREMBLE", "TREMBLE", "best_response", "logit", "logit_vjp", "tremble"]

#: Default tremble weight ε (SPEC §1).
DEFAULT_TREMBLE = 1e-3
#: The tremble's name where it is estimated alongside a model's parameters.
TREMBLE = "epsilon"


def _tie_tolerance(values: NDArray[np.float64]) -> NDArray[np.float64]:
    top = np.max(values, axis=-1, keepdims=True)
    return 1e-10 * (1.0 + np.abs(top))


def best_response(values: ArrayLike) -> NDArray[np.float64]:
    """Best response over the last axis, ties split evenly.

    Parameters
    ----------
    values : array_like, shape (..., n)
        Value of each choice.

    Returns
    -------
    ndarray, shape (..., n)
        Choice probabilities; each row is uniform over its maximisers.

    Examples
    --------
    >>> best_response([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]]).tolist()
    [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]
    """
    u = np.asarray(values, dtype=float)
    top = np.max(u, axis=-1, keepdims=True)
    is_max = (u >= top - _tie_tolerance(u)).astype(float)
    return is_max / is_max.sum(axis=-1, keepdims=True)


def logit(values: ArrayLike, precision: float) -> NDArray[np.float64]:
    """Logit choice probabilities over the last axis.

    Parameters
    ----------
    values : array_like, shape (..., n)
        Value of each choice, in the game's payoff currency.
    precision : float
        Logit precision λ ≥ 0 (per currency unit); ``np.inf`` gives the best response.

    Returns
    -------
    ndarray, shape (..., n)
        Rows sum to one.

    Examples
    --------
    >>> logit([0.0, np.log(3.0)], 1.0).round(6).tolist()
    [0.25, 0.75]
    >>> logit([1.0, 2.0, 2.0], np.inf).tolist()
    [0.0, 0.5, 0.5]
    >>> logit([1.0, 2.0], 0.0).tolist()
    [0.5, 0.5]
    """
    if np.isnan(precision) or precision < 0:
        raise ValueError(f"logit precision must be >= 0, got {precision}")
    u = np.asarray(values, dtype=float)
    if np.isinf(precision):
        return best_response(u)
    z = precision * (u - np.max(u, axis=-1, keepdims=True))
    np.exp(z, out=z)
    z /= z.sum(axis=-1, keepdims=True)
    return z


def logit_vjp(
    probabilities: ArrayLike, values: ArrayLike, adjoint: ArrayLike, precision: float,
) -> tuple[float, NDArray[np.float64]]:
    r"""Vector–Jacobian product of :func:`logit` (for exact gradients).

    For :math:`P = \operatorname{logit}(U, \lambda)` over the last axis and an adjoint
    :math:`\bar P` (derivative of a scalar with respect to :math:`P`), with
    :math:`g = P \odot (\bar P - \sum_y \bar P_y P_y)` row by row,

    .. math::

        \bar\lambda = \sum g \odot U, \qquad \bar U = \lambda\, g.

    Parameters
    ----------
    probabilities : array_like, shape (..., n)
        ``logit(values, precision)``.
    values, adjoint : array_like, shape (..., n)
    precision : float

    Returns
    -------
    (float, ndarray)
        Adjoint of the precision and of the values.

    Examples
    --------
    >>> u, lam = np.array([0.0, 1.0, 3.0]), 0.5
    >>> p = logit(u, lam)
    >>> d_lam, d_u = logit_vjp(p, u, np.array([1.0, 0.0, 0.0]), lam)
    >>> h = 1e-6   # check d P_0 / d lambda by central differences
    >>> bool(np.isclose(d_lam, (logit(u, lam + h)[0] - logit(u, lam - h)[0]) / (2 * h)))
    True
    """
    p = np.asarray(probabilities, dtype=float)
    bar = np.asarray(adjoint, dtype=float)
    g = p * (bar - np.sum(bar * p, axis=-1, keepdims=True))
    return float(np.sum(g * np.asarray(values, dtype=float))), precision * g


def tremble(probabilities: ArrayLike, epsilon: float = DEFAULT_TREMBLE) -> NDArray[np.float64]:
    """Mix choice probabilities with the uniform distribution over the last axis.

    Examples
    --------
    >>> tremble([1.0, 0.0], 0.1).round(6).tolist()
    [0.95, 0.05]
    """
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"tremble must lie in [0, 1], got {epsilon}")
    p = np.asarray(probabilities, dtype=float)
    return (1.0 - epsilon) * p + epsilon / p.shape[-1]

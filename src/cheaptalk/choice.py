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

__all__ = ["DEFAULT_TREMBLE", "best_response", "logit", "tremble"]

#: Default tremble weight ε (SPEC §1).
DEFAULT_TREMBLE = 1e-3


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

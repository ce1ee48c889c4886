"""Parameter checks and small helpers shared by the behavioural models (private)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from cheaptalk.games.base import Game

from .base import ParameterError

__all__ = ["MAX_FLOATS", "check_interval", "check_positive", "check_precision", "check_shares",
           "check_size", "unique_labels"]

#: The most float64 values a prediction may hold (2 GiB): beyond, refuse before allocating.
MAX_FLOATS = 2**28


def check_precision(model: str, name: str, value: float) -> float:
    """A logit precision: ``>= 0``, ``inf`` allowed (best response)."""
    if not value >= 0:
        raise ParameterError(f"{model}: {name} must be >= 0 (inf allowed), got {value}")
    return value


def check_positive(model: str, name: str, value: float) -> float:
    """A finite, strictly positive parameter."""
    if not (np.isfinite(value) and value > 0):
        raise ParameterError(f"{model}: {name} must be finite and > 0, got {value}")
    return value


def check_interval(model: str, name: str, value: float, low: float = 0.0,
                   high: float = 1.0) -> float:
    """A parameter in the closed interval ``[low, high]``."""
    if not low <= value <= high:
        raise ParameterError(f"{model}: {name} must lie in [{low:g}, {high:g}], got {value}")
    return value


def check_shares(model: str, names: Sequence[str], values: Sequence[float],
                 tol: float = 1e-6) -> np.ndarray:
    """Shares in ``[0, 1]`` that sum to one within ``tol``."""
    for n, v in zip(names, values, strict=True):
        check_interval(model, n, v)
    total = float(np.sum(values))
    if abs(total - 1.0) > tol:
        raise ParameterError(
            f"{model}: shares {', '.join(names)} must sum to 1, got {total:.8g}")
    return np.asarray(values, dtype=float)


def check_size(model: str, what: str, n_floats: int) -> None:
    """Refuse a computation that would hold more than :data:`MAX_FLOATS` numbers, saying
    how large it would be (``what`` describes it, e.g. ``"levels=5000 in a 100x100x100
    game"``).

    Examples
    --------
    >>> check_size("levelk", "levels=10**6", 3 * 10**9)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cheaptalk.models.base.ParameterError: levelk: levels=10**6 needs 3e+09 numbers (22.4 GiB); ...
    """
    if n_floats > MAX_FLOATS:
        raise ParameterError(
            f"{model}: {what} needs {n_floats:.2g} numbers ({8 * n_floats / 2**30:.1f} GiB); "
            f"the limit is {MAX_FLOATS:.2g} numbers ({8 * MAX_FLOATS / 2**30:.0f} GiB)")


def unique_labels(values: Sequence[float], prefix: str) -> list[str]:
    """``prefix + value`` with just enough significant digits to be unique.

    Examples
    --------
    >>> unique_labels([0.1, 0.2], "a=")
    ['a=0.1', 'a=0.2']
    >>> unique_labels([0.12345, 0.12346], "a=")
    ['a=0.12345', 'a=0.12346']
    """
    for digits in range(4, 18):
        labels = [f"{prefix}{v:.{digits}g}" for v in values]
        if len(set(labels)) == len(labels):
            return labels
    return [f"{prefix}{v:.17g} [{i}]" for i, v in enumerate(values)]


def indifferent(values: np.ndarray, game: Game) -> bool:
    """Whether every row of ``values`` (expected payoffs of the receiver's actions, one row
    per message) is constant, to rounding of the game's payoffs: a logit receiver is then
    uniform whatever its precision.

    Examples
    --------
    >>> from cheaptalk.games import binary_deception, crawford_sobel
    >>> g = binary_deception()
    >>> indifferent(g.prior_values()[None, :], g)
    True
    >>> g = crawford_sobel()
    >>> indifferent(g.prior_values()[None, :], g)
    False
    """
    scale = float(np.max(np.abs(game.receiver_payoff))) or 1.0
    return bool(np.all(np.ptp(values, axis=1) <= 1e-12 * scale))

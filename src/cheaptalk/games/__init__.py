"""Games: the finite sender–receiver representation and the built-in game families.

A new game family is one new module here that defines ``KIND`` (see :mod:`.registry`).
"""

from .base import Game
from .binary_deception import binary_deception
from .crawford_sobel import crawford_sobel
from .forecast_sharing import expected_sales, forecast_sharing, newsvendor_capacity
from .registry import GameKind, Key, game_kinds

__all__ = [
    "Game",
    "GameKind",
    "Key",
    "binary_deception",
    "crawford_sobel",
    "expected_sales",
    "forecast_sharing",
    "game_kinds",
    "newsvendor_capacity",
]

r"""A model's characteristic predictions as tables (SPEC §3, §5 fit diagnostics).

For a prediction with population strategies :math:`\sigma[t, m]` and :math:`\rho[m, a]`
(trembles excluded):

* mean report given the state: :math:`E[v(m) \mid t] = \sum_m \sigma[t, m]\,v(m)`;
* mean action given the message: :math:`E[a \mid m] = \sum_a \rho[m, a]\,a`.

Binned versions average the rows that fall in each bin: states weighted by the prior,
messages uniformly (``message_weights="uniform"``) or by how often the predicted population
sends them (``"predicted"``: :math:`P(m) = \sum_t p[t]\,\sigma[t, m]`). Bins follow
:func:`cheaptalk.estimation.diagnostics.bin_values`: half-open ``[low, high)`` except the
last, which is closed; values outside the edges are left out.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cheaptalk.estimation.diagnostics import bin_values
from cheaptalk.models.base import Prediction

__all__ = ["mean_action_by_message", "mean_report_by_state"]


def _table(key: str, values: NDArray[np.float64], means: dict[str, NDArray[np.float64]],
           weights: NDArray[np.float64], bins: int | Sequence[float] | None) -> pd.DataFrame:
    if bins is None:
        return pd.DataFrame({key: values, **means})
    b = bin_values(values, values, bins)
    rows = []
    for i in range(len(b.labels)):
        sel = b.index == i
        w = weights[sel]
        total = w.sum()
        row = {f"{key}_low": b.low[i], f"{key}_high": b.high[i], "weight": total}
        for name, m in means.items():
            row[name] = float(w @ m[sel] / total) if total > 0 else np.nan
        rows.append(row)
    return pd.DataFrame(rows)


def _by_type(prediction: Prediction, role: str, values: NDArray[np.float64]
             ) -> dict[str, NDArray[np.float64]]:
    _, strategies, names = prediction.role_types(role)
    return {name: s @ values for name, s in zip(names, strategies, strict=True)}


def _means(prediction: Prediction, role: str, values: NDArray[np.float64], key: str,
           by_type: bool) -> dict[str, NDArray[np.float64]]:
    """The population's mean value (under ``key``), and each type's if ``by_type``."""
    means = {key: getattr(prediction, role) @ values}
    if by_type:
        means.update(_by_type(prediction, role, values))
    return means


def mean_report_by_state(prediction: Prediction, bins: int | Sequence[float] | None = None,
                         by_type: bool = False) -> pd.DataFrame:
    """Mean literal value of the message in each state (or state bin).

    Parameters
    ----------
    prediction : Prediction
    bins : int or sequence of float, optional
        ``None``: one row per state (columns ``state``, ``mean_report``). An int: that many
        equal-width bins over the state range; a sequence: bin edges. Binned tables have
        columns ``state_low``, ``state_high``, ``weight`` (prior mass) and ``mean_report``.
    by_type : bool
        Add one column per sender type (named after the type).

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> from cheaptalk.models.levelk import LevelK
    >>> game = crawford_sobel(bias=1.2)
    >>> pred = LevelK(levels=1).predict(game, {"p0": 0.5, "p1": 0.5, "lambda_s": np.inf,
    ...                                        "lambda_r": np.inf})
    >>> mean_report_by_state(pred, by_type=True)
       state  mean_report   L0   L1
    0    1.0          2.0  1.0  3.0
    1    3.0          4.0  3.0  5.0
    2    5.0          6.0  5.0  7.0
    3    7.0          8.0  7.0  9.0
    4    9.0          9.0  9.0  9.0
    """
    g = prediction.game
    means = _means(prediction, "sender", g.messages, "mean_report", by_type)
    return _table("state", g.states, means, g.prior, bins)


def mean_action_by_message(prediction: Prediction, bins: int | Sequence[float] | None = None,
                           by_type: bool = False, message_weights: str = "uniform"
                           ) -> pd.DataFrame:
    """Mean action value after each message (or message bin).

    Parameters
    ----------
    prediction : Prediction
    bins : int or sequence of float, optional
        As in :func:`mean_report_by_state`, on the messages' literal values (columns
        ``message`` / ``message_low``, ``message_high``, ``weight``, then ``mean_action``).
    by_type : bool
        Add one column per receiver type.
    message_weights : {"uniform", "predicted"}
        How messages are weighted within a bin: equally, or by their predicted frequency
        :math:`\\sum_t p[t]\\,\\sigma[t, m]` under the population sender.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> from cheaptalk.models.levelk import LevelK
    >>> pred = LevelK(levels=2).predict(crawford_sobel(bias=1.2), {
    ...     "p0": 0.0, "p1": 0.0, "p2": 1.0, "lambda_s": np.inf, "lambda_r": np.inf})
    >>> mean_action_by_message(pred, bins=[1, 5, 9]).round(3)   # actions 5, 1 | 3, 5, 8
       message_low  message_high  weight  mean_action
    0          1.0           5.0     2.0        3.000
    1          5.0           9.0     3.0        5.333
    """
    g = prediction.game
    means = _means(prediction, "receiver", g.actions, "mean_action", by_type)
    if message_weights == "uniform":
        weights = np.ones(g.n_messages)
    elif message_weights == "predicted":
        weights = g.prior @ prediction.sender
    else:
        raise ValueError("message_weights must be 'uniform' or 'predicted'")
    return _table("message", g.messages, means, weights, bins)

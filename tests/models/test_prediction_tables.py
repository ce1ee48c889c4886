"""cheaptalk.report.predictions: characteristic-prediction tables."""

import numpy as np
import pytest

from cheaptalk.games import forecast_sharing
from cheaptalk.models.levelk import LevelK
from cheaptalk.models.trust import Trust
from cheaptalk.report.predictions import mean_action_by_message, mean_report_by_state


@pytest.fixture(scope="module")
def pred():
    game = forecast_sharing(step=10)
    model = Trust(n_alpha=8, n_beta=9)
    return model.predict(game, model.default_params(game))


def test_unbinned_tables(pred):
    g = pred.game
    rep = mean_report_by_state(pred)
    assert list(rep.columns) == ["state", "mean_report"]
    np.testing.assert_allclose(rep["mean_report"], [
        sum(pred.sender[i, j] * g.messages[j] for j in range(g.n_messages))
        for i in range(g.n_states)])
    act = mean_action_by_message(pred, by_type=True)
    assert act.shape == (g.n_messages, 2 + 8)
    np.testing.assert_allclose(act["mean_action"], pred.receiver @ g.actions)


def test_binned_tables(pred):
    g = pred.game
    rep = mean_report_by_state(pred, bins=[50, 150, 250])
    assert list(rep.columns) == ["state_low", "state_high", "weight", "mean_report"]
    per_state = pred.sender @ g.messages
    low = g.states < 150  # 50..140 in the first bin, 150..250 (last bin closed) in the second
    np.testing.assert_allclose(rep["mean_report"], [per_state[low].mean(),
                                                    per_state[~low].mean()])
    np.testing.assert_allclose(rep["weight"], [low.mean(), 1 - low.mean()])
    act = mean_action_by_message(pred, bins=2, message_weights="predicted")
    freq = g.prior @ pred.sender
    k = pred.receiver @ g.actions
    np.testing.assert_allclose(act["mean_action"].iloc[0], (freq[low] @ k[low]) / freq[low].sum())
    with pytest.raises(ValueError):
        mean_action_by_message(pred, message_weights="x")
    with pytest.raises(ValueError):
        mean_report_by_state(pred, bins=[3, 1])


def test_by_type_for_one_role_types():
    game = forecast_sharing(step=25)
    model = LevelK(levels=1, shares="per_role")
    p = model.predict(game, {"p0_s": 0.5, "p1_s": 0.5, "p0_r": 1.0, "p1_r": 0.0,
                             "lambda_s": np.inf, "lambda_r": np.inf})
    table = mean_report_by_state(p, by_type=True)
    np.testing.assert_allclose(table["L0"], game.states)
    np.testing.assert_allclose(table["mean_report"], (table["L0"] + table["L1"]) / 2)

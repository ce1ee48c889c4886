"""Diagnostics: the one binning rule, and observed against predicted means computed by hand
row by row (with the tremble)."""

from types import SimpleNamespace

import numpy as np
import pytest

from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.compare import diagnostics as diagnostics_from_compare
from cheaptalk.estimation.diagnostics import MAX_POINTS, N_BINS, bin_values, diagnostics
from cheaptalk.models import get_model
from cheaptalk.simulation import Simulation
from toy_model import Toy

TRUE = {"q": 0.6, "lambda_s": 0.8, "lambda_r": 0.3}


# ------------------------------------------------------------------ the binning rule
def test_a_small_grid_gets_a_bin_per_value():
    grid = [9, 1, 3, 5, 7]
    b = bin_values([1, 9, 5, 5, 4], grid)
    assert b.labels == ["1", "3", "5", "7", "9"]
    assert b.index.tolist() == [0, 4, 2, 2, -1]  # 4 is not a grid value
    assert b.low.tolist() == b.high.tolist() == [1, 3, 5, 7, 9]


def test_a_large_grid_gets_equal_width_bins_closed_on_the_left():
    grid = np.arange(0, 101)  # 101 values > MAX_POINTS: 10 bins of width 10
    assert grid.size > MAX_POINTS and N_BINS == 10
    b = bin_values([0, 9.99, 10, 55, 99.9, 100, -1, 101], grid)
    assert b.index.tolist() == [0, 0, 1, 5, 9, 9, -1, -1]  # 100 closes the last bin
    assert b.labels[0] == "0–10" and b.labels[-1] == "90–100"
    assert b.low.tolist() == list(range(0, 100, 10))
    assert b.high.tolist() == list(range(10, 101, 10))


def test_exactly_max_points_values_still_get_one_bin_each():
    grid = np.arange(MAX_POINTS) * 0.5
    assert bin_values(grid, grid).index.tolist() == list(range(MAX_POINTS))
    assert len(bin_values(grid, np.arange(MAX_POINTS + 1) * 0.5).labels) == N_BINS


def test_explicit_bins():
    b = bin_values([0, 1, 2, 3, 4], grid=[0, 4], bins=2)
    assert b.index.tolist() == [0, 0, 1, 1, 1] and b.labels == ["0–2", "2–4"]
    b = bin_values([0, 1, 2, 3, 4], grid=[0, 4], bins=[1, 2.5, 3])
    assert b.index.tolist() == [-1, 0, 0, 1, -1]
    with pytest.raises(ValueError, match="increasing"):
        bin_values([1], grid=[0, 4], bins=[3, 1])
    with pytest.raises(ValueError, match=">= 1"):
        bin_values([1], grid=[0, 4], bins=0)


# ------------------------------------------------------------------ diagnostics by hand
def _by_hand(ds, fits, treatment, measure):
    """{bin label: (n, observed mean, {model: predicted mean})}, one row at a time."""
    t = ds.table
    game = ds.design.game(treatment)
    if measure == "message by state":
        grid, x_idx, y, values, role = game.states, ds.state, t["message"], game.messages, \
            "sender"
    else:
        grid, x_idx, y, values, role = game.messages, ds.message, t["action"], game.actions, \
            "receiver"
    lo, hi = grid.min(), grid.max()
    strategies = {name: getattr(f.model.predict(game, f.model_params), role)
                  for name, f in fits.items()}
    out = {}
    for r in np.flatnonzero((t["treatment"] == treatment).to_numpy()):
        x = grid[x_idx[r]]
        if grid.size <= 12:
            label = f"{x:g}"
        else:
            k = min(int((x - lo) / ((hi - lo) / 10)), 9)
            label = f"{lo + k * (hi - lo) / 10:g}–{lo + (k + 1) * (hi - lo) / 10:g}"
        n, total, predicted = out.get(label, (0, 0.0, {}))
        for name, f in fits.items():
            strategy = strategies[name][x_idx[r]]
            trembled = (1 - f.epsilon) * strategy + f.epsilon / strategy.size
            predicted[name] = predicted.get(name, 0.0) + float(trembled @ values)
        out[label] = (n + 1, total + float(y.iat[r]), predicted)
    return {k: (n, total / n, {m: v / n for m, v in p.items()}) for k, (n, total, p) in
            out.items()}


def _check(ds, fits):
    table = diagnostics(ds, fits)
    assert set(table["measure"]) == {"message by state", "action by message"}
    for (g, measure), part in table.groupby(["treatment", "measure"]):
        expected = _by_hand(ds, fits, g, measure)
        assert set(part["bin"]) == set(expected)
        for _, row in part.iterrows():
            n, observed, predicted = expected[row["bin"]]
            assert row["n"] == n
            assert row["observed"] == pytest.approx(observed, rel=1e-12)
            for name, value in predicted.items():
                assert row[name] == pytest.approx(value, rel=1e-9)
    return table


def test_diagnostics_with_a_bin_per_value_match_a_hand_computation():
    design = load_design("crawford_sobel")
    df = Simulation(design, Toy(), TRUE, subjects_per_role=4, rounds=6).run(seed=5)
    ds = validate_table(df, design)
    # a large tremble, so that leaving it out would show
    fits = {"toy": SimpleNamespace(model=Toy(), model_params=TRUE, epsilon=0.3),
            "other": SimpleNamespace(model=Toy(), model_params={**TRUE, "q": 0.1},
                                     epsilon=0.0)}
    table = _check(ds, fits)
    assert (table["toy"] != table["other"]).any()


def test_diagnostics_with_equal_width_bins_match_a_hand_computation():
    design = load_design("forecast_sharing")
    model = get_model("levelk")
    params = model.default_params(design.game(design.treatments[0]))
    df = Simulation(design, model, params, subjects_per_role=2, rounds=3).run(seed=2)
    ds = validate_table(df, design)
    _check(ds, {"levelk": SimpleNamespace(model=model, model_params=params, epsilon=0.25)})


def test_compare_keeps_diagnostics_importable():
    assert diagnostics_from_compare is diagnostics

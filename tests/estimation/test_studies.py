"""Simulation studies: bias, RMSE and coverage from a stub table of draws by hand; recovery
and power end to end on a tiny design (seeds, backends, shares)."""

import numpy as np
import pandas as pd
import pytest

from cheaptalk.data import load_design
from cheaptalk.estimation.studies import power, recover, summarise_recovery
from cheaptalk.runner import InProcess, ProcessPool
from toy_model import Honest, Toy

TRUE = {"q": 0.6, "lambda_s": 0.8, "lambda_r": 0.3}


def test_summary_of_a_stub_table_of_draws():
    # a: |estimate - truth| / se = 0.5, 1.5, 2.5, 0.0 → covered by ±1.96 se in 3 of 4 draws
    #    (in 2 of 4 with ±1 se); the estimates lie above the truth on average.
    draws = pd.DataFrame({
        "est:a": [2.5, 0.5, 7.0, 2.0],
        "se:a": [1.0, 1.0, 2.0, 0.1],
        "est:b": [-1.0, -3.0, -2.0, -2.0],
        "se:b": [0.1, 0.1, 0.1, 0.1],
    })
    summary = summarise_recovery(draws, {"a": 2.0, "b": -1.0})
    assert list(summary.index) == ["a", "b"]
    a, b = summary.loc["a"], summary.loc["b"]
    assert a["truth"] == 2.0 and a["mean"] == pytest.approx(3.0)
    assert a["bias"] == pytest.approx(1.0)  # mean 3 minus truth 2: positive
    assert a["rmse"] == pytest.approx(np.sqrt((0.25 + 2.25 + 25 + 0) / 4))
    assert a["sd_estimate"] == pytest.approx(np.sqrt(((-0.5) ** 2 + 2.5**2 + 4**2 + 1) / 3))
    assert a["mean_se"] == pytest.approx(1.025)
    assert a["coverage"] == pytest.approx(0.75)
    assert b["bias"] == pytest.approx(-1.0)  # mean -2 below the truth -1
    assert b["rmse"] == pytest.approx(np.sqrt((0 + 4 + 1 + 1) / 4))
    assert b["coverage"] == pytest.approx(0.25)  # only the exact draw


def test_coverage_counts_an_interval_of_1_96_standard_errors():
    # |estimate - truth| / se = 1.9 (inside) and 2.0 (outside), on either side of the truth
    draws = pd.DataFrame({"est:a": [1.9, -1.9, 2.0, -2.0], "se:a": [1.0] * 4})
    assert summarise_recovery(draws, {"a": 0.0}).loc["a", "coverage"] == pytest.approx(0.5)


def test_one_draw_has_no_spread():
    draws = pd.DataFrame({"est:a": [1.0], "se:a": [0.5]})
    row = summarise_recovery(draws, {"a": 0.0}).loc["a"]
    assert np.isnan(row["sd_estimate"]) and row["rmse"] == 1.0 and row["coverage"] == 0.0


@pytest.fixture(scope="module")
def design():
    return load_design("crawford_sobel")


def test_recovery_end_to_end(design):
    said = []
    summary, draws = recover(design, Toy(), TRUE, subjects=3, rounds=6, replications=3,
                             seed=40, backend=InProcess(), progress=said.append)
    assert draws["seed"].tolist() == [40, 41, 42] and len(said) == 3
    pd.testing.assert_frame_equal(summary, summarise_recovery(draws, TRUE))
    assert {f"est:{k}" for k in TRUE} | {f"se:{k}" for k in TRUE} <= set(draws.columns)
    # each replication carries its own seed: the pool gives the same numbers
    _, pooled = recover(design, Toy(), TRUE, subjects=3, rounds=6, replications=3, seed=40,
                        backend=ProcessPool(2))
    pd.testing.assert_frame_equal(draws, pooled)


def test_power_end_to_end(design):
    toy, honest = Toy(), Honest()
    toy.name, honest.name = "toy", "honest"
    truths = {"toy": (toy, TRUE), "honest": (honest, {"lambda_s": 0.8, "lambda_r": 0.3})}
    shares, draws = power(design, truths, [toy, honest], subjects=3, rounds=6,
                          replications=2, seed=5, jobs=1)
    assert len(draws) == 4 and draws["seed"].tolist() == [5, 6, 5, 6]
    bic = draws[["bic:toy", "bic:honest"]].to_numpy()
    assert draws["winner"].tolist() == [["toy", "honest"][i] for i in bic.argmin(axis=1)]
    for truth in ("toy", "honest"):
        won = draws.loc[draws["truth"] == truth, "winner"]
        for candidate in ("toy", "honest"):
            assert shares.loc[truth, candidate] == pytest.approx((won == candidate).mean())
    assert list(shares.columns) == ["toy", "honest"]


def test_a_parameter_the_data_do_not_identify_gets_no_score(tmp_path):
    """Equilibrium in forecast sharing babbles: lambda_s moves nothing, so recovery must not
    report it as perfectly recovered (it is held at the truth)."""
    from cheaptalk.models import get_model

    path = tmp_path / "fs.toml"
    path.write_text('game = "forecast_sharing"\n[treatments.A]\nforecast_low = 50\n'
                    'forecast_high = 150\nstep = 10\nnoise = 20\nmargin_sender = 1.0\n'
                    'margin_receiver = 1.0\ncapacity_cost = 0.25\n')
    design = load_design(str(path))
    model = get_model("equilibrium")
    truth = model.default_params(design.game("A"))
    summary, draws = recover(design, model, truth, subjects=4, rounds=6, replications=2,
                             backend=InProcess())
    assert draws["est:lambda_s"].isna().all()
    row = summary.loc["lambda_s"]
    assert row["identified"] == 0.0
    assert np.isnan(row["bias"]) and np.isnan(row["rmse"]) and np.isnan(row["coverage"])
    assert summary.loc["lambda_r", "identified"] == 1.0
    assert np.isfinite(summary.loc["lambda_r", "rmse"])

"""Recovery of moving trust (issue: trust over time). SYNTHETIC data simulated here.

2 forecast-sharing treatments (the bundled LL and HH parameters at step 10) × 20 fixed
pairs × 40 rounds: with ``eta = 0.35`` the estimate lies within 2 standard errors of the
truth and BIC prefers ``dynamic_trust``; with ``eta = 0`` (same columns) BIC prefers
``trust`` and ``eta`` is near 0.
"""

import numpy as np
import pytest

from cheaptalk.data.design import parse_design
from cheaptalk.data.interactions import validate_table
from cheaptalk.estimation.compare import compare, likelihood_ratio_tests
from cheaptalk.models import get_model
from cheaptalk.simulation import Simulation

pytestmark = pytest.mark.slow

DESIGN = """game = "forecast_sharing"
[treatments.LL]
forecast_low = 50
forecast_high = 250
step = 10
noise = 20
capacity_cost = 0.25
matching = "fixed"
rounds = 40
[treatments.HH]
forecast_low = 50
forecast_high = 250
step = 10
noise = 50
capacity_cost = 0.75
matching = "fixed"
rounds = 40
"""
TRUTH = {"alpha_a": 3.0, "alpha_b": 2.0, "beta_mu": -1.5, "beta_sigma": 0.8,
         "lambda_s": 0.5, "lambda_r": 0.2}


def _compare(eta, seed):
    design = parse_design(DESIGN)
    df = Simulation(design, get_model("dynamic_trust"), {**TRUTH, "eta": eta},
                    subjects_per_role=20).run(seed=seed)
    data = validate_table(df, design)
    assert data.n_decisions == 2 * 2 * 20 * 40
    return compare([get_model("trust"), get_model("dynamic_trust")], data, folds=0,
                   leave_one_treatment_out=False, n_starts=1, jobs=1)


def test_moving_trust_is_recovered_and_chosen():
    c = _compare(0.35, seed=1)
    fit = c.fits["dynamic_trust"]
    assert fit.converged
    assert abs(fit.params["eta"] - 0.35) < 2 * fit.bse_sandwich["eta"], (
        fit.params["eta"], fit.bse_sandwich["eta"])
    assert c.best_bic == "dynamic_trust"
    (lr,) = likelihood_ratio_tests(c.fits)
    assert lr["model"] == "dynamic_trust" and lr["nested"] == "trust" and lr["p"] < 1e-3


def test_static_trust_is_chosen_when_trust_does_not_move():
    c = _compare(0.0, seed=2)
    assert c.best_bic == "trust"
    assert c.fits["dynamic_trust"].params["eta"] < 0.05
    assert np.isfinite(c.fits["dynamic_trust"].llf)

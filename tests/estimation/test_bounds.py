"""Estimates at the edge of the parameter space are flagged, never given spurious precision.

Regression: with senders who all share one lying cost (a LogNormal of tiny spread), the
trust fit used to drive ``beta_sigma`` below the log-beta grid spacing, where the quadrature
weights jump from node to node: the likelihood was flat in ``beta_mu`` there and the
sandwich standard error of ``beta_mu`` came out as 0.0002. The estimator now stops at
two grid steps (``Trust.bounds``) and says so.
"""

import numpy as np
import pytest

from cheaptalk.data import parse_design, validate_table
from cheaptalk.estimation import MaximumLikelihood
from cheaptalk.models import get_model
from cheaptalk.simulation import Simulation

DESIGN = """
game = "crawford_sobel"
[treatments.low]
states = [1, 3, 5, 7, 9]
actions = [1, 2, 3, 4, 5, 6, 7, 8, 9]
bias = 0.5
[treatments.high]
states = [1, 3, 5, 7, 9]
actions = [1, 2, 3, 4, 5, 6, 7, 8, 9]
bias = 2.0
"""
POINT_MASS = {"alpha_a": 2.0, "alpha_b": 2.0, "beta_mu": 0.0, "beta_sigma": 0.01,
              "lambda_s": 0.3, "lambda_r": 0.3}


@pytest.fixture(scope="module")
def fit():
    design = parse_design(DESIGN)
    model = get_model("trust")
    df = Simulation(design, model, POINT_MASS, subjects_per_role=12, rounds=20).run(seed=7)
    return MaximumLikelihood(model, validate_table(df, design)).fit(n_starts=1), design


def test_beta_sigma_stops_at_the_floor_and_is_flagged(fit):
    res, design = fit
    floor = res.model.bounds(design.game("low"))["beta_sigma"][0]
    assert res.params["beta_sigma"] == pytest.approx(floor, rel=1e-3)
    assert res.convergence["at_bound"] == ["beta_sigma"]
    assert "edge of the parameter space: beta_sigma" in res.convergence["warning"]
    assert "at bound" in res.summary()


def test_no_spurious_precision_for_beta_mu(fit):
    res, _ = fit
    # beta_mu is weakly identified in this game: a standard error of several tenths, not 1e-4
    assert res.bse_sandwich["beta_mu"] > 0.1 and np.isfinite(res.bse["beta_mu"])
    assert abs(res.params["beta_mu"] - POINT_MASS["beta_mu"]) < 3 * res.bse_sandwich["beta_mu"]


def test_reports_show_no_interval_at_a_bound(fit, tmp_path):
    import pandas as pd

    from cheaptalk.estimation.compare import compare
    from cheaptalk.report.folder import write_tables
    from cheaptalk.report.latex import write_latex_tables
    from cheaptalk.report.tables import ReportTables

    res, design = fit
    ci = res.conf_int()
    assert ci.loc["beta_sigma"].isna().all() and ci.drop("beta_sigma").notna().all().all()
    df = Simulation(design, res.model, POINT_MASS, subjects_per_role=12, rounds=20).run(seed=7)
    c = compare([res.model], validate_table(df, design), folds=0, jobs=1, n_starts=1)
    tables = ReportTables(c)
    write_tables(tables, tmp_path)
    params = pd.read_csv(tmp_path / "parameters.csv").set_index("parameter")
    assert bool(params.loc["beta_sigma", "at_bound"]) and not params["at_bound"].drop(
        "beta_sigma").any()
    tex = write_latex_tables(tables, tmp_path)[1].read_text()
    assert "at bound" in tex

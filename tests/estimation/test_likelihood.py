import numpy as np
import pandas as pd
import pytest
from scipy.special import logsumexp

from cheaptalk.choice import tremble
from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.estimation.mle import MaximumLikelihood
from cheaptalk.simulation import Simulation
from toy_model import Toy

TRUE = {"q": 0.6, "lambda_s": 0.8, "lambda_r": 0.3}


@pytest.fixture(scope="module")
def cs_data():
    design = load_design("crawford_sobel")
    df = Simulation(design, Toy(), TRUE, subjects_per_role=12, rounds=20).run(seed=11)
    return validate_table(df, design)


def test_loglik_matches_a_direct_loop(cs_data):
    """Independent computation: loop over units and decisions with the formula."""
    model, eps = Toy(), 1e-3
    lik = Likelihood(model, cs_data, epsilon=eps)
    params = {"q": 0.3, "lambda_s": 0.4, "lambda_r": 0.7}
    expected = 0.0
    t = cs_data.table
    preds = {g: model.predict(cs_data.design.game(g), params) for g in cs_data.design.treatments}
    for role, (x, y) in {"sender": (cs_data.state, cs_data.message),
                         "receiver": (cs_data.message, cs_data.action)}.items():
        for unit in t[role].unique():
            rows = np.flatnonzero((t[role] == unit).to_numpy())
            per_type = []
            for k in range(2):
                total = 0.0
                weight = None
                for r in rows:
                    ty = preds[t["treatment"].iloc[r]].types[k]
                    weight = ty.weight
                    strat = tremble(getattr(ty, role), eps)
                    total += np.log(strat[x[r], y[r]])
                per_type.append(np.log(weight) + total)
            expected += logsumexp(per_type)
    ev = lik.evaluate(params)
    assert ev.loglik == pytest.approx(expected, rel=1e-12)
    assert sum(ev.by_role.values()) == pytest.approx(expected)
    assert sum(ev.by_treatment.values()) == pytest.approx(expected)
    np.testing.assert_allclose(ev.posterior["sender"].sum(axis=0), 1.0)


def test_analytic_gradient_matches_central_differences(cs_data):
    lik = Likelihood(Toy(), cs_data)
    params = {"q": 0.35, "lambda_s": 0.45, "lambda_r": 0.25}
    grad = lik.evaluate(params, gradient=True).gradient
    for name in params:
        h = 1e-6
        up, down = dict(params), dict(params)
        up[name] += h
        down[name] -= h
        numeric = (lik.evaluate(up).loglik - lik.evaluate(down).loglik) / (2 * h)
        assert grad[name] == pytest.approx(numeric, rel=1e-6, abs=1e-6)


def test_toy_parameters_recovered(cs_data):
    res = MaximumLikelihood(Toy(), cs_data).fit(n_starts=2)
    assert res.converged, res.convergence
    for name, truth in TRUE.items():
        assert abs(res.params[name] - truth) < 2.5 * res.bse_sandwich[name], (name, res.summary())
    assert res.aic == pytest.approx(2 * 3 - 2 * res.llf)
    assert res.bic == pytest.approx(3 * np.log(res.nobs) - 2 * res.llf)
    assert res.nobs == 2 * len(cs_data.table)
    text = res.summary()
    assert "lambda_s" in text and "Converged: yes" in text
    assert set(res.posterior["role"]) == {"sender", "receiver"}
    assert res.convergence["gradient"] == "analytic"


def test_fixed_parameters_are_not_estimated(cs_data):
    res = MaximumLikelihood(Toy(), cs_data, fixed={"lambda_s": 0.8}).fit(n_starts=1)
    assert res.params["lambda_s"] == 0.8 and np.isnan(res.bse["lambda_s"])
    assert res.df_model == 2


def test_compare_runs_cv_loto_and_vuong(cs_data):
    from cheaptalk.estimation.compare import compare
    from cheaptalk.report.tables import comparison_table
    from toy_model import Honest, Toy

    toy, honest = Toy(), Honest()
    toy.name, honest.name = "toy", "honest"  # instance names (not registered)
    c = compare([toy, honest], cs_data, folds=3, n_starts=1, jobs=2)
    table = comparison_table(c)
    assert list(table.index) == ["toy", "honest"]
    assert c.best_bic == "toy"  # data come from the toy with q = 0.6
    v = c.vuong[0]
    assert v["a"] == "toy" and v["z"] > 0 and v["favours"] == "toy"
    assert set(c.cv) == {"toy", "honest"} and c.cv["toy"] > c.cv["honest"]
    assert all(np.isfinite(x) and x < 0 for x in c.cv.values())
    assert set(c.loto["toy"]) == set(cs_data.design.treatments)
    d = c.to_dict()
    for key in ("models", "vuong", "best_bic", "n_decisions", "n_subjects"):
        assert key in d
    for key in ("name", "loglik", "n_params", "aic", "bic", "params", "se", "loglik_by_role",
                "loglik_by_treatment", "cv_loglik_per_decision"):
        assert key in d["models"][0]
    assert d["synthetic"] is True
    diag = c.diagnostics
    assert {"observed", "toy", "honest"} <= set(diag.columns)


def test_subject_weights_scale_contributions(cs_data):
    lik = Likelihood(Toy(), cs_data)
    ev = lik.evaluate(TRUE)
    per_subject = lik.subject_loglik(ev)
    w = np.random.default_rng(0).integers(0, 3, lik.n_subjects).astype(float)
    lik.subject_weights = w
    weighted = lik.evaluate(TRUE)
    assert weighted.loglik == pytest.approx(float(w @ per_subject))
    # the splits by role and by treatment carry the same weights and add up to the total
    assert sum(weighted.by_role.values()) == pytest.approx(weighted.loglik)
    assert sum(weighted.by_treatment.values()) == pytest.approx(weighted.loglik)
    assert weighted.by_role != ev.by_role


@pytest.mark.slow
def test_bootstrap_standard_errors_agree_with_sandwich(cs_data):
    from cheaptalk.estimation.bootstrap import bootstrap

    res = MaximumLikelihood(Toy(), cs_data).fit(n_starts=1)
    draws = bootstrap(res, cs_data, replications=30, seed=1, jobs=2)
    assert len(draws) == 30 and res.bse_bootstrap is not None
    ratio = res.bse_bootstrap / res.bse_sandwich
    assert ((ratio > 0.5) & (ratio < 2.0)).all(), ratio
    again = bootstrap(res, cs_data, replications=30, seed=1, jobs=1)
    pd.testing.assert_frame_equal(draws, again)

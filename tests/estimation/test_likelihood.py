import numpy as np
import pytest
from scipy.special import logsumexp

from cheaptalk.choice import tremble
from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.estimation.mle import MaximumLikelihood
from cheaptalk.simulation import Simulation
from toy_model import TRUE, Toy


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


def test_gradient_with_type_weights_that_differ_by_treatment():
    """Trust's quadrature weights follow each game's payoff scale: in the Crawford–Sobel
    design (three biases) every treatment has its own weights, and each unit's mixture uses
    its own treatment's."""
    from cheaptalk.models import get_model

    design = load_design("crawford_sobel")
    model = get_model("trust")
    params = model.default_params(design.game(design.treatments[0]))
    weights = {g: [ty.weight for ty in model.predict(design.game(g), params).types]
               for g in design.treatments}
    assert not np.allclose(weights[design.treatments[0]], weights[design.treatments[-1]])
    df = Simulation(design, model, params, subjects_per_role=3, rounds=5).run(seed=2)
    data = validate_table(df, design)
    lik = Likelihood(model, data)
    ev = lik.evaluate(params, gradient=True)
    # the direct mixture of one unit, with its own treatment's weights
    t = data.table
    unit = t["sender"].iloc[-1]
    rows = np.flatnonzero((t["sender"] == unit).to_numpy())
    g = t["treatment"].iloc[rows[0]]
    pred = model.predict(design.game(g), params)
    senders = [ty for ty in pred.types if ty.sender is not None]
    w = np.array([ty.weight for ty in senders])
    per_type = [np.log(wk / w.sum()) + sum(np.log(tremble(ty.sender, lik.epsilon)[
        data.state[r], data.message[r]]) for r in rows) for wk, ty in zip(w, senders, strict=True)]
    i = lik.units["sender"].index(str(unit))
    assert ev.unit_loglik["sender"][i] == pytest.approx(logsumexp(per_type), rel=1e-10)
    for name in ("alpha_a", "beta_mu", "beta_sigma"):
        h = 1e-5
        up, down = dict(params), dict(params)
        up[name] += h
        down[name] -= h
        numeric = (lik.evaluate(up).loglik - lik.evaluate(down).loglik) / (2 * h)
        assert ev.gradient[name] == pytest.approx(numeric, rel=1e-5, abs=1e-6), name

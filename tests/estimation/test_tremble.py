"""The tremble estimated with a model's parameters (SPEC §1: "may be estimated")."""

import json

import numpy as np
import pytest

from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation import Likelihood, MaximumLikelihood
from cheaptalk.estimation.compare import compare
from cheaptalk.estimation.saved import read_comparison, rebuild_comparison
from cheaptalk.models import get_model
from cheaptalk.outputs import write_json
from cheaptalk.simulation import Simulation

LEVELK = {"p0": 0.2, "p1": 0.4, "p2": 0.3, "p3": 0.1, "lambda_s": 0.4, "lambda_r": 0.2}
TRUE_EPS = 0.05


@pytest.fixture(scope="module")
def data():
    d = load_design("crawford_sobel")
    df = Simulation(d, get_model("levelk"), LEVELK, subjects_per_role=12, rounds=20,
                    epsilon=TRUE_EPS).run(seed=1)
    return validate_table(df, d)


def test_likelihood_with_tremble_parameter(data):
    model = get_model("levelk")
    lik = Likelihood(model, data)
    at = {**LEVELK, "epsilon": 0.04}
    ev = lik.evaluate(at, gradient=True)
    # the parameter overrides the fixed tremble: same value as a likelihood built with it
    assert ev.loglik == pytest.approx(Likelihood(model, data, epsilon=0.04)
                                      .evaluate(LEVELK).loglik, rel=1e-13)
    h = 1e-6
    numeric = (lik.evaluate({**at, "epsilon": 0.04 + h}).loglik
               - lik.evaluate({**at, "epsilon": 0.04 - h}).loglik) / (2 * h)
    assert ev.gradient["epsilon"] == pytest.approx(numeric, rel=1e-6)
    # the model's own gradient is unchanged by the extra parameter
    fixed = Likelihood(model, data, epsilon=0.04).evaluate(LEVELK, gradient=True).gradient
    assert {k: v for k, v in ev.gradient.items() if k != "epsilon"} == pytest.approx(fixed)


def test_tremble_is_recovered(data):
    res = MaximumLikelihood(get_model("levelk"), data, estimate_epsilon=True).fit(n_starts=1)
    fixed = MaximumLikelihood(get_model("levelk"), data).fit(n_starts=1)
    assert res.converged and res.df_model == fixed.df_model + 1
    eps, se = res.params["epsilon"], res.bse_sandwich["epsilon"]
    assert res.epsilon == eps and 0 < se < 0.02
    assert abs(eps - TRUE_EPS) < 3 * se
    assert res.llf > fixed.llf + 10  # the default 1e-3 is far from the truth here
    assert "(estimated)" in res.summary() and "epsilon" not in res.model_params


def test_compare_and_saved_round_trip(data, tmp_path):
    c = compare([get_model("levelk"), get_model("equilibrium")], data, folds=2, n_starts=1,
                jobs=1, estimate_epsilon=True)
    assert all("epsilon" in f.params.index for f in c.fits.values())
    assert c.fits["levelk"].epsilon != c.fits["equilibrium"].epsilon
    path = tmp_path / "c.json"
    write_json(c.to_dict(), path)
    back = rebuild_comparison(read_comparison(path), data, source=str(path))
    assert json.loads(json.dumps(back.to_dict(), default=float)) == json.loads(path.read_text())
    np.testing.assert_allclose(back.diagnostics["levelk"], c.diagnostics["levelk"])

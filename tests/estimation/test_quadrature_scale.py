"""The quadrature check at scale (SPEC §3.3, §5.1): the doubling tolerance is 0.01 on
laboratory data and 1e-6 per decision beyond 10,000 decisions, and the fit warns by it."""

import pytest

import cheaptalk.estimation.mle as mle
from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.mle import MaximumLikelihood
from cheaptalk.models import get_model
from cheaptalk.numerics.quadrature import doubling_tolerance
from cheaptalk.simulation import Simulation


@pytest.mark.parametrize("n, expected", [
    (100, 0.01), (3_840, 0.01), (10_000, 0.01), (20_000, 0.02), (1_000_000, 1.0),
])
def test_tolerance_is_absolute_for_small_data_and_per_decision_for_large(n, expected):
    assert doubling_tolerance(n) == pytest.approx(expected, rel=1e-12)


@pytest.fixture(scope="module")
def trust_fit_inputs():
    design = load_design("crawford_sobel")
    model = get_model("trust")
    params = model.default_params(design.game(design.treatments[0]))
    df = Simulation(design, model, params, subjects_per_role=4, rounds=6).run(seed=2)
    return model, validate_table(df, design), params


def _fit(inputs):
    model, data, params = inputs
    return MaximumLikelihood(model, data).fit(start=params, n_starts=1)


def test_fit_reports_the_tolerance_for_its_size(trust_fit_inputs):
    res = _fit(trust_fit_inputs)
    quad = res.convergence["quadrature"]
    assert quad["tolerance"] == doubling_tolerance(res.nobs) == 0.01
    assert quad["loglik_change_when_doubled"] < quad["tolerance"]
    assert "quadrature" not in res.convergence.get("warning", "")


def test_fit_warns_by_the_scaled_tolerance(trust_fit_inputs, monkeypatch):
    """The same change warns under a tolerance below it and not above it."""
    change = _fit(trust_fit_inputs).convergence["quadrature"]["loglik_change_when_doubled"]
    assert change > 0
    monkeypatch.setattr(mle, "doubling_tolerance", lambda n: change / 2)
    warned = _fit(trust_fit_inputs).convergence.get("warning", "")
    assert "doubling the quadrature nodes moves the log-likelihood" in warned
    assert f"the tolerance for {trust_fit_inputs[1].n_decisions} decisions" in warned
    monkeypatch.setattr(mle, "doubling_tolerance", lambda n: change * 2)
    assert "quadrature" not in _fit(trust_fit_inputs).convergence.get("warning", "")


def test_fit_without_the_check_when_doubled_nodes_are_too_large(trust_fit_inputs, monkeypatch):
    """Twice the nodes may not fit in memory where the fit's own nodes do: the fit is
    reported without the check, saying why, instead of failing after it ran."""
    from cheaptalk.models.trust import Trust

    checked = _fit(trust_fit_inputs)
    assert "quadrature" in checked.convergence
    model = trust_fit_inputs[0]
    monkeypatch.setattr(type(model), "refined",
                        lambda self: Trust(n_alpha=10**8, n_beta=self.n_beta))
    res = _fit(trust_fit_inputs)
    assert "quadrature" not in res.convergence
    assert ("the quadrature check (doubled nodes) was not run: trust: 100000000 trust nodes "
            "in a 5x5x9 game needs") in res.convergence["warning"]
    # the fit itself is the same
    assert res.llf == pytest.approx(checked.llf, rel=0, abs=1e-9)
    assert res.params.to_dict() == pytest.approx(checked.params.to_dict(), abs=1e-9)

"""Combination of trust-embedded and level-k types (SPEC §3.4)."""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cheaptalk.games import crawford_sobel, forecast_sharing
from cheaptalk.models import ParameterError, get_model
from cheaptalk.models.combination import Combination
from cheaptalk.models.levelk import CognitiveHierarchy, LevelK
from cheaptalk.models.trust import Trust
from pullback_check import assert_same_types

TRUST = {"alpha_a": 2.0, "alpha_b": 3.0, "beta_mu": -1.5, "beta_sigma": 0.8}
LEVELS = {"p0": 0.1, "p1": 0.5, "p2": 0.3, "p3": 0.1}
LAMBDAS = {"lambda_s": 0.4, "lambda_r": 0.25}


@pytest.fixture(scope="module")
def game():
    return forecast_sharing(step=5)


def strategies_by_role(pred, role):
    """Weight, strategy and name of every type with a strategy for ``role`` (unnormalised)."""
    return [(t.weight, getattr(t, role), t.name) for t in pred.types
            if getattr(t, role) is not None]


def test_parameter_names(game):
    model = Combination()
    assert model.parameter_names() == (
        "pi", "alpha_a", "alpha_b", "beta_mu", "beta_sigma", "p0", "p1", "p2", "p3",
        "lambda_s", "lambda_r")
    assert Combination(point_masses=True, levels=1, shares="per_role").parameter_names(
        ) == ("pi", "alpha_a", "alpha_b", "beta_mu", "beta_sigma", "alpha_p0",
                  "alpha_p1", "beta_p0", "p0_s", "p1_s", "p0_r", "p1_r", "lambda_s",
                  "lambda_r")
    assert Combination(strategic="ch").parameter_names()[5] == "tau"
    params = model.default_params(game)
    assert tuple(params) == model.parameter_names() and params["pi"] == 0.5
    assert isinstance(get_model("combination"), Combination)


@pytest.mark.parametrize("pi", [1.0, 0.0])
def test_pure_cases_equal_component_models(game, pi):
    params = {"pi": pi, **TRUST, **LEVELS, **LAMBDAS}
    pred = Combination().predict(game, params)
    component = (Trust().predict(game, {**TRUST, **LAMBDAS}) if pi == 1.0
                 else LevelK().predict(game, {**LEVELS, **LAMBDAS}))
    np.testing.assert_allclose(pred.sender, component.sender, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(pred.receiver, component.receiver, rtol=1e-12, atol=1e-15)
    assert_same_types([t for t in pred.types if t.weight > 0], component.types)


def test_mixture_weights_and_population(game):
    pi = 0.3
    pred = Combination().predict(game, {"pi": pi, **TRUST, **LEVELS, **LAMBDAS})
    trust = Trust().predict(game, {**TRUST, **LAMBDAS})
    levelk = LevelK().predict(game, {**LEVELS, **LAMBDAS})
    for role in ("sender", "receiver"):
        entries = strategies_by_role(pred, role)
        assert sum(w for w, _, _ in entries) == pytest.approx(1.0)
        expected = pi * getattr(trust, role) + (1 - pi) * getattr(levelk, role)
        np.testing.assert_allclose(getattr(pred, role), expected, rtol=1e-12, atol=1e-15)
    trust_weight = sum(t.weight for t in pred.types
                       if t.name.startswith("trust ") and t.receiver is not None)
    assert trust_weight == pytest.approx(pi)
    assert pred.model == "combination" and pred.params["pi"] == pi


def test_cognitive_hierarchy_component(game):
    params = {"pi": 0.0, **TRUST, "tau": 1.2, **LAMBDAS}
    pred = Combination(strategic="ch").predict(game, params)
    ch = CognitiveHierarchy().predict(game, {"tau": 1.2, **LAMBDAS})
    np.testing.assert_allclose(pred.receiver, ch.receiver, rtol=1e-12)


def test_derived_quantities():
    d = Combination().derived({"pi": 0.5, **TRUST, **LEVELS, **LAMBDAS})
    assert d == pytest.approx({"mean_trust": 0.4, "median_lying_cost": math.exp(-1.5)})


@pytest.mark.parametrize("change,match", [
    ({"pi": 1.5}, "pi must lie in"),
    ({"pi": -0.1}, "pi must lie in"),
    ({"alpha_b": 0.0}, "alpha_b must be finite and > 0"),
    ({"p1": 0.9}, "sum to 1"),
    ({"lambda_r": -1.0}, "lambda_r must be >= 0"),
    ({"tau": 1.0}, "unknown parameter.*tau"),
])
def test_parameter_errors(change, match):
    with pytest.raises(ParameterError, match=match):
        Combination().predict(crawford_sobel(), {"pi": 0.5, **TRUST, **LEVELS, **LAMBDAS,
                                                 **change})


def test_option_errors():
    with pytest.raises(ValueError, match="strategic"):
        Combination(strategic="qre")
    with pytest.raises(ValueError, match="per_role"):
        Combination(strategic="ch", shares="per_role")


@settings(max_examples=20, deadline=None)
@given(pi=st.floats(0, 1), shares=st.lists(st.floats(0.01, 1), min_size=4, max_size=4),
       lam=st.tuples(st.floats(0, 10), st.floats(0, 10)), a=st.floats(0.1, 20),
       b=st.floats(0.1, 20))
def test_strategies_are_distributions(pi, shares, lam, a, b):
    p = np.array(shares) / sum(shares)
    params = {"pi": pi, "alpha_a": a, "alpha_b": b, "beta_mu": -1.0, "beta_sigma": 1.0,
              **{f"p{k}": float(v) for k, v in enumerate(p)},
              "lambda_s": lam[0], "lambda_r": lam[1]}
    pred = Combination(n_alpha=8, n_beta=9).predict(crawford_sobel(bias=0.5), params)
    for role in ("sender", "receiver"):
        s = getattr(pred, role)
        assert np.all(s >= 0)
        np.testing.assert_allclose(s.sum(axis=1), 1.0, atol=1e-12)


def test_inert_parameters_need_every_component_that_has_them(game, monkeypatch):
    """pi and a component's own parameter follow that component; a shared precision is
    inert only if it is inert in both components."""
    from cheaptalk.models.levelk import LevelK

    monkeypatch.setattr(Trust, "inert_parameters",
                        lambda self, g: frozenset({"alpha_a", "lambda_s"}))
    monkeypatch.setattr(LevelK, "inert_parameters", lambda self, g: frozenset())
    assert Combination().inert_parameters(game) == {"alpha_a"}
    monkeypatch.setattr(LevelK, "inert_parameters", lambda self, g: frozenset({"lambda_s"}))
    assert Combination().inert_parameters(game) == {"alpha_a", "lambda_s"}


def test_trust_node_counts_too_large_are_refused_before_allocating():
    from helpers import peak_allocation

    g = crawford_sobel()
    for spec, words in (("combination[n_alpha=100000000]", "100000000 trust nodes"),
                        ("combination[n_beta=100000000]", "100000000 lying-cost nodes")):
        model = get_model(spec)
        error, peak = peak_allocation(model.predict, g, model.default_params(g))
        assert isinstance(error, ParameterError), error
        assert f"trust: {words} in a 5x5x9 game needs" in str(error), error
        assert peak < 20e6

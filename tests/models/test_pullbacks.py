"""Exact pullbacks (vector–Jacobian products) of the behavioural models against central
finite differences.

For random adjoints (weights, sender and receiver strategies of every type, drawn from a
seeded generator) the scalar

    S(θ) = Σ_i w̄_i · weight_i + Σ_i ⟨σ̄_i, σ_i⟩ + Σ_i ⟨ρ̄_i, ρ_i⟩

is differentiated numerically with respect to each parameter and compared with the
model's pullback. Parameter values are interior and away from best-response ties (for
cognitive hierarchy the test checks that no best response changes within ±h of τ).
"""

import math

import numpy as np
import pytest

from cheaptalk.data import parse_design, validate_table
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.games import binary_deception, crawford_sobel, forecast_sharing
from cheaptalk.models.combination import Combination
from cheaptalk.models.levelk import CognitiveHierarchy, LevelK, hierarchy
from cheaptalk.models.trust import Trust
from cheaptalk.simulation import Simulation
from pullback_check import assert_pullback_matches as check_pullback
from pullback_check import random_adjoints

RTOL, ATOL = 1e-6, 1e-8
LAMBDAS = {"lambda_s": 0.35, "lambda_r": 0.25}
TRUST = {"alpha_a": 1.7, "alpha_b": 2.6, "beta_mu": -1.1, "beta_sigma": 0.7}
MASSES = {"alpha_p0": 0.15, "alpha_p1": 0.2, "beta_p0": 0.1}

GAMES = {
    "crawford_sobel": crawford_sobel(),
    "binary_deception": binary_deception(),
    "forecast25": forecast_sharing(step=25),
    "forecast10": forecast_sharing(step=10),
}


def shares(n, prefix="p", suffix=""):
    """Interior shares p0..p{n-1} (not Poisson, so that no two are equal)."""
    raw = np.arange(1, n + 1, dtype=float)[::-1] + 0.5
    raw /= raw.sum()
    return {f"{prefix}{k}{suffix}": float(v) for k, v in enumerate(raw)}


def step(name, value):
    # Level shares must keep summing to one within 1e-6 (check_shares); S is linear in
    # them, so a tiny step is exact up to rounding.
    if name.startswith("p") and name != "pi":
        return 1e-7
    return 1e-5 * max(1.0, abs(value))


def assert_pullback_matches(model, game, params, seed=0):
    return check_pullback(model, game, params, seed=seed, rtol=RTOL, atol=ATOL, step=step)


# ----------------------------------------------------------------------------- level-k
@pytest.mark.parametrize("game_name", ["crawford_sobel", "binary_deception", "forecast25"])
@pytest.mark.parametrize("levels", [2, 3])
def test_levelk(game_name, levels):
    model = LevelK(levels=levels)
    assert_pullback_matches(model, GAMES[game_name], {**shares(levels + 1), **LAMBDAS})


@pytest.mark.parametrize("l0_sender, l0_receiver", [("uniform", "credulous"),
                                                    ("truthful", "uniform"),
                                                    ("uniform", "uniform")])
def test_levelk_l0_options(l0_sender, l0_receiver):
    model = LevelK(levels=2, l0_sender=l0_sender, l0_receiver=l0_receiver)
    assert_pullback_matches(model, GAMES["forecast25"], {**shares(3), **LAMBDAS}, seed=1)


@pytest.mark.parametrize("game_name", ["crawford_sobel", "forecast25"])
def test_levelk_per_role_shares(game_name):
    model = LevelK(levels=3, shares="per_role")
    params = {**shares(4, suffix="_s"), **dict(zip([f"p{k}_r" for k in range(4)],
                                                   [0.1, 0.2, 0.3, 0.4], strict=True)),
              **LAMBDAS}
    grad = assert_pullback_matches(model, GAMES[game_name], params, seed=2)
    assert set(grad) == set(params)


# -------------------------------------------------------------------- cognitive hierarchy
def assert_no_switch(model, game, params):
    """No best response of the hierarchy changes within ±h of τ."""
    tau = params["tau"]
    h = step("tau", tau)
    runs = [hierarchy(game, model.levels, params["lambda_s"], params["lambda_r"],
                      model.l0_sender, model.l0_receiver, beliefs=model.beliefs(t))
            for t in (tau - h, tau, tau + h)]
    for other in (runs[0], runs[2]):
        for a, b in zip(other.sender_noiseless + other.receiver_noiseless,
                        runs[1].sender_noiseless + runs[1].receiver_noiseless, strict=True):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("game_name", ["crawford_sobel", "binary_deception", "forecast25",
                                       "forecast10"])
@pytest.mark.parametrize("levels, tau", [(2, 1.3), (3, 1.3), (3, 0.7)])
def test_cognitive_hierarchy(game_name, levels, tau):
    model, game = CognitiveHierarchy(levels=levels), GAMES[game_name]
    params = {"tau": tau, **LAMBDAS}
    assert_no_switch(model, game, params)
    assert_pullback_matches(model, game, params, seed=3)


def test_cognitive_hierarchy_tau_moves_the_values():
    """τ acts through the belief mixtures of levels >= 2, not only through the weights."""
    model, game = CognitiveHierarchy(levels=3), GAMES["forecast10"]
    params = {"tau": 1.3, **LAMBDAS}
    pred, pullback = model.predict_with_pullback(game, params)
    w_bar, s_bars, r_bars = random_adjoints(pred, 4)
    through_values = pullback(np.zeros_like(w_bar), s_bars, r_bars)["tau"]
    assert abs(through_values) > 1e-3


def test_cognitive_hierarchy_uniform_level0():
    model = CognitiveHierarchy(levels=3, l0_sender="uniform", l0_receiver="uniform")
    params = {"tau": 1.1, **LAMBDAS}
    assert_no_switch(model, GAMES["crawford_sobel"], params)
    assert_pullback_matches(model, GAMES["crawford_sobel"], params, seed=5)


# -------------------------------------------------------------------------------- trust
@pytest.mark.parametrize("game_name", ["crawford_sobel", "binary_deception", "forecast25"])
@pytest.mark.parametrize("lie_cost", ["linear", "quadratic", "inflation"])
@pytest.mark.parametrize("point_masses", [False, True])
def test_trust(game_name, lie_cost, point_masses):
    model = Trust(lie_cost=lie_cost, point_masses=point_masses, n_alpha=10, n_beta=15)
    params = {**TRUST, **(MASSES if point_masses else {}), **LAMBDAS}
    params = {n: params[n] for n in model.parameter_names()}
    assert_pullback_matches(model, GAMES[game_name], params, seed=6)


def test_trust_default_quadrature():
    model = Trust(point_masses=True)
    assert_pullback_matches(model, GAMES["forecast10"],
                            {**TRUST, **MASSES, **LAMBDAS}, seed=7)


def test_trust_wide_lying_costs():
    """Nodes with huge β (truthful senders, underflowing probabilities) stay exact."""
    model = Trust(n_alpha=8, n_beta=21)
    params = {**TRUST, "beta_mu": 1.0, "beta_sigma": 2.5, **LAMBDAS}
    assert_pullback_matches(model, GAMES["forecast25"], params, seed=8)



@pytest.mark.parametrize("beta_mu, beta_sigma", [
    (-1.0, 3.0),    # wide: mass beyond both ends of the fixed log-beta grid, lumped there
    (0.4, 0.05),    # narrower than the grid spacing
    (-30.0, 2.0),   # centred far below the grid: almost all mass in the bottom node
])
def test_trust_fixed_log_beta_grid(beta_mu, beta_sigma):
    """mu and sigma act only through the weights of the fixed log-beta nodes."""
    model = Trust(point_masses=True, n_alpha=8, n_beta=13)
    params = {**TRUST, **MASSES, "beta_mu": beta_mu, "beta_sigma": beta_sigma, **LAMBDAS}
    assert_pullback_matches(model, GAMES["forecast25"], params, seed=12)


# -------------------------------------------------------------------------- combination
@pytest.mark.parametrize("options, strategic_params", [
    ({"levels": 2}, shares(3)),
    ({"levels": 3, "shares": "per_role"}, {**shares(4, suffix="_s"),
                                           **shares(4, suffix="_r")}),
    ({"levels": 3, "strategic": "ch"}, {"tau": 1.3}),
    ({"levels": 2, "strategic": "ch", "point_masses": True, "lie_cost": "quadratic"},
     {"tau": 0.8}),
])
@pytest.mark.parametrize("game_name", ["crawford_sobel", "forecast25"])
def test_combination(options, strategic_params, game_name):
    model = Combination(n_alpha=8, n_beta=11, **options)
    game = GAMES[game_name]
    params = {"pi": 0.4, **TRUST, **MASSES, **strategic_params, **LAMBDAS}
    params = {n: params[n] for n in model.parameter_names()}
    if "tau" in params:
        assert_no_switch(model.levelk, game, {"tau": params["tau"], **LAMBDAS})
    assert_pullback_matches(model, game, params, seed=9)


# ------------------------------------------------------------------------- limit cases
@pytest.mark.parametrize("model, params", [
    (LevelK(levels=2), {**shares(3), "lambda_s": math.inf, "lambda_r": math.inf}),
    (CognitiveHierarchy(levels=3), {"tau": 1.3, "lambda_s": math.inf, "lambda_r": 0.0}),
    (Trust(n_alpha=6, n_beta=7), {**TRUST, "lambda_s": math.inf, "lambda_r": math.inf}),
    (Trust(n_alpha=6, n_beta=7), {**TRUST, "lambda_s": 0.0, "lambda_r": 0.0}),
])
def test_limit_precisions_give_finite_gradients(model, params):
    game = GAMES["forecast25"]
    pred, pullback = model.predict_with_pullback(game, params)
    grad = pullback(*random_adjoints(pred, 10))
    assert all(np.isfinite(v) for v in grad.values()), grad
    for name in ("lambda_s", "lambda_r"):
        if math.isinf(params[name]):
            assert grad[name] == 0.0  # best responses do not move with the precision


def test_missing_adjoints_count_as_zero():
    model, game = Trust(n_alpha=6, n_beta=7), GAMES["crawford_sobel"]
    params = {**TRUST, **LAMBDAS}
    pred, pullback = model.predict_with_pullback(game, params)
    w_bar, s_bars, r_bars = random_adjoints(pred, 11)
    zeros_s = [None if b is None else np.zeros_like(b) for b in s_bars]
    zeros_r = [None if b is None else np.zeros_like(b) for b in r_bars]
    nones = [None] * len(pred.types)
    assert pullback(w_bar, nones, nones) == pytest.approx(pullback(w_bar, zeros_s, zeros_r))


# ------------------------------------------------------------------ likelihood end to end
DESIGN = """
game = "forecast_sharing"
description = "two small treatments for gradient tests"

[treatments.LL]
forecast_low = 50
forecast_high = 250
step = 10
noise = 20
margin_sender = 1.0
margin_receiver = 1.0
capacity_cost = 0.25

[treatments.HH]
forecast_low = 50
forecast_high = 250
step = 10
noise = 50
margin_sender = 1.0
margin_receiver = 1.0
capacity_cost = 0.75
"""


@pytest.fixture(scope="module")
def design():
    return parse_design(DESIGN)


def numeric_loglik_derivative(lik, params, direction, h):
    up = {n: params[n] + h * direction.get(n, 0.0) for n in params}
    down = {n: params[n] - h * direction.get(n, 0.0) for n in params}
    return (lik.evaluate(up).loglik - lik.evaluate(down).loglik) / (2 * h)


@pytest.mark.parametrize("model, params", [
    (Trust(point_masses=True, n_alpha=12, n_beta=17),
     {"alpha_a": 1.8, "alpha_b": 2.4, "beta_mu": -2.0, "beta_sigma": 0.8,
      "alpha_p0": 0.1, "alpha_p1": 0.15, "beta_p0": 0.1,
      "lambda_s": 0.3, "lambda_r": 0.15}),
    (LevelK(levels=3), {"p0": 0.15, "p1": 0.4, "p2": 0.3, "p3": 0.15,
                        "lambda_s": 0.3, "lambda_r": 0.15}),
])
def test_likelihood_gradient_matches_central_differences(design, model, params):
    df = Simulation(design, model, params, subjects_per_role=4, rounds=10).run(seed=21)
    lik = Likelihood(model, validate_table(df, design))
    grad = lik.evaluate(params, gradient=True).gradient
    assert set(grad) == set(params)
    names = list(params)
    share_names = [n for n in names if n.startswith("p") and n[1:].isdigit()]
    checks = [({n: 1.0}, grad[n], 1e-5 * max(1.0, abs(params[n])))
              for n in names if n not in share_names]
    # Shares: directions inside the simplex (p_k up, p0 down) keep the sum at one.
    checks += [({n: 1.0, share_names[0]: -1.0}, grad[n] - grad[share_names[0]], 1e-5)
               for n in share_names[1:]]
    for direction, analytic, h in checks:
        numeric = numeric_loglik_derivative(lik, params, direction, h)
        assert analytic == pytest.approx(numeric, rel=1e-5, abs=1e-4), (direction, numeric)

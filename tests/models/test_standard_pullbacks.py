"""Exact pullbacks of the standard-theory models (noisy equilibrium and AQRE) against central
finite differences of

    S(θ) = Σ_i w̄_i · weight_i + Σ_i ⟨σ̄_i, σ_i⟩ + Σ_i ⟨ρ̄_i, ρ_i⟩

for random seeded adjoints. The AQRE pullback uses the implicit function theorem (one
transposed linear solve per call); its fixed point is solved to a residual below 1e-12, so
the differences at λ ± h are accurate.
"""


import numpy as np
import pytest

from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation import MaximumLikelihood
from cheaptalk.games import binary_deception, crawford_sobel, forecast_sharing
from cheaptalk.models import get_model
from cheaptalk.models.aqre import AQRE
from cheaptalk.models.equilibrium import Equilibrium
from cheaptalk.numerics.continuation import _Factor, aqre_vjp, solve_aqre_state
from cheaptalk.simulation import Simulation
from pullback_check import assert_pullback_matches as check_pullback
from pullback_check import random_adjoints

RTOL, ATOL = 1e-5, 1e-8

GAMES = {
    "cs05": crawford_sobel(bias=0.5),
    "cs12": crawford_sobel(bias=1.2),
    "binary": binary_deception(),
    "forecast25": forecast_sharing(step=25),
}


def assert_pullback_matches(model, game, params, seed=0):
    return check_pullback(model, game, params, seed=seed, rtol=RTOL, atol=ATOL)


# ------------------------------------------------------------------------ equilibrium
@pytest.mark.parametrize("game_name", ["cs05", "cs12", "binary", "forecast25"])
@pytest.mark.parametrize("seed", [0, 1])
def test_equilibrium(game_name, seed):
    model, game = Equilibrium(), GAMES[game_name]
    values = {"lambda_s": 0.35, "lambda_r": 0.25}
    params = {n: values[n] for n in model.parameter_names()}
    grad = assert_pullback_matches(model, game, params, seed=seed)
    if game_name in ("cs05", "cs12"):
        assert set(grad) == {"lambda_s", "lambda_r"} and grad["lambda_s"] != 0.0
    else:  # babbling: the sender is uniform, lambda_s inert
        assert set(grad) == {"lambda_s", "lambda_r"} and grad["lambda_s"] == 0.0
        # in the binary game the receiver is indifferent under the prior: lambda_r too
        indifferent = game_name == "binary"
        assert (grad["lambda_r"] == 0.0) == indifferent
        assert model.inert_parameters(game) == ({"lambda_s", "lambda_r"} if indifferent
                                                 else {"lambda_s"})


def test_equilibrium_babbling_selection():
    model = Equilibrium(selection="babbling")
    assert_pullback_matches(model, GAMES["cs05"], {"lambda_s": 0.7, "lambda_r": 0.4}, seed=2)


def test_equilibrium_missing_adjoints():
    model, game = Equilibrium(), GAMES["cs05"]
    _, pullback = model.predict_with_pullback(game, {"lambda_s": 0.3, "lambda_r": 0.3})
    assert pullback(np.ones(1), [None], [None]) == {"lambda_s": 0.0, "lambda_r": 0.0}


# ------------------------------------------------------------------------------- AQRE
AQRE_PARAMS = {"common": {"lambda": 0.4}, "per_role": {"lambda_s": 0.45, "lambda_r": 0.3}}


@pytest.mark.parametrize("game_name", ["cs12", "binary"])
@pytest.mark.parametrize("branch", ["principal", "literal"])
@pytest.mark.parametrize("roles", ["common", "per_role"])
def test_aqre(game_name, branch, roles):
    model = AQRE(roles=roles, branch=branch)
    assert_pullback_matches(model, GAMES[game_name], AQRE_PARAMS[roles], seed=3)


@pytest.mark.parametrize("roles", ["common", "per_role"])
def test_aqre_literal_informative(roles):
    """An informative literal-branch AQRE (Crawford–Sobel, small bias, high precision)."""
    game = GAMES["cs05"]
    model = AQRE(roles=roles, branch="literal")
    params = {"common": {"lambda": 0.8}, "per_role": {"lambda_s": 0.9, "lambda_r": 0.6}}[roles]
    pred = model.predict(game, params)
    assert np.ptp(pred.types[0].sender) > 0.1          # not babbling
    grad = assert_pullback_matches(model, game, params, seed=4)
    assert all(abs(v) > 1e-6 for v in grad.values())


@pytest.mark.parametrize("roles", ["common", "per_role"])
def test_aqre_principal_forecast(roles):
    assert_pullback_matches(AQRE(roles=roles), GAMES["forecast25"],
                            {"common": {"lambda": 0.11},
                             "per_role": {"lambda_s": 0.12, "lambda_r": 0.09}}[roles], seed=5)


@pytest.mark.parametrize("game_name, lam, branch", [("cs12", (0.4, 0.3), "principal"),
                                                     ("binary", (2.0, 2.0), "literal"),
                                                     ("forecast25", (0.11, 0.11), "principal")])
def test_aqre_babbling_shortcut_agrees_with_adjoint(game_name, lam, branch):
    """At babbling the general adjoint (transposed solve) gives the shortcut's values."""
    sol, system, y, point = solve_aqre_state(GAMES[game_name], *lam, branch)
    assert np.max(np.abs(y)) < 1e-9
    rng = np.random.default_rng(6)
    s_bar, r_bar = rng.normal(size=sol.sender.shape), rng.normal(size=sol.receiver.shape)
    short = aqre_vjp(system, y, point, s_bar, r_bar)
    full = aqre_vjp(system, y, point, s_bar, r_bar, babbling_shortcut=False)
    np.testing.assert_allclose(full, short, rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("game_name, lam", [("cs05", (0.8, 0.6)), ("cs12", (0.6, 0.5))])
def test_aqre_transposed_solve(game_name, lam):
    """The structured transposed solve equals a dense solve with J^T."""
    _, system, _, point = solve_aqre_state(GAMES[game_name], *lam, "literal")
    jac = system.jacobian(point)
    r = np.random.default_rng(7).normal(size=system.size)
    np.testing.assert_allclose(_Factor(system, point).solve_transpose(r),
                               np.linalg.solve(jac.T, r), rtol=1e-9, atol=1e-10)


def test_aqre_principal_full_forecast_game_takes_the_babbling_shortcut():
    """201 × 201 × 271: the babbling solution needs no factorisation (timed in
    benchmarks/bench_models.py, not here)."""
    game = forecast_sharing()
    model = AQRE()
    pred, pullback = model.predict_with_pullback(game, {"lambda": 0.11})
    grad = pullback(*random_adjoints(pred, 8))
    assert np.isfinite(grad["lambda"])


# ----------------------------------------------------------------- estimation end to end
def test_aqre_maximum_likelihood_uses_analytic_gradient():
    design = load_design("crawford_sobel")
    df = Simulation(design, get_model("aqre"), {"lambda": 0.3},
                    subjects_per_role=12, rounds=20).run(seed=1)
    res = MaximumLikelihood(get_model("aqre"), validate_table(df, design)).fit(n_starts=1)
    assert res.convergence["gradient"] == "analytic"
    se = float(res.bse_sandwich["lambda"])
    assert np.isfinite(se) and se > 0
    assert abs(float(res.params["lambda"]) - 0.3) <= 3 * se

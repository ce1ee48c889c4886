"""Logit agent quantal response equilibrium (SPEC §3.1)."""

from __future__ import annotations

import numpy as np
import pytest

from cheaptalk.choice import logit
from cheaptalk.games import Game, binary_deception, crawford_sobel, forecast_sharing
from cheaptalk.models import ParameterError, get_model
from cheaptalk.models.aqre import AQRE, default_precision
from cheaptalk.models.equilibrium import most_informative_equilibrium
from cheaptalk.numerics.continuation import _Factor, _System, solve_aqre
from gambit_tools import behavior_profile, gbt, needs_gambit, qre_vector, split, to_gambit


def mutual_information(game: Game, sigma: np.ndarray) -> float:
    joint = game.prior[:, None] * sigma
    indep = game.prior[:, None] * joint.sum(axis=0)[None, :]
    mask = joint > 0
    return float(np.sum(joint[mask] * np.log(joint[mask] / indep[mask])))


def logit_residual(game: Game, sigma, rho, lam_s, lam_r) -> float:
    """Both AQRE equations, evaluated independently of the solver."""
    r_s = np.abs(sigma - logit(game.sender_values(rho), lam_s)).max()
    r_r = np.abs(rho - logit(game.receiver_values(game.posterior(sigma)), lam_r)).max()
    return float(max(r_s, r_r))


SMALL_CS = dict(states=(1, 3, 5), actions=(1, 2, 3, 4, 5))


# ------------------------------------------------------- principal branch against Gambit
@needs_gambit
@pytest.mark.parametrize(("game", "lams"), [
    (crawford_sobel(bias=1.2, **SMALL_CS), [0.05, 0.2, 0.5, 1.0]),
    (crawford_sobel(bias=0.5, **SMALL_CS, prior=(0.5, 0.3, 0.2)), [0.1, 0.4]),
    (crawford_sobel(bias=1.2), [0.1, 0.4]),
    (binary_deception(), [0.5, 2.0, 5.0]),
    (binary_deception(sender_payoffs=((2, 7), (6, 1)), receiver_payoffs=((6, 5), (1, 6)),
                      prior=(0.3, 0.7)), [0.5, 2.0]),
], ids=["cs3", "cs3-prior", "cai-wang", "gneezy", "binary-asym"])
def test_principal_branch_matches_gambit(game, lams):
    results = gbt.qre.logit_solve_lambda(to_gambit(game), lams)
    assert len(results) == len(lams)
    for lam, res in zip(lams, results, strict=True):
        assert float(res.lam) == pytest.approx(lam, abs=1e-9)
        sigma_g, rho_g = split(game, qre_vector(res))
        sol = solve_aqre(game, lam, lam, "principal")
        assert sol.residual < 1e-10
        np.testing.assert_allclose(sol.sender, sigma_g, atol=1e-6, rtol=0)
        np.testing.assert_allclose(sol.receiver, rho_g, atol=1e-6, rtol=0)


def test_principal_branch_is_babbling_in_cheap_talk():
    game = crawford_sobel(bias=0.5)
    sol = solve_aqre(game, 2.0, 0.7, "principal")
    np.testing.assert_allclose(sol.sender, 1 / game.n_messages, atol=1e-12)
    np.testing.assert_allclose(sol.receiver, np.tile(logit(game.prior_values(), 0.7),
                                                     (game.n_messages, 1)), atol=1e-12)


def test_principal_branch_on_the_full_forecast_game_is_babbling():
    game = forecast_sharing(step=1)
    assert game.shape == (201, 201, 271)
    pred = AQRE().predict(game, {"lambda": 0.2})
    np.testing.assert_allclose(pred.sender, 1 / 201, atol=1e-12)
    assert logit_residual(game, pred.sender, pred.receiver, 0.2, 0.2) < 1e-10


# ------------------------------------------------------------------------ literal branch
@pytest.mark.parametrize("bias", [0.5, 1.2, 2.0])
@pytest.mark.parametrize("lam", [0.2, 0.5])
def test_literal_branch_is_an_informative_fixed_point(bias, lam):
    game = crawford_sobel(bias=bias)
    lit = solve_aqre(game, lam, lam, "literal")
    pri = solve_aqre(game, lam, lam, "principal")
    assert lit.residual < 1e-10
    assert logit_residual(game, lit.sender, lit.receiver, lam, lam) < 1e-10
    assert mutual_information(game, lit.sender) > mutual_information(game, pri.sender) + 0.3
    # reports rise with the state (weakly: high states may pool)
    mean_report = lit.sender @ game.messages
    assert np.all(np.diff(mean_report) > -1e-9) and mean_report[-1] > mean_report[0] + 1


@needs_gambit
def test_literal_branch_is_a_logit_qre_by_gambits_own_payoffs():
    game = crawford_sobel(bias=1.2)
    lam_s, lam_r = 0.6, 0.3
    sol = solve_aqre(game, lam_s, lam_r, "literal")
    g = to_gambit(game)
    profile = behavior_profile(g, sol.sender, sol.receiver)
    worst = 0.0
    for player, lam in zip(g.players, (lam_s, lam_r), strict=True):
        for infoset in player.infosets:
            values = np.array([float(profile.action_value(a)) for a in infoset.actions])
            probs = np.array([float(profile[a]) for a in infoset.actions])
            worst = max(worst, float(np.abs(probs - logit(values, lam)).max()))
    assert worst < 1e-10


@pytest.mark.parametrize("bias", [0.5, 1.2, 2.0])
def test_literal_branch_approaches_the_most_informative_equilibrium(bias):
    game = crawford_sobel(bias=bias)
    eq = most_informative_equilibrium(game)
    sol = solve_aqre(game, 2.0, 2.0, "literal")
    assert mutual_information(game, sol.sender) == pytest.approx(
        mutual_information(game, eq.sender), abs=1e-3)


def test_literal_branch_in_the_binary_deception_game_is_babbling():
    game = binary_deception()
    sol = solve_aqre(game, 3.0, 3.0, "literal")
    assert sol.residual < 1e-10
    np.testing.assert_allclose(sol.sender, 0.5, atol=1e-8)


@pytest.mark.parametrize("lam", [0.1, 0.3])
def test_literal_branch_over_communicates_in_the_forecast_game(lam):
    game = forecast_sharing(step=10)
    sol = solve_aqre(game, lam, lam, "literal")
    assert sol.residual < 1e-10
    assert logit_residual(game, sol.sender, sol.receiver, lam, lam) < 1e-10
    assert mutual_information(game, sol.sender) > 0.2       # babbling: 0
    mean_report = sol.sender @ game.messages
    assert np.all(np.diff(mean_report) >= -1e-9)
    assert mean_report[-1] - mean_report[0] > 50


@pytest.mark.slow
def test_literal_branch_through_degenerate_bifurcations():
    # forecast game, step 5, lambda 0.5: the path meets degenerate bifurcations
    game = forecast_sharing(step=5)
    sol = solve_aqre(game, 0.5, 0.5, "literal")
    assert sol.residual < 1e-10
    assert logit_residual(game, sol.sender, sol.receiver, 0.5, 0.5) < 1e-10


def test_literal_branch_hands_over_when_the_path_is_lost():
    # the step limit reached: monotone continuation from the furthest point reached
    game = forecast_sharing(step=10)
    sol = solve_aqre(game, 0.3, 0.3, "literal", max_steps=10)
    assert not sol.path_followed
    assert sol.residual < 1e-10
    assert logit_residual(game, sol.sender, sol.receiver, 0.3, 0.3) < 1e-10


def test_per_role_precisions():
    game = crawford_sobel(bias=1.2)
    model = AQRE(roles="per_role", branch="literal")
    assert model.parameter_names() == ("lambda_s", "lambda_r")
    pred = model.predict(game, {"lambda_s": 0.8, "lambda_r": 0.2})
    assert logit_residual(game, pred.sender, pred.receiver, 0.8, 0.2) < 1e-10
    common = AQRE(branch="literal").predict(game, {"lambda": 0.5})
    same = model.predict(game, {"lambda_s": 0.5, "lambda_r": 0.5})
    np.testing.assert_allclose(common.sender, same.sender)


def test_zero_precision_is_uniform():
    game = crawford_sobel(bias=1.2)
    for branch in ("principal", "literal"):
        sol = solve_aqre(game, 0.0, 0.0, branch)
        np.testing.assert_allclose(sol.sender, 0.2)
        np.testing.assert_allclose(sol.receiver, 1 / 9)


def test_messages_without_a_literal_state_and_one_message():
    rng = np.random.default_rng(1)
    game = Game(states=[0, 1, 2], prior=[0.2, 0.5, 0.3], messages=[0, 0.5, 1, 1.5, 2, 3],
                actions=[0, 1, 2, 3], sender_payoff=3 * rng.normal(size=(3, 4)),
                receiver_payoff=3 * rng.normal(size=(3, 4)))
    for branch in ("principal", "literal"):
        sol = solve_aqre(game, 1.5, 1.5, branch)
        assert logit_residual(game, sol.sender, sol.receiver, 1.5, 1.5) < 1e-10
    one = Game(states=[0, 1], prior=[0.5, 0.5], messages=[0], actions=[0, 1],
               sender_payoff=[[0, 1], [1, 0]], receiver_payoff=[[1, 0], [0, 1]])
    sol = solve_aqre(one, 1.0, 1.0, "literal")
    np.testing.assert_allclose(sol.sender, 1.0)
    np.testing.assert_allclose(sol.receiver, [[0.5, 0.5]])


# ------------------------------------------------------------------- solver internals
@pytest.mark.parametrize("branch", ["principal", "literal"])
@pytest.mark.parametrize("s", [0.0, 0.4, 1.0])
def test_jacobian_and_structured_solve(branch, s):
    rng = np.random.default_rng(2)
    game = Game(states=[0, 1, 2], prior=[0.2, 0.5, 0.3], messages=[0, 1, 2, 3],
                actions=[0, 1, 2, 3, 4], sender_payoff=3 * rng.normal(size=(3, 5)),
                receiver_payoff=3 * rng.normal(size=(3, 5)))
    system = _System(game, 0.7, 0.9, branch)
    y = rng.normal(size=system.size)
    point = system.evaluate(y, s)
    jac = system.jacobian(point)
    d, eps = rng.normal(size=system.size), 1e-6
    fd = (system.evaluate(y + eps * d, s).f - system.evaluate(y - eps * d, s).f) / (2 * eps)
    np.testing.assert_allclose(jac @ d, fd, atol=1e-7)
    if 0 < s < 1:
        fd_s = (system.evaluate(y, s + eps).f - system.evaluate(y, s - eps).f) / (2 * eps)
        np.testing.assert_allclose(system.jvp(point, None, ds=1.0)[0], fd_s, atol=1e-7)
    r = rng.normal(size=system.size)
    np.testing.assert_allclose(jac @ _Factor(system, point).solve(r), r, atol=1e-10)
    several = rng.normal(size=(3, system.size))        # several right-hand sides at once
    np.testing.assert_allclose(_Factor(system, point).solve(several) @ jac.T, several,
                               atol=1e-10)


def reference_literal_branch(game: Game, lam: float) -> np.ndarray:
    """The literal branch traced plainly, independently of the solver's tracer: dense
    Jacobian, Euclidean arclength in (y, s), tangent as the null vector of [J, F_s] (by a
    bordered dense solve), Newton with a fresh dense Jacobian at every iteration."""
    system = _System(game, lam, lam, "literal")

    def augmented(x):
        p = system.evaluate(x[:-1], x[-1])
        return p, np.hstack([system.jacobian(p), system.jvp(p, None, ds=1.0)[0][:, None]])

    def newton_at_one(y):
        for _ in range(30):
            p = system.evaluate(y, 1.0)
            if np.abs(p.f).max() < 1e-13:
                return p.sig
            y = y - np.linalg.solve(system.jacobian(p), p.f)
        return None

    x = np.append(system.start(), 0.0)
    _, a = augmented(x)
    t = np.linalg.solve(np.vstack([a, np.eye(x.size)[-1]]), np.eye(x.size)[-1])
    t /= np.linalg.norm(t)
    h = 0.25
    while True:
        assert h > 1e-8, "reference tracer lost the path"
        if t[-1] > 0 and x[-1] + h * t[-1] >= 1.0:        # land on s = 1
            sig = newton_at_one(x[:-1] + (1.0 - x[-1]) / t[-1] * t[:-1])
            if sig is not None:
                return sig
            h /= 2
            continue
        x0 = x + h * t
        z, converged = x0.copy(), False
        for _ in range(15):
            p, a = augmented(z)
            f = np.append(p.f, t @ (z - x0))
            if np.abs(f).max() < 1e-11:
                converged = True
                break
            z = z - np.linalg.solve(np.vstack([a, t]), f)
        if not converged:
            h /= 2
            continue
        t_new = np.linalg.solve(np.vstack([a, t]), np.eye(x.size)[-1])
        x, t = z, t_new / np.linalg.norm(t_new)
        h = min(2 * h, 1.0)


@pytest.mark.parametrize(("game", "lam"), [
    (crawford_sobel(bias=1.2), 2.0),          # one fold on the way
    (forecast_sharing(step=10), 0.1),         # 21 states, folds near s = 1
], ids=["cs-fold", "forecast-step10"])
def test_literal_branch_matches_a_plain_dense_tracer(game, lam):
    sol = solve_aqre(game, lam, lam, "literal")
    np.testing.assert_allclose(sol.sender, reference_literal_branch(game, lam), atol=1e-8)
    # one factorisation per step (plus few): the corrector and the next tangent reuse it
    assert sol.factorisations <= 1.3 * sol.steps + 3


# ---------------------------------------------------------------------------- the model
def test_registry_names_and_defaults():
    model = get_model("aqre", branch="literal")
    assert isinstance(model, AQRE) and model.name == "aqre" and model.description
    assert model.parameter_names() == ("lambda",)
    assert default_precision(forecast_sharing()) == pytest.approx(0.11)
    assert 0.05 <= default_precision(crawford_sobel()) <= 1.0
    assert AQRE().default_params(binary_deception()) == {"lambda": 2.0}
    pred = AQRE().predict(crawford_sobel(), AQRE().default_params(crawford_sobel()))
    assert [t.name for t in pred.types] == ["AQRE"]
    assert pred.types[0].weight == 1.0
    assert repr(model) == "AQRE(roles='common', branch='literal')"


@pytest.mark.parametrize(("model", "params", "message"), [
    (AQRE(), {"lambda": -0.1}, "lambda must be a finite number >= 0"),
    (AQRE(), {"lambda": np.nan}, "NaN"),
    (AQRE(), {"lambda_s": 1.0}, "unknown parameter"),
    (AQRE(), {}, "missing parameter"),
    (AQRE(roles="per_role"), {"lambda_s": 1.0, "lambda_r": -2.0},
     "lambda_r must be a finite number >= 0"),
    (AQRE(roles="per_role"), {"lambda": 1.0}, "unknown parameter"),
])
def test_parameter_errors(model, params, message):
    with pytest.raises(ParameterError, match=message):
        model.predict(crawford_sobel(), params)


def test_bad_options():
    with pytest.raises(ValueError, match="roles"):
        AQRE(roles="both")
    with pytest.raises(ValueError, match="branch"):
        AQRE(branch="truthful")


@pytest.mark.parametrize("params", [{"lambda": 1.7e308}, {"lambda": 1e308}])
def test_overflowing_precision_is_a_parameter_error(params):
    """Finite but so large that precision times payoff overflows: refused, not a solver
    failure (it used to end in ConvergenceError)."""
    with pytest.raises(ParameterError, match="too large"):
        AQRE().predict(binary_deception(), params)
    AQRE().predict(binary_deception(), {"lambda": 1e300})   # large, yet finite everywhere


# ---- sizes are checked before memory is allocated (MAX_FLOATS)
def test_a_game_too_large_for_the_newton_blocks_is_refused_before_allocating():
    from helpers import peak_allocation

    # 1000 states and messages: 1000 inverses of 1000 x 1000 (8 GB); the game is 1000 x 9
    g = crawford_sobel(bias=0.5, states=range(1000), actions=range(9))
    words = ("aqre: the Newton blocks of a 1000x1000x9 game (1000 inverses of 1000x1000) "
             "needs 1e+09 numbers")
    for spec in ("aqre", "aqre[branch=literal]", "aqre[roles=per_role]"):
        model = get_model(spec)
        for method in (model.predict, model.predict_with_pullback):
            error, peak = peak_allocation(method, g, model.default_params(g))
            assert isinstance(error, ParameterError), (spec, error)
            assert str(error).startswith(words), error
            assert peak < 50e6
    error, _ = peak_allocation(solve_aqre, g, 0.3, 0.3)
    assert isinstance(error, ParameterError) and str(error).startswith(words), error
    # no sender precision: nothing is factorised, the sender is uniform
    sol = solve_aqre(g, 0.0, 0.3)
    assert np.allclose(sol.sender, 1.0 / 1000)


def test_bundled_games_are_far_below_the_newton_block_limit(monkeypatch):
    from cheaptalk.data import load_design
    from cheaptalk.models import _common
    from cheaptalk.numerics.continuation import check_aqre_size

    monkeypatch.setattr(_common, "MAX_FLOATS", _common.MAX_FLOATS // 8)
    for name in ("forecast_sharing", "crawford_sobel", "binary_deception"):
        for g in load_design(name).games.values():
            check_aqre_size(g, 1.0)   # forecast sharing: 202 x 201 x 201 numbers

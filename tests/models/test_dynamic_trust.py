"""dynamic_trust (SPEC §3.6): trust paths, likelihood, gradients, simulation, bad input.

Every number is checked against an independent computation written here: the trust
recursion run receiver by receiver in plain Python, central differences, ``trust``'s own
likelihood, and Monte Carlo.
"""

import numpy as np
import pandas as pd
import pytest

from cheaptalk.choice import logit
from cheaptalk.data.design import parse_design
from cheaptalk.data.interactions import validate_table
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.games import crawford_sobel, forecast_sharing
from cheaptalk.models import get_model
from cheaptalk.models.dynamic_trust import credibility_rate, trust_coefficients
from cheaptalk.models.history import build_history
from cheaptalk.simulation import Simulation
from helpers import assert_bad_input

DESIGN = """game = "forecast_sharing"
[treatments.LL]
forecast_low = 50
forecast_high = 250
step = 25
noise = 20
capacity_cost = 0.25
matching = "fixed"
rounds = 12
[treatments.HH]
forecast_low = 50
forecast_high = 250
step = 25
noise = 50
capacity_cost = 0.75
matching = "fixed"
rounds = 12
"""
TRUE = {"alpha_a": 3.0, "alpha_b": 2.0, "beta_mu": -1.5, "beta_sigma": 0.8,
        "lambda_s": 0.5, "lambda_r": 0.2, "eta": 0.35}


@pytest.fixture(scope="module")
def design():
    return parse_design(DESIGN)


@pytest.fixture(scope="module")
def data(design):
    df = Simulation(design, get_model("dynamic_trust"), TRUE, subjects_per_role=6).run(seed=3)
    return validate_table(df, design)


def _loop_path(alpha1, credible_in_round_order, update, rate):
    """Trust in each round, receiver by receiver, straight from SPEC §3.6."""
    out, a = [], alpha1
    for r, c in enumerate(credible_in_round_order, start=1):
        out.append(a)
        eta = rate if update == "adaptive" else 1.0 / (rate + r)
        a = a + eta * (c - a)
    return out


@pytest.mark.parametrize("update, rate", [("adaptive", 0.3), ("counting", 2.5)])
def test_coefficients_follow_the_update_rule(update, rate):
    rng = np.random.default_rng(0)
    unit = np.repeat([0, 1, 2], [5, 7, 3])
    rounds = np.concatenate([rng.permutation(5) + 1, rng.permutation(7) + 1,
                             rng.permutation(3) + 10])
    credible = rng.integers(0, 2, unit.size).astype(float)
    h = build_history(unit, rounds, credible)
    A, B, dA, dB = trust_coefficients(h, update, rate)
    for u in range(3):
        rows = np.flatnonzero(unit == u)
        rows = rows[np.argsort(rounds[rows])]
        for alpha1 in (0.0, 0.37, 1.0):
            path = _loop_path(alpha1, credible[rows], update, rate)
            np.testing.assert_allclose(A[rows] * alpha1 + B[rows], path, atol=1e-14)
            step = 1e-6
            up = _loop_path(alpha1, credible[rows], update, rate + step)
            down = _loop_path(alpha1, credible[rows], update, rate - step)
            np.testing.assert_allclose(alpha1 * dA[rows] + dB[rows],
                                       (np.array(up) - np.array(down)) / (2 * step),
                                       atol=1e-8)


def test_eta_zero_is_trust(data):
    static = {k: v for k, v in TRUE.items() if k != "eta"}
    dynamic = Likelihood(get_model("dynamic_trust"), data).evaluate({**static, "eta": 0.0})
    trust = Likelihood(get_model("trust"), data).evaluate(static)
    assert dynamic.loglik == pytest.approx(trust.loglik, abs=1e-8)
    for role in ("sender", "receiver"):
        np.testing.assert_allclose(dynamic.unit_loglik[role], trust.unit_loglik[role],
                                   atol=1e-10)


def test_receiver_probability_by_hand(design, data):
    """One receiver's log-likelihood at one α node, from the rule itself."""
    model = get_model("dynamic_trust")
    lk = Likelihood(model, data)
    ev = lk.evaluate(TRUE)
    who = lk.units["receiver"][0]
    rows = data.table.index[data.table["receiver"] == who]
    part = data.table.loc[rows].sort_values("round")
    game = design.game(part["treatment"].iloc[0])
    alpha, wa = model.nodes(model.check(TRUE), game)[:2]
    credible = game.credible(data.message[part.index], part["demand"].to_numpy())
    prior_values = game.prior_values()
    gain = game.receiver_values(game.literal) - prior_values
    log_joint = []
    for a1, w in zip(alpha, wa, strict=True):
        path = _loop_path(a1, credible, "adaptive", TRUE["eta"])
        logp = 0.0
        for a_r, i in zip(path, part.index, strict=True):
            rho = logit(prior_values + a_r * gain[data.message[i]], TRUE["lambda_r"])
            logp += np.log(0.999 * rho[data.action[i]] + 0.001 / game.n_actions)
        log_joint.append(np.log(w) + logp)
    expected = np.logaddexp.reduce(log_joint)
    assert ev.unit_loglik["receiver"][0] == pytest.approx(expected, abs=1e-9)


@pytest.mark.parametrize("spec, extra", [("dynamic_trust", {"eta": 0.35}),
                                         ("dynamic_trust[update=counting]", {"kappa": 3.0}),
                                         ("dynamic_trust[point_masses=true]",
                                          {"eta": 0.2, "alpha_p0": 0.1, "alpha_p1": 0.15,
                                           "beta_p0": 0.1})])
def test_exact_gradient_against_differences(data, spec, extra):
    model = get_model(spec)
    params = {**{k: v for k, v in TRUE.items() if k != "eta"}, **extra}
    lk = Likelihood(model, data)
    grad = lk.evaluate(params, gradient=True).gradient
    for name, value in params.items():
        h = 1e-6 * max(1.0, abs(value))
        up = lk.evaluate({**params, name: value + h}).loglik
        down = lk.evaluate({**params, name: value - h}).loglik
        assert grad[name] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-5), name


def test_rows_in_any_order(design, data):
    shuffled = validate_table(data.table.sample(frac=1.0, random_state=1), design)
    model = get_model("dynamic_trust")
    a = Likelihood(model, data).evaluate(TRUE, gradient=True)
    b = Likelihood(model, shuffled).evaluate(TRUE, gradient=True)
    assert a.loglik == pytest.approx(b.loglik, abs=1e-9)
    for k in TRUE:
        assert a.gradient[k] == pytest.approx(b.gradient[k], rel=1e-9, abs=1e-9)


def test_simulation_is_reproducible_and_trust_moves(design):
    model = get_model("dynamic_trust")
    sim = Simulation(design, model, {**TRUE, "eta": 0.5, "beta_mu": 3.0, "beta_sigma": 0.5},
                     subjects_per_role=8)
    a, b = sim.run(seed=9), sim.run(seed=9)
    pd.testing.assert_frame_equal(a, b)
    # Honest senders (lying cost e^3): trust rises, so capacity follows the report more
    # closely in late rounds than in the first.
    late = a[a["round"] > 8]
    first = a[a["round"] == 1]
    slope = {name: np.polyfit(part["message"], part["action"], 1)[0]
             for name, part in (("first", first), ("late", late))}
    assert slope["late"] > slope["first"] + 0.1


def test_credibility_rate_closed_form():
    g = forecast_sharing(step=10, noise=20)
    assert credibility_rate(g, np.eye(g.n_states)) == pytest.approx(1.0)
    inflate = np.zeros((g.n_states, g.n_messages))   # report t + 10 (the top stays)
    inflate[np.arange(g.n_states), np.minimum(np.arange(g.n_states) + 1, g.n_states - 1)] = 1
    top = 1 / g.n_states   # the top state reports itself
    assert credibility_rate(g, inflate) == pytest.approx((1 - top) * 0.75 + top)
    cs = crawford_sobel()
    shift = np.roll(np.eye(5), 1, axis=1)   # every state claims the next one up
    assert credibility_rate(cs, shift) == 0.0


@pytest.mark.parametrize("update, rate", [("adaptive", 0.3), ("counting", 2.0)])
def test_mean_trust_path_by_monte_carlo(update, rate):
    """Draw starting trust and credibility as the model says; average the loop."""
    game = forecast_sharing(step=25, noise=50)
    model = get_model(f"dynamic_trust[update={update}]")
    params = {**{k: v for k, v in TRUE.items() if k != "eta"}, model.rate_name: rate}
    path = model.trust_path(game, params, rounds=8)
    pred = model.predict(game, params)
    alpha, wa = model.nodes(model.check(params), game)[:2]
    rng = np.random.default_rng(5)
    n = 20_000
    a1 = rng.choice(alpha, size=n, p=wa / wa.sum())
    paths = np.empty((n, 8))
    sigma = pred.sender
    for i in range(n):
        t = rng.choice(game.n_states, size=8, p=game.prior)
        m = np.array([rng.choice(game.n_messages, p=sigma[x]) for x in t])
        y = game.draw_feedback(rng, t)
        paths[i] = _loop_path(a1[i], game.credible(m, y), update, rate)
    np.testing.assert_allclose(path["mean_trust"], paths.mean(axis=0), atol=0.01)


@pytest.fixture
def run():
    from typer.testing import CliRunner

    from cheaptalk.cli import app

    return lambda *args: CliRunner().invoke(app, [str(a) for a in args])


def test_bad_input_no_feedback_one_round(run, tmp_path, design, data):
    d = tmp_path / "d.toml"
    d.write_text(DESIGN)
    no_feedback = tmp_path / "no_demand.csv"
    data.table.drop(columns="demand").to_csv(no_feedback, index=False)
    r = run("fit", "--design", d, "--data", no_feedback, "--model", "dynamic_trust")
    assert_bad_input(r, "demand", "no_demand.csv")
    one_round = tmp_path / "one_round.csv"
    data.table[data.table["round"] == 1].to_csv(one_round, index=False)
    r = run("fit", "--design", d, "--data", one_round, "--model", "dynamic_trust")
    assert_bad_input(r, "more than one round", "one_round.csv")
    outside = tmp_path / "outside.csv"
    t = data.table.copy()
    t.loc[3, "demand"] = t.loc[3, "state"] + 75
    t.to_csv(outside, index=False)
    r = run("fit", "--design", d, "--data", outside, "--model", "dynamic_trust")
    assert_bad_input(r, "outside the noise band", "row 4", "demand")
    text = tmp_path / "text.csv"
    t = data.table.astype({"demand": object})
    t.loc[5, "demand"] = "high"
    t.to_csv(text, index=False)
    assert_bad_input(run("validate", "--design", d, "--data", text), "not a finite number",
                     "row 6")


def test_subject_weights_reach_the_history_path(data):
    """Bootstrap counts weight each subject: doubling every weight doubles the value and the
    gradient, history path included."""
    model = get_model("dynamic_trust")
    lk = Likelihood(model, data)
    once = lk.evaluate(TRUE, gradient=True)
    lk.subject_weights = np.full(lk.n_subjects, 2.0)
    twice = lk.evaluate(TRUE, gradient=True)
    assert twice.loglik == pytest.approx(2 * once.loglik, rel=1e-12)
    for k in TRUE:
        assert twice.gradient[k] == pytest.approx(2 * once.gradient[k], rel=1e-10)


def test_recover_runs_for_moving_trust(run, tmp_path):
    design, params = tmp_path / "d.toml", tmp_path / "p.json"
    design.write_text(DESIGN)
    params.write_text(__import__("json").dumps({"name": "dynamic_trust", "params": TRUE}))
    r = run("recover", "--design", design, "--model", "dynamic_trust", "--params", params,
            "--subjects", "4", "--rounds", "6", "--replications", "2", "--jobs", "1")
    assert r.exit_code == 0, r.output
    assert "eta" in r.output and "2 synthetic datasets" in r.output


# ---- sizes are checked before memory is allocated (MAX_FLOATS)
def test_node_counts_too_large_are_refused_before_allocating():
    from cheaptalk.models import ParameterError
    from helpers import peak_allocation

    g = crawford_sobel()
    model = get_model("dynamic_trust[n_alpha=100000000]")
    params = model.default_params(g)
    for method in (model.predict, model.predict_with_pullback):
        error, peak = peak_allocation(method, g, params)
        assert isinstance(error, ParameterError), error
        assert str(error).startswith("dynamic_trust: 100000000 trust nodes in a 5x5x9 game "
                                     "needs 1.7e+10 numbers"), error
        assert peak < 20e6
    error, _ = peak_allocation(model.trust_path, g, params, 5)
    assert isinstance(error, ParameterError) and "100000000 trust nodes" in str(error)


def test_history_tables_too_large_are_refused_before_allocating():
    from cheaptalk.models import ParameterError
    from helpers import peak_allocation

    g = crawford_sobel()
    model = get_model("dynamic_trust[n_alpha=500]")
    history = build_history([0, 0], [1, 2], [1.0, 0.0])
    rows = np.zeros(200_000, dtype=np.intp)   # 3 tables of 500 x 200000 numbers
    error, peak = peak_allocation(model.history_probabilities, g, model.default_params(g),
                                  "receiver", history, rows, rows, rows)
    assert isinstance(error, ParameterError), error
    assert str(error).startswith("dynamic_trust: 500 trust nodes x 200000 observed rows "
                                 "needs 3.1e+08 numbers"), error
    assert peak < 100e6  # the tables would be 2.4 GB

"""The value of being trusted: projections of a partner's trust under a reporting policy
(issue: decision support, deliverable 4). Checked against closed forms and an independent
computation from the model's round-1 prediction."""

import json

import numpy as np
import pytest

from cheaptalk.advice import parse_policy, project_trust
from cheaptalk.choice import tremble
from cheaptalk.data import InputError, load_design
from cheaptalk.games import forecast_sharing
from cheaptalk.models import get_model
from helpers import assert_bad_input

PARAMS = {"alpha_a": 2.0, "alpha_b": 3.0, "beta_mu": -1.0, "beta_sigma": 0.8,
          "lambda_s": 0.5, "lambda_r": 0.2, "eta": 0.3}


def test_truthful_reports_are_always_credible_closed_form():
    """Truthful reports pass every feedback check, so trust follows
    1 - (1 - eta)^(r-1) (1 - alpha_1) exactly, partner by partner and on average."""
    p = project_trust("forecast_sharing", "dynamic_trust", PARAMS, "HH", "truthful", 8,
                      replications=300, seed=4)
    path = p.paths
    assert list(path["policy"].unique()) == ["truthful"]
    m1 = path["mean_trust"].iloc[0]
    expected = 1 - (1 - PARAMS["eta"]) ** np.arange(8) * (1 - m1)
    np.testing.assert_allclose(path["mean_trust"], expected, atol=1e-12)
    # round-1 trust is drawn from the fitted Beta population (quadrature weights)
    model = get_model("dynamic_trust")
    alpha, w = model.nodes(model.check(PARAMS), forecast_sharing())[:2]
    assert m1 == pytest.approx(float(alpha @ w / w.sum()), abs=0.05)


def test_inflating_reports_pull_trust_toward_their_credibility():
    """Crawford–Sobel reveals the state (e = 0): reporting t + 2 is credible only at the top
    state (reported as itself), with chance 1/5, so E[alpha_r] = c + (1 - eta)^(r-1) (m1 - c)."""
    p = project_trust("crawford_sobel", "dynamic_trust", PARAMS, "d20", "inflate:2", 10,
                      replications=4000, seed=1)
    inflated = p.paths[p.paths["policy"] == "inflate:2"]
    c = 1 / 5
    m1 = inflated["mean_trust"].iloc[0]
    expected = c + (1 - PARAMS["eta"]) ** np.arange(10) * (m1 - c)
    np.testing.assert_allclose(inflated["mean_trust"], expected, atol=0.02)
    truthful = p.paths[p.paths["policy"] == "truthful"]
    assert truthful["mean_trust"].iloc[-1] > 0.95
    # common random numbers: the same first-round trust under both policies
    assert truthful["mean_trust"].iloc[0] == m1
    assert p.total() - p.total("truthful") == pytest.approx(
        inflated["cumulative_payoff"].iloc[-1] - truthful["cumulative_payoff"].iloc[-1])


@pytest.mark.parametrize("policy", ["truthful", "inflate:50"])
def test_first_round_earnings_match_the_prediction(policy):
    """Round 1: every partner plays its round-1 strategy, so the sender's expected payoff is
    sum_t p[t] sum_k w_k sum_a rho~_k[m(t), a] u_S[t, a], from the model's prediction."""
    design = load_design("forecast_sharing")
    game = design.game("LL")
    model = get_model("dynamic_trust")
    params = model.check(PARAMS)
    pred = model.predict(game, params)
    w, rho, _ = pred.role_types("receiver")
    report = parse_policy(policy).reports(game)
    expected_action_value = np.einsum("k,kta,ta->t", w,
                                      tremble(rho, 1e-3)[:, report, :], game.sender_payoff)
    expected = float(game.prior @ expected_action_value)
    p = project_trust(design, model, params, "LL", policy, 1, replications=3000, seed=2)
    first = p.paths[p.paths["policy"] == p.policy].iloc[0]
    half_width = first["payoff_hi"] - first["mean_payoff"]
    assert abs(first["mean_payoff"] - expected) < 2.0 * half_width


def test_policy_text_and_models():
    assert parse_policy(" Inflate:12.5 ").inflation == 12.5
    for bad in ("lie", "inflate:", "inflate:abc", "inflate:inf"):
        with pytest.raises(InputError):
            parse_policy(bad)
    with pytest.raises(InputError, match="receivers learn"):
        project_trust("crawford_sobel", "trust", None, "d20", "truthful", 3)


@pytest.fixture
def run():
    from typer.testing import CliRunner

    from cheaptalk.cli import app

    return lambda *args: CliRunner().invoke(app, [str(a) for a in args])


def test_cli_projection(run, tmp_path):
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"name": "dynamic_trust", "params": PARAMS}))
    out = tmp_path / "projection.json"
    r = run("advise", "--design", "crawford_sobel", "--model", "dynamic_trust", "--params",
            params, "--treatment", "d20", "--role", "sender", "--policy", "inflate:2",
            "--rounds", "6", "--replications", "200", "--json", out,
            "--report-dir", tmp_path / "fig")
    assert r.exit_code == 0, r.output
    assert "inflate:2 earns" in r.output and "mean trust goes from" in r.output
    doc = json.loads(out.read_text())
    assert doc["policy"] == "inflate:2" and doc["rounds"] == 6
    assert set(doc["paths"]["policy"]) == {"inflate:2", "truthful"}
    assert (tmp_path / "fig" / "advice.png").exists()
    assert_bad_input(run("advise", "--design", "crawford_sobel", "--model", "trust",
                         "--treatment", "d20", "--role", "sender", "--policy", "truthful"),
                     "receivers learn")
    assert_bad_input(run("advise", "--design", "crawford_sobel", "--model", "dynamic_trust",
                         "--treatment", "d20", "--role", "sender", "--policy", "sometimes"),
                     "--policy 'sometimes'")
    assert_bad_input(run("advise", "--design", "crawford_sobel", "--model", "dynamic_trust",
                         "--treatment", "d20", "--report", "5", "--policy", "truthful"),
                     "--role sender")

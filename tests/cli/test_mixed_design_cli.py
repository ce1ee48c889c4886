"""Designs mixing treatments where ``equilibrium`` babbles (Crawford–Sobel bias 3) with
treatments where it separates (bias 1) work in every command (SPEC §3.5); a parameter no
treatment identifies is reported as such; extreme parameter values give finite strategies
or one clear error."""

import json

import numpy as np
import pytest

from helpers import assert_bad_input

TREATMENT = """
[treatments.{name}]
states = [1, 3, 5, 7, 9]
actions = [1, 2, 3, 4, 5, 6, 7, 8, 9]
bias = {bias}
"""


def write_design(path, **biases):
    path.write_text('game = "crawford_sobel"\n' + "".join(
        TREATMENT.format(name=n, bias=b) for n, b in biases.items()))
    return path


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    from typer.testing import CliRunner

    from cheaptalk.cli import app

    folder = tmp_path_factory.mktemp("mixed")
    design = write_design(folder / "mixed.toml", sep=1, babble=3)
    params = folder / "p.json"
    params.write_text(json.dumps({"lambda_s": 0.05, "lambda_r": 0.4}))
    data = folder / "sim.csv"
    r = CliRunner().invoke(app, ["simulate", "--design", str(design), "--model", "equilibrium",
                                 "--params", str(params), "--subjects", "6", "--rounds", "12",
                                 "--seed", "2", "--out", str(data)])
    assert r.exit_code == 0, r.output
    return design, params, data


@pytest.mark.parametrize("given", [True, False])
def test_predict_in_both_treatments(run, tmp_path, mixed, given):
    design, params, _ = mixed
    senders = {}
    for treatment in ("sep", "babble"):
        out = tmp_path / f"{treatment}.json"
        extra = ("--params", params) if given else ()
        r = run("predict", "--design", design, "--model", "equilibrium", "--treatment",
                treatment, *extra, "--json", out)
        assert r.exit_code == 0, r.output
        doc = json.loads(out.read_text())
        assert set(doc["params"]) == {"lambda_s", "lambda_r"}
        senders[treatment] = np.array(doc["population"]["sender"])
    np.testing.assert_allclose(senders["babble"], 0.2)          # babbling: uniform
    assert np.ptp(senders["sep"]) > 0.1


def test_fit_mixed_design(run, tmp_path, mixed):
    design, _, data = mixed
    out = tmp_path / "fit.json"
    r = run("fit", "--design", design, "--data", data, "--model", "equilibrium",
            "--starts", "1", "--json", out)
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert doc["not_identified"] == [] and doc["n_params"] == 2
    assert set(doc["loglik_by_treatment"]) == {"sep", "babble"}
    # the fit feeds back into simulate and predict on the same mixed design
    r = run("predict", "--design", design, "--model", "equilibrium", "--treatment", "babble",
            "--params", out)
    assert r.exit_code == 0, r.output


def test_compare_and_report_mixed_design(run, tmp_path, mixed):
    design, _, data = mixed
    out = tmp_path / "cmp.json"
    r = run("compare", "--design", design, "--data", data, "--models", "equilibrium,levelk",
            "--folds", "2", "--starts", "1", "--json", out)
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    eq = next(m for m in doc["models"] if m["name"] == "equilibrium")
    assert eq["not_identified"] == [] and eq["n_params"] == 2
    assert set(eq["loto_loglik_per_decision"]) == {"sep", "babble"}
    r = run("report", "--comparison", out, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output


def test_babbling_only_data_reports_lambda_s_not_identified(run, tmp_path, mixed):
    _, params, _ = mixed
    design = write_design(tmp_path / "babble.toml", babble=3, more=4)
    data = tmp_path / "sim.csv"
    r = run("simulate", "--design", design, "--model", "equilibrium", "--params", params,
            "--subjects", "4", "--rounds", "8", "--out", data)
    assert r.exit_code == 0, r.output
    out = tmp_path / "fit.json"
    r = run("fit", "--design", design, "--data", data, "--model", "equilibrium",
            "--starts", "1", "--json", out)
    assert r.exit_code == 0, r.output
    assert "not identified" in r.output and "Free parameters: 1" in r.output
    doc = json.loads(out.read_text())
    assert doc["not_identified"] == ["lambda_s"] and doc["n_params"] == 1
    assert doc["se"]["lambda_s"] is None and doc["se"]["lambda_r"] is not None
    assert doc["aic"] == pytest.approx(2 * 1 - 2 * doc["loglik"])
    cmp = tmp_path / "cmp.json"
    r = run("compare", "--design", design, "--data", data, "--models", "equilibrium",
            "--folds", "0", "--starts", "1", "--json", cmp)
    assert r.exit_code == 0, r.output
    assert json.loads(cmp.read_text())["models"][0]["not_identified"] == ["lambda_s"]
    r = run("report", "--comparison", cmp, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output


def test_one_informative_sender_warns_about_the_sandwich(run, tmp_path, mixed):
    design, params, _ = mixed
    data = tmp_path / "one.csv"
    r = run("simulate", "--design", design, "--model", "equilibrium", "--params", params,
            "--subjects", "1", "--rounds", "20", "--out", data)
    assert r.exit_code == 0, r.output
    out = tmp_path / "fit.json"
    r = run("fit", "--design", design, "--data", data, "--model", "equilibrium",
            "--starts", "1", "--json", out)
    assert r.exit_code == 0, r.output
    assert "at least two subjects" in r.output
    doc = json.loads(out.read_text())
    # one sender per treatment, and only the separating one's sender depends on lambda_s;
    # both treatments' receivers depend on lambda_r
    assert doc["se"]["lambda_s"] is None and doc["se"]["lambda_r"] is not None
    assert all(v is not None for v in doc["se_hessian"].values())


# ------------------------------------------------------------ extreme parameter values
@pytest.mark.parametrize("change", [{"beta_sigma": 1e-300}, {"beta_sigma": 5e-324},
                                    {"beta_mu": 1e300}, {"beta_mu": -1e300},
                                    {"alpha_a": 1e-300, "alpha_b": 1e300}])
def test_extreme_trust_parameters_give_finite_strategies(run, tmp_path, change):
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"alpha_a": 2.0, "alpha_b": 2.0, "beta_mu": 0.0,
                                  "beta_sigma": 1.0, "lambda_s": 0.5, "lambda_r": 0.2,
                                  **change}))
    out = tmp_path / "pred.json"
    r = run("predict", "--design", "crawford_sobel", "--model", "trust", "--params", params,
            "--json", out)
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    for role in ("sender", "receiver"):
        pop = np.array(doc["population"][role])
        assert np.all(np.isfinite(pop)) and np.allclose(pop.sum(axis=1), 1.0)
    assert np.isfinite([ty["weight"] for ty in doc["types"]]).all()


def test_overflowing_aqre_precision_is_refused(run, tmp_path):
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"lambda": 1.7e308}))
    assert_bad_input(run("predict", "--design", "binary_deception", "--model", "aqre",
                         "--params", params), "too large")

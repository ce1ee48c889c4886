import json

import pytest

from helpers import assert_bad_input, simulated_csv

SPEC_MODEL_KEYS = {"name", "loglik", "n_params", "aic", "bic", "params", "se",
                   "loglik_by_role", "loglik_by_treatment", "cv_loglik_per_decision"}


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return simulated_csv(tmp_path_factory.mktemp("d") / "sim.csv", 8, 15, 4)


def test_fit_prints_summary_and_writes_json(run, tmp_path, data):
    out = tmp_path / "fit.json"
    r = run("fit", "--design", "crawford_sobel", "--data", data, "--model", "levelk",
            "--json", out, "--starts", "1")
    assert r.exit_code == 0, r.output
    assert "Log-likelihood" in r.output and "lambda_s" in r.output
    doc = json.loads(out.read_text())
    assert doc["name"] == "levelk" and doc["converged"] is True
    assert set(doc["params"]) == {"p0", "p1", "p2", "p3", "lambda_s", "lambda_r"}
    # the fit JSON feeds back into simulate
    again = tmp_path / "again.csv"
    r = run("simulate", "--design", "crawford_sobel", "--model", "levelk", "--params", out,
            "--out", again, "--subjects", "2", "--rounds", "2")
    assert r.exit_code == 0, r.output


def test_compare_json_has_every_spec_key(run, tmp_path, data):
    out = tmp_path / "cmp.json"
    r = run("compare", "--design", "crawford_sobel", "--data", data, "--models",
            "levelk,trust", "--folds", "2", "--json", out, "--starts", "1",
            "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert {"models", "vuong", "best_bic", "n_decisions", "n_subjects"} <= set(doc)
    for m in doc["models"]:
        assert SPEC_MODEL_KEYS <= set(m)
    assert {"a", "b", "z", "p"} <= set(doc["vuong"][0])
    assert doc["best_bic"] == "levelk"  # the data come from level-k
    assert (tmp_path / "rep" / "comparison.csv").exists()


def test_compare_bad_model_list(run, tmp_path, data):
    assert_bad_input(run("compare", "--design", "crawford_sobel", "--data", data, "--models",
                         "levelk,trsut", "--json", tmp_path / "x.json"), "unknown model 'trsut'")
    assert not (tmp_path / "x.json").exists()


def test_fit_bad_data(run, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("treatment,round,sender,receiver,state,message\nd05,1,a,b,1,1\n")
    assert_bad_input(run("fit", "--design", "crawford_sobel", "--data", bad, "--model",
                         "trust"), "missing required column 'action'")


def test_estimated_tremble_flows_through_fit_simulate_compare_report(run, tmp_path, data):
    fit = tmp_path / "fit.json"
    r = run("fit", "--design", "crawford_sobel", "--data", data, "--model", "levelk",
            "--estimate-epsilon", "--starts", "1", "--json", fit)
    assert r.exit_code == 0, r.output
    assert "(estimated)" in r.output and "epsilon" in json.loads(fit.read_text())["params"]
    # a fit JSON with an estimated tremble simulates with that tremble
    sim = tmp_path / "sim.csv"
    r = run("simulate", "--design", "crawford_sobel", "--model", "levelk", "--params", fit,
            "--out", sim, "--subjects", "2", "--rounds", "2")
    assert r.exit_code == 0, r.output
    out = tmp_path / "cmp.json"
    r = run("compare", "--design", "crawford_sobel", "--data", data, "--models", "levelk",
            "--folds", "0", "--starts", "1", "--estimate-epsilon", "--json", out)
    assert r.exit_code == 0, r.output
    r = run("report", "--comparison", out, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    bad = tmp_path / "bad.json"
    doc = json.loads(fit.read_text())
    doc["params"]["epsilon"] = 2
    bad.write_text(json.dumps(doc))
    assert_bad_input(run("simulate", "--design", "crawford_sobel", "--model", "levelk",
                         "--params", bad, "--out", tmp_path / "x.csv"),
                     "bad.json", "epsilon must be a number in [0, 1]")


def test_model_options_on_fit_and_compare(run, tmp_path, data):
    out = tmp_path / "fit.json"
    r = run("fit", "--design", "crawford_sobel", "--data", data, "--model", "trust",
            "--option", "lie_cost=quadratic", "--option", "n_beta=81", "--starts", "1",
            "--intervals", "wald", "--json", out)
    assert r.exit_code == 0, r.output
    assert json.loads(out.read_text())["options"]["lie_cost"] == "quadratic"
    assert "n_beta = 81" in r.output
    cmp = tmp_path / "cmp.json"
    r = run("compare", "--design", "crawford_sobel", "--data", data, "--models", "levelk,ch",
            "--option", "levels=2", "--option", "levelk.shares=per_role", "--folds", "0",
            "--starts", "1", "--intervals", "wald", "--json", cmp)
    assert r.exit_code == 0, r.output
    assert "no cross-validation" in r.output
    opts = {m["name"]: m["options"] for m in json.loads(cmp.read_text())["models"]}
    assert opts["levelk"]["levels"] == 2 and opts["ch"]["levels"] == 2
    assert opts["levelk"]["shares"] == "per_role"
    # the saved options come back when the report is rebuilt
    r = run("report", "--comparison", cmp, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output


@pytest.mark.parametrize("option, message", [
    ("lie_cots=quadratic", "no model here takes option 'lie_cots'"),
    ("lie_cost=cubic", "invalid model options for trust"),
    ("levelk.levels=2", "model 'levelk' is not among trust"),
    ("lie_cost", "expected NAME=VALUE"),
])
def test_bad_model_options(run, data, option, message):
    assert_bad_input(run("fit", "--design", "crawford_sobel", "--data", data, "--model",
                         "trust", "--option", option), message)


def test_compare_variants_and_rebuild(run, tmp_path, data):
    out = tmp_path / "cmp.json"
    r = run("compare", "--design", "crawford_sobel", "--data", data, "--models",
            "levelk,levelk[levels=2,shares=per_role]", "--folds", "0", "--starts", "1",
            "--intervals", "wald", "--json", out, "--report", tmp_path / "rep")
    assert r.exit_code == 0, r.output
    assert "levelk[levels=2,shares=per_role]" in r.output
    labels = [m["label"] for m in json.loads(out.read_text())["models"]]
    assert labels == ["levelk", "levelk[levels=2,shares=per_role]"]
    r = run("report", "--comparison", out, "--report", tmp_path / "again")
    assert r.exit_code == 0, r.output
    assert (tmp_path / "again" / "summary.txt").read_text() == (
        tmp_path / "rep" / "summary.txt").read_text()


@pytest.mark.parametrize("models, message", [
    ("trust,trust[lie_cost=linear]", "model 'trust' is listed twice"),
    ("trust[lie_cost=quadratic", "expected NAME[OPTION=VALUE,...]"),
    ("trust[lie_cost]", "expected OPTION=VALUE"),
    ("trsut[lie_cost=quadratic]", "unknown model 'trsut'"),
    ("trust[lie_kost=quadratic]", "no option 'lie_kost'; options of trust: lie_cost"),
])
def test_bad_model_variants(run, tmp_path, data, models, message):
    assert_bad_input(run("compare", "--design", "crawford_sobel", "--data", data, "--models",
                         models, "--json", tmp_path / "x.json"), message)
    assert not (tmp_path / "x.json").exists()


def test_one_model_commands_take_a_variant(run, tmp_path, data):
    assert_bad_input(run("fit", "--design", "crawford_sobel", "--data", data, "--model",
                         "trust,levelk"), "name one model")
    out = tmp_path / "sim.csv"
    r = run("simulate", "--design", "crawford_sobel", "--model", "levelk[levels=1]",
            "--params", _params_file(tmp_path, {"p0": 0.5, "p1": 0.5, "lambda_s": 1.0,
                                                "lambda_r": 1.0}),
            "--out", out, "--subjects", "2", "--rounds", "2")
    assert r.exit_code == 0, r.output
    r = run("fit", "--design", "crawford_sobel", "--data", data, "--model",
            "levelk[levels=1]", "--starts", "1")
    assert r.exit_code == 0 and "Model: levelk[levels=1]" in r.output, r.output


def _params_file(folder, params):
    p = folder / "params.json"
    p.write_text(json.dumps(params))
    return p

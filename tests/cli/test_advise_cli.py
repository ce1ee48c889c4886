"""``cheaptalk advise`` (SPEC §4.2, §6): the command prints and writes what the Python API
computes, and every bad input is one ``error:`` line with exit status 2."""

from __future__ import annotations

import json

import pytest

from cheaptalk.advice import advise, advise_sender
from cheaptalk.models import get_model
from helpers import assert_bad_input

LEVELK = {"p0": 0.4, "p1": 0.3, "p2": 0.2, "p3": 0.1, "lambda_s": 0.5, "lambda_r": 0.3}


@pytest.fixture
def history(tmp_path):
    path = tmp_path / "partner.csv"
    path.write_text("round,message,state\n1,9,5\n2,7,7\n3,9,7\n")
    return path


@pytest.fixture
def params(tmp_path):
    path = tmp_path / "levelk.json"
    path.write_text(json.dumps(LEVELK))
    return path


def _args(params, *extra):
    return ("advise", "--design", "crawford_sobel", "--model", "levelk", "--treatment",
            "d12", "--params", params, *extra)


def test_receiver_advice_json_matches_the_api(run, tmp_path, history, params):
    out = tmp_path / "advice.json"
    result = run(*_args(params, "--history", history, "--report", "9", "--json", out))
    assert result.exit_code == 0, result.output
    expected = advise("crawford_sobel", "levelk", LEVELK, "d12", history, 9)
    doc = json.loads(out.read_text())
    assert doc["action"] == expected.action
    assert doc["expected_payoff"] == pytest.approx(expected.expected_payoff)
    assert doc["rounds"] == 3 and doc["report"] == 9.0
    assert doc["face_value_action"] == 9.0 and doc["ignore_action"] == 5.0
    assert doc["posterior"]["families"] == pytest.approx(expected.posterior.family_weights())
    assert doc["state_posterior"]["q50"] == expected.state_posterior.quantile(0.5)
    assert len(doc["response"]["action"]) == 5
    assert f"Recommended action: {expected.action:.0f}" in result.output
    assert "after 3 rounds" in result.output


def test_fit_json_brings_its_tremble(run, tmp_path, history):
    fit = tmp_path / "fit.json"
    fit.write_text(json.dumps({"name": "levelk", "options": {},
                               "params": {**LEVELK, "epsilon": 0.2}}))
    out = tmp_path / "advice.json"
    result = run(*_args(fit, "--history", history, "--report", "9", "--json", out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    assert doc["epsilon"] == 0.2
    expected = advise("crawford_sobel", "levelk", LEVELK, "d12", history, 9, epsilon=0.2)
    assert doc["expected_payoff"] == pytest.approx(expected.expected_payoff)


def test_figure_and_sender_side(run, tmp_path, params):
    folder = tmp_path / "figure"
    result = run(*_args(params, "--report", "5", "--report-dir", folder))
    assert result.exit_code == 0, result.output
    assert (folder / "advice.png").stat().st_size > 1000
    assert (folder / "advice.svg").exists()
    out = tmp_path / "sender.json"
    result = run(*_args(params, "--role", "sender", "--state", "3", "--json", out))
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text())
    expected = advise_sender("crawford_sobel", "levelk", LEVELK, "d12", 3)
    assert doc["best_report"] == expected.best_report
    assert doc["cost_of_truth"] == pytest.approx(expected.cost_of_truth)
    assert doc["truthful_report"] == 3.0
    assert "Cost of telling the truth" in result.output


def test_forecast_sharing_reads_demand(run, tmp_path):
    record = tmp_path / "h.csv"
    record.write_text("message,demand\n100,96.5\n150,151.25\n")
    result = run("advise", "-d", "forecast_sharing", "-m", "levelk", "-t", "LL", "--history",
                 record, "--report", "200")
    assert result.exit_code == 0, result.output
    assert "Recommended capacity" in result.output
    assert "2 rounds of this manufacturer's record" in result.output


@pytest.mark.parametrize(("content", "fragments"), [
    ("message,state\n9,5\n4,5\n", ["row 2 (line 3)", "column 'message'", "not on the grid"]),
    ("message,state\n11,5\n", ["row 1 (line 2)", "column 'message'", "outside the range"]),
    ("message\n9\n", ["column 'state'", "missing column 'state'"]),
    ("message,state\n9,five\n", ["row 1 (line 2)", "column 'state'", "not a number: 'five'"]),
    ("message,state\n9,\n", ["row 1 (line 2)", "column 'state'", "missing value"]),
    ("message,state\n9,4\n", ["row 1 (line 2)", "column 'state'", "cannot be feedback"]),
    ("", ["the file is empty"]),
])
def test_bad_history(run, tmp_path, params, content, fragments):
    record = tmp_path / "h.csv"
    record.write_text(content)
    result = run(*_args(params, "--history", record, "--report", "9"))
    assert_bad_input(result, str(record), *fragments)
    assert record.read_text() == content


def test_bad_demand_in_forecast_sharing(run, tmp_path):
    record = tmp_path / "h.csv"
    record.write_text("message,forecast\n100,96.5\n")
    assert_bad_input(run("advise", "-d", "forecast_sharing", "-m", "levelk", "--history",
                         record, "--report", "200"), "missing column 'demand'")
    record.write_text("message,demand\n100,96.5\n250,300\n")
    assert_bad_input(run("advise", "-d", "forecast_sharing", "-m", "levelk", "--history",
                         record, "--report", "200"), "row 2", "column 'demand'",
                     "demand 300 cannot be feedback")


@pytest.mark.parametrize(("extra", "fragments"), [
    (("--report", "10"), ["--report 10 is outside the range of reports [1, 9]"]),
    (("--report", "4"), ["--report 4 is not on the grid of reports (nearest: 3)"]),
    (("--report", "abc"), ["--report"]),
    ((), ["needs --report"]),
    (("--role", "sender"), ["needs --state"]),
    (("--role", "sender", "--state", "4"), ["--state 4 is not on the grid of states (nearest: 3)"]),
    (("--role", "sender", "--state", "3", "--report", "5"), ["--role receiver"]),
    (("--report", "5", "--state", "3"), ["--state is for --role sender"]),
    (("--role", "boss", "--report", "5"), ["--role 'boss'"]),
    (("--report", "5", "--treatment", "zz"), ["treatment 'zz' is not in the design"]),
])
def test_bad_options(run, params, extra, fragments):
    args = list(_args(params, *extra))
    if "--treatment" in extra:
        i = args.index("d12")
        del args[i - 1:i + 1]
    assert_bad_input(run(*args), *fragments)


def test_parameters_for_another_model(run, tmp_path, history):
    fit = tmp_path / "fit.json"
    fit.write_text(json.dumps({"name": "levelk", "options": {}, "params": LEVELK}))
    assert_bad_input(run("advise", "-d", "crawford_sobel", "-m", "trust", "-p", fit,
                         "--report", "9"), str(fit), "is a fit of model 'levelk'")
    plain = tmp_path / "p.json"
    plain.write_text(json.dumps(LEVELK))
    assert_bad_input(run("advise", "-d", "crawford_sobel", "-m", "trust", "-p", plain,
                         "--report", "9"), str(plain), "trust: unknown parameter(s)")


def test_outputs_are_not_overwritten(run, tmp_path, params):
    out = tmp_path / "advice.json"
    out.write_text("mine")
    assert_bad_input(run(*_args(params, "--report", "9", "--json", out)), "--force")
    assert out.read_text() == "mine"
    assert run(*_args(params, "--report", "9", "--json", out, "--force")).exit_code == 0
    assert json.loads(out.read_text())["report"] == 9.0


@pytest.mark.parametrize("model_name", ["equilibrium", "aqre", "ch", "trust", "combination"])
def test_every_model_runs(run, history, model_name):
    model = get_model(model_name)
    assert model.name == model_name
    result = run("advise", "-d", "crawford_sobel", "-m", model_name, "-t", "d05",
                 "--history", history, "--report", "7")
    assert result.exit_code == 0, result.output
    expected = advise("crawford_sobel", model_name, None, "d05", history, 7)
    assert f"Recommended action: {expected.action:.0f}" in result.output


def test_binary_deception(run, tmp_path):
    record = tmp_path / "h.csv"
    record.write_text("message,state\n1,0\n1,0\n0,0\n")
    result = run("advise", "-d", "binary_deception", "-m", "trust", "--history", record,
                 "--report", "1")
    assert result.exit_code == 0, result.output
    assert "Recommended action" in result.output


def test_history_through_a_column_map(run, tmp_path):
    """--columns names the history file's own columns; errors name the file's column."""
    plain, renamed = tmp_path / "plain.csv", tmp_path / "renamed.csv"
    plain.write_text("message,demand\n150,130.5\n200,160\n")
    renamed.write_text("round,report,realised\n1,150,130.5\n2,200,160\n")
    base = ("advise", "--design", "forecast_sharing", "--model", "levelk", "--treatment",
            "LL", "--report", "200")
    a = run(*base, "--history", plain)
    b = run(*base, "--history", renamed, "--columns", "message=report,demand=realised")
    assert a.exit_code == 0 and b.exit_code == 0, a.output + b.output
    assert a.output.splitlines()[1:] == b.output.splitlines()[1:]
    bad = tmp_path / "bad.csv"
    bad.write_text("report,realised\n150,130.5\n2000,160\n")
    r = run(*base, "--history", bad, "--columns", "message=report,demand=realised")
    assert r.exit_code == 2 and "column 'report'" in r.output and "row 2" in r.output

"""``--intervals`` and ``--bootstrap`` on the command line: the JSON and the summary say which
interval each estimate has, and shares keep their intervals inside [0, 1]."""

import json

import pytest

from helpers import assert_bad_input, simulated_csv


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    return simulated_csv(tmp_path_factory.mktemp("d") / "sim.csv", 6, 10, 4)


def test_fit_with_profile_intervals_labels_them(run, tmp_path, data):
    out = tmp_path / "fit.json"
    r = run("fit", "--design", "crawford_sobel", "--data", data, "--model", "levelk",
            "--json", out, "--starts", "1", "--intervals", "profile", "--bootstrap", "3")
    assert r.exit_code == 0, r.output
    assert "profile" in r.output and "Bootstrap percentile 95% CI" in r.output
    doc = json.loads(out.read_text())["intervals"]
    assert doc["level"] == 0.95 and "CR1" in doc["se"]
    reported = doc["reported"]
    assert set(reported) == {"p0", "p1", "p2", "p3", "lambda_s", "lambda_r"}
    for name, row in reported.items():
        assert row["method"] in ("profile", "profile-one-sided"), (name, row)
        lower = row["lower"] if row["lower"] is not None else 0.0
        upper = row["upper"] if row["upper"] is not None else float("inf")
        assert 0.0 <= lower <= upper, (name, row)
        if name.startswith("p"):
            assert upper <= 1.0, (name, row)
    assert set(doc["bootstrap"]) >= {"p1", "lambda_s"}
    assert {"profile", "bootstrap", "wald"} <= set(doc["methods"])
    # the transformed Wald interval of every share stays in [0, 1] as well
    for name in ("p0", "p1", "p2", "p3"):
        w = doc["wald"][name]
        assert 0.0 <= w["lower"] <= w["upper"] <= 1.0


def test_bad_intervals_choice_is_one_error_line(run, tmp_path, data):
    assert_bad_input(run("fit", "--design", "crawford_sobel", "--data", data, "--model",
                         "levelk", "--intervals", "bayes"), "--intervals", "bayes")
    assert_bad_input(run("compare", "--design", "crawford_sobel", "--data", data, "--json",
                         tmp_path / "c.json", "--intervals", "nope"), "--intervals")
    assert not (tmp_path / "c.json").exists()


def test_recover_reports_coverage_by_interval_type(run, tmp_path):
    out = tmp_path / "rec.json"
    r = run("recover", "--design", "crawford_sobel", "--model", "equilibrium", "--subjects",
            "3", "--rounds", "6", "--replications", "2", "--jobs", "1", "--intervals",
            "profile", "--json", out)
    assert r.exit_code == 0, r.output
    assert "coverage_profile" in r.output and "at_bound" in r.output
    doc = json.loads(out.read_text())
    for row in doc["summary"]:
        assert {"coverage", "coverage_wald", "coverage_profile", "n_profile",
                "at_bound"} <= set(row)
        assert row["n_profile"] == 2 and 0.0 <= row["coverage_profile"] <= 1.0
    assert_bad_input(run("recover", "--design", "crawford_sobel", "--model", "equilibrium",
                         "--intervals", "all"), "--intervals")

import json

import pytest

from helpers import assert_bad_input


def test_recover_reports_bias_rmse_coverage(run, tmp_path):
    out = tmp_path / "rec.json"
    r = run("recover", "--design", "crawford_sobel", "--model", "levelk", "--subjects", 6,
            "--rounds", 10, "--replications", 3, "--jobs", 1, "--json", out)
    assert r.exit_code == 0, r.output
    assert "bias" in r.output and "coverage" in r.output
    doc = json.loads(out.read_text())
    names = {row["parameter"] for row in doc["summary"]}
    assert names == {"p0", "p1", "p2", "p3", "lambda_s", "lambda_r"}
    assert len(doc["draws"]) == 3


def test_power_counts_winners(run, tmp_path):
    out = tmp_path / "pow.json"
    r = run("power", "--design", "crawford_sobel", "--models", "levelk,trust", "--subjects",
            6, "--rounds", 10, "--replications", 2, "--jobs", 2, "--json", out)
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    assert set(doc["shares"]) == {"levelk", "trust"}
    for row in doc["shares"].values():
        assert abs(sum(row.values()) - 1) < 1e-9
    assert len(doc["draws"]) == 4


@pytest.mark.parametrize("flags, fragment", [
    (["--workers", "2", "--scheduler", "tcp://127.0.0.1:8786"], "give one of them"),
    (["--jobs", "2", "--workers", "2"], "--jobs sets the local process pool"),
    (["--workers", "0"], "--workers"),
])
def test_cluster_options_that_conflict_are_one_error_line(run, flags, fragment):
    r = run("recover", "--design", "crawford_sobel", "--model", "levelk", *flags)
    assert_bad_input(r, fragment)


def test_fit_cluster_options_need_a_bootstrap(run):
    r = run("fit", "--design", "crawford_sobel", "--data", "x.csv", "--model", "levelk",
            "--workers", "2")
    assert_bad_input(r, "--bootstrap")

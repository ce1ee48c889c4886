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


@pytest.fixture
def nobody_answers():
    """Addresses where no Dask scheduler answers: a closed port, and a port that accepts
    connections but never answers (a bare listening socket)."""
    import socket

    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(8)
    try:
        yield {"closed": f"tcp://127.0.0.1:{closed_port}",
               "silent": f"tcp://127.0.0.1:{silent.getsockname()[1]}"}
    finally:
        silent.close()


@pytest.mark.parametrize("where, fragment", [
    ("closed", "1 s"),  # distributed's retries time out, or the wait around them does
    ("silent", "no answer within 1 s"),
    ("nonsense", "missing port number"),
])
def test_a_scheduler_that_does_not_answer_is_one_error_line_in_bounded_time(
        nobody_answers, where, fragment):
    """The command in a process of its own (so that a wait without end fails the test, and
    anything printed on the way out is seen), with the connection timeout set to 1 s."""
    pytest.importorskip("distributed")
    import os
    import subprocess
    import sys
    from pathlib import Path

    src = Path(__file__).resolve().parents[2] / "src"
    address = nobody_answers.get(where, where)
    command = ("import sys; from cheaptalk import runner; runner.CONNECT_TIMEOUT_S = 1.0; "
               "from cheaptalk.cli import app; sys.argv[0] = 'cheaptalk'; app()")
    done = subprocess.run(
        [sys.executable, "-c", command, "recover", "--design", "crawford_sobel", "--model",
         "levelk", "--replications", "2", "--scheduler", address],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": str(src)})
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    assert lines[0].startswith(f"error: --scheduler: cannot reach the Dask scheduler at "
                               f"{address}: "), lines[0]
    assert fragment in lines[0]

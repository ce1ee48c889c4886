import re
import subprocess
import sys

import pandas as pd
from typer.testing import CliRunner

from cheaptalk import __version__
from cheaptalk.cli import app
from helpers import assert_bad_input

GOOD = pd.DataFrame({
    "treatment": ["d12", "d12", "d05"], "round": [1, 1, 1], "sender": ["a", "b", "c"],
    "receiver": ["b", "a", "d"], "state": [1, 3.2, 9], "message": [1, 5, 9],
    "action": [2, 5, 9],
})


def test_version_and_help(run):
    r = run("--version")
    assert r.exit_code == 0 and __version__ in r.output
    for cmd in ("validate", "simulate", "predict"):
        r = run(cmd, "--help")
        assert r.exit_code == 0 and "--design" in r.output


def test_help_shows_the_bracketed_model_options():
    """Rich reads [..] in help text as markup; the examples of model options must survive."""
    for cmd, example in (("fit", "trust[lie_cost=quadratic]"),
                         ("compare", "trust,trust[lie_cost=quadratic]")):
        r = CliRunner().invoke(app, [cmd, "--help"], env={"COLUMNS": "240"})
        assert r.exit_code == 0 and example in re.sub(r"[\s│]+", "", r.output)


def test_validate_prints_summary_and_role_switching(run, tmp_path):
    p = tmp_path / "d.csv"
    GOOD.to_csv(p, index=False)
    r = run("validate", "--design", "crawford_sobel", "--data", p, "--json", tmp_path / "s.json")
    assert r.exit_code == 0, r.output
    assert "OK" in r.output and "d12" in r.output
    assert "subjects appear in both roles" in r.output
    assert "1 of 3 values mapped" in r.output
    assert "d20" in r.output  # a design treatment without data is mentioned


def test_validate_bad_data(run, tmp_path):
    bad = GOOD.copy()
    bad.loc[1, "state"] = 11
    p = tmp_path / "bad.csv"
    bad.to_csv(p, index=False)
    before = p.read_bytes()
    assert_bad_input(run("validate", "--design", "crawford_sobel", "--data", p),
                     "row 2 (line 3)", "column 'state'", "outside")
    assert p.read_bytes() == before


def test_validate_bad_design(run, tmp_path):
    d = tmp_path / "d.toml"
    d.write_text('game = "crawford_sobel"\n[treatments.A]\nstates=[1,3]\nactions=[1]\nbais=1\n')
    p = tmp_path / "x.csv"
    GOOD.to_csv(p, index=False)
    assert_bad_input(run("validate", "--design", d, "--data", p), "line 5", "did you mean 'bias'")
    assert_bad_input(run("validate", "--design", tmp_path / "none.toml", "--data", p),
                     "not found")


def test_json_output_is_not_overwritten(run, tmp_path):
    p = tmp_path / "d.csv"
    GOOD.to_csv(p, index=False)
    out = tmp_path / "s.json"
    out.write_text("mine")
    assert_bad_input(run("validate", "--design", "crawford_sobel", "--data", p, "--json", out),
                     "--force")
    assert out.read_text() == "mine"


def test_real_process_exit_code_and_no_traceback(tmp_path):
    p = tmp_path / "e.csv"
    p.write_text("")
    proc = subprocess.run([sys.executable, "-m", "cheaptalk", "validate", "--design",
                           "forecast_sharing", "--data", str(p)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.stderr.strip() == f"error: {p}: the file is empty"


def test_validate_refuses_a_crawford_sobel_grid_too_large(run, tmp_path):
    grid = list(range(1, 5001))
    d = tmp_path / "big.toml"
    d.write_text(f'game = "crawford_sobel"\n[treatments.T]\nstates = {grid}\nactions = {grid}\n'
                 "bias = 0.5\n")
    p = tmp_path / "x.csv"
    GOOD.to_csv(p, index=False)
    r = run("validate", "--design", d, "--data", p)
    assert_bad_input(r, "treatments.T.states", "5000 states x 5000 actions", "1e+07 cells")
    assert len(r.output.strip().splitlines()) == 1

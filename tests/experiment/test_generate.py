"""`cheaptalk experiment` without oTree: the files it writes, the bots' stored strategies,
the instructions' numbers and the refusals (SPEC §7)."""

import ast
import json
import runpy

import numpy as np
import pytest
from typer.testing import CliRunner

from cheaptalk.cli import app
from cheaptalk.data import load_design
from cheaptalk.experiment import BOT_TAIL, _sparse_row, game_spec
from cheaptalk.models import get_model
from helpers import assert_bad_input
from otree_driver import SMALL


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])




def test_project_files_and_session_configs(tmp_path, design_file):
    out = tmp_path / "lab"
    r = run("experiment", "--design", design_file, "--out", out)
    assert r.exit_code == 0, r.output
    for name in ("settings.py", "README.md", "requirements.txt", "design.toml",
                 "_static/cheaptalk/grid_input.js", "forecast_sharing/__init__.py",
                 "forecast_sharing/tests.py", "forecast_sharing/game.json"):
        assert (out / name).is_file(), name
    assert not (out / "forecast_sharing" / "bots.json").exists()  # no --bots: random bots
    for name in ("settings.py", "forecast_sharing/__init__.py", "forecast_sharing/tests.py"):
        ast.parse((out / name).read_text())  # valid Python
    configs = runpy.run_path(str(out / "settings.py"))["SESSION_CONFIGS"]
    assert [c["name"] for c in configs] == ["LL", "LH", "all_treatments"]
    assert [c["treatments"] for c in configs] == ["LL", "LH", "LL,LH"]
    assert configs[1]["num_demo_participants"] == 4  # two matching groups of 2 per role
    assert all(c["num_demo_participants"] % 2 == 0 for c in configs)
    assert "otree==6.0.15" in (out / "requirements.txt").read_text()
    assert (out / "design.toml").read_text() == SMALL
    readme = (out / "README.md").read_text()
    assert "OTREE_ADMIN_PASSWORD" in readme and "OTREE_AUTH_LEVEL=STUDY" in readme
    assert "DATABASE_URL" in readme and "cheaptalk validate" in readme


def test_game_json_matches_the_design(tmp_path, design_file):
    d = load_design(design_file)
    spec = game_spec(d, {"LL": 3, "LH": 2})
    assert spec["num_rounds"] == 5 and spec["feedback_column"] == "demand"
    assert spec["roles"] == ["manufacturer", "supplier"]
    t = spec["treatments"]["LH"]
    assert t["states"] == list(range(50, 151, 10))
    assert t["actions"] == list(range(0, 171, 10))  # K_max = forecast_high + noise
    assert (t["matching"], t["group_size"], t["rounds"]) == ("random", 2, 2)
    assert t["payoff_rule"] == "sales" and not t["choice_input"]
    # Timeout defaults: the truthful report; the capacity best under the prior, computed
    # here by brute force from realised sales averaged over forecasts and noise.
    assert t["timeout_message"] == list(range(11))
    xi = np.arange(50, 151, 10)[:, None]
    eps = np.linspace(-20, 20, 4001)[None, :]
    values = [np.mean(np.minimum(xi + eps, k)) - 0.75 * k for k in range(0, 171, 10)]
    assert t["timeout_action"] == int(np.argmax(values))
    # Quiz: capacity k1 = the middle forecast (100), demand 100 + e/2 = 110: sales 100;
    # manufacturer 2 x 100, supplier 1 x 100 - 0.75 x 100.
    assert t["quiz"]["manufacturer"]["answer"] == 200.0
    assert t["quiz"]["supplier"]["answer"] == 25.0
    assert "capacity 100" in t["quiz"]["supplier"]["question"]
    # The worked example: forecast 100, capacity 100, demand 90: sales 90.
    assert "2 × 90 = 180 points" in t["example_html"]
    assert "1 × 90 − 0.75 × 100 = 15 points" in t["example_html"]


def test_table_games_spec():
    d = load_design("binary_deception")
    t = game_spec(d, {"G1": 4})["treatments"]["G1"]
    assert t["choice_input"] and t["payoff_rule"] == "table"
    assert t["sender_payoffs"] == [[5, 6], [6, 5]]
    assert t["receiver_payoffs"] == [[6, 5], [5, 6]]
    # quiz: last state (B), first action (A): sender 6, receiver 5
    assert t["quiz"]["sender"]["answer"] == 6 and t["quiz"]["receiver"]["answer"] == 5
    cs = game_spec(load_design("crawford_sobel"), {"d05": 1, "d12": 1, "d20": 1})
    t = cs["treatments"]["d20"]
    assert t["message_labels"] == ["1", "3", "5", "7", "9"]
    # receiver's quiz: state 9, action 1: 110 - 10 * 8^1.4
    assert t["quiz"]["receiver"]["answer"] == pytest.approx(110 - 10 * 8 ** 1.4, abs=0.01)
    assert "|state + 2 − action|" in t["instructions_html"]
    assert cs["feedback_column"] == "state"


def test_bots_json_holds_the_model_strategies(tmp_path, design_file):
    out = tmp_path / "lab"
    r = run("experiment", "--design", design_file, "--out", out, "--bots", "levelk")
    assert r.exit_code == 0, r.output
    doc = json.loads((out / "forecast_sharing" / "bots.json").read_text())
    assert doc["model"] == "levelk"
    d = load_design(design_file)
    m = get_model("levelk")
    for name in d.treatments:
        pred = m.predict(d.game(name), m.default_params(d.game(name)))
        for role in ("sender", "receiver"):
            weights, strategies, names = pred.role_types(role)
            stored = doc["treatments"][name][role]
            assert stored["names"] == names
            np.testing.assert_allclose(stored["weights"], weights)
            for k, rows in enumerate(stored["strategies"]):
                dense = np.zeros_like(strategies[k])
                for i, (idx, p) in enumerate(rows):
                    dense[i, idx] = p
                # each row drops at most BOT_TAIL of mass, then is renormalised
                np.testing.assert_allclose(dense, strategies[k], atol=3 * BOT_TAIL + 1e-6)


def test_sparse_row_keeps_the_likely_entries():
    row = np.array([0.5, 1e-9, 0.3, 0.2 - 1e-9])
    idx, p = _sparse_row(row)
    assert sorted(idx) == [0, 2, 3] and sum(p) == pytest.approx(1.0)
    assert dict(zip(idx, p, strict=True))[2] == pytest.approx(0.3)


def test_too_many_capacities_refused_before_writing(tmp_path):
    design = tmp_path / "fine.toml"
    design.write_text('game = "forecast_sharing"\n[treatments.X]\nforecast_low = 0\n'
                      "forecast_high = 20\nstep = 0.01\nnoise = 5\ncapacity_cost = 0.5\n")
    out = tmp_path / "lab"
    r = run("experiment", "--design", design, "--out", out)
    assert_bad_input(r, "fine.toml", "treatments.X", "2001 report values", "at most 1001")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == [design]  # nothing written beside it either


def test_treatment_name_with_comma_refused(tmp_path):
    design = tmp_path / "comma.toml"
    design.write_text('game = "binary_deception"\n[treatments."a,b"]\n')
    assert_bad_input(run("experiment", "--design", design, "--out", tmp_path / "lab"),
                     "comma.toml", "comma")
    assert not (tmp_path / "lab").exists()


def test_existing_out_refused_without_force(tmp_path, design_file):
    out = tmp_path / "lab"
    assert run("experiment", "--design", design_file, "--out", out).exit_code == 0
    before = (out / "settings.py").read_text()
    assert_bad_input(run("experiment", "--design", design_file, "--out", out),
                     "a project is already there; pass --force")
    assert (out / "settings.py").read_text() == before
    r = run("experiment", "--design", "binary_deception", "--out", out, "--force")
    assert r.exit_code == 0, r.output
    assert (out / "binary_deception" / "game.json").exists()
    assert not (out / "forecast_sharing").exists()
    (out / "db.sqlite3").write_text("sessions")  # data: never replaced, even with --force
    assert_bad_input(run("experiment", "--design", design_file, "--out", out, "--force"),
                     "db.sqlite3")
    assert (out / "db.sqlite3").read_text() == "sessions"
    other = tmp_path / "mine"
    other.mkdir()
    (other / "notes.txt").write_text("x")
    assert_bad_input(run("experiment", "--design", design_file, "--out", other, "--force"),
                     "not a project cheaptalk wrote")


def test_params_need_bots(tmp_path, design_file):
    params = tmp_path / "p.json"
    params.write_text("{}")
    assert_bad_input(run("experiment", "--design", design_file, "--out", tmp_path / "x",
                         "--params", params), "--bots")
    assert_bad_input(run("experiment", "--design", design_file, "--out", tmp_path / "x",
                         "--bots", "nosuchmodel"), "nosuchmodel")
    assert not (tmp_path / "x").exists()

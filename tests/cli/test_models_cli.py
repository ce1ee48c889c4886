"""simulate / predict / fit / compare from the command line, for every model."""

import json

import pandas as pd
import pytest

from cheaptalk.data import bundled_designs, load_data, load_design
from cheaptalk.estimation.compare import is_synthetic
from cheaptalk.models import available_models, get_model
from helpers import assert_bad_input

MODELS = sorted(available_models())


def _predict_cases() -> list:
    """Every model on every bundled design; the forecast game's trust-type models write a
    JSON of some 250 MB (every type's 201 x 201 and 201 x 271 strategies): slow."""
    cases = []
    for design in sorted(bundled_designs()):
        for model in MODELS:
            heavy = design == "forecast_sharing" and model in ("trust", "combination",
                                                                "dynamic_trust")
            cases.append(pytest.param(model, design, marks=[pytest.mark.slow] if heavy else []))
    return cases


@pytest.mark.parametrize(("model", "design"), _predict_cases())
def test_predict_every_model_on_bundled_designs(run, tmp_path, design, model):
    out = tmp_path / "p.json"
    r = run("predict", "--design", design, "--model", model, "--json", out)
    assert r.exit_code == 0, r.output
    doc = json.loads(out.read_text())
    for key in ("states", "messages", "actions", "population", "types"):
        assert key in doc
    d = load_design(design)
    g = d.game(d.treatments[0])
    assert len(doc["population"]["sender"]) == g.n_states
    assert len(doc["population"]["receiver"][0]) == g.n_actions
    for ty in doc["types"]:
        assert set(ty) >= {"name", "weight", "sender", "receiver"}


def test_data_with_some_simulated_rows_are_labelled_synthetic(run, tmp_path):
    """Laboratory rows with simulated ones appended: validate counts them, and a comparison
    (hence its report) is labelled synthetic, since its numbers rest on them in part."""
    out = tmp_path / "sim.csv"
    run("simulate", "--design", "crawford_sobel", "--model", "levelk", "--seed", 3,
        "--subjects", 4, "--rounds", 4, "--out", out)
    table = pd.read_csv(out)
    table.loc[: len(table) - 3, "session"] = "lab"
    table.to_csv(out, index=False)
    r = run("validate", "--design", "crawford_sobel", "--data", out)
    assert r.exit_code == 0 and f"labelled synthetic (2 of {len(table)} rows" in r.output
    ds = load_data(out, load_design("crawford_sobel"))
    assert ds.synthetic_rows == 2 and is_synthetic(ds)
    table["session"] = "lab"
    table.to_csv(out, index=False)
    r = run("validate", "--design", "crawford_sobel", "--data", out)
    assert r.exit_code == 0 and "synthetic" not in r.output
    assert not is_synthetic(load_data(out, load_design("crawford_sobel")))


@pytest.mark.parametrize("design", ["crawford_sobel", "forecast_sharing", "binary_deception"])
@pytest.mark.parametrize("model", MODELS)
def test_simulate_then_validate_round_trip(run, tmp_path, model, design):
    out = tmp_path / "sim.csv"
    r = run("simulate", "--design", design, "--model", model, "--seed", 3,
            "--subjects", 3, "--rounds", 4, "--out", out)
    assert r.exit_code == 0, r.output
    written = pd.read_csv(out)
    assert (written["session"] == "synthetic").all()
    r = run("validate", "--design", design, "--data", out)
    assert r.exit_code == 0 and "labelled synthetic" in r.output
    back = load_data(out, load_design(design)).table
    pd.testing.assert_frame_equal(back.reset_index(drop=True), written, check_dtype=False)
    again = tmp_path / "sim2.csv"
    run("simulate", "--design", design, "--model", model, "--seed", 3,
        "--subjects", 3, "--rounds", 4, "--out", again)
    assert again.read_bytes() == out.read_bytes()


def test_simulate_forecast_with_params_file(run, tmp_path):
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"p0": 0.1, "p1": 0.5, "p2": 0.3, "p3": 0.1,
                                  "lambda_s": 0.3, "lambda_r": 0.3}))
    out = tmp_path / "sim.parquet"
    r = run("simulate", "--design", "forecast_sharing", "--model", "levelk", "--params", params,
            "--subjects", 3, "--rounds", 2, "--out", out)
    assert r.exit_code == 0, r.output
    assert len(load_data(out, load_design("forecast_sharing")).table) == 4 * 3 * 2


@pytest.mark.parametrize("content,fragment", [
    ('{"p0": 0.5, "p1": 0.5, "p2": 0.3, "p3": 0.1, "lambda_s": 1, "lambda_r": 1}', "sum to 1"),
    ('{"p0": 1, "lambda_s": 1}', "missing parameter"),
    ('{"q": 1}', "unknown parameter"),
    ('{"p0": 0.25, "p1": 0.25, "p2": 0.25, "p3": 0.25, "lambda_s": -1, "lambda_r": 1}',
     "lambda_s"),
    ("[1, 2]", "JSON object"),
    ("{oops", "invalid JSON"),
])
def test_bad_params_file(run, tmp_path, content, fragment):
    params = tmp_path / "p.json"
    params.write_text(content)
    r = run("simulate", "--design", "crawford_sobel", "--model", "levelk", "--params", params,
            "--out", tmp_path / "x.csv")
    assert_bad_input(r, fragment)
    assert not (tmp_path / "x.csv").exists()


def test_params_file_that_is_not_a_readable_json_file(run, tmp_path):
    """A folder or non-UTF-8 bytes used to end in a traceback for --params."""
    folder = tmp_path / "folder.json"
    folder.mkdir()
    assert_bad_input(run("simulate", "--design", "crawford_sobel", "--model", "levelk",
                         "--params", folder, "--out", tmp_path / "x.csv"),
                     "is a folder, not a parameter file")
    binary = tmp_path / "p.json"
    binary.write_bytes(b'{"p0": 0.5,\n "p1": \xff}')
    assert_bad_input(run("simulate", "--design", "crawford_sobel", "--model", "levelk",
                         "--params", binary, "--out", tmp_path / "x.csv"),
                     "line 2", "not UTF-8 text (byte 19)")
    assert not (tmp_path / "x.csv").exists()


def test_unknown_model_and_treatment(run, tmp_path):
    assert_bad_input(run("predict", "--design", "crawford_sobel", "--model", "levelq"),
                     "unknown model 'levelq'")
    assert_bad_input(run("predict", "--design", "crawford_sobel", "--model", "trust",
                         "--treatment", "zz"), "treatment 'zz' is not in the design")


def test_simulate_refuses_to_overwrite(run, tmp_path):
    out = tmp_path / "mine.csv"
    out.write_text("precious")
    assert_bad_input(run("simulate", "--design", "crawford_sobel", "--model", "trust", "--out",
                         out), "--force")
    assert out.read_text() == "precious"


@pytest.mark.parametrize(("model", "bad", "fragment"), [
    ("levelk", {"p0": 1.5}, "p0 must lie in [0, 1]"),
    ("ch", {"tau": -1.0}, "tau must be finite and > 0"),
    ("trust", {"beta_sigma": -1.0}, "beta_sigma must be finite and > 0"),
])
def test_a_parameter_value_out_of_range_names_the_file(run, tmp_path, model, bad, fragment):
    m = get_model(model)
    params = tmp_path / "params.json"
    params.write_text(json.dumps({**m.default_params(load_design("crawford_sobel").game(
        "d05")), **bad}))
    for command in (["predict"], ["simulate", "--out", tmp_path / "sim.csv"]):
        assert_bad_input(run(*command, "--design", "crawford_sobel", "--model", model,
                             "--params", params), f"error: {params}: {model}: {fragment}")
    assert not (tmp_path / "sim.csv").exists()


@pytest.mark.parametrize("folds", [1, 1000])
def test_folds_out_of_range_is_refused(run, tmp_path, folds):
    data = tmp_path / "d.csv"
    run("simulate", "--design", "crawford_sobel", "--model", "levelk", "--seed", 1,
        "--subjects", 2, "--rounds", 2, "--out", data)
    assert_bad_input(run("compare", "--design", "crawford_sobel", "--data", data, "--models",
                         "levelk", "--folds", folds, "--json", tmp_path / "c.json"),
                     f"--folds {folds}", "one per subject (12 here)")
    assert not (tmp_path / "c.json").exists()


# ---- sizes are checked before memory is allocated: one error line, exit 2
def _big_crawford_sobel(tmp_path, n_states, n_actions):
    d = tmp_path / f"cs{n_states}.toml"
    d.write_text(f'game = "crawford_sobel"\n[treatments.T]\nstates = {list(range(n_states))}\n'
                 f"actions = {list(range(n_actions))}\nbias = 0.5\n")
    return d


def _one_line_error(r, *fragments):
    assert_bad_input(r, *fragments)
    assert len(r.output.strip().splitlines()) == 1, r.output


def test_predict_refuses_node_counts_too_large(run):
    _one_line_error(run("predict", "--design", "crawford_sobel", "--model",
                        "trust[n_alpha=100000000]"),
                    "trust: 100000000 trust nodes in a 5x5x9 game needs", "the limit is")
    _one_line_error(run("predict", "--design", "crawford_sobel", "--model",
                        "combination[n_beta=100000000]"), "100000000 lying-cost nodes")


def test_predict_simulate_and_fit_refuse_games_too_large_for_a_model(run, tmp_path):
    # 500 states: the grid is fine (levelk predicts), the partition search is not
    design = _big_crawford_sobel(tmp_path, 500, 500)
    search = "equilibrium: the partition search over 125250 intervals of a 500x500x500 game"
    _one_line_error(run("predict", "--design", design, "--model", "equilibrium"), search)
    out = tmp_path / "sim.csv"
    _one_line_error(run("simulate", "--design", design, "--model", "equilibrium",
                        "--out", out), search)
    assert not out.exists()
    data = tmp_path / "data.csv"
    pd.DataFrame({"treatment": ["T", "T"], "round": [1, 1], "sender": ["a", "b"],
                  "receiver": ["b", "a"], "state": [1, 3], "message": [1, 5],
                  "action": [2, 5]}).to_csv(data, index=False)
    _one_line_error(run("fit", "--design", design, "--data", data, "--model", "equilibrium"),
                    search)
    # 1000 states and messages, 9 actions: the AQRE's Newton blocks are too large
    design = _big_crawford_sobel(tmp_path, 1000, 9)
    _one_line_error(run("predict", "--design", design, "--model", "aqre"),
                    "aqre: the Newton blocks of a 1000x1000x9 game")

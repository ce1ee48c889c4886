"""The model-spec language (models/spec.py): parsing, typed options, parameter files, and
each bad input as the command line reports it (exit 2, one ``error:`` line)."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cheaptalk.cli import app
from cheaptalk.data.errors import InputError
from cheaptalk.models import available_models, get_model
from cheaptalk.models.spec import (
    ModelSpec,
    apply_options,
    build_model,
    model_from,
    option_defaults,
    parse_spec,
    parse_specs,
    read_params,
    read_params_by_model,
    spec_from_json,
)
from helpers import assert_bad_input

MODELS = available_models()


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def _write(folder, name, doc):
    path = folder / name
    path.write_text(json.dumps(doc))
    return path


# ------------------------------------------------------------------- parsing
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=8)


@st.composite
def specs(draw):
    """A model spec with options of the right types (values the parser must give back)."""
    name = draw(st.sampled_from(sorted(MODELS)))
    defaults = option_defaults(MODELS[name])
    chosen = draw(st.lists(st.sampled_from(sorted(defaults)), unique=True, max_size=3))
    options = {}
    for key in chosen:
        default = defaults[key]
        if isinstance(default, bool):
            options[key] = draw(st.booleans())
        elif isinstance(default, int):
            options[key] = draw(st.integers(-10**6, 10**6))
        else:
            options[key] = draw(_WORD.filter(lambda w: w not in ("true", "false")))
    return ModelSpec(name, options)


@settings(max_examples=200, deadline=None)
@given(st.lists(specs(), min_size=1, max_size=4))
def test_specs_round_trip_through_text(written):
    text = ",".join(str(s) for s in written)
    assert parse_specs(text) == written


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet="trustlevk[]=,;_ 0123456789qadic.", max_size=40))
def test_model_list_parser_never_crashes(text):
    try:
        parsed = parse_specs(text)
    except InputError as e:
        assert str(e).startswith("--models")
        return
    assert parsed
    for spec in parsed:
        assert spec.name in MODELS
        assert set(spec.options) <= set(option_defaults(MODELS[spec.name]))


def test_empty_list_is_every_model_in_display_order():
    parsed = parse_specs(None)
    assert [s.name for s in parsed] == list(MODELS)
    orders = [MODELS[s.name].order for s in parsed]
    assert orders == sorted(orders)
    assert all(s.options == {} for s in parsed)


def test_values_are_typed_by_the_default():
    spec = parse_spec("trust[point_masses=false,n_beta=81,lie_cost=quadratic]")
    assert spec.options == {"point_masses": False, "n_beta": 81, "lie_cost": "quadratic"}
    assert type(spec.options["point_masses"]) is bool and type(spec.options["n_beta"]) is int
    model = build_model(spec)
    assert model.point_masses is False and model.n_beta == 81


@pytest.mark.parametrize("text, message", [
    ("trust[point_masses=maybe]", "point_masses of trust is true or false, got 'maybe'"),
    ("trust[point_masses=1]", "point_masses of trust is true or false, got '1'"),
    ("trust[point_masses=False]", "true or false"),
    ("trust[n_beta=81.0]", "n_beta of trust is a whole number, got '81.0'"),
    ("trust[n_beta=true]", "whole number"),
    ("levelk[levels=]", "whole number"),
    ("trust[lie_cost=]", "lie_cost of trust is a word"),
    ("trust[lie_kost=quadratic]", "no option 'lie_kost'; options of trust: lie_cost (default "
     "linear), point_masses (default false), n_alpha (default 64), n_beta (default 161)"),
    ("trust[n_beta=81,n_beta=41]", "option 'n_beta' is given twice"),
    ("trust[lie_cost=quadratic", "expected NAME[OPTION=VALUE,...]"),
    ("trust[a=[1]]", "expected NAME[OPTION=VALUE,...]"),
    ("trust[lie_cost]", "expected OPTION=VALUE"),
    ("trsut", "unknown model 'trsut'; known models: " + ", ".join(MODELS)),
    ("[levels=2]", "expected NAME or NAME[OPTION=VALUE,...]"),
])
def test_bad_specs(text, message):
    with pytest.raises(InputError) as e:
        parse_specs(text)
    assert str(e.value).startswith(f"--models {text!r}: ")
    assert message in str(e.value)


def test_parse_spec_names_one_model():
    with pytest.raises(InputError, match="name one model"):
        parse_spec("levelk,trust")
    with pytest.raises(InputError, match="name one model"):
        parse_spec(" ")


def test_get_model_takes_a_spec():
    m = get_model("levelk[levels=2,shares=per_role]")
    assert (m.levels, m.shares, m.label) == (2, "per_role", "levelk[levels=2,shares=per_role]")
    assert get_model("levelk[levels=2]", levels=4).levels == 4  # keywords win


# -------------------------------------------------------------------- --option
def test_options_apply_by_target_and_by_name():
    got = apply_options(parse_specs("levelk,ch,trust,levelk[levels=5]"),
                        ["levels=2", "levelk.shares=per_role", "levels=4"])
    assert [s.options for s in got] == [
        {"levels": 4, "shares": "per_role"},   # later item wins
        {"levels": 4},                          # ch takes levels too
        {},                                     # trust has no such option
        {"levels": 5, "shares": "per_role"},   # the bracketed value wins
    ]


@pytest.mark.parametrize("item, message", [
    ("lie_cots=quadratic", "no model here takes option 'lie_cots' (options of levelk: levels"),
    ("levelk.lie_cost=quadratic", "no option 'lie_cost'; options of levelk: levels"),
    ("trust.levels=2", "model 'trust' is not among levelk, ch"),
    ("levels=two", "levels of levelk is a whole number, got 'two'"),
    ("levels", "expected NAME=VALUE"),
])
def test_bad_options(item, message):
    with pytest.raises(InputError) as e:
        apply_options(parse_specs("levelk,ch"), [item])
    assert str(e.value).startswith(f"--option {item!r}: ") and message in str(e.value)


def test_options_the_model_refuses_name_the_model():
    with pytest.raises(InputError, match="invalid model options for trust: lie_cost must be"):
        build_model(parse_spec("trust[lie_cost=cubic]"))


def test_too_many_levels_are_refused_with_the_size():
    with pytest.raises(InputError) as e:
        build_model(parse_spec("levelk[levels=10000]"))
    assert "levels=10000 is too large: 10001 types per role, 10003 parameters" in str(e.value)
    assert "1e+08 entries" in str(e.value)  # the Hessian: 10003² ≈ 1.0e8


# ---------------------------------------------------------------- parameter files
def test_read_plain_and_fit_parameter_files(tmp_path):
    plain = read_params(_write(tmp_path, "p.json", {"tau": 1, "lambda_s": 0.5,
                                                    "epsilon": 0.02}))
    assert plain.params == {"tau": 1.0, "lambda_s": 0.5} and plain.epsilon == 0.02
    assert plain.model is None and plain.options == {}
    fit = read_params(_write(tmp_path, "f.json", {
        "name": "levelk", "options": {"levels": 1}, "loglik": -3.0,
        "params": {"p0": 0.5, "p1": 0.5, "lambda_s": 1, "lambda_r": 2}}))
    assert fit.model == "levelk" and fit.epsilon is None
    model = model_from("levelk", fit)
    assert model.levels == 1
    assert model_from("levelk[levels=2]", fit).levels == 2  # the command line wins


@pytest.mark.parametrize("doc, key, message", [
    ({"p0": True}, "p0", "must be a number, got True"),
    ({"params": {"p0": False}}, "params.p0", "must be a number, got False"),
    ({"params": {"p0": "0.5"}}, "params.p0", "must be a number, got '0.5'"),
    ({"params": {"epsilon": 1.5}}, "params.epsilon",
     "epsilon must be a number in [0, 1], got 1.5"),
    ({"params": [1, 2]}, "params", "must be a JSON object of parameter values"),
    ({"params": {}, "options": [1]}, "options", "must be a JSON object of model options"),
    ({"params": {}, "name": 3}, "name", "must be a model name, got 3"),
])
def test_bad_parameter_files(tmp_path, doc, key, message):
    path = _write(tmp_path, "bad.json", doc)
    with pytest.raises(InputError) as e:
        read_params(path)
    assert str(e.value) == f"{path}: key {key!r}: {message}"


def test_options_recorded_in_json_are_typed(tmp_path):
    with pytest.raises(InputError) as e:
        spec_from_json("trust", {"point_masses": "false"}, "fit.json")
    assert str(e.value) == ("fit.json: key 'options.point_masses': option point_masses of "
                            "trust is true or false, got 'false'")
    with pytest.raises(InputError, match=r"levels of levelk is a whole number, got 2\.0"):
        spec_from_json("levelk", {"levels": 2.0})
    with pytest.raises(InputError, match=r"key 'm\.options\.depth': no option 'depth'"):
        spec_from_json("levelk", {"depth": 2}, key="m.options")


def test_parameters_by_model(tmp_path):
    path = _write(tmp_path, "truth.json", {"levelk": {"p0": 1}, "trust": {}})
    assert read_params_by_model(path, ["levelk", "trust"]) == {"levelk": {"p0": 1.0},
                                                               "trust": {}}
    for doc, key, message in [
        ({"p0": 0.5}, "p0", "not a model compared here (levelk, trust)"),
        ({"aqre": {"lambda": 1}}, "aqre", "not a model compared here"),
        ({"levelk": 0.5}, "levelk", "must be a JSON object {parameter: value}"),
        ({"levelk": {"p0": True}}, "levelk.p0", "must be a number, got True"),
    ]:
        bad = _write(tmp_path, "bad.json", doc)
        with pytest.raises(InputError) as e:
            read_params_by_model(bad, ["levelk", "trust"])
        assert str(e.value).startswith(f"{bad}: key {key!r}: {message}")
    with pytest.raises(InputError, match=r"must be a JSON object \{model:"):
        read_params_by_model(_write(tmp_path, "list.json", [1]), ["levelk"])


# ------------------------------------------------------------ through the CLI
LEVELK_1 = {"p0": 0.5, "p1": 0.5, "lambda_s": 1.0, "lambda_r": 1.0}


@pytest.mark.parametrize("args, fragments", [
    (["--model", "trust", "--params", "{levelk_fit}"],
     ["levelk_fit.json: key 'name': is a fit of model 'levelk', not of 'trust': pass --model "
      "levelk"]),
    (["--model", "levelk", "--params", "{true_value}"],
     ["true_value.json: key 'p0': must be a number, got True"]),
    (["--model", "levelk", "--params", "{loose_option}"],
     ["loose_option.json: key 'options.levels': option levels of levelk is a whole number, "
      "got '1'"]),
    (["--model", "trust[point_masses=maybe]"],
     ["--model 'trust[point_masses=maybe]': option point_masses of trust is true or false"]),
    (["--model", "trust[point_masses=1]"], ["true or false, got '1'"]),
    (["--model", "trust[lie_kost=quadratic]"], ["no option 'lie_kost'; options of trust:"]),
    (["--model", "levelk[levels=10000]"], ["levels=10000 is too large", "parameters"]),
])
def test_cli_errors(tmp_path, args, fragments):
    files = {
        "levelk_fit": {"name": "levelk", "options": {"levels": 1}, "params": LEVELK_1},
        "true_value": {**LEVELK_1, "p0": True},
        "loose_option": {"name": "levelk", "options": {"levels": "1"}, "params": LEVELK_1},
    }
    args = [a.format(**{k: _write(tmp_path, f"{k}.json", v) for k, v in files.items()})
            for a in args]
    out = tmp_path / "sim.csv"
    for command in (["simulate", "--out", out], ["predict"]):
        r = run(*command, "--design", "crawford_sobel", *args)
        assert_bad_input(r, *fragments)
        assert len(r.output.strip().splitlines()) == 1, r.output
        assert "__init__" not in r.output and not out.exists()


def test_cli_option_errors_on_fit(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("treatment,round,sender,receiver,state,message,action\n"
                    "d05,1,a,b,1,1,1\n")
    for option, message in [("point_masses=maybe", "--option 'point_masses=maybe': option "
                             "point_masses of trust is true or false, got 'maybe'"),
                            ("n_beta=8.5", "n_beta of trust is a whole number"),
                            ("depth=2", "no model here takes option 'depth' (options of trust:")]:
        r = run("fit", "--design", "crawford_sobel", "--data", data, "--model", "trust",
                "--option", option)
        assert_bad_input(r, message)


def test_cli_power_parameter_file(tmp_path):
    for doc, fragment in [
        (LEVELK_1, "key 'p0': not a model compared here (levelk, trust)"),
        ({"aqre": {"lambda": 1.0}}, "key 'aqre': not a model compared here"),
        ({"levelk": [0.5]}, "key 'levelk': must be a JSON object {parameter: value}"),
        ({"levelk": {**LEVELK_1, "p0": True}}, "key 'levelk.p0': must be a number"),
    ]:
        path = _write(tmp_path, "truth.json", doc)
        r = run("power", "--design", "crawford_sobel", "--params", path)
        assert_bad_input(r, f"{path}: {fragment}")
    r = run("power", "--design", "crawford_sobel", "--models", "levelk[levels=2]")
    assert_bad_input(r, "power compares models with their default options")


def test_python_options_are_checked_too():
    # bool("false") is True: the model refuses anything but a bool
    for loose in ("false", 1, None):
        with pytest.raises(ValueError, match="point_masses must be True or False"):
            get_model("trust", point_masses=loose)
    assert get_model("combination", point_masses=True).trust.point_masses is True

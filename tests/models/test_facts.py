"""What each model declares about itself (order, colour, type families), the registry, and
the places that read those facts instead of lists of model names."""

import re
from types import SimpleNamespace

import numpy as np
import pytest
from typer.testing import CliRunner

from cheaptalk.cli import app
from cheaptalk.data import bundled_designs, load_design
from cheaptalk.estimation.likelihood import Evaluation
from cheaptalk.estimation.mle import posterior_table
from cheaptalk.models import (
    Family,
    Model,
    Prediction,
    Type,
    available_models,
    get_model,
    register_model,
    unregister_model,
)
from cheaptalk.report import figures

MODELS = available_models()
HEX = re.compile(r"#[0-9A-Fa-f]{6}")


@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_declares_its_facts(name):
    cls = MODELS[name]
    assert isinstance(cls.order, int) and HEX.fullmatch(cls.colour)
    families = cls().families()
    assert families and all(isinstance(f, Family) for f in families)
    names = [f.name for f in families]
    assert len(set(names)) == len(names)
    for f in families:
        assert HEX.fullmatch(f.colour) and f.text_colour in ("black", "white")


def test_orders_and_colours_are_distinct():
    assert len({c.order for c in MODELS.values()}) == len(MODELS)
    assert len({c.colour for c in MODELS.values()}) == len(MODELS)
    assert [c.order for c in MODELS.values()] == sorted(c.order for c in MODELS.values())


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("design", ["crawford_sobel", "binary_deception"])
def test_predicted_families_are_declared(name, design):
    d = load_design(design)
    game = d.game(d.treatments[0])
    model = get_model(name)
    pred = model.predict(game, model.default_params(game))
    declared = [f.name for f in model.families()]
    assert {t.family for t in pred.types} <= set(declared)


def test_level_families_follow_the_levels_option():
    assert [f.name for f in get_model("levelk", levels=5).families()] == [
        "L0", "L1", "L2", "L3", "L4", "L5"]
    combo = get_model("combination", levels=1, strategic="ch")
    assert [f.name for f in combo.families()] == ["L0", "L1", "trustworthy", "trust"]


def test_type_family_defaults_to_its_name():
    assert Type("honest", 1.0).family == "honest"
    assert Type("trust alpha=0.5", 1.0, family="trust").family == "trust"


def test_posterior_table_sums_posteriors_by_declared_family():
    # three types, two named alike but in different families: only Type.family groups them
    post = np.array([[0.5, 0.1], [0.3, 0.2], [0.2, 0.7]])
    ev = Evaluation(
        loglik=0.0, unit_loglik={"sender": np.zeros(2), "receiver": np.zeros(1)},
        posterior={"sender": post, "receiver": np.ones((1, 1))},
        type_names={"sender": {"T": ["x a", "x b", "y"]}, "receiver": {"T": ["r"]}},
        type_families={"sender": ["F", "G", "G"], "receiver": ["R"]})
    lik = SimpleNamespace(units={"sender": ["s1", "s2"], "receiver": ["r1"]},
                          unit_treatment={"sender": ["T", "T"], "receiver": ["T"]},
                          treatments=["T"], unit_home={"sender": [0, 0], "receiver": [0]})
    table = posterior_table(lik, ev)
    senders = table[table["role"] == "sender"]
    assert senders["P(F)"].tolist() == [0.5, 0.1]
    assert senders["P(G)"].tolist() == pytest.approx([0.5, 0.9])
    assert senders["family"].tolist() == ["F", "G"]           # 0.5 vs 0.5: the first; 0.9
    assert senders["type"].tolist() == ["x a", "y"]
    assert senders["family_probability"].tolist() == pytest.approx([0.5, 0.9])


# -------------------------------------------------------------------- registry
class Stranger(Model):
    """A model defined outside the package: not found unless registered."""

    name = "stranger"
    order = 5
    colour = "#123456"

    def families(self):
        return (Family("S", "#654321", "white"),)

    def parameter_names(self, game):
        return ()

    def default_params(self, game):
        return {}

    def predict(self, game, params):
        n_t, n_m, n_a = game.shape
        return Prediction(game, (Type("s", 1.0, np.full((n_t, n_m), 1 / n_m),
                                      np.full((n_m, n_a), 1 / n_a), "S"),))


def test_models_defined_outside_the_package_are_not_listed_unless_registered():
    assert "stranger" not in available_models()
    try:
        assert register_model(Stranger) is Stranger
        register_model(Stranger)  # again: nothing changes
        listed = available_models()
        assert next(iter(listed)) == "stranger"  # order 5: before every bundled model
        assert isinstance(get_model("stranger"), Stranger)
        assert figures.model_color("stranger") == "#123456"
    finally:
        unregister_model("stranger")
    assert "stranger" not in available_models()
    with pytest.raises(KeyError):
        unregister_model("stranger")


def test_register_refuses_a_taken_or_missing_name():
    taken = type("Taken", (Stranger,), {"name": "trust"})
    with pytest.raises(ValueError, match="a model named 'trust' exists already"):
        register_model(taken)
    with pytest.raises(ValueError, match="has no name"):
        register_model(type("Nameless", (Stranger,), {"name": ""}))
    assert available_models()["trust"] is MODELS["trust"]


# -------------------------------------------------------------- facts in use
def test_figures_use_the_declared_colours():
    for name, cls in MODELS.items():
        assert figures.model_color(name) == cls.colour
        assert figures.model_color(f"{name}[x=1]") == cls.colour
    families = figures.known_families([get_model("trust"), get_model("levelk", levels=5)])
    assert list(families) == ["trustworthy", "trust", "L0", "L1", "L2", "L3", "L4", "L5"]
    assert figures.family_color("L5", families) == families["L5"].colour
    assert figures.family_text_color("trust", families) == "white"
    assert figures.family_color("trust") == "#D55E00"  # every registered model by default
    # a family no model declares: a stable spare colour, black text
    spare = figures.family_color("unknown family")
    assert spare == figures.family_color("unknown family") and HEX.fullmatch(spare)
    assert figures.family_text_color("unknown family") == "black"


@pytest.mark.parametrize("command", ["fit", "simulate", "predict", "compare", "power"])
def test_help_lists_every_model_and_bundled_design(command):
    out = CliRunner().invoke(app, [command, "--help"], env={"COLUMNS": "400"}).output
    flat = " ".join(out.replace("│", " ").split())
    assert ", ".join(MODELS) in flat  # every model, in display order
    for design in bundled_designs():
        assert design in flat


@pytest.mark.parametrize("name", list(MODELS))
def test_check_values_refuses_what_predict_refuses(name):
    """check_values (what the command line checks a parameter file with, before any work)
    makes every check predict makes: for each parameter set in turn to values outside many
    ranges, one raises ParameterError exactly when the other does."""
    from cheaptalk.games import crawford_sobel
    from cheaptalk.models.base import ParameterError

    model, game = get_model(name), crawford_sobel(bias=1.2)
    base = model.default_params(game)
    refused = 0
    for parameter in base:
        for value in (-1.0, -1e-9, 0.0, 1.5, 1e6):
            params = {**base, parameter: value}
            try:
                model.predict(game, params)
                predicted = True
            except ParameterError:
                predicted = False
            try:
                model.check_values(params)
                checked = True
            except ParameterError:
                checked = False
            assert checked == predicted, (parameter, value)
            refused += not checked
    assert refused > 0

"""docs/extending.md, "Adding a game", followed once: a game kind written as one new file in
the games package is found by the registry, named by a design file, and every model, the
simulator, the estimator and the command line work on it with no other change."""

import sys

import numpy as np
import pytest
from typer.testing import CliRunner

import cheaptalk.games as games_package
from cheaptalk.cli import app
from cheaptalk.data import load_data, load_design, validate_table
from cheaptalk.estimation import MaximumLikelihood
from cheaptalk.games.registry import game_kinds
from cheaptalk.models import available_models, get_model
from cheaptalk.simulation import Simulation

GAME_FILE = '''"""Advice game: three qualities, an adviser biased upward by ``bias`` (a test game).

States t in {0, 1, 2} (uniform), messages assert a state, actions choose one;
``uR = -|t - a|``, ``uS = -|t + bias - a|``.
"""

import numpy as np

from cheaptalk.games.base import Game
from cheaptalk.games.registry import GameKind, Key


def advice(bias: float = 1.0, name: str = "advice") -> Game:
    t = np.array([0.0, 1.0, 2.0])
    return Game(states=t, prior=np.full(3, 1 / 3), messages=t, actions=t,
                sender_payoff=-np.abs(t[:, None] + bias - t[None, :]),
                receiver_payoff=-np.abs(t[:, None] - t[None, :]),
                name=name, parameters={"bias": bias})


KIND = GameKind(name="advice", description="Advice game with an upward-biased adviser",
                keys=(Key("bias", float, 1.0),),
                build=lambda params, name: advice(**params, name=name),
                roles=("adviser", "client"), variables=("quality", "advice", "choice"))
'''

DESIGN = '''game = "advice"

[treatments.small_bias]
bias = 0.4

[treatments.large_bias]
bias = 1.6
'''


@pytest.fixture
def advice_game(tmp_path, monkeypatch):
    folder = tmp_path / "games"
    folder.mkdir()
    (folder / "advice.py").write_text(GAME_FILE)
    monkeypatch.setattr(games_package, "__path__", [*games_package.__path__, str(folder)])
    yield
    sys.modules.pop("cheaptalk.games.advice", None)


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def test_a_game_file_is_all_it_takes(advice_game, tmp_path):
    assert "advice" in game_kinds()
    design_file = tmp_path / "advice.toml"
    design_file.write_text(DESIGN)
    design = load_design(str(design_file))
    assert design.kind.roles == ("adviser", "client")
    small = design.game("small_bias")
    assert small.receiver_payoff[0].tolist() == [0.0, -1.0, -2.0]
    assert small.sender_payoff[0].tolist() == pytest.approx([-0.4, -0.6, -1.6])
    # every registered model predicts in both treatments
    for name in available_models():
        model = get_model(name)
        for g in design.treatments:
            game = design.game(g)
            pred = model.predict(game, model.default_params(game))
            np.testing.assert_allclose(pred.sender.sum(axis=1), 1.0)
            np.testing.assert_allclose(pred.receiver.sum(axis=1), 1.0)
    # simulate, validate, fit
    levelk = get_model("levelk")
    params = levelk.default_params(small)
    df = Simulation(design, levelk, params, subjects_per_role=6, rounds=8).run(seed=4)
    data = validate_table(df, design)
    fit = MaximumLikelihood(levelk, data).fit(n_starts=1, seed=0)
    assert fit.converged and np.isfinite(fit.llf)
    # and the command line, from the design file
    csv = tmp_path / "advice.csv"
    df.to_csv(csv, index=False)
    assert len(load_data(csv, design).table) == len(df)
    r = run("validate", "--design", design_file, "--data", csv)
    assert r.exit_code == 0, r.output
    assert "advisers" in r.output and "clients" in r.output
    r = run("predict", "--design", design_file, "--model", "trust", "--treatment",
            "large_bias")
    assert r.exit_code == 0, r.output

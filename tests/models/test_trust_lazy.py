"""Trust's sender tables are built only when read (``StrategyTable``).

The likelihood reads a prediction through ``Prediction.at_cells``; for trust's senders that
answers from the logit's factors without building the 161 × n_t × n_m table. Checked here
against the tables themselves (read from a second prediction, so built in full), against
a type-by-type logit written in the test, and through the likelihood against a trust model
whose types carry their full tables from the start (the path before the tables were lazy).
"""

import pickle

import numpy as np
import pytest

from cheaptalk.choice import logit
from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.games import crawford_sobel, forecast_sharing
from cheaptalk.models.base import Prediction, StrategyRow, StrategyTable, Type
from cheaptalk.models.combination import Combination
from cheaptalk.models.dynamic_trust import DynamicTrust
from cheaptalk.models.trust import Trust, _trust_parts, lie_cost_matrix
from cheaptalk.simulation import Simulation

PARAMS = {"alpha_a": 1.7, "alpha_b": 2.6, "beta_mu": -1.1, "beta_sigma": 0.7,
          "lambda_s": 0.35, "lambda_r": 0.25}
MASSES = {"alpha_p0": 0.15, "alpha_p1": 0.2, "beta_p0": 0.1}
GAMES = {"crawford_sobel": crawford_sobel(), "forecast10": forecast_sharing(step=10)}


def sender_table(pred):
    """The table behind the prediction's sender types (None if they are plain arrays)."""
    rows = [ty.__dict__["_sender"] for ty in pred.types if ty.plays("sender")]
    tables = {id(r.table): r.table for r in rows if isinstance(r, StrategyRow)}
    assert len(tables) <= 1
    return next(iter(tables.values()), None)


def full_gather(pred, role, cells):
    """``at_cells`` the plain way: every type's full strategy read, then its cells."""
    return np.stack([getattr(ty, role).reshape(-1)[cells] for ty in pred.types
                     if getattr(ty, role) is not None])


def cell_sample(game, rng):
    """Every cell, then random cells with repeats in random order (as the likelihood's
    per-decision cells come)."""
    n = game.n_states * game.n_messages
    return np.concatenate([np.arange(n), rng.integers(0, n, size=3 * n)])


@pytest.mark.parametrize("game_name", list(GAMES))
@pytest.mark.parametrize("masses", [False, True])
@pytest.mark.parametrize("lie_cost", ["linear", "quadratic", "inflation"])
# lambda_s = 500: some senders' normalisers underflow and their rows are computed directly
@pytest.mark.parametrize("lambda_s", [0.35, 500.0, np.inf])
def test_at_cells_equals_the_full_tables(game_name, masses, lie_cost, lambda_s):
    game = GAMES[game_name]
    model = Trust(lie_cost=lie_cost, point_masses=masses, n_alpha=12, n_beta=31)
    p = {**PARAMS, "lambda_s": lambda_s, **(MASSES if masses else {})}
    lazy, full = model.predict(game, p), model.predict(game, p)
    cells = cell_sample(game, np.random.default_rng(7))
    table = sender_table(lazy)
    expected = full_gather(full, "sender", cells)  # builds ``full``'s table
    got = lazy.at_cells("sender", cells)
    assert table.built == np.isinf(lambda_s)  # answered from the factors, not built
    np.testing.assert_allclose(got, expected, rtol=1e-14, atol=1e-300)
    # Receivers and the population strategy are unchanged by the laziness.
    np.testing.assert_array_equal(lazy.at_cells("receiver", cells[:50]),
                                  full_gather(full, "receiver", cells[:50]))
    if lambda_s == 500.0:  # the rows computed directly were among the cells
        alpha, wa, beta, wb, _, _ = model.nodes(model.check(p), game)
        assert _trust_parts(game, alpha, wa, beta, wb, lambda_s, p["lambda_r"],
                            lie_cost)[0].senders.bad.any()


@pytest.mark.parametrize("lambda_s", [0.35, 500.0])
def test_a_table_read_later_is_the_logit_of_each_type(lambda_s):
    """Read after ``at_cells`` and the likelihood have used the factors, each type's
    strategy is its own logit (written here type by type) and the same array every read."""
    game = GAMES["forecast10"]
    model = Trust(n_alpha=12, n_beta=31)
    p = {**PARAMS, "lambda_s": lambda_s}
    pred, _ = model.predict_with_pullback(game, p)
    pred.at_cells("sender", np.arange(game.n_states * game.n_messages))
    alpha, wa, beta, _, _, _ = model.nodes(model.check(p), game)
    rho_bar = sum(w * logit(game.prior_values() + a * (game.receiver_values(game.literal)
                                                       - game.prior_values()), p["lambda_r"])
                  for a, w in zip(alpha, wa, strict=True))
    values = game.sender_values(rho_bar)
    cost = lie_cost_matrix(game)
    senders = [ty for ty in pred.types if ty.plays("sender")]
    table = sender_table(pred)
    assert not table.built
    for ty, b in zip(senders, beta, strict=True):
        np.testing.assert_allclose(ty.sender, logit(values - b * cost, lambda_s),
                                   rtol=1e-10, atol=1e-100)
        assert ty.sender is ty.sender
    assert table.built
    # The eager tables (the same model, its table read first) are the same numbers.
    eager = model.predict(game, p)
    for ty, ref in zip(senders, [t for t in eager.types if t.sender is not None], strict=True):
        np.testing.assert_array_equal(ty.sender, ref.sender)


def test_type_laziness_keeps_its_interface():
    """A Type given a StrategyRow reads like one given the array: frozen, identity
    equality, the presence test builds nothing, reweighting shares the table."""
    calls = []

    class Counted(StrategyTable):
        def build(self):
            calls.append(1)
            return np.arange(12.0).reshape(2, 2, 3)

    table = Counted()
    ty = Type("x", 0.5, sender=table.row(1))
    assert ty.plays("sender") and not ty.plays("receiver") and ty.receiver is None
    other = ty.reweighted(0.25)
    assert other.weight == 0.25 and other.name == "x" and other.family == "x"
    assert not calls
    with pytest.raises(AttributeError):  # dataclasses.FrozenInstanceError
        ty.sender = np.zeros((2, 3))
    assert ty != Type("x", 0.5, sender=table.row(1)) and ty == ty
    np.testing.assert_array_equal(ty.sender, [[6.0, 7.0, 8.0], [9.0, 10.0, 11.0]])
    np.testing.assert_array_equal(other.sender, ty.sender)
    assert calls == [1]  # one build for every row and every type that shares the table
    assert Type("y", 1.0).sender is None and Type("y", 1.0).family == "y"
    pred = Prediction(crawford_sobel(), (ty, Type("z", 0.5, sender=np.ones((2, 3)))))
    np.testing.assert_array_equal(pred.at_cells("sender", np.array([5, 0])),
                                  [[11.0, 6.0], [1.0, 1.0]])
    # A trust prediction with its tables unbuilt survives pickling (process pools).
    trust = Trust(n_alpha=4, n_beta=5).predict(crawford_sobel(), PARAMS)
    copy = pickle.loads(pickle.dumps(trust))
    assert not sender_table(copy).built
    for a, b in zip(copy.types, trust.types, strict=True):
        np.testing.assert_array_equal(a.sender if b.sender is not None else a.receiver,
                                      b.sender if b.sender is not None else b.receiver)


class Eager(Trust):
    """Trust whose prediction carries every sender's full table from the start, and whose
    pullback reads the senders on the observed cells from that table (the path before
    the tables were lazy)."""

    def _compute(self, game, params):
        pred, s, parts, p = super()._compute(game, params)
        s.senders.table()  # built: at_cells and the pullback gather from it
        types = tuple(Type(t.name, t.weight, t.sender, t.receiver, t.family)
                      for t in pred.types)
        return Prediction(game, types, model=pred.model, params=pred.params), s, parts, p


class EagerDynamic(Eager, DynamicTrust):
    pass


@pytest.fixture(scope="module")
def forecast_data():
    design = load_design("forecast_sharing")
    sim = Simulation(design, Trust(n_alpha=12, n_beta=31), PARAMS, subjects_per_role=3,
                     rounds=4)
    return validate_table(sim.run(2), design)


@pytest.mark.parametrize("lambda_s", [0.35, 500.0])
def test_likelihood_and_gradient_unchanged(forecast_data, lambda_s, monkeypatch):
    """The likelihood from the factors equals the one from the full tables; evaluating it
    builds no sender table."""
    p = {**PARAMS, "lambda_s": lambda_s}
    model = Trust(n_alpha=12, n_beta=31)
    lik = Likelihood(model, forecast_data)
    built = []
    original = Trust._compute

    def spy(self, game, params):
        out = original(self, game, params)
        built.append(out[1].senders)
        return out

    monkeypatch.setattr(Trust, "_compute", spy)
    lazy = lik.evaluate(p, gradient=True)
    value = lik.evaluate(p)
    monkeypatch.undo()
    assert built and not any(t.built for t in built)
    full = Likelihood(Eager(n_alpha=12, n_beta=31), forecast_data).evaluate(p, gradient=True)
    assert lazy.loglik == pytest.approx(full.loglik, rel=1e-13, abs=0)
    assert value.loglik == pytest.approx(full.loglik, rel=1e-13, abs=0)
    scale = max(abs(v) for v in full.gradient.values())
    for name, v in full.gradient.items():
        assert abs(lazy.gradient[name] - v) <= 1e-12 * scale, (name, lazy.gradient[name], v)


@pytest.mark.parametrize(("model", "eager"), [
    (DynamicTrust(n_alpha=12, n_beta=31), EagerDynamic(n_alpha=12, n_beta=31)),
    (Combination(n_alpha=12, n_beta=31), None),
])
def test_models_built_on_trust(forecast_data, model, eager):
    """Dynamic trust and the combination read the senders from the factors too, and give
    what the full tables give."""
    game = forecast_data.design.game(forecast_data.design.treatments[0])
    p = {**model.default_params(game), **{k: v for k, v in PARAMS.items()
                                          if k in model.parameter_names()}}
    pred = model.predict(game, p)
    cells = cell_sample(game, np.random.default_rng(3))[-500:]
    got = pred.at_cells("sender", cells)
    assert not sender_table(pred).built
    np.testing.assert_allclose(got, full_gather(model.predict(game, p), "sender", cells),
                               rtol=1e-14, atol=1e-300)
    lazy = Likelihood(model, forecast_data).evaluate(p, gradient=True)
    if eager is None:  # the combination: its trust component made eager
        eager = Combination(n_alpha=12, n_beta=31)
        eager.trust = Eager(n_alpha=12, n_beta=31)
    full = Likelihood(eager, forecast_data).evaluate(p, gradient=True)
    assert lazy.loglik == pytest.approx(full.loglik, rel=1e-13, abs=0)
    scale = max(abs(v) for v in full.gradient.values())
    for name, v in full.gradient.items():
        assert abs(lazy.gradient[name] - v) <= 1e-12 * scale, name

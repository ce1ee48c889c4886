"""Games from tables (``game = "matrix"``, SPEC §2.5) and ``Game.from_tables``.

A matrix design that restates a built-in treatment gives the built-in game's predictions and
log-likelihoods; level-k and the most informative equilibrium of the bundled 5-state game
agree with brute-force computations written here; message labels round-trip through data.
"""

import itertools

import numpy as np
import pytest

from cheaptalk.data import load_design, parse_design, validate_table
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.games.base import Game
from cheaptalk.models import available_models, get_model
from cheaptalk.models.equilibrium import most_informative_equilibrium
from cheaptalk.simulation import Simulation

BUILT_IN = {
    "forecast_sharing": 'game = "forecast_sharing"\n\n[treatments.T]\nforecast_low = 50\n'
                        "forecast_high = 250\nstep = 50\nnoise = 20\ncapacity_cost = 0.25\n",
    "crawford_sobel": 'game = "crawford_sobel"\n\n[treatments.T]\nstates = [1, 3, 5, 7, 9]\n'
                      "actions = [1, 2, 3, 4, 5, 6, 7, 8, 9]\nbias = 1.2\n",
}


def _toml(values) -> str:
    """A list or table of floats as TOML, every number exactly (repr round-trips)."""
    if np.ndim(values) == 2:
        return "[" + ", ".join(_toml(row) for row in values) + "]"
    return "[" + ", ".join(repr(float(x)) for x in values) + "]"


def _restated(game: Game) -> str:
    return "\n".join([
        'game = "matrix"', "", "[treatments.T]",
        f"states = {_toml(game.states)}", f"prior = {_toml(game.prior)}",
        f"messages = {_toml(game.messages)}", f"literal = {_toml(game.messages)}",
        f"actions = {_toml(game.actions)}",
        f"sender_payoffs = {_toml(game.sender_payoff)}",
        f"receiver_payoffs = {_toml(game.receiver_payoff)}", "",
    ])


@pytest.mark.parametrize("kind", list(BUILT_IN))
def test_matrix_restating_a_built_in_treatment_is_the_same_game(kind):
    built_in = parse_design(BUILT_IN[kind], "built_in.toml")
    matrix = parse_design(_restated(built_in.game("T")), "matrix.toml")
    assert matrix.kind.name == "matrix"
    g0, g1 = built_in.game("T"), matrix.game("T")
    assert g1.message_labels is None and g0.shape == g1.shape
    simulator = get_model("levelk")
    df = Simulation(built_in, simulator, simulator.default_params(g0), subjects_per_role=6,
                    rounds=5).run(seed=3)
    data0, data1 = validate_table(df, built_in), validate_table(df, matrix)
    for name in available_models():
        model = get_model(name)
        params = model.default_params(g0)
        p0, p1 = model.predict(g0, params), model.predict(g1, params)
        np.testing.assert_allclose(p1.sender, p0.sender, rtol=0, atol=1e-12)
        np.testing.assert_allclose(p1.receiver, p0.receiver, rtol=0, atol=1e-12)
        assert [t.name for t in p1.types] == [t.name for t in p0.types]
        ll0 = Likelihood(model, data0).evaluate(params).loglik
        ll1 = Likelihood(model, data1).evaluate(params).loglik
        assert np.isfinite(ll0)
        assert abs(ll1 - ll0) <= 1e-12 * max(1.0, abs(ll0)), name


# ------------------------------------------------------------------ brute force
def _best(values):
    """Best responses with ties split evenly (values are whole numbers here: exact ties)."""
    values = np.asarray(values, dtype=float)
    top = values == values.max()
    return top / top.sum()


def _posterior(prior, sigma, m):
    joint = [prior[t] * sigma[t][m] for t in range(len(prior))]
    total = sum(joint)
    return list(prior) if total == 0 else [j / total for j in joint]


def _brute_levelk(game, levels):
    n_t, n_m, n_a = game.shape
    lit = [int(np.flatnonzero(game.states == game.messages[m])[0]) for m in range(n_m)]
    u_s, u_r = game.sender_payoff, game.receiver_payoff
    # L0: the sender sends the message asserting the state, the receiver believes it
    sigma = [np.array([[1.0 if lit[m] == t else 0.0 for m in range(n_m)] for t in range(n_t)])]
    rho = [np.array([_best([u_r[lit[m], a] for a in range(n_a)]) for m in range(n_m)])]
    for _ in range(levels):
        prev_s, prev_r = sigma[-1], rho[-1]
        sigma.append(np.array([_best([sum(prev_r[m][a] * u_s[t, a] for a in range(n_a))
                                      for m in range(n_m)]) for t in range(n_t)]))
        rho.append(np.array([
            _best([sum(q * u_r[t, a] for t, q in enumerate(_posterior(game.prior, prev_s, m)))
                   for a in range(n_a)]) for m in range(n_m)]))
    return sigma, rho


def _brute_equilibrium(game):
    """Every partition of the states into consecutive intervals; the incentive-compatible
    ones with the most intervals, then the highest ex-ante receiver payoff."""
    n_t, n_m, n_a = game.shape
    lit = [int(np.flatnonzero(game.states == game.messages[m])[0]) for m in range(n_m)]
    u_s, u_r, p = game.sender_payoff, game.receiver_payoff, game.prior
    found = []
    for k in range(1, n_t + 1):
        for cuts in itertools.combinations(range(1, n_t), k - 1):
            bounds = [0, *cuts, n_t]
            intervals = [list(range(bounds[i], bounds[i + 1])) for i in range(k)]
            if any(not any(lit[m] in iv for m in range(n_m)) for iv in intervals):
                continue
            actions = []
            for iv in intervals:
                mass = sum(p[t] for t in iv)
                actions.append(_best([sum(p[t] / mass * u_r[t, a] for t in iv)
                                      for a in range(n_a)]))
            value = [[sum(r[a] * u_s[t, a] for a in range(n_a)) for r in actions]
                     for t in range(n_t)]
            ok = all(value[t][j] >= value[t][i] - 1e-9
                     for j, iv in enumerate(intervals) for t in iv for i in range(k))
            if ok:
                payoff = sum(p[t] * sum(actions[j][a] * u_r[t, a] for a in range(n_a))
                             for j, iv in enumerate(intervals) for t in iv)
                found.append((k, payoff, intervals, actions))
    k, payoff, intervals, actions = max(found, key=lambda f: (f[0], f[1]))
    assert sum(1 for f in found if (f[0], f[1]) == (k, payoff)) == 1  # no tie to break
    sender = np.zeros((n_t, n_m))
    receiver = np.zeros((n_m, n_a))
    for iv, r in zip(intervals, actions, strict=True):
        ms = [m for m in range(n_m) if lit[m] in iv]
        for t in iv:
            sender[t, ms] = 1 / len(ms)
        receiver[ms] = r
    return [(iv[0], iv[-1]) for iv in intervals], sender, receiver


def test_bundled_five_state_game_levelk_matches_brute_force():
    game = load_design("wang_spezio_camerer").game("b1")
    assert game.shape == (5, 5, 5)
    model = get_model("levelk")
    params = {k: (np.inf if k.startswith("lambda") else v)
              for k, v in model.default_params(game).items()}
    pred = model.predict(game, params)
    sigma, rho = _brute_levelk(game, levels=3)
    assert [t.name for t in pred.types] == ["L0", "L1", "L2", "L3"]
    for k, ty in enumerate(pred.types):
        np.testing.assert_allclose(ty.sender, sigma[k], atol=1e-12)
        np.testing.assert_allclose(ty.receiver, rho[k], atol=1e-12)
    # the bias shows: an L1 sender reports one state up (from state 4 on, the top message)
    assert sigma[1].argmax(axis=1).tolist() == [1, 2, 3, 4, 4]


def test_bundled_five_state_game_equilibrium_matches_brute_force():
    game = load_design("wang_spezio_camerer").game("b1")
    eq = most_informative_equilibrium(game)
    intervals, sender, receiver = _brute_equilibrium(game)
    assert [tuple(iv) for iv in eq.intervals] == intervals
    np.testing.assert_allclose(eq.sender, sender, atol=1e-12)
    np.testing.assert_allclose(eq.receiver, receiver, atol=1e-12)
    assert eq.n_intervals == 2  # bias 1 of 5 states: some, not full, information


# ------------------------------------------------------------------ labels
LABELLED = """game = "matrix"

[treatments.G]
states = [0, 1]
prior = [0.25, 0.75]
messages = ["A", "B", "A is better"]
literal = [0, 1, 0]
actions = [0, 1]
sender_payoffs = [[5, 6], [6, 5]]
receiver_payoffs = [[6, 5], [5, 6]]
"""


def test_labelled_messages_round_trip_through_data_and_every_model():
    design = parse_design(LABELLED, "labels.toml")
    game = design.game("G")
    assert game.message_labels == ("A", "B", "A is better")
    assert game.messages.tolist() == [0.0, 1.0, 0.0]
    assert game.literal.tolist() == [[1, 0], [0, 1], [1, 0]]
    for name in available_models():
        model = get_model(name)
        pred = model.predict(game, model.default_params(game))
        np.testing.assert_allclose(pred.sender.sum(axis=1), 1.0)
        np.testing.assert_allclose(pred.receiver.sum(axis=1), 1.0)
    model = get_model("trust")
    df = Simulation(design, model, model.default_params(game), subjects_per_role=8,
                    rounds=10).run(seed=1)
    assert set(df["message"]) <= {"A", "B", "A is better"}
    data = validate_table(df, design)
    assert [game.message_labels[m] for m in data.message] == df["message"].tolist()
    # the table's message column holds the literal value, for lie sizes and figures
    np.testing.assert_array_equal(data.table["message"].to_numpy(), game.messages[data.message])
    # the likelihood sees the labels: "A" and "A is better" assert the same state and are
    # alike to the model, "A" and "B" are not
    same = df.assign(message=df["message"].replace({"A": "A is better"}))
    moved = df.assign(message=df["message"].replace({"A": "B"}))
    params = model.default_params(game)
    ll = Likelihood(model, data).evaluate(params).loglik
    ll_same = Likelihood(model, validate_table(same, design)).evaluate(params).loglik
    ll_moved = Likelihood(model, validate_table(moved, design)).evaluate(params).loglik
    assert ll_same == pytest.approx(ll, abs=1e-9) and abs(ll_moved - ll) > 1


def test_from_tables_sorts_states_with_their_rows_and_prior():
    g = Game.from_tables(states=[3, 1, 2], actions=[0, 1], prior=[0.5, 0.2, 0.3],
                         sender_payoffs=[[3, 30], [1, 10], [2, 20]],
                         receiver_payoffs=[[-3, 3], [-1, 1], [-2, 2]])
    assert g.states.tolist() == [1, 2, 3]
    assert g.prior.tolist() == [0.2, 0.3, 0.5]
    assert g.sender_payoff[:, 1].tolist() == [10, 20, 30]
    assert g.receiver_payoff[:, 0].tolist() == [-1, -2, -3]


def test_from_functions_equals_the_crawford_sobel_builder():
    from cheaptalk.games import crawford_sobel

    ref = crawford_sobel(bias=0.5)
    g = Game.from_functions(ref.states, ref.actions,
                            sender=lambda t, a: 110 - 10 * abs(t + 0.5 - a) ** 1.4,
                            receiver=lambda t, a: 110 - 10 * abs(t - a) ** 1.4)
    np.testing.assert_array_equal(g.sender_payoff, ref.sender_payoff)
    np.testing.assert_array_equal(g.receiver_payoff, ref.receiver_payoff)
    np.testing.assert_array_equal(g.literal, ref.literal)


@pytest.mark.parametrize(("kwargs", "start"), [
    ({"prior": [0.5, 0.6]}, "prior must sum to 1"),
    ({"prior": [1.5, -0.5]}, "prior has a negative entry"),
    ({"messages": ["A", "B"], "literal": [0, 7]}, "literal: 7 is not a state"),
    ({"messages": ["A", "B"]}, "messages are labels, so literal is required"),
    ({"messages": ["A", "A"], "literal": [0, 1]}, "messages must be distinct"),
    ({"states": [0, 0]}, "states: 0 appears more than once"),
    ({"actions": [1, 1]}, "actions: 1 appears more than once"),
    ({"sender_payoffs": [[1, 2, 3], [1, 2, 3]]}, "sender_payoffs must have one row per state"),
    ({"receiver_payoffs": [[1, "x"], [1, 2]]}, "receiver_payoffs must be a table of numbers"),
])
def test_from_tables_errors_start_with_the_argument(kwargs, start):
    args = dict(states=[0, 1], actions=[0, 1], sender_payoffs=[[0, 1], [1, 0]],
                receiver_payoffs=[[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="^" + start):
        Game.from_tables(**{**args, **kwargs})


def test_a_message_that_is_no_label_lists_a_few_labels():
    import pandas as pd

    from cheaptalk.data import InputError

    labels = [f"m{i}" for i in range(15)]
    design = parse_design(
        'game = "matrix"\n\n[treatments.G]\nstates = [0, 1]\nactions = [0, 1]\n'
        f"messages = {labels!r}\nliteral = {[i % 2 for i in range(15)]}\n".replace("'", '"')
        + "sender_payoffs = [[0, 1], [1, 0]]\nreceiver_payoffs = [[1, 0], [0, 1]]\n",
        "many.toml")
    rows = pd.DataFrame({"treatment": ["G", "G"], "round": [1, 1], "sender": ["a", "b"],
                         "receiver": ["c", "d"], "state": [0, 1], "message": ["m14", "m15"],
                         "action": [0, 1]})
    with pytest.raises(InputError) as e:
        validate_table(rows, design)
    assert (e.value.row, e.value.column) == (2, "message")
    assert "'m15' is not one of the messages" in str(e.value)
    assert "m0, m1," in str(e.value) and "m11, … (15 in all)" in str(e.value)
    assert "m12" not in str(e.value)


@pytest.mark.parametrize(("kwargs", "start"), [
    # a payoff table of 5000 x 2500 cells
    ({"states": list(range(5000)), "actions": list(range(2500))},
     "states gives 5000 states x 2500 actions"),
    # small payoff tables (one action), but 4000 x 4000 strategy tables
    ({"states": list(range(4000)), "actions": [0]}, "states gives 4000 states x 4000 messages"),
    ({"states": [0, 1], "actions": [0], "messages": [f"m{i}" for i in range(6_000_000)]},
     "messages gives 2 states x 6000000 messages"),
])
def test_from_tables_refuses_large_grids_before_allocating(kwargs, start):
    from helpers import peak_allocation

    n_t, n_a = len(kwargs["states"]), len(kwargs["actions"])
    table = [[0.0] * n_a] * n_t if n_t * n_a < 10**6 else None  # refused before it is read
    error, peak = peak_allocation(Game.from_tables, sender_payoffs=table,
                                  receiver_payoffs=table, **kwargs)
    assert isinstance(error, ValueError) and str(error).startswith(start), error
    assert peak < 20e6


def test_from_functions_refuses_large_grids_before_evaluating():
    calls = []

    def u(t, a):
        calls.append(1)
        return 0.0

    with pytest.raises(ValueError, match=r"^states gives 5000 states x 5000 actions"):
        Game.from_functions(range(5000), range(5000), sender=u, receiver=u)
    assert not calls

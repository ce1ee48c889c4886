"""Most informative partition equilibrium with logit noise (SPEC §3.1)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from cheaptalk.choice import best_response, logit
from cheaptalk.games import binary_deception, crawford_sobel, forecast_sharing, newsvendor_capacity
from cheaptalk.models import ParameterError, get_model
from cheaptalk.models.equilibrium import (
    Equilibrium,
    most_informative_equilibrium,
    partition_profile,
)
from gambit_tools import behavior_profile, gbt, needs_gambit, profile_vector, split, to_gambit


def brute_force(states, actions, bias, prior=None, base=110.0, scale=10.0, exponent=1.4):
    """Independent reference: every partition into consecutive intervals, plain loops.

    Receiver best response to each interval's posterior (ties split evenly); sender incentive
    compatibility against every other interval's action; most intervals, then highest
    receiver payoff. Returns the intervals as (first, last) state indices.
    """
    n = len(states)
    prior = [1.0 / n] * n if prior is None else list(prior)

    def u_r(t, a):
        return base - scale * abs(t - a) ** exponent

    def u_s(t, a):
        return base - scale * abs(t + bias - a) ** exponent

    best_key, best_intervals = None, None
    for cuts in itertools.product([False, True], repeat=n - 1):
        intervals, start = [], 0
        for i, cut in enumerate(cuts, start=1):
            if cut:
                intervals.append(list(range(start, i)))
                start = i
        intervals.append(list(range(start, n)))
        responses = []
        for iv in intervals:
            ev = [sum(prior[i] * u_r(states[i], a) for i in iv) / sum(prior[i] for i in iv)
                  for a in actions]
            top = max(ev)
            responses.append([a for a, v in zip(actions, ev, strict=True)
                              if v >= top - 1e-10 * (1 + abs(top))])

        def value(t, resp, u):
            return sum(u(t, a) for a in resp) / len(resp)

        ok = True
        for j, iv in enumerate(intervals):
            for i in iv:
                own = value(states[i], responses[j], u_s)
                for other_response in responses:
                    other = value(states[i], other_response, u_s)
                    ok = ok and own >= other - 1e-9 * (1 + abs(other))
        if not ok:
            continue
        payoff = sum(prior[i] * value(states[i], responses[j], u_r)
                     for j, iv in enumerate(intervals) for i in iv)
        key = (len(intervals), payoff)
        if (best_key is None or key[0] > best_key[0]
                or (key[0] == best_key[0] and key[1] > best_key[1] + 1e-12)):
            best_key, best_intervals = key, intervals
    return tuple((iv[0], iv[-1]) for iv in best_intervals), best_key[1]


CAI_WANG = dict(states=(1, 3, 5, 7, 9), actions=tuple(range(1, 10)))


@pytest.mark.parametrize("bias", [0.0, 0.5, 1.0, 1.2, 1.6, 2.0, 2.5, 3.0, 5.0])
def test_cai_wang_partitions_match_brute_force(bias):
    game = crawford_sobel(bias=bias)
    eq = most_informative_equilibrium(game)
    expected, payoff = brute_force(CAI_WANG["states"], CAI_WANG["actions"], bias)
    assert eq.intervals == expected
    assert eq.receiver_payoff == pytest.approx(payoff, rel=1e-12)


def test_cai_wang_known_partitions():
    # computed facts for the Cai-Wang preset (states 1..9 odd, actions 1..9, exponent 1.4)
    assert most_informative_equilibrium(crawford_sobel(bias=0.5)).n_intervals == 5
    assert most_informative_equilibrium(crawford_sobel(bias=1.2)).intervals == ((0, 1), (2, 4))
    assert most_informative_equilibrium(crawford_sobel(bias=2.0)).intervals == ((0, 0), (1, 4))
    assert most_informative_equilibrium(crawford_sobel(bias=4.0)).is_babbling


@pytest.mark.parametrize(("states", "actions", "bias", "prior", "exponent"), [
    ((1, 2, 3, 4, 5, 6, 7), tuple(range(1, 8)), 0.3, None, 2.0),
    ((1, 2, 3, 4, 5, 6, 7), tuple(range(1, 8)), 0.7, None, 2.0),
    ((0, 1, 2, 3, 4, 5, 6, 7, 8), tuple(np.arange(0, 8.5, 0.5)), 0.4, None, 2.0),
    ((1, 3, 5, 7, 9), tuple(range(1, 10)), 1.2, (0.4, 0.1, 0.1, 0.1, 0.3), 1.4),
    ((1, 3, 5, 7, 9), tuple(range(1, 10)), -1.5, None, 1.4),
])
def test_other_games_match_brute_force(states, actions, bias, prior, exponent):
    game = crawford_sobel(bias=bias, states=states, actions=actions, prior=prior,
                          exponent=exponent)
    eq = most_informative_equilibrium(game)
    expected, payoff = brute_force(states, actions, bias, prior, exponent=exponent)
    assert eq.intervals == expected
    assert eq.receiver_payoff == pytest.approx(payoff, rel=1e-12)


def test_profile_is_consistent():
    game = crawford_sobel(bias=1.2)
    eq = most_informative_equilibrium(game)
    np.testing.assert_allclose(eq.sender.sum(axis=1), 1.0)
    # beliefs are the Bayes posterior of the equilibrium sender: no message is off path
    np.testing.assert_allclose(eq.belief, game.posterior(eq.sender), atol=1e-15)
    np.testing.assert_allclose(eq.receiver, best_response(game.receiver_values(eq.belief)))
    # messages 1, 3 -> interval {1, 3} (action 2); messages 5, 7, 9 -> {5, 7, 9} (action 7)
    assert np.argmax(eq.receiver, axis=1).tolist() == [1, 1, 6, 6, 6]
    assert eq.sender[0].tolist() == [0.5, 0.5, 0.0, 0.0, 0.0]


def test_partition_profile_rejects_bad_intervals():
    game = crawford_sobel()
    with pytest.raises(ValueError, match="consecutively"):
        partition_profile(game, ((0, 1), (3, 4)))


def test_binary_deception_is_babbling():
    eq = most_informative_equilibrium(binary_deception())
    assert eq.is_babbling
    # aligned interests: full revelation
    aligned = binary_deception(sender_payoffs=((6, 5), (5, 6)))
    assert most_informative_equilibrium(aligned).n_intervals == 2


def test_forecast_game_is_babbling_at_the_newsvendor_capacity():
    game = forecast_sharing(step=1, noise=20, capacity_cost=0.25)
    model = Equilibrium()
    assert model.inert_parameters(game) == {"lambda_s"}
    pred = model.predict(game, {"lambda_s": 5.0, "lambda_r": 0.3})
    np.testing.assert_allclose(pred.sender, 1.0 / game.n_messages)
    rho = pred.receiver
    np.testing.assert_allclose(rho, np.broadcast_to(rho[0], rho.shape))
    mode = game.actions[np.argmax(rho[0])]
    target = newsvendor_capacity(50, 250, 20, 1.0, 0.25, n_grid=20_001)
    assert abs(mode - target) <= 1.0


# ------------------------------------------------------------------------- pygambit checks
def _pure_profile(game, eq):
    """Pure version: each interval's states send its first message; the receiver plays its
    (pure) equilibrium response after every message."""
    sigma = np.zeros((game.n_states, game.n_messages))
    for t in range(game.n_states):
        sigma[t, np.flatnonzero(eq.sender[t] > 0)[0]] = 1.0
    assert np.all(np.isin(eq.receiver, (0.0, 1.0))), "receiver response should be pure"
    return sigma, eq.receiver


@needs_gambit
@pytest.mark.parametrize("bias", [0.4, 1.2, 2.0, 3.5])
def test_partition_equilibrium_is_among_gambit_pure_equilibria(bias):
    # 3 states x 3 messages x 5 actions: Gambit enumerates all pure agent-form equilibria
    game = crawford_sobel(bias=bias, states=(1, 3, 5), actions=(1, 2, 3, 4, 5))
    eq = most_informative_equilibrium(game)
    g = to_gambit(game)
    equilibria = [np.array(profile_vector(p)) for p in gbt.nash.enumpure_agent_solve(g).equilibria]
    sigma, rho = _pure_profile(game, eq)
    ours = np.concatenate([sigma.ravel(), rho.ravel()])
    assert any(np.array_equal(ours, e) for e in equilibria)
    # no pure equilibrium induces more distinct actions on the path than ours has intervals
    most = 0
    for e in equilibria:
        s, r = split(game, e)
        on_path = {int(np.argmax(r[m])) for m in np.flatnonzero(s.sum(axis=0) > 0)}
        most = max(most, len(on_path))
    assert most == eq.n_intervals


@needs_gambit
@pytest.mark.parametrize("bias", [0.5, 1.2, 2.0, 5.0])
def test_mixed_partition_profile_has_zero_agent_regret_in_gambit(bias):
    game = crawford_sobel(bias=bias)
    eq = most_informative_equilibrium(game)
    profile = behavior_profile(to_gambit(game), eq.sender, eq.receiver)
    assert float(profile.agent_max_regret()) < 1e-9


@needs_gambit
def test_binary_deception_gambit_has_no_informative_pure_equilibrium():
    game = binary_deception()
    equilibria = gbt.nash.enumpure_agent_solve(to_gambit(game)).equilibria
    assert equilibria
    for e in equilibria:
        s, r = split(game, profile_vector(e))
        on_path = {int(np.argmax(r[m])) for m in np.flatnonzero(s.sum(axis=0) > 0)}
        assert len(on_path) == 1


# ------------------------------------------------------------------------- the model
def test_registry_and_parameters():
    model = get_model("equilibrium")
    assert isinstance(model, Equilibrium)
    assert model.name == "equilibrium" and model.description
    game = crawford_sobel(bias=1.2)
    assert model.parameter_names() == ("lambda_s", "lambda_r")
    assert set(model.default_params(game)) == {"lambda_s", "lambda_r"}
    babbling = crawford_sobel(bias=4.0)
    # the names never depend on the game; lambda_s is inert where the equilibrium babbles
    assert model.parameter_names() == ("lambda_s", "lambda_r")
    assert model.inert_parameters(game) == frozenset()
    assert model.inert_parameters(babbling) == {"lambda_s"}
    assert Equilibrium(selection="babbling").inert_parameters(game) == {"lambda_s"}


def test_noisy_strategies():
    game = crawford_sobel(bias=1.2)
    eq = most_informative_equilibrium(game)
    model = Equilibrium()
    pred = model.predict(game, {"lambda_s": 0.4, "lambda_r": 0.2})
    (ty,) = pred.types
    assert ty.weight == 1.0
    np.testing.assert_allclose(ty.sender, logit(game.sender_values(eq.receiver), 0.4))
    np.testing.assert_allclose(ty.receiver, logit(game.receiver_values(eq.belief), 0.2))
    # messages of one interval are used equally often: they keep their equilibrium meaning
    np.testing.assert_allclose(ty.sender[:, 0], ty.sender[:, 1])
    np.testing.assert_allclose(ty.sender[:, 2], ty.sender[:, 4])
    # lambda = 0: uniform; large lambda: the equilibrium itself
    flat = model.predict(game, {"lambda_s": 0.0, "lambda_r": 0.0})
    np.testing.assert_allclose(flat.sender, 1 / game.n_messages)
    np.testing.assert_allclose(flat.receiver, 1 / game.n_actions)
    sharp = model.predict(game, {"lambda_s": 50.0, "lambda_r": 50.0})
    np.testing.assert_allclose(sharp.sender, eq.sender, atol=1e-12)
    np.testing.assert_allclose(sharp.receiver, eq.receiver, atol=1e-12)


def test_babbling_receiver_uses_the_prior():
    game = crawford_sobel(bias=1.2)
    pred = Equilibrium(selection="babbling").predict(game, {"lambda_s": 2.0, "lambda_r": 0.3})
    np.testing.assert_allclose(pred.sender, 0.2)
    np.testing.assert_allclose(pred.receiver,
                               np.tile(logit(game.prior_values(), 0.3), (game.n_messages, 1)))
    assert pred.types[0].name == "babbling"


@pytest.mark.parametrize(("params", "message"), [
    ({"lambda_s": -1.0, "lambda_r": 1.0}, "lambda_s must be a finite number >= 0"),
    ({"lambda_s": 1.0, "lambda_r": np.inf}, "lambda_r must be a finite number >= 0"),
    ({"lambda_s": 1.0, "lambda_r": 1.0, "tau": 1.0}, "unknown parameter"),
    ({"lambda_s": 1.0}, "missing parameter"),
    ({"lambda_s": "x", "lambda_r": 1.0}, "must be a number"),
])
def test_parameter_errors(params, message):
    with pytest.raises(ParameterError, match=message):
        Equilibrium().predict(crawford_sobel(bias=1.2), params)


def test_lambda_s_is_required_but_inert_in_a_babbling_game():
    """SPEC §3.5: the same names in every game; in a babbling one lambda_s moves nothing."""
    game = crawford_sobel(bias=4.0)
    with pytest.raises(ParameterError, match=r"missing parameter.*lambda_s"):
        Equilibrium().predict(game, {"lambda_r": 1.0})
    low = Equilibrium().predict(game, {"lambda_s": 0.1, "lambda_r": 1.0})
    high = Equilibrium().predict(game, {"lambda_s": 50.0, "lambda_r": 1.0})
    np.testing.assert_array_equal(low.sender, high.sender)
    np.testing.assert_array_equal(low.receiver, high.receiver)
    # where it is not inert, it moves the sender
    informative = crawford_sobel(bias=1.2)
    assert not np.allclose(
        Equilibrium().predict(informative, {"lambda_s": 0.1, "lambda_r": 1.0}).sender,
        Equilibrium().predict(informative, {"lambda_s": 50.0, "lambda_r": 1.0}).sender)


def test_bad_option():
    with pytest.raises(ValueError, match="selection"):
        Equilibrium(selection="best")


def test_the_search_runs_once_per_game_across_copies(monkeypatch):
    """A game sent to a worker process arrives as a copy: the equilibrium searched for the
    original is reused (cached by the game's fingerprint), and a different game is searched."""
    import pickle

    from cheaptalk.games import crawford_sobel
    from cheaptalk.models import equilibrium as eq_module

    calls = []
    search = eq_module._search
    monkeypatch.setattr(eq_module, "_CACHE", {})
    monkeypatch.setattr(eq_module, "_search", lambda g: calls.append(g) or search(g))
    game = crawford_sobel(bias=0.7)
    first = eq_module.most_informative_equilibrium(game)
    copy = pickle.loads(pickle.dumps(game))
    assert copy is not game
    assert eq_module.most_informative_equilibrium(copy) is first
    assert len(calls) == 1
    eq_module.most_informative_equilibrium(crawford_sobel(bias=1.3))
    assert len(calls) == 2


# ---- sizes are checked before memory is allocated (MAX_FLOATS)
def test_a_search_too_large_is_refused_before_allocating(monkeypatch):
    from cheaptalk.models import equilibrium as eq_module
    from helpers import peak_allocation

    monkeypatch.setattr(eq_module, "_CACHE", {})
    # 500 states: 125250 intervals x (4 x 500 + 2 x 500 + 16) numbers, over 2**28; the
    # game's own tables are 250000 cells
    game = crawford_sobel(bias=0.5, states=range(500), actions=range(500))
    error, peak = peak_allocation(Equilibrium().predict, game,
                                  {"lambda_s": 1.0, "lambda_r": 1.0})
    assert isinstance(error, ParameterError), error
    assert str(error).startswith("equilibrium: the partition search over 125250 intervals "
                                 "of a 500x500x500 game needs 3.8e+08 numbers"), error
    assert peak < 20e6  # the interval table alone would be 0.5 GB
    assert not eq_module._CACHE
    # the babbling selection does not search: the same game is fine
    pred = Equilibrium("babbling").predict(game, {"lambda_s": 1.0, "lambda_r": 1.0})
    assert pred.types[0].name == "babbling"


def test_bundled_games_search_far_below_the_limit(monkeypatch):
    from cheaptalk.models import _common
    from cheaptalk.models.equilibrium import check_search_size

    monkeypatch.setattr(_common, "MAX_FLOATS", _common.MAX_FLOATS // 8)
    for game in (forecast_sharing(), crawford_sobel(), binary_deception()):
        check_search_size(game)   # 201 states: 20301 intervals x 1362 numbers

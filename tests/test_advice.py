"""Decision support (SPEC §6), checked against a brute-force posterior written here with
plain loops over types, rounds, states and actions (not the package's code path)."""

from __future__ import annotations

import itertools
import re

import numpy as np
import pytest

from cheaptalk.advice import (
    PartnerHistory,
    advise,
    advise_game,
    advise_sender_game,
    effective_trust,
    history_from_values,
    trust_interval,
)
from cheaptalk.data import InputError
from cheaptalk.games import crawford_sobel, forecast_sharing
from cheaptalk.models import available_models, get_model

FORECAST = forecast_sharing(step=25, noise=20, capacity_cost=0.25)
CRAWFORD_SOBEL = crawford_sobel(bias=1.2)
GAMES = {"forecast_step25": FORECAST, "crawford_sobel": CRAWFORD_SOBEL}
EPSILON = 0.01


# --------------------------------------------------------------------- brute force
def _feedback_density(noise, y, t):
    if noise == 0:
        return 1.0 if abs(y - t) < 1e-9 else 0.0
    return 1.0 / (2 * noise) if abs(y - t) <= noise + 1e-6 else 0.0


def _brute_force(game, prediction, history, report_value, epsilon):
    """Type posterior, state posterior, action values and best actions, by loops."""
    states, prior = list(game.states), list(game.prior)
    messages, actions = list(game.messages), list(game.actions)
    u_r = game.receiver_payoff
    n_m = len(messages)
    types = [(ty.weight, ty.sender) for ty in prediction.types if ty.sender is not None]
    total = sum(w for w, _ in types)

    def trembled(sigma, t, m):
        return (1 - epsilon) * sigma[t][m] + epsilon / n_m

    posterior = []
    for w, sigma in types:
        likelihood = w / total
        for message_value, y in history:
            m = messages.index(message_value)
            s = 0.0
            for t, state in enumerate(states):
                s += prior[t] * trembled(sigma, t, m) * _feedback_density(
                    game.feedback_noise, y, state)
            likelihood *= s
        posterior.append(likelihood)
    norm = sum(posterior)
    posterior = [p / norm for p in posterior]

    m_star = messages.index(report_value)
    q = []
    for t in range(len(states)):
        q.append(sum(p * prior[t] * trembled(sigma, t, m_star)
                     for p, (_, sigma) in zip(posterior, types, strict=True)))
    q = [x / sum(q) for x in q]

    def value(belief, a):
        return sum(belief[t] * u_r[t][a] for t in range(len(states)))

    def best(belief):
        vals = [value(belief, a) for a in range(len(actions))]
        top = max(vals)
        tied = [a for a in range(len(actions)) if vals[a] >= top - 1e-9 * (1 + abs(top))]
        return min(tied, key=lambda a: actions[a])

    literal = [0.0] * len(states)
    nearest = min(range(len(states)), key=lambda t: (abs(states[t] - report_value), t))
    literal[nearest] = 1.0
    chosen = best(q)
    face, ignore = best(literal), best(prior)
    return {"posterior": posterior, "state": q, "action": actions[chosen],
            "payoff": value(q, chosen), "face": actions[face], "face_payoff": value(q, face),
            "ignore": actions[ignore], "ignore_payoff": value(q, ignore)}


def _random_history(game, rounds, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(rounds):
        t = rng.integers(game.n_states)
        m = rng.integers(game.n_messages)
        y = game.states[t] + (round(rng.uniform(-1, 1) * game.feedback_noise, 2)
                              if game.feedback_noise else 0.0)
        out.append((float(game.messages[m]), float(y)))
    return out


def _as_history(game, pairs):
    return history_from_values(game, [m for m, _ in pairs], [y for _, y in pairs])


# ------------------------------------------------------------------- against it
@pytest.mark.parametrize("model_name", ["trust", "levelk", "combination"])
@pytest.mark.parametrize("game_name", list(GAMES))
@pytest.mark.parametrize("rounds", [0, 1, 6])
def test_advice_equals_brute_force(model_name, game_name, rounds):
    game = GAMES[game_name]
    model = get_model(model_name)
    prediction = model.predict(game, model.default_params(game))
    pairs = _random_history(game, rounds, seed=rounds + 7)
    for report in (0, game.n_messages // 2, game.n_messages - 1):
        value = float(game.messages[report])
        advice = advise_game(game, prediction, report, _as_history(game, pairs), EPSILON,
                             model)
        truth = _brute_force(game, prediction, pairs, value, EPSILON)
        assert advice.action == truth["action"]
        assert advice.expected_payoff == pytest.approx(truth["payoff"], abs=1e-6)
        assert advice.face_value_action == truth["face"]
        assert advice.face_value_payoff == pytest.approx(truth["face_payoff"], abs=1e-6)
        assert advice.ignore_action == truth["ignore"]
        assert advice.ignore_payoff == pytest.approx(truth["ignore_payoff"], abs=1e-6)
        np.testing.assert_allclose(advice.posterior.weights, truth["posterior"], atol=1e-9)
        np.testing.assert_allclose(advice.state_posterior.probabilities, truth["state"],
                                   atol=1e-9)
        # The response curve holds the same advice at this report.
        row = advice.response.iloc[report]
        assert row["action"] == truth["action"]
        assert row["expected_payoff"] == pytest.approx(truth["payoff"], abs=1e-6)


@pytest.mark.parametrize("model_name", list(available_models()))
@pytest.mark.parametrize("game_name", list(GAMES))
def test_every_model_against_brute_force(model_name, game_name):
    """Every registered model: the advice after a short record equals the brute force."""
    game = GAMES[game_name]
    model = get_model(model_name)
    prediction = model.predict(game, model.default_params(game))
    pairs = _random_history(game, 3, seed=11)
    report = game.n_messages - 2
    advice = advise_game(game, prediction, report, _as_history(game, pairs), EPSILON, model)
    truth = _brute_force(game, prediction, pairs, float(game.messages[report]), EPSILON)
    assert advice.action == truth["action"]
    assert advice.expected_payoff == pytest.approx(truth["payoff"], abs=1e-6)


@pytest.mark.parametrize("model_name", ["trust", "levelk", "combination"])
def test_no_history_gives_population_weights(model_name):
    game = CRAWFORD_SOBEL
    model = get_model(model_name)
    prediction = model.predict(game, model.default_params(game))
    advice = advise_game(game, prediction, 3, None, EPSILON, model)
    senders = [ty for ty in prediction.types if ty.sender is not None]
    weights = np.array([ty.weight for ty in senders])
    np.testing.assert_allclose(advice.posterior.weights, weights / weights.sum(), atol=1e-12)
    assert advice.posterior.family_weights() == pytest.approx(
        advice.posterior.family_weights(posterior=False))
    assert advice.rounds == 0


def test_level_probabilities_are_family_sums():
    game = FORECAST
    model = get_model("combination")
    prediction = model.predict(game, model.default_params(game))
    pairs = _random_history(game, 4, seed=3)
    advice = advise_game(game, prediction, 5, _as_history(game, pairs), EPSILON, model)
    truth = _brute_force(game, prediction, pairs, float(game.messages[5]), EPSILON)
    senders = [ty for ty in prediction.types if ty.sender is not None]
    by_family = {}
    for ty, p in zip(senders, truth["posterior"], strict=True):
        by_family[ty.family] = by_family.get(ty.family, 0.0) + p
    got = advice.posterior.family_weights()
    assert set(got) == set(by_family) == {"L0", "L1", "L2", "L3", "trustworthy"}
    for family, p in by_family.items():
        assert got[family] == pytest.approx(p, abs=1e-9)
    assert list(got) == ["L0", "L1", "L2", "L3", "trustworthy"]   # the model's order


def _beta_from_name(name):
    found = re.search(r"beta=([0-9.eE+-]+)", name)
    return float(found.group(1))


def test_median_lying_cost_against_type_names():
    """The posterior median lying cost: the weighted median of the β that each trust sender
    type's name states (an independent reading of the nodes)."""
    game = FORECAST
    model = get_model("trust")
    prediction = model.predict(game, model.default_params(game))
    honest = [(float(t), float(t) + 3.0) for t in game.states[1:8]]
    advice = advise_game(game, prediction, 4, _as_history(game, honest), EPSILON, model)
    truth = _brute_force(game, prediction, honest, float(game.messages[4]), EPSILON)
    senders = [ty for ty in prediction.types if ty.sender is not None]
    pairs = sorted((_beta_from_name(ty.name), p)
                   for ty, p in zip(senders, truth["posterior"], strict=True))
    cumulative = np.cumsum([p for _, p in pairs])
    beta = pairs[int(np.argmax(cumulative >= 0.5))][0]
    medians = advice.posterior.medians()["lying_cost"]
    assert medians["posterior"] == pytest.approx(beta, rel=1e-3)
    # An honest record raises the lying cost above the population's median.
    assert medians["posterior"] > medians["prior"]


# ------------------------------------------------------------ direction of the advice
FINE = forecast_sharing(step=5, noise=20, capacity_cost=0.25)
#: Population parameters where the advice without a record lies strictly between ignoring
#: the report and taking it at face value (room to move either way).
SPREAD = {"trust": {"beta_sigma": 2.0}, "levelk": {}, "combination": {"beta_sigma": 2.0}}


def _repeated(rounds, inflate, forecast=150.0):
    """``rounds`` rounds of the same evidence: forecast 150 reported as 150 + ``inflate``,
    demand 155."""
    return _as_history(FINE, [(forecast + inflate, forecast + 5.0)] * rounds)


def _path(model_name, inflate, report_value):
    model = get_model(model_name)
    params = {**model.default_params(FINE), **SPREAD[model_name]}
    prediction = model.predict(FINE, params)
    report = int(np.flatnonzero(FINE.messages == report_value)[0])
    return [advise_game(FINE, prediction, report, _repeated(rounds, inflate), EPSILON, model)
            for rounds in range(9)]


def _steps(values):
    return list(itertools.pairwise(values))


@pytest.mark.parametrize("report", [200.0, 230.0])
@pytest.mark.parametrize("model_name", ["trust", "levelk", "combination"])
def test_honest_record_moves_toward_face_value(model_name, report):
    path = _path(model_name, 0.0, report)
    gaps = [abs(a.action - a.face_value_action) for a in path]
    assert all(later <= earlier for earlier, later in _steps(gaps)), gaps
    assert gaps[-1] < gaps[0], gaps
    trusts = [a.effective_trust for a in path]
    assert all(later >= earlier for earlier, later in _steps(trusts)), trusts


@pytest.mark.parametrize("report", [200.0, 230.0])
@pytest.mark.parametrize("model_name", ["trust", "combination"])
def test_inflating_record_moves_away_from_face_value(model_name, report):
    gaps = [abs(a.action - a.face_value_action) for a in _path(model_name, 50.0, report)]
    assert all(later >= earlier for earlier, later in _steps(gaps)), gaps
    assert gaps[-1] > gaps[0], gaps


@pytest.mark.parametrize("report", [200.0, 230.0])
def test_inflating_record_under_levelk(report):
    """Level-k: the truthful level loses probability with every inflated round and every
    record advises further from face value than no record. The action itself need not move
    monotonically: as evidence piles up the posterior settles on the one lying level that
    best explains it, whose reports are discounted differently from the mixture's."""
    path = _path("levelk", 50.0, report)
    truthful = [a.posterior.family_weights()["L0"] for a in path]
    assert all(later < earlier for earlier, later in _steps(truthful)), truthful
    gaps = [abs(a.action - a.face_value_action) for a in path]
    assert all(gap > gaps[0] for gap in gaps[1:]), gaps


# ------------------------------------------------------------------ effective trust
def _best_response_at(game, report, alpha):
    belief = alpha * game.literal[report] + (1 - alpha) * game.prior
    values = [sum(belief[t] * game.receiver_payoff[t][a] for t in range(game.n_states))
              for a in range(game.n_actions)]
    top = max(values)
    return min((a for a in range(game.n_actions) if values[a] >= top - 1e-9 * (1 + abs(top))),
               key=lambda a: game.actions[a])


@pytest.mark.parametrize("game_name", list(GAMES))
def test_trust_intervals_against_a_scan(game_name):
    """Inside an action's interval the §3.3 receiver plays it; just outside it does not; an
    action with no interval is never played along a fine scan of α."""
    game = GAMES[game_name]
    for report in (0, game.n_messages // 2, game.n_messages - 1):
        scanned = {_best_response_at(game, report, a) for a in np.linspace(0, 1, 401)}
        for action in range(game.n_actions):
            found = trust_interval(game, report, action)
            if found is None:
                assert action not in scanned
                continue
            lo, hi = found
            if hi - lo > 1e-6:
                for alpha in np.linspace(lo, hi, 7)[1:-1]:
                    assert _best_response_at(game, report, alpha) == action
                if lo > 1e-6:
                    assert _best_response_at(game, report, lo - 1e-6) != action
                if hi < 1 - 1e-6:
                    assert _best_response_at(game, report, hi + 1e-6) != action


def test_effective_trust_ends_and_nearest():
    game = CRAWFORD_SOBEL                 # report 9 (index 4): ignore 5, face value 9
    face = effective_trust(game, 4, 8)
    ignore = effective_trust(game, 4, 4)
    assert face.exact and face.range[1] == 1.0 and face.alpha > 0.5
    assert ignore.exact and ignore.range[0] == 0.0 and ignore.alpha < 0.5
    below = effective_trust(game, 4, 1)   # action 2: below what any trust gives
    assert not below.exact and below.alpha == 0.0 and below.action == 5.0
    assert below.reachable == (5.0, 9.0)


# ----------------------------------------------------------------------- sender side
@pytest.mark.parametrize("model_name", ["trust", "levelk"])
def test_sender_side_against_loops(model_name):
    game = CRAWFORD_SOBEL
    model = get_model(model_name)
    prediction = model.predict(game, model.default_params(game))
    receivers = [(ty.weight, ty.receiver) for ty in prediction.types if ty.receiver is not None]
    total = sum(w for w, _ in receivers)
    for state in range(game.n_states):
        advice = advise_sender_game(game, prediction, state, EPSILON, model)
        earned = []
        for m in range(game.n_messages):
            v = 0.0
            for w, rho in receivers:
                for a in range(game.n_actions):
                    p = (1 - EPSILON) * rho[m][a] + EPSILON / game.n_actions
                    v += w / total * p * game.sender_payoff[state][a]
            earned.append(v)
        np.testing.assert_allclose(advice.reports["expected_payoff"], earned, atol=1e-9)
        assert advice.best_payoff == pytest.approx(max(earned), abs=1e-9)
        assert advice.truthful_report == game.states[state]
        assert advice.cost_of_truth == pytest.approx(max(earned) - earned[state], abs=1e-9)


# ------------------------------------------------------------------------ bad input
def test_history_values_are_checked():
    with pytest.raises(InputError, match="row 2, column 'message': message 260 is outside"):
        history_from_values(FORECAST, [50, 260], [50, 60])
    with pytest.raises(InputError, match="message 60 is not on the grid"):
        history_from_values(FORECAST, [60], [60])
    with pytest.raises(InputError, match="column 'feedback': feedback 300 cannot be"):
        history_from_values(FORECAST, [250], [300])
    with pytest.raises(InputError, match="feedback 4 cannot be feedback: it is not a state"):
        history_from_values(CRAWFORD_SOBEL, [3], [4])


def test_impossible_record_without_tremble():
    game = CRAWFORD_SOBEL
    model = get_model("levelk", levels=1)
    params = {"p0": 1.0, "p1": 0.0, "lambda_s": np.inf, "lambda_r": np.inf}
    prediction = model.predict(game, params)           # only truthful senders
    record = history_from_values(game, [9], [1])        # a lie
    with pytest.raises(InputError, match="probability 0 under every sender type"):
        advise_game(game, prediction, 2, record, 0.0, model)
    assert advise_game(game, prediction, 2, record, 0.01, model).rounds == 1


def test_public_call_checks_the_report():
    with pytest.raises(InputError, match="message 10 is outside the range"):
        advise("crawford_sobel", "levelk", None, "d05", None, 10)
    with pytest.raises(InputError, match=r"report 60\.5 is not on the grid"):
        advise("forecast_sharing", "levelk", None, "LL", None, 60.5)


def test_public_call_matches_the_game_level():
    game = crawford_sobel(bias=0.5)
    model = get_model("trust")
    pairs = [(9.0, 5.0), (7.0, 7.0)]
    a = advise("crawford_sobel", "trust", None, "d05", pairs, 7)
    b = advise_game(game, model.predict(game, model.default_params(game)), 3,
                    PartnerHistory(np.array([4, 3]), np.array([5.0, 7.0])), 1e-3, model)
    assert (a.action, a.expected_payoff) == (b.action, pytest.approx(b.expected_payoff))
    assert a.treatment == "d05" and a.names == ("state", "message", "action")
    text = a.summary()
    assert "after 2 rounds" in text and f"Recommended action: {a.action:.0f}" in text


def test_ties_go_to_the_lower_action():
    """A babbling partner in a symmetric game leaves the receiver indifferent: the lower
    action value wins, whatever the order of the actions."""
    from cheaptalk.games.base import Game
    from cheaptalk.models import Prediction, Type

    for actions, payoff in (([0.0, 1.0], [[6.0, 5.0], [5.0, 6.0]]),
                            ([1.0, 0.0], [[5.0, 6.0], [6.0, 5.0]])):
        game = Game(states=[0, 1], prior=[0.5, 0.5], messages=[0, 1], actions=actions,
                    sender_payoff=payoff, receiver_payoff=payoff)
        babbling = Prediction(game, (Type("babbling", 1.0, sender=np.full((2, 2), 0.5)),))
        advice = advise_game(game, babbling, 1, _as_history(game, [(1.0, 0.0)]), EPSILON)
        assert advice.action == advice.ignore_action == 0.0
        assert advice.face_value_action == 1.0
        assert advice.expected_payoff == pytest.approx(5.5)


def test_combination_median_is_among_its_trust_types():
    """In a mixture the lying cost describes only the trust-embedded senders: the median
    is taken among them, with their posterior weights renormalised."""
    game = CRAWFORD_SOBEL
    model = get_model("combination")
    prediction = model.predict(game, model.default_params(game))
    pairs = [(9.0, 9.0), (7.0, 7.0), (5.0, 5.0)]
    advice = advise_game(game, prediction, 2, _as_history(game, pairs), EPSILON, model)
    truth = _brute_force(game, prediction, pairs, 5.0, EPSILON)
    senders = [ty for ty in prediction.types if ty.sender is not None]
    trust = sorted((_beta_from_name(ty.name), p) for ty, p in
                   zip(senders, truth["posterior"], strict=True) if ty.family == "trustworthy")
    cumulative = np.cumsum([p for _, p in trust]) / sum(p for _, p in trust)
    beta = trust[int(np.argmax(cumulative >= 0.5))][0]
    assert advice.posterior.medians()["lying_cost"]["posterior"] == pytest.approx(beta,
                                                                                 rel=1e-3)
    doc = advice.to_dict()
    assert doc["posterior"]["medians"]["lying_cost"]["posterior"] == pytest.approx(beta,
                                                                                   rel=1e-3)


def test_a_model_without_scales_or_families():
    """A model that declares nothing beyond its types (the test suite's toy model) gets
    advice too: one family per type name, no medians."""
    from toy_model import Toy

    game = CRAWFORD_SOBEL
    model = Toy()
    prediction = model.predict(game, model.default_params(game))
    advice = advise_game(game, prediction, 1, _as_history(game, [(3.0, 3.0)]), EPSILON, model)
    truth = _brute_force(game, prediction, [(3.0, 3.0)], 3.0, EPSILON)
    assert advice.action == truth["action"]
    assert advice.posterior.medians() == {}
    assert "Median" not in advice.summary()

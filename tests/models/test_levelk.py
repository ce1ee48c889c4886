"""Level-k and cognitive hierarchy (SPEC §3.2) against independent computations.

The reference strategies in this file are computed with plain Python loops over states,
messages and actions, with the payoff formulas written out here, not with the package's
array code.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cheaptalk.choice import logit
from cheaptalk.games import Game, crawford_sobel, expected_sales, forecast_sharing
from cheaptalk.models import ParameterError, get_model
from cheaptalk.models.levelk import CognitiveHierarchy, LevelK, hierarchy, poisson_shares

INF = math.inf

# ----------------------------------------------------------------------------------------
# Crawford–Sobel, bias 1.2 (Cai & Wang 2006 preset), written out by hand
# ----------------------------------------------------------------------------------------
CS_STATES = [1, 3, 5, 7, 9]
CS_ACTIONS = list(range(1, 10))
BIAS = 1.2


def cs_ur(t, a):
    return 110 - 10 * abs(t - a) ** 1.4


def cs_us(t, a):
    return 110 - 10 * abs(t + BIAS - a) ** 1.4


def argmax_uniform(values):
    """Uniform distribution over the keys attaining the maximum (ties within 1e-9)."""
    top = max(values.values())
    best = [k for k, v in values.items() if v >= top - 1e-9]
    return {k: (1 / len(best) if k in best else 0.0) for k in values}


def softmax(values, lam):
    top = max(values.values())
    e = {k: math.exp(lam * (v - top)) for k, v in values.items()}
    z = sum(e.values())
    return {k: v / z for k, v in e.items()}


def receiver_values(belief):
    """belief: dict state -> prob; returns dict action -> expected uR."""
    return {a: sum(belief[t] * cs_ur(t, a) for t in CS_STATES) for a in CS_ACTIONS}


def sender_values(rho, t):
    """rho: dict message -> dict action -> prob; returns dict message -> expected uS."""
    return {m: sum(p * cs_us(t, a) for a, p in rho[m].items()) for m in CS_STATES}


def posterior(sigma, m):
    """sigma: dict state -> dict message -> prob; uniform prior; prior if off path."""
    joint = {t: 0.2 * sigma[t][m] for t in CS_STATES}
    total = sum(joint.values())
    if total == 0:
        return {t: 0.2 for t in CS_STATES}
    return {t: v / total for t, v in joint.items()}


def mix(weights, strategies):
    out = {}
    for x in strategies[0]:
        out[x] = {y: sum(w * s[x][y] for w, s in zip(weights, strategies, strict=True))
                  for y in strategies[0][x]}
    return out


def reference_hierarchy(levels, beliefs=None, lam_s=INF, lam_r=INF):
    """Loop implementation: noisy and noiseless strategies of levels 0..K."""
    truthful = {t: {m: float(m == t) for m in CS_STATES} for t in CS_STATES}
    literal = {m: {t: float(t == m) for t in CS_STATES} for m in CS_STATES}
    choose_r = (lambda v: argmax_uniform(v)) if lam_r == INF else (lambda v: softmax(v, lam_r))
    choose_s = (lambda v: argmax_uniform(v)) if lam_s == INF else (lambda v: softmax(v, lam_s))
    sig_t, rho_t = [truthful], [{m: argmax_uniform(receiver_values(literal[m]))
                                 for m in CS_STATES}]
    sig, rho = [truthful], [{m: choose_r(receiver_values(literal[m])) for m in CS_STATES}]
    for k in range(1, levels + 1):
        w = [1.0] if beliefs is None else beliefs[k]
        lower = slice(k - 1, k) if beliefs is None else slice(0, k)
        rho_mix = mix(w, rho_t[lower])
        sig_mix = mix(w, sig_t[lower])
        vs = {t: sender_values(rho_mix, t) for t in CS_STATES}
        vr = {m: receiver_values(posterior(sig_mix, m)) for m in CS_STATES}
        sig_t.append({t: argmax_uniform(vs[t]) for t in CS_STATES})
        rho_t.append({m: argmax_uniform(vr[m]) for m in CS_STATES})
        sig.append({t: choose_s(vs[t]) for t in CS_STATES})
        rho.append({m: choose_r(vr[m]) for m in CS_STATES})
    return sig, rho


def as_array(strategy, rows, cols):
    return np.array([[strategy[r][c] for c in cols] for r in rows])


def test_reference_loops_match_hand_derivation():
    """Hand derivation (bias 1.2, |.|^1.4 loss, uniform prior):

    * L0 receiver believes the message: action = message value.
    * L1 sender wants action t + 1.2 against a = m: message t + 2 (distance 0.8 beats 1.2),
      capped at 9. L1 receiver = L0 receiver (a truthful sender's posterior is literal).
    * L2 sender = L1 sender (it faces the same receiver). L2 receiver inverts L1: m = 3, 5, 7
      come from t = 1, 3, 5; m = 9 from t in {7, 9} (best action 8, midway); m = 1 is never
      sent, so the prior gives action 5.
    * L3 sender faces actions (5, 1, 3, 5, 8) for messages (1, 3, 5, 7, 9). Target 2.2 → a = 3
      (m = 5); 4.2 → a = 5 (m = 1 or 7: tie, split); 6.2 → a = 5 (1.2 beats 1.8 for a = 8;
      m = 1 or 7, split); 8.2 and 10.2 → a = 8 (m = 9). L3 receiver = L2 receiver.
    """
    sig, rho = reference_hierarchy(3)
    l1 = {1: 3, 3: 5, 5: 7, 7: 9, 9: 9}
    assert all(sig[1][t][l1[t]] == 1.0 for t in CS_STATES)
    assert sig[2] == sig[1]
    l2 = {1: 5, 3: 1, 5: 3, 7: 5, 9: 8}
    assert all(rho[2][m][l2[m]] == 1.0 for m in CS_STATES)
    assert rho[3] == rho[2]
    assert sig[3][1][5] == 1.0
    assert sig[3][3] == {1: 0.5, 3: 0.0, 5: 0.0, 7: 0.5, 9: 0.0}
    assert sig[3][5] == {1: 0.5, 3: 0.0, 5: 0.0, 7: 0.5, 9: 0.0}
    assert sig[3][7][9] == 1.0 and sig[3][9][9] == 1.0


@pytest.mark.parametrize("lam_s,lam_r", [(INF, INF), (0.3, 0.05), (2.0, INF)])
def test_crawford_sobel_levels_match_loop_reference(lam_s, lam_r):
    game = crawford_sobel(bias=1.2)
    model = LevelK(levels=3)
    params = {"p0": 0.1, "p1": 0.4, "p2": 0.3, "p3": 0.2, "lambda_s": lam_s, "lambda_r": lam_r}
    pred = model.predict(game, params)
    sig, rho = reference_hierarchy(3, lam_s=lam_s, lam_r=lam_r)
    assert [t.name for t in pred.types] == ["L0", "L1", "L2", "L3"]
    for k, ty in enumerate(pred.types):
        np.testing.assert_allclose(ty.sender, as_array(sig[k], CS_STATES, CS_STATES),
                                   atol=1e-12)
        np.testing.assert_allclose(ty.receiver, as_array(rho[k], CS_STATES, CS_ACTIONS),
                                   atol=1e-12)
        assert ty.weight == params[f"p{k}"]
    expected_pop = sum(params[f"p{k}"] * as_array(rho[k], CS_STATES, CS_ACTIONS)
                       for k in range(4))
    np.testing.assert_allclose(pred.receiver, expected_pop, atol=1e-12)


@pytest.mark.parametrize("tau", [0.5, 1.0, 2.5])
def test_cognitive_hierarchy_matches_loop_reference(tau):
    game = crawford_sobel(bias=1.2)
    f = [math.exp(-tau) * tau**j / math.factorial(j) for j in range(4)]
    beliefs = {k: [f[j] / sum(f[:k]) for j in range(k)] for k in range(1, 4)}
    sig, rho = reference_hierarchy(3, beliefs=beliefs, lam_s=0.7, lam_r=INF)
    pred = CognitiveHierarchy(levels=3).predict(game, {"tau": tau, "lambda_s": 0.7,
                                                       "lambda_r": INF})
    for k, ty in enumerate(pred.types):
        np.testing.assert_allclose(ty.sender, as_array(sig[k], CS_STATES, CS_STATES),
                                   atol=1e-12)
        np.testing.assert_allclose(ty.receiver, as_array(rho[k], CS_STATES, CS_ACTIONS),
                                   atol=1e-12)
        assert ty.weight == pytest.approx(f[k] / sum(f))


def test_ch_level2_receiver_by_hand():
    # tau = 1: level 2 believes L0 and L1 senders in equal proportion. After m = 9 the
    # senders are L1 types at t = 7, 9 (prob 1 each) and the L0 type at t = 9: posterior
    # (t=7: 1/3, t=9: 2/3). Expected loss at a = 8: (1 + 2 * 1) / 3 = 1; at a = 9:
    # 2^1.4 / 3 = 0.88; at a = 7: 2 * 2^1.4 / 3 = 1.76. So action 9.
    pred = CognitiveHierarchy(levels=2).predict(
        crawford_sobel(bias=1.2), {"tau": 1.0, "lambda_s": INF, "lambda_r": INF})
    loss = {a: (abs(7 - a) ** 1.4) / 3 + 2 * (abs(9 - a) ** 1.4) / 3 for a in CS_ACTIONS}
    best = min(loss, key=loss.get)
    assert best == 9
    assert pred.types[2].receiver[4, best - 1] == 1.0
    # m = 1 is sent only by the L0 type at t = 1: action 1.
    assert pred.types[2].receiver[0, 0] == 1.0


# ----------------------------------------------------------------------------------------
# Forecast sharing, treatment LL (xi 50..250, e = 20, c_k = 0.25)
# ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def forecast():
    game = forecast_sharing()
    pred = LevelK(levels=3).predict(game, {"p0": 0.25, "p1": 0.25, "p2": 0.25, "p3": 0.25,
                                           "lambda_s": INF, "lambda_r": INF})
    return game, pred


def credulous_capacity(report, noise=20.0, cost=0.25):
    """Best capacity on the grid 0..270 if demand were report + U[-e, e] (loop)."""
    caps = np.arange(0, 271)
    profit = expected_sales(report, caps, noise) - cost * caps
    return int(caps[np.argmax(profit)])


def test_l1_manufacturer_reports_where_capacity_no_longer_helps(forecast):
    game, pred = forecast
    sigma1 = pred.types[1].sender
    noise = 20.0
    for i, xi in enumerate(game.states):
        support = game.messages[sigma1[i] > 0]
        caps = np.array([credulous_capacity(m) for m in support])
        sales = expected_sales(xi, caps, noise)
        if xi + noise <= 260:  # a report exists whose credulous capacity covers xi + e
            assert np.all(caps >= xi + noise), xi
            # ... where more capacity adds no sales: S(xi, K) = xi, and S(xi, K + 1) = xi.
            np.testing.assert_allclose(sales, xi)
            np.testing.assert_allclose(expected_sales(xi, caps + 1, noise), xi)
            # and *every* such report is used (ties split evenly): m >= xi + 10
            np.testing.assert_array_equal(support, np.arange(xi + 10, 251))
            np.testing.assert_allclose(sigma1[i][sigma1[i] > 0], 1 / support.size)
        else:  # the highest report gives the largest capacity available
            np.testing.assert_array_equal(support, [250.0])


def test_l1_suppliers_follow_reports_one_for_one(forecast):
    game, pred = forecast
    mean_cap = pred.types[1].receiver @ game.actions
    # Credulous newsvendor capacity: K = m + e (1 - 2 c_k) = m + 10.
    np.testing.assert_allclose(mean_cap, game.messages + 10)
    assert credulous_capacity(137) == 147
    np.testing.assert_array_equal(pred.types[0].receiver, pred.types[1].receiver)


def test_l2_suppliers_discount_reports_in_forecast_game(forecast):
    """With bounded noise an L1 manufacturer is indifferent among all reports >= xi + 10, so
    a report m still reveals xi <= m - 10: the L2 supplier discounts reports (builds less
    than the credulous m + 10 and responds less than one-for-one) instead of ignoring them.
    Reports below 60 are never sent by L1 and get the prior."""
    game, pred = forecast
    k2 = pred.types[2].receiver @ game.actions
    m = game.messages
    on_path = m >= 60
    assert np.all(k2[on_path] <= m[on_path] + 10)
    assert np.ptp(k2[~on_path]) == 0  # off path: one prior-based capacity
    # the L2 posterior after m: xi in [50, m - 10] with weights 1 / (#reports L1 uses)
    j = int(np.flatnonzero(m == 150)[0])
    xi = np.arange(50, 141)
    w = 1 / (251 - (xi + 10))
    caps = np.arange(271)
    profit = [(w * (expected_sales(xi, c, 20) - 0.25 * c)).sum() / w.sum() for c in caps]
    assert k2[j] == caps[int(np.argmax(profit))]
    np.testing.assert_array_equal(pred.types[3].receiver, pred.types[2].receiver)


def test_l2_suppliers_ignore_reports_when_l1_reports_do_not_depend_on_forecast():
    """The SPEC §3.2 'L2+ suppliers ignore reports' case: when the manufacturer's payoff rises
    strictly with capacity, every L1 manufacturer sends the top report, so the L2 supplier's
    capacity distribution is the same after every report (prior after off-path reports,
    posterior = prior after the top one)."""
    base = forecast_sharing(step=5)
    game = Game(states=base.states, prior=base.prior, messages=base.messages,
                actions=base.actions, sender_payoff=np.broadcast_to(base.actions, (
                    base.n_states, base.n_actions)), receiver_payoff=base.receiver_payoff)
    pred = LevelK(levels=2).predict(game, {"p0": 0.2, "p1": 0.5, "p2": 0.3, "lambda_s": INF,
                                           "lambda_r": 0.2})
    assert np.all(pred.types[1].sender[:, -1] == 1.0)
    rho2 = pred.types[2].receiver
    np.testing.assert_allclose(rho2, np.broadcast_to(rho2[0], rho2.shape), atol=1e-14)


def test_uniform_level0_options():
    game = crawford_sobel()
    model = LevelK(levels=1, l0_sender="uniform", l0_receiver="uniform")
    pred = model.predict(game, {"p0": 0.5, "p1": 0.5, "lambda_s": 1.0, "lambda_r": 1.0})
    np.testing.assert_allclose(pred.types[0].sender, 1 / 5)
    np.testing.assert_allclose(pred.types[0].receiver, 1 / 9)
    # L1 receiver faces a uniform sender: posterior = prior after every message.
    np.testing.assert_allclose(pred.types[1].receiver,
                               np.broadcast_to(pred.types[1].receiver[0], (5, 9)))


def test_per_role_shares():
    game = crawford_sobel()
    model = LevelK(levels=2, shares="per_role")
    names = model.parameter_names()
    assert names == ("p0_s", "p1_s", "p2_s", "p0_r", "p1_r", "p2_r", "lambda_s", "lambda_r")
    params = {"p0_s": 0.2, "p1_s": 0.8, "p2_s": 0.0, "p0_r": 0.1, "p1_r": 0.1, "p2_r": 0.8,
              "lambda_s": 1.0, "lambda_r": 1.0}
    pred = model.predict(game, params)
    common = LevelK(levels=2).predict(game, {"p0": 1 / 3, "p1": 1 / 3, "p2": 1 / 3,
                                             "lambda_s": 1.0, "lambda_r": 1.0})
    w, _s, n = pred.role_types("sender")
    assert n == ["L0", "L1", "L2"] and w.tolist() == [0.2, 0.8, 0.0]
    np.testing.assert_allclose(pred.sender, 0.2 * common.types[0].sender
                               + 0.8 * common.types[1].sender)
    w, r, n = pred.role_types("receiver")
    assert w.tolist() == [0.1, 0.1, 0.8]
    np.testing.assert_allclose(r[2], common.types[2].receiver)
    assert set(model.default_params(game)) == set(names)


def test_registry_and_defaults():
    game = forecast_sharing(step=10)
    for name, cls in [("levelk", LevelK), ("ch", CognitiveHierarchy)]:
        model = get_model(name)
        assert isinstance(model, cls)
        params = model.default_params(game)
        assert tuple(params) == model.parameter_names()
        model.predict(game, params)
    assert LevelK().parameter_names() == ("p0", "p1", "p2", "p3", "lambda_s", "lambda_r")
    assert CognitiveHierarchy().parameter_names() == ("tau", "lambda_s", "lambda_r")
    np.testing.assert_allclose(poisson_shares(2.0, 3), np.array([1, 2, 2, 4 / 3]) / (19 / 3))


@pytest.mark.parametrize("model,params,match", [
    (LevelK(), {"p0": 0.5, "p1": 0.5, "p2": 0.1, "p3": 0.0, "lambda_s": 1, "lambda_r": 1},
     "sum to 1"),
    (LevelK(), {"p0": 1.2, "p1": -0.2, "p2": 0.0, "p3": 0.0, "lambda_s": 1, "lambda_r": 1},
     "p0 must lie in"),
    (LevelK(), {"p0": 1, "p1": 0, "p2": 0, "p3": 0, "lambda_s": -1, "lambda_r": 1},
     "lambda_s must be >= 0"),
    (LevelK(), {"p0": 1, "p1": 0, "p2": 0, "p3": 0, "lambda_s": 1, "lambda_r": -0.1},
     "lambda_r must be >= 0"),
    (LevelK(), {"p0": 1, "p1": 0, "p2": 0, "p3": 0, "lambda_s": 1, "lambda_r": 1, "x": 1},
     "unknown parameter.*x"),
    (LevelK(), {"p0": 1, "p1": 0, "p2": 0, "lambda_s": 1, "lambda_r": 1}, "missing.*p3"),
    (LevelK(levels=1, shares="per_role"),
     {"p0_s": 1, "p1_s": 0, "p0_r": 0.6, "p1_r": 0.6, "lambda_s": 1, "lambda_r": 1},
     "p0_r, p1_r must sum to 1"),
    (CognitiveHierarchy(), {"tau": 0.0, "lambda_s": 1, "lambda_r": 1}, "tau must be"),
    (CognitiveHierarchy(), {"tau": INF, "lambda_s": 1, "lambda_r": 1}, "tau must be"),
    (CognitiveHierarchy(), {"tau": 1, "lambda_s": -2, "lambda_r": 1}, "lambda_s"),
])
def test_parameter_errors(model, params, match):
    with pytest.raises(ParameterError, match=match):
        model.predict(crawford_sobel(), params)


@pytest.mark.parametrize("kwargs", [{"levels": 0}, {"levels": 1.5}, {"l0_sender": "liar"},
                                    {"l0_receiver": "x"}, {"shares": "each"}])
def test_option_errors(kwargs):
    with pytest.raises(ValueError):
        LevelK(**kwargs)


precision = st.one_of(st.floats(0, 20), st.just(INF))


@settings(max_examples=25, deadline=None)
@given(shares=st.lists(st.floats(0.01, 1), min_size=4, max_size=4), lam_s=precision,
       lam_r=precision, tau=st.floats(0.05, 6), bias=st.floats(0, 3))
def test_strategies_are_distributions(shares, lam_s, lam_r, tau, bias):
    game = crawford_sobel(bias=bias)
    small_forecast = forecast_sharing(step=25, noise=50)
    p = np.array(shares) / sum(shares)
    params = {f"p{k}": float(v) for k, v in enumerate(p)}
    params.update(lambda_s=lam_s, lambda_r=lam_r)
    for g in (game, small_forecast):
        for pred in (LevelK().predict(g, params),
                     CognitiveHierarchy().predict(g, {"tau": tau, "lambda_s": lam_s,
                                                      "lambda_r": lam_r})):
            for ty in pred.types:
                for s in (ty.sender, ty.receiver):
                    assert np.all(s >= 0)
                    np.testing.assert_allclose(s.sum(axis=1), 1.0, atol=1e-12)
            np.testing.assert_allclose(sum(t.weight for t in pred.types), 1.0, atol=1e-6)


@pytest.mark.parametrize(("options", "game_name", "inert"), [
    ({}, "cs", set()),
    ({"levels": 1, "l0_receiver": "uniform"}, "cs", {"lambda_s"}),
    ({"l0_sender": "uniform", "l0_receiver": "uniform"}, "cs", {"lambda_s"}),
    ({"l0_sender": "uniform", "l0_receiver": "uniform"}, "binary", {"lambda_s", "lambda_r"}),
    ({"levels": 2, "l0_receiver": "uniform"}, "cs", set()),
])
def test_inert_precisions_do_not_move_the_prediction(options, game_name, inert):
    """What is declared inert leaves every strategy unchanged (up to rounding); what is not
    declared inert moves some strategy."""
    from cheaptalk.games import binary_deception

    game = {"cs": crawford_sobel(bias=1.2), "binary": binary_deception()}[game_name]
    model = LevelK(**options)
    assert model.inert_parameters(game) == inert
    base = model.default_params(game)
    for name in ("lambda_s", "lambda_r"):
        a = model.predict(game, {**base, name: 0.05})
        b = model.predict(game, {**base, name: 5.0})
        same = all(np.allclose(getattr(x, r), getattr(y, r), atol=1e-12)
                   for x, y in zip(a.types, b.types, strict=True)
                   for r in ("sender", "receiver") if getattr(x, r) is not None)
        assert same == (name in inert), name


def test_noiseless_hierarchy_is_reused_and_matches_a_fresh_one():
    """Level-k's values and best responses are computed once per game and options (they do
    not depend on the precisions); a later call at other precisions gives what a fresh
    game gives, and the shared arrays cannot be written."""
    from cheaptalk.models.levelk import _NOISELESS

    game, fresh = crawford_sobel(bias=1.2), crawford_sobel(bias=1.2)
    first = hierarchy(game, 3, 0.5, 0.2)
    assert (3, "truthful", "credulous", None) in _NOISELESS[game]
    again = hierarchy(game, 3, 0.9, 0.1)
    assert again.sender_values[2] is first.sender_values[2]   # reused, not recomputed
    reference = hierarchy(fresh, 3, 0.9, 0.1)
    for a, b in zip(again.sender + again.receiver, reference.sender + reference.receiver,
                    strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(again.receiver[1],
                                  logit(reference.receiver_values[1], 0.1))
    with pytest.raises(ValueError, match="read-only"):
        first.receiver_values[1][0, 0] = 1.0
    uniform = hierarchy(game, 2, 0.5, 0.2, l0_receiver="uniform")
    assert uniform.receiver_values[0] is None and (
        2, "truthful", "uniform", None) in _NOISELESS[game]


def test_cognitive_hierarchy_reuses_the_noiseless_hierarchy_at_one_tau():
    """The inner fits of CH's profile search hold τ: evaluations at one τ share its noiseless
    hierarchy; another τ gets its own, equal to a fresh game's; a few recent τ are kept."""
    from cheaptalk.models.levelk import _BELIEF_ENTRIES, _NOISELESS

    model = CognitiveHierarchy(levels=3)
    game, fresh = crawford_sobel(bias=1.2), crawford_sobel(bias=1.2)
    first = hierarchy(game, 3, 0.5, 0.2, beliefs=model.beliefs(1.3))
    again = hierarchy(game, 3, 0.9, 0.1, beliefs=model.beliefs(1.3))
    assert again.sender_values[2] is first.sender_values[2]
    other = hierarchy(game, 3, 0.9, 0.1, beliefs=model.beliefs(0.4))
    reference = hierarchy(fresh, 3, 0.9, 0.1, beliefs=model.beliefs(0.4))
    for a, b in zip(other.sender + other.receiver + other.receiver_values[1:],
                    reference.sender + reference.receiver + reference.receiver_values[1:],
                    strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(other.receiver_values[2], first.receiver_values[2])
    for tau in np.linspace(2.0, 3.0, 2 * _BELIEF_ENTRIES):
        hierarchy(game, 3, 0.5, 0.2, beliefs=model.beliefs(tau))
    with_beliefs = [k for k in _NOISELESS[game] if k[3] is not None]
    assert len(with_beliefs) == _BELIEF_ENTRIES
    assert with_beliefs[-1][3] == model.beliefs(3.0).tobytes()


def test_cached_tau_derivative_values_give_a_fresh_games_gradient():
    """The derivative values of CH's τ adjoint are shared by evaluations at one τ: at other
    precisions they still give the gradient a fresh game gives."""
    model = CognitiveHierarchy(levels=3)
    game, fresh = crawford_sobel(bias=1.2), crawford_sobel(bias=1.2)
    rng = np.random.default_rng(0)
    bars_s = [rng.normal(size=(game.n_states, game.n_messages)) for _ in range(4)]
    bars_r = [rng.normal(size=(game.n_messages, game.n_actions)) for _ in range(4)]
    params = {"tau": 1.7, "lambda_s": 0.6, "lambda_r": 0.3}
    model.predict_with_pullback(game, {**params, "lambda_s": 2.0})[1](np.ones(4), bars_s, bars_r)
    cached = model.predict_with_pullback(game, params)[1](np.ones(4), bars_s, bars_r)
    reference = model.predict_with_pullback(fresh, params)[1](np.ones(4), bars_s, bars_r)
    assert cached == pytest.approx(reference, rel=1e-12)
    assert abs(cached["tau"]) > 1e-3

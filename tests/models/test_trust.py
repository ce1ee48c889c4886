"""Trust-embedded model (SPEC §3.3): limits, characteristic predictions, quadrature accuracy.

Reference values are computed here from the payoff formulas (``expected_sales``) with plain
``np.exp`` logit, independently of the package's choice and game code.
"""

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.special import logsumexp

from cheaptalk.games import crawford_sobel, expected_sales, forecast_sharing
from cheaptalk.models import ParameterError, get_model
from cheaptalk.models.trust import Trust
from cheaptalk.numerics.quadrature import alpha_quadrature, beta_quadrature

INF = math.inf
NOISE, COST = 20.0, 0.25


@pytest.fixture(scope="module")
def game():
    return forecast_sharing()  # treatment LL


def manual_logit(values, lam):
    z = lam * (values - values.max(axis=-1, keepdims=True))
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def forecast_payoffs(game):
    xi, k = game.states, game.actions
    sales = expected_sales(xi[:, None], k[None, :], NOISE)
    return sales, sales - COST * k[None, :]  # uS (margin 1), uR (margin 1)


def pm_params(**kw):
    p = {"alpha_a": 2.0, "alpha_b": 2.0, "beta_mu": -2.0, "beta_sigma": 1.0,
         "alpha_p0": 0.0, "alpha_p1": 0.0, "beta_p0": 0.0, "lambda_s": 0.5, "lambda_r": 0.2}
    p.update(kw)
    return p


def by_name(pred, name):
    (ty,) = [t for t in pred.types if t.name == name]
    return ty


# ------------------------------------------------------------------------------- limits
def test_alpha_one_is_the_credulous_receiver(game):
    pred = Trust(point_masses=True).predict(game, pm_params(alpha_p1=1.0))
    _us, ur = forecast_payoffs(game)
    # believes the report: expected payoff of K after report m is uR(xi = m, K)
    credulous = manual_logit(ur, 0.2)  # messages = states on this grid
    np.testing.assert_allclose(by_name(pred, "trust alpha=1 (point mass)").receiver,
                               credulous, rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(pred.receiver, credulous, rtol=1e-10, atol=1e-14)
    # Limit of the continuous part: Beta(a, b) with a >> b puts (almost) all trust near 1.
    near = Trust().predict(game, {"alpha_a": 1e5, "alpha_b": 1e-3, "beta_mu": -2.0,
                                  "beta_sigma": 1.0, "lambda_s": 0.5, "lambda_r": 0.2})
    np.testing.assert_allclose(near.receiver @ game.actions, credulous @ game.actions,
                               atol=0.3)


def test_alpha_zero_ignores_messages(game):
    pred = Trust(point_masses=True).predict(game, pm_params(alpha_p0=1.0))
    rho = by_name(pred, "trust alpha=0 (point mass)").receiver
    np.testing.assert_array_equal(rho, np.broadcast_to(rho[0], rho.shape))
    _, ur = forecast_payoffs(game)
    prior_values = ur.mean(axis=0)  # uniform prior over forecasts
    np.testing.assert_allclose(rho[0], manual_logit(prior_values, 0.2), rtol=1e-10)


def test_huge_lying_cost_is_truthful(game):
    pred = Trust().predict(game, {"alpha_a": 2.0, "alpha_b": 2.0, "beta_mu": 50.0,
                                  "beta_sigma": 0.5, "lambda_s": 0.5, "lambda_r": 0.2})
    n = game.n_states
    # All the LogNormal mass lies beyond the top of the fixed log-beta grid: lumped there.
    assert np.all(pred.sender[np.arange(n), np.arange(n)] > 1 - 1e-12)
    for ty in pred.types:
        if ty.sender is not None and ty.weight > 0:
            assert np.all(ty.sender[np.arange(n), np.arange(n)] > 1 - 1e-12)


def test_zero_lying_cost_is_the_selfish_sender(game):
    pred = Trust(point_masses=True).predict(game, pm_params(beta_p0=1.0, alpha_p1=0.3))
    us, _ = forecast_payoffs(game)
    rho_bar = pred.receiver  # the population receiver (trust types only)
    values = np.einsum("ma,ta->tm", rho_bar, us)  # US[t, m] = sum_a rho[m, a] uS(t, a)
    np.testing.assert_allclose(by_name(pred, "trustworthy beta=0 (point mass)").sender,
                               manual_logit(values, 0.5), rtol=1e-9)
    np.testing.assert_allclose(pred.sender, manual_logit(values, 0.5), rtol=1e-9)


def test_sender_with_linear_cost_matches_formula():
    g = crawford_sobel(bias=1.2)
    model = Trust(n_alpha=8, n_beta=5)
    p = {"alpha_a": 1.5, "alpha_b": 0.7, "beta_mu": 0.3, "beta_sigma": 0.4,
         "lambda_s": 0.8, "lambda_r": 0.6}
    pred = model.predict(g, p)
    t = np.array([1, 3, 5, 7, 9.0])
    a = np.arange(1, 10.0)
    ur = 110 - 10 * np.abs(t[:, None] - a) ** 1.4
    us = 110 - 10 * np.abs(t[:, None] + 1.2 - a) ** 1.4
    # tanh-sinh rule on (0, 1), T = 3: x = expit(pi sinh t), dx/dt = pi cosh t x (1 - x)
    # (1 - x) underflows near 1, so the Beta(1.5, 0.7) density is taken in logs.
    tt = np.linspace(-3.0, 3.0, 8)
    u = np.pi * np.sinh(tt)
    x = 1 / (1 + np.exp(-u))
    log_x, log_1mx = -np.logaddexp(0, -u), -np.logaddexp(0, u)
    w = np.exp(np.log(np.cosh(tt)) + log_x + log_1mx + 0.5 * log_x - 0.3 * log_1mx)
    w /= w.sum()
    rhos = [manual_logit(xx * ur + (1 - xx) * ur.mean(axis=0), 0.6) for xx in x]
    rho_bar = sum(wi * r for wi, r in zip(w, rhos, strict=True))
    np.testing.assert_allclose(pred.receiver, rho_bar, rtol=1e-10)
    values = np.einsum("ma,ta->tm", rho_bar, us)
    # Fixed log-beta grid from log(R / c_max) - 12 to log(R / c_min) + 1 (R: range of uS;
    # lie costs 2..8); trapezoid weights of N(0.3, 0.4) on the grid extended to all of Z,
    # each extension point counted at the nearest end node.
    u = np.linspace(np.log(np.ptp(us) / 8) - 12, np.log(np.ptp(us) / 2) + 1, 5)
    k = np.arange(-3000, 3005)
    dens = stats.norm.pdf(u[0] + k * (u[1] - u[0]), 0.3, 0.4)
    wz = np.array([dens[np.clip(k, 0, 4) == j].sum() for j in range(5)]) / dens.sum()
    sig = sum(wi * manual_logit(values - np.exp(uu) * np.abs(t[None] - t[:, None]), 0.8)
              for wi, uu in zip(wz, u, strict=True))
    np.testing.assert_allclose(pred.sender, sig, rtol=1e-10)


@pytest.mark.parametrize("kind,expected", [
    ("quadratic", lambda d: d**2), ("inflation", lambda d: np.maximum(d, 0))])
def test_lie_cost_options(kind, expected):
    g = crawford_sobel(bias=2.0)
    model = Trust(lie_cost=kind, point_masses=True, n_beta=1)
    p = {"alpha_a": 1.0, "alpha_b": 1.0, "beta_mu": 0.0, "beta_sigma": 1.0,  # one beta node
         "alpha_p0": 0.2, "alpha_p1": 0.3, "beta_p0": 0.0, "lambda_s": 0.4, "lambda_r": 1.0}
    pred = model.predict(g, p)
    t = np.array([1, 3, 5, 7, 9.0])
    us = 110 - 10 * np.abs(t[:, None] + 2.0 - np.arange(1, 10.0)) ** 1.4
    values = np.einsum("ma,ta->tm", pred.receiver, us)
    d = t[None, :] - t[:, None]  # v(m) - t
    beta = model.nodes(p, g)[2][1]  # after the point mass at 0
    (ty,) = [t for t in pred.types if t.sender is not None and "point" not in t.name]
    assert ty.weight == pytest.approx(1.0)
    np.testing.assert_allclose(ty.sender, manual_logit(values - beta * expected(d), 0.4),
                               rtol=1e-10)


# ------------------------------------------------------------- characteristic predictions
def test_reports_track_forecast_with_inflation_shrinking_in_beta(game):
    model = Trust()
    pred = model.predict(game, model.default_params(game))
    _, sigmas, names = pred.role_types("sender")
    betas = np.array([float(n.split("=")[1]) for n in names])
    assert np.all(np.diff(betas) > 0)
    interior = (game.states >= 60) & (game.states <= 200)
    xi = game.states[interior]
    mean_report = sigmas @ game.messages  # (types, states)
    inflation = (mean_report[:, interior] - xi).mean(axis=1)
    assert np.all(np.diff(inflation) <= 1e-9)  # shrinks as beta grows
    assert inflation[0] > 40 and inflation[-1] < 1e-4
    # "about one-for-one": types with a lying cost near the median and above
    for k in np.flatnonzero(betas >= np.exp(-2.0)):
        slope = np.polyfit(xi, mean_report[k, interior], 1)[0]
        assert 0.9 < slope < 1.1, (betas[k], slope)
    pop_slope = np.polyfit(xi, (pred.sender @ game.messages)[interior], 1)[0]
    assert 0.9 < pop_slope < 1.1


def test_capacity_slope_grows_with_trust(game):
    model = Trust()
    pred = model.predict(game, model.default_params(game))
    _, rhos, _ = pred.role_types("receiver")
    alphas = model.nodes(model.default_params(game), game)[0]
    interior = (game.messages >= 60) & (game.messages <= 200)
    slopes = np.array([np.polyfit(game.messages[interior], (r @ game.actions)[interior], 1)[0]
                       for r in rhos])
    assert np.all(np.diff(slopes) > 0)
    assert slopes[0] < 0.01 and slopes[-1] > 0.98
    # The slope is not alpha itself: the capacity is the newsvendor quantile of the mixed
    # belief alpha * (report) + (1 - alpha) * prior, so it is convex in alpha.
    assert np.all((slopes >= 0) & (slopes <= 1))
    assert np.interp(0.5, alphas, slopes) < 0.5


# --------------------------------------------------------------------------- quadrature
def simulate(game, params, n_subjects=60, rounds=30, seed=7):
    """Continuous-type data: each subject draws alpha or beta from the exact distribution."""
    rng = np.random.default_rng(seed)
    us, ur = forecast_payoffs(game)
    fine = Trust(n_alpha=256, n_beta=257).predict(game, params)
    rho_bar, sigma_pop = fine.receiver, fine.sender
    values = np.einsum("ma,ta->tm", rho_bar, us)
    lie = np.abs(game.messages[None, :] - game.states[:, None])

    def draw(p):  # one draw per row
        return (p.cumsum(axis=1) < rng.random((p.shape[0], 1))).sum(axis=1)

    senders, receivers = [], []
    for _ in range(n_subjects):
        beta = np.exp(params["beta_mu"] + params["beta_sigma"] * rng.standard_normal())
        sig = manual_logit(values - beta * lie, params["lambda_s"])
        t = rng.integers(0, game.n_states, rounds)
        senders.append((t, draw(sig[t])))
        alpha = rng.beta(params["alpha_a"], params["alpha_b"])
        rho = manual_logit(alpha * ur + (1 - alpha) * ur.mean(axis=0), params["lambda_r"])
        m = draw(sigma_pop[rng.integers(0, game.n_states, rounds)])
        receivers.append((m, draw(rho[m])))
    return senders, receivers


def loglik(pred, data, eps=1e-3):
    """Subject-level mixture log-likelihood with tremble eps."""
    total = 0.0
    for role, units in zip(("sender", "receiver"), data, strict=True):
        w, s, _ = pred.role_types(role)
        s = (1 - eps) * s + eps / s.shape[-1]
        for x, y in units:
            total += logsumexp(np.log(s[:, x, y]).sum(axis=1), b=w)
    return total


def test_default_quadrature_is_accurate(game):
    """Doubling the nodes moves the log-likelihood of 3600 decisions by < 0.01."""
    base = Trust()
    assert (Trust.n_alpha, Trust.n_beta) == (base.n_alpha, base.n_beta) == (64, 161)
    params = base.default_params(game)
    data = simulate(game, params)
    ll = loglik(base.predict(game, params), data)
    ll2 = loglik(Trust(n_alpha=2 * base.n_alpha, n_beta=2 * base.n_beta - 1)
                 .predict(game, params), data)
    assert abs(ll - ll2) < 0.01, (ll, ll2)
    assert -20000 < ll < -10000  # a real, informative data set


def test_quadrature_rules():
    # Tanh-sinh converges geometrically, also when the density is infinite at an end point
    # (a or b < 1), where Gauss-Legendre only converges algebraically.
    for a, b, tol in [(2.0, 2.0, 1e-8), (5.0, 1.5, 1e-8), (1.0, 1.0, 1e-8), (0.8, 3.0, 1e-8),
                      (0.3, 0.5, 1e-4)]:
        x, w = alpha_quadrature(a, b, 32)
        assert w.sum() == pytest.approx(1.0)
        assert w @ x == pytest.approx(a / (a + b), abs=tol)
        assert w @ x**2 == pytest.approx(stats.beta(a, b).moment(2), abs=tol)
    x1, _ = alpha_quadrature(2.0, 2.0, 32)
    x2, _ = alpha_quadrature(0.5, 7.0, 32)
    np.testing.assert_array_equal(x1, x2)  # fixed nodes
    grid = np.linspace(-8.0, 6.0, 113)
    b, w = beta_quadrature(-1.0, 0.7, grid)
    assert w.sum() == pytest.approx(1.0)
    assert w @ b == pytest.approx(np.exp(-1.0 + 0.7**2 / 2), rel=1e-8)
    b2, w2 = beta_quadrature(2.0, 3.0, grid)
    np.testing.assert_array_equal(b, b2)  # fixed nodes
    # Mass beyond the grid is lumped into the end nodes: P(log beta < -8), P(> 6).
    h = grid[1] - grid[0]
    assert w2[0] == pytest.approx(stats.norm.cdf((-8.0 + h / 2 - 2.0) / 3.0), rel=1e-3)
    assert w2[-1] == pytest.approx(stats.norm.sf((6.0 - h / 2 - 2.0) / 3.0), rel=1e-3)
    # Far outside the grid, or with a tiny sigma, the weights stay a distribution.
    for mu, sigma in [(-60.0, 0.5), (40.0, 2.0), (0.03, 1e-3)]:
        _, w3 = beta_quadrature(mu, sigma, grid)
        assert np.all(w3 >= 0) and w3.sum() == pytest.approx(1.0)


def test_derived_quantities(game):
    model = get_model("trust")
    d = model.derived({"alpha_a": 3.0, "alpha_b": 1.0, "beta_mu": np.log(0.2),
                       "beta_sigma": 1.0, "lambda_s": 1.0, "lambda_r": 1.0})
    assert d == pytest.approx({"mean_trust": 0.75, "median_lying_cost": 0.2})
    # a fit that ran off to a huge lying cost: infinite, silently (power studies print no
    # warning per replication)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert model.derived({"alpha_a": 1.0, "alpha_b": 1.0, "beta_mu": 800.0}
                             )["median_lying_cost"] == np.inf


def test_type_structure(game):
    model = Trust(point_masses=True, n_alpha=4, n_beta=3)
    pred = model.predict(game, model.default_params(game))
    names = [t.name for t in pred.types]
    assert len(set(names)) == len(names) == 2 + 4 + 1 + 3
    _w, _, rn = pred.role_types("receiver")
    assert rn[:2] == ["trust alpha=0 (point mass)", "trust alpha=1 (point mass)"]
    assert all(t.sender is None for t in pred.types if t.name.startswith("trust "))
    assert all(t.receiver is None for t in pred.types if t.name.startswith("trustworthy"))
    for role in ("sender", "receiver"):
        assert sum(t.weight for t in pred.types if getattr(t, role) is not None) \
            == pytest.approx(1.0)
    assert model.parameter_names() == ("alpha_a", "alpha_b", "beta_mu", "beta_sigma",
                                           "alpha_p0", "alpha_p1", "beta_p0",
                                           "lambda_s", "lambda_r")


# ------------------------------------------------------------------------------ errors
GOOD = {"alpha_a": 2.0, "alpha_b": 2.0, "beta_mu": -2.0, "beta_sigma": 1.0,
        "lambda_s": 0.5, "lambda_r": 0.2}


@pytest.mark.parametrize("change,match", [
    ({"alpha_a": 0.0}, "alpha_a must be finite and > 0"),
    ({"alpha_b": -1.0}, "alpha_b must be finite and > 0"),
    ({"alpha_a": INF}, "alpha_a"),
    ({"beta_sigma": 0.0}, "beta_sigma must be finite and > 0"),
    ({"beta_mu": INF}, "beta_mu must be finite"),
    ({"lambda_s": -0.1}, "lambda_s must be >= 0"),
    ({"lambda_r": -3}, "lambda_r must be >= 0"),
    ({"gamma": 1.0}, "unknown parameter.*gamma"),
    ({"alpha_a": "x"}, "alpha_a must be a number"),
])
def test_parameter_errors(game, change, match):
    with pytest.raises(ParameterError, match=match):
        Trust().predict(game, {**GOOD, **change})


@pytest.mark.parametrize("change,match", [
    ({"alpha_p0": 0.7, "alpha_p1": 0.4}, "alpha_p0 \\+ alpha_p1 must be <= 1"),
    ({"beta_p0": 1.5}, "beta_p0 must lie in"),
    ({"alpha_p1": -0.1}, "alpha_p1 must lie in"),
])
def test_point_mass_errors(game, change, match):
    with pytest.raises(ParameterError, match=match):
        Trust(point_masses=True).predict(game, pm_params(**change))


@pytest.mark.parametrize("kwargs", [{"lie_cost": "cubic"}, {"n_alpha": 0}, {"n_beta": 2.5}])
def test_option_errors(kwargs):
    with pytest.raises(ValueError):
        Trust(**kwargs)


@settings(max_examples=25, deadline=None)
@given(a=st.floats(0.05, 50), b=st.floats(0.05, 50), mu=st.floats(-8, 8),
       s=st.floats(0.01, 3), lam_s=st.one_of(st.floats(0, 20), st.just(INF)),
       lam_r=st.one_of(st.floats(0, 20), st.just(INF)),
       masses=st.tuples(st.floats(0, 0.5), st.floats(0, 0.5), st.floats(0, 1)),
       lie=st.sampled_from(["linear", "quadratic", "inflation"]))
def test_strategies_are_distributions(a, b, mu, s, lam_s, lam_r, masses, lie):
    p = {"alpha_a": a, "alpha_b": b, "beta_mu": mu, "beta_sigma": s,
         "alpha_p0": masses[0], "alpha_p1": masses[1], "beta_p0": masses[2],
         "lambda_s": lam_s, "lambda_r": lam_r}
    model = Trust(lie_cost=lie, point_masses=True, n_alpha=8, n_beta=9)
    for g in (crawford_sobel(bias=1.2), forecast_sharing(step=25, noise=50)):
        pred = model.predict(g, p)
        for ty in pred.types:
            for strat in (ty.sender, ty.receiver):
                if strat is not None:
                    assert np.all(strat >= 0) and np.all(np.isfinite(strat))
                    np.testing.assert_allclose(strat.sum(axis=1), 1.0, atol=1e-12)
        for role in ("sender", "receiver"):
            assert sum(t.weight for t in pred.types if getattr(t, role) is not None) \
                == pytest.approx(1.0)


# Estimates on the bundled demo data (trust alone and the combination), and corners of the
# parameter range: wide LogNormal (sigma up to 3), skewed and concentrated Betas.
DEMO_TRUST_FIT = {"alpha_a": 1.345, "alpha_b": 0.746, "beta_mu": -2.18, "beta_sigma": 2.449,
                  "lambda_s": 0.441, "lambda_r": 0.177}
DEMO_COMB_FIT = {"pi": 0.652, "alpha_a": 5.201, "alpha_b": 3.098, "beta_mu": -1.32,
                 "beta_sigma": 0.691, "p0": 0.175, "p1": 0.549, "p2": 0.101, "p3": 0.175,
                 "lambda_s": 0.476, "lambda_r": 0.203}


@pytest.mark.parametrize("model_name, params", [
    ("trust", DEMO_TRUST_FIT),
    ("combination", DEMO_COMB_FIT),
    ("trust", None),  # defaults
    ("trust", {**DEMO_TRUST_FIT, "beta_sigma": 3.0, "alpha_a": 0.5, "alpha_b": 10.0}),
    ("trust", {**DEMO_TRUST_FIT, "beta_sigma": 0.3, "alpha_a": 10.0, "alpha_b": 0.5}),
    # the narrowest LogNormal the estimator allows, at the demo's mu and where senders switch
    ("trust", {**DEMO_TRUST_FIT, "beta_sigma": "floor"}),
    ("trust", {**DEMO_TRUST_FIT, "beta_sigma": "floor", "beta_mu": 0.5}),
])
def test_default_quadrature_is_accurate_on_demo_data(model_name, params):
    """SPEC §3.3: doubling the nodes moves the demo log-likelihood by < 0.01."""
    from cheaptalk.data import load_data, load_design
    from cheaptalk.demo import demo_data_path
    from cheaptalk.estimation import Likelihood

    design = load_design("forecast_sharing")
    data = load_data(demo_data_path(), design)
    model = get_model(model_name)
    params = dict(params or model.default_params(design.game))
    if params.get("beta_sigma") == "floor":
        params["beta_sigma"] = model.bounds(design.game("LL"))["beta_sigma"][0]
    ll = Likelihood(model, data).evaluate(params).loglik
    ll2 = Likelihood(model.refined(), data).evaluate(params).loglik
    assert abs(ll - ll2) < 0.01, (ll, ll2)


def test_estimator_floor_on_beta_sigma():
    """Two log-beta grid steps (bounds used by the estimator); Combination shares it."""
    from cheaptalk.models.combination import Combination
    from cheaptalk.models.trust import lie_cost_matrix
    from cheaptalk.numerics.quadrature import beta_log_nodes

    game = forecast_sharing(step=10)
    u = beta_log_nodes(game, lie_cost_matrix(game), Trust.n_beta)
    lo, hi = Trust().bounds(game)["beta_sigma"]
    assert lo == pytest.approx(2 * (u[1] - u[0])) and hi == np.inf
    assert Combination().bounds(game)["beta_sigma"] == (lo, hi)
    # more nodes, finer floor; predict itself accepts any positive beta_sigma
    assert Trust(n_beta=321).bounds(game)["beta_sigma"][0] == pytest.approx(lo / 2)
    Trust().predict(game, {**Trust().default_params(game), "beta_sigma": lo / 10})


@pytest.mark.parametrize(("beta_mu", "beta_sigma", "node"), [
    (0.0, 1e-300, "nearest"), (0.3, 5e-324, "nearest"), (1e300, 1.0, "top"),
    (-1e300, 1.0, "bottom"), (1.7e308, 1e-300, "top")])
def test_extreme_lognormal_gives_finite_strategies(beta_mu, beta_sigma, node):
    """Extreme but valid parameters used to give NaN strategies. A LogNormal much narrower
    than the grid puts all its mass on the node nearest beta_mu; one far beyond the grid, on
    the end node. Sender strategies then respond to that one lying cost."""
    from cheaptalk.models.trust import lie_cost_matrix
    from cheaptalk.numerics.quadrature import beta_log_nodes

    game = crawford_sobel(bias=1.2)
    model = Trust(n_alpha=16, n_beta=41)
    params = {**model.default_params(game), "beta_mu": beta_mu, "beta_sigma": beta_sigma}
    pred, pullback = model.predict_with_pullback(game, params)
    cost = lie_cost_matrix(game)
    u = beta_log_nodes(game, cost, 41)
    j = {"nearest": int(np.argmin(np.abs(u - beta_mu))), "top": 40, "bottom": 0}[node]
    values = np.einsum("ma,ta->tm", pred.receiver, game.sender_payoff)
    expected = manual_logit(values - np.exp(u[j]) * cost, params["lambda_s"])
    np.testing.assert_allclose(pred.sender, expected, rtol=1e-10, atol=1e-300)
    from pullback_check import random_adjoints
    grad = pullback(*random_adjoints(pred, 0))
    assert np.isfinite(list(grad.values())).all()


# ---- sizes are checked before memory is allocated (MAX_FLOATS)
@pytest.mark.parametrize(("options", "words"), [
    ({"n_alpha": 10**8}, "trust: 100000000 trust nodes in a 5x5x9 game needs 1.7e+10 numbers"),
    ({"n_beta": 10**8}, "trust: 100000000 lying-cost nodes in a 5x5x9 game needs 1.5e+10"),
    # point masses are nodes too
    ({"n_alpha": 10**8, "point_masses": True}, "trust: 100000002 trust nodes in a 5x5x9 game"),
])
def test_node_counts_too_large_are_refused_before_allocating(options, words):
    from helpers import peak_allocation

    g = crawford_sobel()
    model = Trust(**options)
    for method in (model.predict, model.predict_with_pullback, model.strategies):
        error, peak = peak_allocation(method, g, model.default_params(g))
        assert isinstance(error, ParameterError), error
        assert str(error).startswith(words), error
        assert "the limit is 2.7e+08 numbers" in str(error)
        assert peak < 20e6  # the nodes alone would be 0.8 GB


@pytest.mark.parametrize(("states", "actions", "words"), [
    # receivers [alpha, m, a]: 64 x 1500 x 3000 numbers
    (1500, 3000, "trust: 64 trust nodes in a 1500x1500x3000 game needs 2.9e+08 numbers"),
    # senders [beta, t, m]: 161 x 2000 x 2000 numbers (receivers 64 x 2000 x 2: small)
    (2000, 2, "trust: 161 lying-cost nodes in a 2000x2000x2 game needs 6.4e+08 numbers"),
])
def test_games_too_large_for_the_default_nodes_are_refused_before_allocating(states, actions,
                                                                              words):
    from helpers import peak_allocation

    g = crawford_sobel(states=range(states), actions=range(actions))  # under the grid limit
    model = Trust()
    error, peak = peak_allocation(model.predict, g, model.default_params(g))
    assert isinstance(error, ParameterError) and str(error).startswith(words), error
    assert peak < 50e6  # the tables would be over 2 GB


def test_bundled_games_are_far_below_the_node_limit(monkeypatch):
    from cheaptalk.data import load_design
    from cheaptalk.models import _common

    monkeypatch.setattr(_common, "MAX_FLOATS", _common.MAX_FLOATS // 8)
    for name in ("forecast_sharing", "crawford_sobel", "binary_deception"):
        for g in load_design(name).games.values():
            # the refined quadrature (128 alpha, 321 beta nodes) of the convergence check too
            for model in (Trust(point_masses=True), Trust(point_masses=True).refined()):
                model.check_nodes(g)

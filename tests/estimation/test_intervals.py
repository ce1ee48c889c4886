"""Confidence intervals (issue #16): profile-likelihood intervals against a brute-force grid of
the profile log-likelihood, transformed Wald intervals inside the parameter space, the CR1
sandwich against a computation by hand, bootstrap percentiles, labels in JSON."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import optimize
from scipy.special import expit, logit
from scipy.stats import chi2

from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.intervals import (
    bootstrap_bca,
    bootstrap_percentile,
    transform_interval,
    transformed_wald,
    unreliable_names,
)
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.estimation.mle import MaximumLikelihood
from cheaptalk.estimation.parameters import ParameterSpace
from cheaptalk.runner import InProcess
from cheaptalk.simulation import Simulation
from toy_model import TRUE, Toy

Q95 = chi2.ppf(0.95, 1)


class OddsToy(Toy):
    """The toy model with a derived quantity: the odds q / (1 - q) of the honest type."""

    def derived(self, params):
        return {"odds": params["q"] / (1 - params["q"])}

    def derived_bounds(self):
        return {"odds": (0.0, np.inf)}


def _small(q: float, seed: int):
    design = load_design("crawford_sobel")
    df = Simulation(design, Toy(), {**TRUE, "q": q}, subjects_per_role=6, rounds=10).run(seed)
    return validate_table(df, design)


@pytest.fixture(scope="module")
def small_data():
    return _small(TRUE["q"], 11)


@pytest.fixture(scope="module")
def profiled(small_data):
    est = MaximumLikelihood(OddsToy(), small_data)
    return est.fit(n_starts=1, intervals="profile", backend=InProcess())


def _brute_profile(data, name: str, grid):
    """The profile log-likelihood of ``name`` on ``grid``, maximised over the other toy
    parameters by Nelder–Mead on (logit q, log lambda_s, log lambda_r) straight from the
    likelihood: no code of the estimator."""
    lik = Likelihood(Toy(), data)
    others = [n for n in ("q", "lambda_s", "lambda_r") if n != name]

    def natural(z, value):
        p = {name: value}
        for n, v in zip(others, z, strict=True):
            p[n] = float(expit(v)) if n == "q" else float(np.exp(v))
        return p

    z = np.array([logit(TRUE[n]) if n == "q" else np.log(TRUE[n]) for n in others])
    out = []
    for value in grid:
        res = optimize.minimize(lambda v, c=value: -lik.evaluate(natural(v, c)).loglik, z,
                                method="Nelder-Mead",
                                options={"xatol": 1e-7, "fatol": 1e-9, "maxiter": 4000})
        z = res.x
        out.append(-res.fun)
    return np.array(out)


def _crossings(grid, deviance, level):
    """Where the deviance crosses ``level`` on each side of its minimum (linear
    interpolation between grid points)."""
    k = int(np.argmin(deviance))
    lower = upper = np.nan
    for i in range(k, 0, -1):
        if deviance[i - 1] >= level > deviance[i]:
            lower = np.interp(level, [deviance[i], deviance[i - 1]], [grid[i], grid[i - 1]])
            break
    for i in range(k, len(grid) - 1):
        if deviance[i + 1] >= level > deviance[i]:
            upper = np.interp(level, [deviance[i], deviance[i + 1]], [grid[i], grid[i + 1]])
            break
    return lower, upper


@pytest.mark.parametrize("name", ["q", "lambda_s"])
def test_profile_interval_matches_a_brute_force_grid(small_data, profiled, name):
    est = profiled.params[name]
    half = 4 * profiled.bse[name]
    grid = np.linspace(max(est - half, 1e-3), est + half, 41)
    step = grid[1] - grid[0]
    llf = max(profiled.llf, *_brute_profile(small_data, name, [est]))
    deviance = 2 * (llf - _brute_profile(small_data, name, grid))
    lower, upper = _crossings(grid, deviance, Q95)
    got = profiled.intervals["profile"].loc[name]
    assert got["method"] == "profile"
    # linear interpolation of a smooth curve: well inside one grid step
    assert got["lower"] == pytest.approx(lower, abs=step / 2)
    assert got["upper"] == pytest.approx(upper, abs=step / 2)
    # and not the Wald interval (else the test could not tell them apart)
    wald = profiled.intervals["wald"].loc[name]
    assert max(abs(wald["lower"] - got["lower"]), abs(wald["upper"] - got["upper"])) > 1e-3


def test_profile_interval_of_a_derived_quantity_is_the_parameters_mapped(profiled):
    """odds = q / (1 - q) is increasing in q: its profile interval (a constrained fit) is the
    image of q's (a fit with q held)."""
    table = profiled.intervals["profile"]
    q_lo, q_hi = table.loc["q", ["lower", "upper"]]
    assert table.loc["odds", "lower"] == pytest.approx(q_lo / (1 - q_lo), rel=2e-3)
    assert table.loc["odds", "upper"] == pytest.approx(q_hi / (1 - q_hi), rel=2e-3)
    assert profiled.intervals["wald"].loc["odds", "lower"] > 0


def test_a_parameter_at_a_bound_gets_a_one_sided_profile_interval():
    data = _small(1.0, 3)
    fit = MaximumLikelihood(Toy(), data).fit(n_starts=1, intervals="auto",
                                             backend=InProcess())
    assert fit.at_bound == ["q"]
    assert unreliable_names(fit) == ["q"]
    assert list(fit.intervals["profile"].index) == ["q"]  # auto: only the unreliable one
    row = fit.reported_intervals().loc["q"]
    assert row["method"] == "profile-one-sided" and row["upper"] == 1.0
    # at the lower end the deviance is chi2_1(0.90) = 2.71: check by brute force
    lower = row["lower"]
    top = _brute_profile(data, "q", [1 - 1e-7])[0]
    at_lower = _brute_profile(data, "q", [lower])[0]
    assert 2 * (max(top, fit.llf) - at_lower) == pytest.approx(chi2.ppf(0.90, 1), abs=0.02)
    assert fit.to_dict()["intervals"]["reported"]["q"]["method"] == "profile-one-sided"
    assert "q" in fit.summary() and "profile, one-sided" in fit.summary()


@settings(max_examples=200, deadline=None)
@given(
    lam=st.floats(1e-9, 1e3), low=st.floats(-5, 5), u=st.floats(1e-9, 1 - 1e-9),
    shares=st.lists(st.floats(1e-9, 1.0), min_size=3, max_size=3),
    scale=st.floats(1e-3, 1e3), seed=st.integers(0, 2**16),
)
def test_transformed_wald_never_leaves_the_parameter_space(lam, low, u, shares, scale, seed):
    sp = ParameterSpace(["lam", "r", "p0", "p1", "p2"],
                        {"lam": (low, np.inf), "r": (low, low + 2.0)}, [("p0", "p1", "p2")])
    total = sum(shares)
    natural = {"lam": low + lam, "r": low + 2.0 * u,
               **{f"p{i}": s / total for i, s in enumerate(shares)}}
    x = sp.to_free(natural)
    a = np.random.default_rng(seed).normal(size=(sp.size, sp.size))
    cov = scale * (a @ a.T + 1e-6 * np.eye(sp.size))
    ci = transformed_wald(sp, x, cov)
    theta = sp.to_natural(x)
    for n, (lo, hi) in {"lam": (low, np.inf), "r": (low, low + 2.0), "p0": (0, 1),
                        "p1": (0, 1), "p2": (0, 1)}.items():
        assert lo <= ci.loc[n, "lower"] <= theta[n] <= ci.loc[n, "upper"] <= hi, (n, ci)
    for bounds in [(0.0, 1.0), (0.0, np.inf), (-np.inf, 3.0)]:
        value = {0: u, 1: lam, 2: 3.0 - lam}[[(0.0, 1.0), (0.0, np.inf),
                                              (-np.inf, 3.0)].index(bounds)]
        lo, hi = transform_interval(value, scale, bounds)
        assert bounds[0] <= lo <= value <= hi <= bounds[1]


def test_transformed_wald_of_a_positive_parameter_is_the_log_scale_interval(profiled):
    """lambda_s = exp(x): [exp(x - z s_x), exp(x + z s_x)] with s_x = se / lambda_s (the
    delta method back to the free scale)."""
    lam, se = profiled.params["lambda_s"], profiled.bse_sandwich["lambda_s"]
    s_x = se / lam
    lo, hi = profiled.intervals["wald"].loc["lambda_s", ["lower", "upper"]]
    assert lo == pytest.approx(lam * np.exp(-1.959964 * s_x), rel=1e-5)
    assert hi == pytest.approx(lam * np.exp(1.959964 * s_x), rel=1e-5)


def test_sandwich_has_the_cr1_factor(small_data, profiled):
    """The clustered covariance against H^-1 (G / (G - 1)) sum_g s_g s_g' H^-1 computed
    here in the natural parameters (all interior) by central differences."""
    lik = Likelihood(Toy(), small_data)
    names = ["q", "lambda_s", "lambda_r"]
    theta = {n: float(profiled.params[n]) for n in names}
    h = 1e-5

    def subject_ll(p):
        return lik.subject_loglik(lik.evaluate(p))

    scores = np.zeros((lik.n_subjects, 3))
    for i, n in enumerate(names):
        up, down = dict(theta), dict(theta)
        up[n] += h
        down[n] -= h
        scores[:, i] = (subject_ll(up) - subject_ll(down)) / (2 * h)
    hess = np.zeros((3, 3))
    for i, a in enumerate(names):
        for j, b in enumerate(names):
            pp, pm, mp, mm = (dict(theta) for _ in range(4))
            pp[a] += 1e-4
            pp[b] += 1e-4
            pm[a] += 1e-4
            pm[b] -= 1e-4
            mp[a] -= 1e-4
            mp[b] += 1e-4
            mm[a] -= 1e-4
            mm[b] -= 1e-4
            hess[i, j] = (lik.evaluate(pp).loglik - lik.evaluate(pm).loglik
                          - lik.evaluate(mp).loglik + lik.evaluate(mm).loglik) / 4e-8
    g = lik.n_subjects
    inv = np.linalg.inv(-hess)
    expected = inv @ (g / (g - 1) * scores.T @ scores) @ inv
    got = profiled.cov_sandwich.loc[names, names].to_numpy()
    np.testing.assert_allclose(got, expected, rtol=2e-3)


def test_bootstrap_percentile_intervals_are_quantiles_of_the_draws(small_data):
    from cheaptalk.estimation.bootstrap import bootstrap

    fit = MaximumLikelihood(OddsToy(), small_data).fit(n_starts=1)
    draws = bootstrap(fit, small_data, replications=5, seed=1, jobs=1)
    ci = fit.conf_int(kind="bootstrap")
    for n in draws.columns:
        v = np.sort(draws[n].to_numpy())
        # numpy's linear quantile of 5 draws at 2.5%: v0 + 0.1 (v1 - v0)
        assert ci.loc[n, "lower"] == pytest.approx(v[0] + 0.1 * (v[1] - v[0]))
        assert ci.loc[n, "upper"] == pytest.approx(v[4] - 0.1 * (v[4] - v[3]))
    odds = np.sort(draws["q"] / (1 - draws["q"]))
    assert ci.loc["odds", "lower"] == pytest.approx(odds[0] + 0.1 * (odds[1] - odds[0]))
    assert fit.to_dict()["intervals"]["bootstrap"]["odds"]["method"] == "bootstrap"
    assert bootstrap_percentile(draws, fit.model).loc["q", "method"] == "bootstrap"


def test_bca_agrees_with_scipy_on_a_skewed_mean():
    """For a sample mean the subject's influence is x_i - mean (the jackknife's, up to a
    factor that cancels in the acceleration): given SciPy's own bootstrap draws, our BCa ends
    are SciPy's."""
    from scipy.stats import bootstrap as scipy_bootstrap

    class NoDerived:
        def derived(self, p):
            return {}

    x = np.random.default_rng(3).exponential(size=30)
    ref = scipy_bootstrap((x,), np.mean, method="BCa", n_resamples=2000, random_state=0)
    draws = pd.DataFrame({"m": ref.bootstrap_distribution})
    ci = bootstrap_bca(draws, {"m": x.mean()}, pd.DataFrame({"m": x - x.mean()}),
                       NoDerived())
    assert ci.loc["m", "lower"] == pytest.approx(ref.confidence_interval.low, rel=1e-10)
    assert ci.loc["m", "upper"] == pytest.approx(ref.confidence_interval.high, rel=1e-10)
    assert ci.loc["m", "acceleration"] > 0  # an exponential sample's mean: right skew
    # every draw on one side of the estimate: no bias correction exists
    one_sided = bootstrap_bca(draws, {"m": draws["m"].min() - 1}, pd.DataFrame({"m": x}),
                              NoDerived())
    assert np.isnan(one_sided.loc["m", "lower"])


def test_influence_is_the_jackknife_of_leaving_a_subject_out(small_data):
    """The acceleration's U_i (score times inverse information) against refits that drop
    subject i: theta_hat - theta_hat_(i) ~ U_i."""
    est = MaximumLikelihood(Toy(), small_data)
    fit = est.fit(n_starts=1)
    influence = fit.free["influence"]
    n = est.likelihood.n_subjects
    dropped = []
    for i in range(n):
        weights = np.ones(n)
        weights[i] = 0.0
        again = MaximumLikelihood(Toy(), small_data)
        again.likelihood.subject_weights = weights
        refit = again.fit(start=fit.params.to_dict(), n_starts=1, standard_errors=False)
        dropped.append(fit.params - refit.params)
    jack = pd.DataFrame(dropped).reset_index(drop=True)
    for name in ("q", "lambda_s", "lambda_r"):
        assert np.corrcoef(jack[name], influence[name])[0, 1] > 0.95
        # first order: within 20% (a dropped subject moves the estimate a little more)
        np.testing.assert_allclose(influence[name], jack[name], rtol=0.2,
                                   atol=0.05 * jack[name].std())


def test_bootstrap_adds_bca_intervals(small_data):
    from cheaptalk.estimation.bootstrap import bootstrap

    fit = MaximumLikelihood(OddsToy(), small_data).fit(n_starts=1)
    draws = bootstrap(fit, small_data, replications=40, seed=1, jobs=1)
    ci = fit.conf_int(kind="bootstrap-bca")
    assert set(ci["method"]) == {"bootstrap-bca"}
    for n in ("q", "odds"):
        values = draws["q"] if n == "q" else draws["q"] / (1 - draws["q"])
        assert values.min() <= ci.loc[n, "lower"] < ci.loc[n, "upper"] <= values.max()
    assert "Bootstrap BCa 95% CI: " in fit.summary()
    assert fit.to_dict()["intervals"]["methods"]["bootstrap-bca"].startswith("bootstrap BCa")


def test_intervals_choice_is_checked(small_data):
    with pytest.raises(ValueError, match="intervals must be one of"):
        MaximumLikelihood(Toy(), small_data).fit(n_starts=1, intervals="bayes")


def test_json_names_every_interval(profiled):
    doc = profiled.to_dict()["intervals"]
    assert doc["level"] == 0.95 and "CR1" in doc["se"]
    assert {r["method"] for r in doc["reported"].values()} == {"profile"}
    assert set(doc["methods"]) == {"profile", "wald"}


def test_recovery_summary_counts_coverage_by_interval_type_and_bounds():
    import pandas as pd

    from cheaptalk.estimation.studies import summarise_recovery

    draws = pd.DataFrame({
        "est:a": [1.0, 2.0, 0.0, np.nan], "se:a": [0.5, 0.1, np.nan, np.nan],
        "at_bound:a": [False, False, True, False],
        "lo:wald:a": [0.2, 1.9, np.nan, np.nan], "hi:wald:a": [1.8, 2.1, np.nan, np.nan],
        "lo:profile:a": [0.3, 1.7, 0.0, np.nan], "hi:profile:a": [1.9, 2.2, 1.5, np.nan],
    })
    row = summarise_recovery(draws, {"a": 1.2}).loc["a"]
    # three replications have an estimate; one of them at a bound
    assert row["identified"] == 0.75 and row["at_bound"] == pytest.approx(1 / 3)
    # Wald: two intervals (none at the bound), one covers 1.2
    assert row["n_wald"] == 2 and row["coverage_wald"] == 0.5
    # profile: three intervals, the first and the one-sided third cover 1.2
    assert row["n_profile"] == 3 and row["coverage_profile"] == pytest.approx(2 / 3)


@pytest.mark.slow
def test_dynamic_trust_eta_at_zero_gets_a_one_sided_interval_inside_zero_one():
    """``dynamic_trust`` on data without learning (eta = 0): eta is estimated at its lower
    bound and reported with a one-sided profile interval [0, c], c < 1."""
    from cheaptalk.data.design import parse_design
    from cheaptalk.models import get_model

    design = parse_design('game = "forecast_sharing"\n[treatments.LL]\nforecast_low = 50\n'
                          'forecast_high = 250\nstep = 50\nnoise = 20\ncapacity_cost = 0.25\n'
                          'matching = "fixed"\nrounds = 8\n')
    truth = {"alpha_a": 3.0, "alpha_b": 2.0, "beta_mu": -1.5, "beta_sigma": 0.8,
             "lambda_s": 0.5, "lambda_r": 0.2, "eta": 0.0}
    df = Simulation(design, get_model("dynamic_trust"), truth, subjects_per_role=5).run(seed=2)
    fit = MaximumLikelihood(get_model("dynamic_trust"), validate_table(df, design)).fit(
        n_starts=1, intervals="auto", backend=InProcess())
    assert "eta" in fit.at_bound
    row = fit.reported_intervals().loc["eta"]
    assert row["method"] == "profile-one-sided" and row["lower"] == 0.0
    assert 0.0 < row["upper"] < 1.0
    wald = fit.intervals["wald"].dropna()
    for n, (lo, hi) in fit.bounds.items():
        if n in wald.index:
            assert lo <= wald.loc[n, "lower"] <= wald.loc[n, "upper"] <= hi


def test_profile_intervals_survive_the_json_round_trip(profiled):
    """What a saved comparison re-reads (estimation.saved) is what was computed, open ends
    included."""
    import json

    from cheaptalk.estimation.saved import _intervals

    entry = json.loads(json.dumps(profiled.to_dict()))
    entry["intervals"]["profile"]["q"].update(upper=None, upper_open=True)
    back = _intervals(entry, profiled.params, profiled.derived, profiled.bse_sandwich,
                      profiled.derived_se, [])
    for kind in ("wald", "profile"):
        for n in profiled.intervals[kind].index:
            got, want = back[kind].loc[n], profiled.intervals[kind].loc[n]
            assert got["method"] == want["method"]
            assert got["lower"] == pytest.approx(want["lower"])
            if not (kind == "profile" and n == "q"):
                assert got["upper"] == pytest.approx(want["upper"])
    assert back["profile"].loc["q", "upper"] == np.inf  # an open end reads back as open


@pytest.mark.slow
def test_profile_search_continues_from_the_estimate_side():
    """A trust fit with beta_sigma at its bound (Crawford–Sobel, synthetic, seed 1): the
    outward search overshoots to beta_sigma ~ 9, in another basin (there the spread no longer
    matters). The points between must be profiled by continuation from the estimate's side;
    started from the far point they stayed in that basin and the interval collapsed to
    [0.180, 0.183] though the deviance at 0.7 is 0.19."""
    from cheaptalk.choice import DEFAULT_TREMBLE
    from cheaptalk.estimation.studies import _simulate
    from cheaptalk.models import get_model

    truth = {"alpha_a": 2.0, "alpha_b": 3.0, "beta_mu": -1.0, "beta_sigma": 0.7,
             "lambda_s": 0.4, "lambda_r": 0.2}
    model = get_model("trust")
    data = _simulate(load_design("crawford_sobel"), model, truth, 6, 10, 1, DEFAULT_TREMBLE)
    est = MaximumLikelihood(model, data)
    fit = est.fit(start=truth, n_starts=1)
    assert fit.at_bound == ["beta_sigma"]
    upper = est.add_profile_intervals(fit, ["beta_sigma"], backend=InProcess()).loc[
        "beta_sigma", "upper"]
    # the profile by continuation, computed here: every point with deviance below the
    # one-sided threshold lies inside the interval, and the end is where it crosses
    threshold = chi2.ppf(0.90, 1)
    start, deviance = fit.params.to_dict(), {}
    for value in (0.3, 0.7, 1.5, 2.5, upper):
        ll, start = est.held_fit("beta_sigma", value, start)
        deviance[value] = 2 * (fit.llf - ll)
    assert all(d < threshold for v, d in deviance.items() if v != upper)
    assert deviance[upper] == pytest.approx(threshold, abs=0.01)

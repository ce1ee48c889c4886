"""Maximum likelihood: posterior types and type-family probabilities against a computation by
hand, and Hessian standard errors against a numerical Hessian in the natural parameters."""

import numpy as np
import pytest

from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.estimation.mle import MaximumLikelihood, posterior_table
from cheaptalk.models import get_model
from cheaptalk.simulation import Simulation
from toy_model import Toy

EPS = 0.05


@pytest.fixture(scope="module", params=[
    "forecast_sharing",
    "crawford_sobel",  # trust's quadrature weights differ by treatment there
])
def mixture(request):
    """Combination data: families with many types (trust, trustworthy) beside the levels."""
    design = load_design(request.param)
    model = get_model("combination")
    params = model.default_params(design.game(design.treatments[0]))
    df = Simulation(design, model, params, subjects_per_role=3, rounds=4).run(seed=3)
    return model, params, validate_table(df, design)


def _family(ty) -> str:
    declared = getattr(ty, "family", None)
    return declared if isinstance(declared, str) else ty.name.split(" ")[0]


def _by_hand(preds, ds, role, unit):
    """Posterior over types, type names and families of one (subject, role), from the mixture
    formula P(k | decisions) ∝ w_k Π_d ((1 - ε) s_k[x_d, y_d] + ε / n_y) with ``preds`` the
    prediction in each treatment."""
    t = ds.table
    rows = np.flatnonzero(t[role].to_numpy() == unit)
    log_lik, weights, names, families = 0.0, None, None, None
    for r in rows:
        pred = preds[t["treatment"].iat[r]]
        game = pred.game
        weights, strategies, names = pred.role_types(role)
        families = [_family(ty) for ty in pred.types if getattr(ty, role) is not None]
        if role == "sender":
            x, y, n_y = ds.state[r], ds.message[r], game.n_messages
        else:
            x, y, n_y = ds.message[r], ds.action[r], game.n_actions
        log_lik = log_lik + np.log((1 - EPS) * strategies[:, x, y] + EPS / n_y)
    joint = weights * np.exp(log_lik)
    return joint / joint.sum(), names, families, float(np.log(joint.sum()))


def test_posterior_types_and_families_match_a_hand_computation(mixture):
    model, params, ds = mixture
    lik = Likelihood(model, ds, epsilon=EPS)
    ev = lik.evaluate(params)
    table = posterior_table(lik, ev)
    assert len(table) == lik.n_units
    preds = {g: model.predict(ds.design.game(g), params) for g in ds.design.treatments}
    checked_grouping = False
    for _, row in table.iterrows():
        post, names, families, loglik = _by_hand(preds, ds, row["role"], row["subject"])
        # The most likely type (ties between quadrature nodes may go either way), named as
        # in the unit's own treatment (trust's beta nodes differ by game).
        assert ev.type_names[row["role"]][row["treatment"]] == list(names)
        k = list(names).index(row["type"])
        assert post[k] == pytest.approx(post.max(), rel=1e-9)
        assert row["type_probability"] == pytest.approx(post.max(), rel=1e-9)
        assert row["loglik"] == pytest.approx(loglik, rel=1e-9)
        by_family = {}
        for f, p in zip(families, post, strict=True):
            by_family[f] = by_family.get(f, 0.0) + p
        top = max(by_family, key=by_family.get)
        assert row["family"] == top
        assert row["family_probability"] == pytest.approx(by_family[top], rel=1e-9)
        for f, p in by_family.items():
            assert row[f"P({f})"] == pytest.approx(p, rel=1e-9, abs=1e-300)
        checked_grouping |= row["family_probability"] > row["type_probability"] + 0.1
    # the data must exercise a family of several types, where the two probabilities differ
    assert checked_grouping


@pytest.fixture(scope="module")
def toy_fit():
    design = load_design("crawford_sobel")
    truth = {"q": 0.6, "lambda_s": 0.8, "lambda_r": 0.3}
    df = Simulation(design, Toy(), truth, subjects_per_role=12, rounds=20).run(seed=11)
    ds = validate_table(df, design)
    return ds, MaximumLikelihood(Toy(), ds).fit(n_starts=1)


def test_hessian_standard_errors_match_a_natural_space_hessian(toy_fit):
    """At the maximum the observed information transforms as a tensor, so the delta-method
    SEs must equal those of a numerical Hessian taken directly in (q, lambda_s, lambda_r)."""
    ds, fit = toy_fit
    assert fit.converged
    lik = Likelihood(Toy(), ds, epsilon=fit.epsilon)
    names = list(fit.params.index)
    theta = fit.params.to_numpy(dtype=float)

    def loglik(v):
        return lik.evaluate(dict(zip(names, v, strict=True))).loglik

    k = len(names)
    h = 1e-4 * np.maximum(1.0, np.abs(theta))
    hess = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            hess[i, j] = (loglik(theta + ei + ej) - loglik(theta + ei - ej)
                          - loglik(theta - ei + ej) + loglik(theta - ei - ej)) / (4 * h[i] * h[j])
    se = np.sqrt(np.diag(np.linalg.inv(-hess)))
    np.testing.assert_allclose(fit.bse.to_numpy(), se, rtol=2e-3)
    # the sandwich uses the same Jacobian: its SEs are positive and of the same order
    ratio = fit.bse_sandwich / fit.bse
    assert ((ratio > 0.5) & (ratio < 2)).all(), ratio


class _Forgetful(dict):
    """A fit's memory of its evaluations that remembers nothing: every point is evaluated
    afresh, as if there were no memory."""

    def __setitem__(self, key, value):
        pass


def test_a_fit_evaluates_each_point_once_and_its_results_do_not_depend_on_it(toy_fit):
    """The estimate, the Hessian and the subject scores share their evaluations: each point
    is evaluated once, and the fit (standard errors and sandwich included) is the one a fit
    that evaluates every point afresh returns."""
    ds, _ = toy_fit
    fits, counts = [], []
    for memo in (None, _Forgetful()):
        est = MaximumLikelihood(Toy(), ds)
        if memo is not None:
            est._memo = memo
        evaluate, points = est.likelihood.evaluate, []

        def counted(params, gradient=False, evaluate=evaluate, points=points):
            points.append(tuple(sorted(params.items())))
            return evaluate(params, gradient)

        est.likelihood.evaluate = counted
        fits.append(est.fit(n_starts=1))
        counts.append(points)
    remembered, afresh = counts
    assert len(set(remembered)) == len(remembered)
    k = fits[0].df_model
    # afresh: the estimate and its gradient again, then the subject scores' 2k + 1 points
    assert len(afresh) == len(remembered) + 2 * k + 3
    for name in ("params", "bse", "bse_sandwich"):
        np.testing.assert_allclose(getattr(fits[0], name), getattr(fits[1], name),
                                   rtol=1e-12)
    assert fits[0].llf == fits[1].llf


def test_a_fit_scaled_by_a_related_fits_covariance_reaches_the_same_optimum(toy_fit):
    """``fit(metric=full)``, as held-out fits run: the same optimum as a plain fit from the
    same start, in fewer evaluations (the curvature is about the same in every direction)."""
    from types import SimpleNamespace

    ds, full = toy_fit
    subjects = sorted(set(ds.table["sender"]))[::2] + sorted(set(ds.table["receiver"]))
    # and a metric far from diagonal: the steps must be mapped back with its transpose
    sd = np.sqrt(np.diag(full.free["cov"]))
    skewed = SimpleNamespace(free={"space": full.free["space"], "cov": np.outer(sd, sd) * (
        0.1 * np.eye(3) + 0.9 * np.array([[1, 1, -1], [1, 1, -1], [-1, -1, 1]]))})
    fits = {}
    for label, metric in (("plain", None), ("full", full), ("skewed", skewed)):
        est = MaximumLikelihood(Toy(), ds, subjects=subjects)
        fits[label] = (est.fit(start=full.params.to_dict(), n_starts=1,
                               standard_errors=False, metric=metric), est.n_evaluations)
    plain, n_plain = fits["plain"]
    for label in ("full", "skewed"):
        scaled, _ = fits[label]
        assert scaled.converged
        assert scaled.llf == pytest.approx(plain.llf, abs=1e-6)
        np.testing.assert_allclose(scaled.params, plain.params, rtol=1e-4)
    assert fits["full"][1] < n_plain


def test_the_metric_covers_this_fits_free_parameters_by_name(toy_fit):
    """Coordinates the related fit did not estimate keep unit scale; the others take its
    covariance (by name, whatever the order)."""
    from types import SimpleNamespace

    ds, _ = toy_fit
    est = MaximumLikelihood(Toy(), ds)
    ours = est.space.free_names
    theirs = [ours[2], "other", ours[0]]
    cov = np.array([[4.0, 0.0, 1.0], [0.0, 9.0, 0.0], [1.0, 0.0, 2.0]])
    related = SimpleNamespace(free={"space": SimpleNamespace(free_names=theirs), "cov": cov})
    expected = np.eye(len(ours))
    expected[np.ix_([0, 2], [0, 2])] = [[2.0, 1.0], [1.0, 4.0]]
    np.testing.assert_allclose(est._metric_covariance(related), expected)
    assert est._metric_covariance(SimpleNamespace(free={})) is None


def test_the_metric_scales_the_inner_fits_of_a_profile_search():
    """Cognitive hierarchy's τ is profiled (grid, then Brent); with a metric the inner fits
    over the precisions take steps scaled by its block for them: the same optimum. (Fewer
    evaluations on the demo data, about a fifth; not on every dataset, so not asserted.)"""
    from cheaptalk.models.levelk import CognitiveHierarchy

    design = load_design("crawford_sobel")
    model = CognitiveHierarchy(levels=2)
    truth = {"tau": 1.2, "lambda_s": 0.8, "lambda_r": 0.3}
    ds = validate_table(Simulation(design, model, truth, subjects_per_role=10,
                                   rounds=10).run(seed=5), design)
    full = MaximumLikelihood(model, ds).fit(n_starts=1)
    subjects = sorted(set(ds.table["sender"]))[::2] + sorted(set(ds.table["receiver"]))[1::2]
    fits = []
    for metric in (None, full):
        est = MaximumLikelihood(model, ds, subjects=subjects)
        fits.append((est.fit(start=full.params.to_dict(), n_starts=1, standard_errors=False,
                             ftol=1e-8, metric=metric), est.n_evaluations))
    (plain, _), (scaled, _) = fits
    assert "profile search" in scaled.convergence["message"]
    assert scaled.converged
    assert scaled.llf == pytest.approx(plain.llf, abs=1e-4)
    # (lambda_s is nearly flat on these few data: only tau and the maximum are compared)
    assert scaled.params["tau"] == pytest.approx(plain.params["tau"], rel=1e-3)

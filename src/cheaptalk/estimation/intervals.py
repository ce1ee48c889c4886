r"""Confidence intervals for estimates and derived quantities (level :math:`1 - a`, 95% by
default).

**Transformed Wald.** Maximum likelihood runs on the free vector :math:`x` of
:mod:`cheaptalk.estimation.parameters` (``log`` for a positive parameter, scaled ``logit``
for one in a finite interval, identity on the real line). The interval is
:math:`x_i \pm z_{1-a/2}\, s_i` in the free space, mapped back by the (increasing)
transform, with :math:`s_i` the free-space standard error; a share :math:`p` of a simplex
group gets :math:`\operatorname{expit}(\operatorname{logit} p \pm z\, s_p / (p(1-p)))`, with
:math:`s_p` its natural-scale (delta-method) standard error. Both stay inside the parameter
space. A derived quantity with a declared range (:meth:`~cheaptalk.models.base.Model.
derived_bounds`) is transformed the same way from its delta-method standard error; one on
the real line gets the plain :math:`\hat g \pm z\, s_g`. The reported standard error keeps its
meaning: the delta-method standard error on the natural scale, so the interval is in general
not :math:`\hat\theta \pm z\,\mathrm{se}`.

**Profile likelihood.** For a quantity :math:`g(\theta)` (a parameter or a derived
quantity) the profile log-likelihood is :math:`\ell_p(c) = \max_{\theta: g(\theta) = c}
\ell(\theta)`, and the interval is :math:`\{c : 2(\hat\ell - \ell_p(c)) \le q\}` with
:math:`q = \chi^2_{1}(1 - a)` (3.84). For a parameter the inner maximisation is the
estimator itself with the parameter held fixed (exact gradients); for a simplex share or a
derived quantity it is SLSQP with the equality constraint :math:`g(\theta) = c`. Each end is
found by stepping out from the estimate (doubling steps) until the deviance exceeds
:math:`q`, then by Brent's method. An end not reached before the parameter's bound (or a
far limit) is open: the interval runs to the bound. For a parameter estimated at a bound
the interval is one-sided, ``[bound, c_u]``, with :math:`q = \chi^2_1(1 - 2a)` (2.71): at a
boundary the likelihood-ratio statistic is a 50:50 mixture of :math:`\chi^2_0` and
:math:`\chi^2_1` (Self and Liang 1987). Each end is a task for :mod:`cheaptalk.runner`.

**When the Wald interval is unreliable** (:func:`wald_unreliable`, the rule ``auto`` uses):
the estimate is at a bound; or the natural-scale interval :math:`\hat\theta \pm z\,
\mathrm{se}` reaches a bound (the quadratic approximation extends past the space); or the
transformed interval is strongly skewed, one side more than twice the other (the
likelihood is far from quadratic on the natural scale). Only those get profile intervals
under ``auto``; ``profile`` computes them for every parameter and derived quantity.

**Bootstrap percentile.** The :math:`a/2` and :math:`1 - a/2` quantiles of the bootstrap
estimates (:mod:`cheaptalk.estimation.bootstrap`); derived quantities are computed from
each replication's estimates.

**Bootstrap BCa** (Efron 1987; Efron and Tibshirani 1993, §14.3). The quantiles
:math:`\Phi(z_0 + (z_0 + z_q) / (1 - \hat a (z_0 + z_q)))` of the same draws, for
:math:`z_q = \Phi^{-1}(a/2)` and :math:`\Phi^{-1}(1 - a/2)`. The bias correction
:math:`z_0 = \Phi^{-1}(\#\{\theta^*_b < \hat\theta\} / B)` (ties count half) comes from
the draws; the acceleration :math:`\hat a = \sum_i U_i^3 / (6 (\sum_i U_i^2)^{3/2})` from
each subject's empirical influence :math:`U_i = \partial\hat\theta / \partial w_i`
(the infinitesimal jackknife: the subject's score times the inverse information, mapped to
the natural scale; for a derived quantity its gradient times that), which the fit's
sandwich already has, so BCa costs no refits. Undefined (NaN) when every draw lies on one
side of the estimate, as for a parameter estimated at a bound.

References
----------
Efron, B. (1987). Better bootstrap confidence intervals. JASA 82, 171–185.
Efron, B. and Tibshirani, R. J. (1993). An Introduction to the Bootstrap. Chapman & Hall.
Self, S. G. and Liang, K.-Y. (1987). Asymptotic properties of maximum likelihood
estimators and likelihood ratio tests under nonstandard conditions. JASA 82, 605–610.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize
from scipy.special import expit, logit, ndtr, ndtri  # ndtri, ndtr: the normal quantile, CDF

from cheaptalk.runner import Backend, Progress, default_backend, run_tasks

if TYPE_CHECKING:
    from cheaptalk.data.interactions import Dataset
    from cheaptalk.models.base import Model

    from .mle import FitResults
    from .parameters import ParameterSpace

__all__ = [
    "INTERVAL_LABELS",
    "INTERVAL_METHODS",
    "LEVEL",
    "Z_95",
    "IntervalMethod",
    "ProfileEnd",
    "bootstrap_bca",
    "bootstrap_percentile",
    "critical_value",
    "derived_jacobian",
    "profile_intervals",
    "transform_interval",
    "transformed_wald",
    "unreliable_names",
    "wald_unreliable",
]

#: Default confidence level.
LEVEL = 0.95

#: The two-sided normal quantile of :data:`LEVEL` (1.96): every ``estimate ± z se``
#: interval at the default level, in estimation, tables and figures.
Z_95 = float(ndtri(0.5 + LEVEL / 2))

@dataclass(frozen=True)
class IntervalMethod:
    """How one interval method is named in each output.

    Attributes
    ----------
    label : str
        In full: the tables' notes, the saved JSON, the LaTeX legend.
    short : str
        A few words: the text summary's and the HTML report's method column.
    mark : str
        The LaTeX table's mark (explained by ``label`` in the caption).
    figure_mark : str
        Appended to a parameter's label in the intervals figure (empty: the figure's
        default, transformed Wald).
    """

    label: str
    short: str
    mark: str
    figure_mark: str = ""


#: Every interval method, by the name stored in tables and JSON (``method`` columns).
INTERVAL_METHODS: dict[str, IntervalMethod] = {
    "wald": IntervalMethod("Wald, transformed (estimation scale, CR1 sandwich)",
                           "transformed Wald", "W"),
    "wald-natural": IntervalMethod("Wald (natural scale, CR1 sandwich)", "Wald", "W$_n$"),
    "profile": IntervalMethod("profile likelihood", "profile", "P", "[P]"),
    "profile-one-sided": IntervalMethod(
        "profile likelihood, one-sided (estimate at a bound)", "profile, one-sided", "P$_1$",
        "[P, one-sided]"),
    "bootstrap": IntervalMethod("bootstrap percentile", "bootstrap percentile", "B"),
    "bootstrap-bca": IntervalMethod(
        "bootstrap BCa (acceleration from the subjects' empirical influence)",
        "bootstrap BCa", "B$_{BCa}$"),
}

#: Each method's full label (:attr:`IntervalMethod.label`).
INTERVAL_LABELS = {name: method.label for name, method in INTERVAL_METHODS.items()}

#: How far (in the estimation scale) a profile end is sought before it is declared open.
_FAR = 25.0
_MAX_STEPS = 14


def critical_value(level: float = LEVEL, one_sided: bool = False) -> float:
    """The likelihood-ratio threshold of a profile interval.

    Examples
    --------
    >>> round(critical_value(), 3), round(critical_value(one_sided=True), 3)
    (3.841, 2.706)
    """
    q = 2 * level - 1 if one_sided else level
    return float(ndtri(0.5 + q / 2) ** 2)  # the chi-square(1) quantile


def transform_interval(value: float, se: float, bounds: tuple[float, float],
                       level: float = LEVEL) -> tuple[float, float]:
    """A Wald interval for ``value`` (natural-scale standard error ``se``) built on the scale
    that maps ``bounds`` to the real line (log for a half-line, logit for an interval) and
    mapped back: it never leaves ``bounds``.

    Examples
    --------
    >>> lo, hi = transform_interval(0.02, 0.03, (0.0, 1.0))
    >>> 0 < lo < 0.02 < hi < 1
    True
    >>> transform_interval(1.0, 0.5, (-np.inf, np.inf))
    (0.020018007729972975, 1.979981992270027)
    """
    z = float(ndtri(0.5 + level / 2))
    lo, hi = bounds
    if not (np.isfinite(value) and np.isfinite(se)):
        return np.nan, np.nan
    if np.isinf(lo) and np.isinf(hi):
        return value - z * se, value + z * se
    if np.isinf(hi) or np.isinf(lo):
        # log scale measured from the finite bound (sign flipped for an upper bound)
        sign, b = (1.0, lo) if np.isinf(hi) else (-1.0, hi)
        d = max(sign * (value - b), 1e-300)
        s = se / d
        with np.errstate(over="ignore"):  # an infinite end is the open half-line
            ends = sorted((b + sign * d * np.exp(-z * s), b + sign * d * np.exp(z * s)))
        return float(ends[0]), float(ends[1])
    width = hi - lo
    u = float(np.clip((value - lo) / width, 1e-300, 1 - 1e-16))
    s = se / (width * u * (1 - u))
    centre = logit(u)
    return float(lo + width * expit(centre - z * s)), float(lo + width * expit(centre + z * s))


def transformed_wald(space: ParameterSpace, x: NDArray[np.float64], cov_free: NDArray[np.float64],
                     level: float = LEVEL) -> pd.DataFrame:
    """Transformed Wald intervals of the estimated parameters (see the module docstring).

    Parameters
    ----------
    space : ParameterSpace
    x : array
        The estimate in the free space.
    cov_free : array
        Its covariance in the free space (``space.size`` square).

    Returns
    -------
    DataFrame
        Index: ``space.estimated``; columns ``lower, upper`` (NaN where the standard error
        is).

    Examples
    --------
    >>> from cheaptalk.estimation.parameters import ParameterSpace
    >>> sp = ParameterSpace(["lam", "p0", "p1"], {"lam": (0.0, np.inf)}, [("p0", "p1")])
    >>> x = sp.to_free({"lam": 2.0, "p0": 0.9, "p1": 0.1})
    >>> ci = transformed_wald(sp, x, np.diag([0.25, 4.0]))
    >>> bool(np.isclose(ci.loc["lam", "lower"], 2 * np.exp(-1.959964 * 0.5)))
    True
    >>> bool(((ci["lower"] > 0) & (ci["upper"] < np.inf)).all() and ci.loc["p1", "upper"] < 1)
    True
    """
    z = float(ndtri(0.5 + level / 2))
    theta = space.to_natural(x)
    jac = space.jacobian(x)
    names = space.names
    nat_cov = jac @ cov_free @ jac.T
    out: dict[str, tuple[float, float]] = {}
    i = 0
    for kind, block in space._blocks:
        if kind == "simplex":
            for n in block:
                j = names.index(n)
                se = float(np.sqrt(nat_cov[j, j])) if nat_cov[j, j] >= 0 else np.nan
                out[n] = transform_interval(theta[n], se, (0.0, 1.0), level)
            i += len(block) - 1
        else:
            n = block[0]
            var = cov_free[i, i]
            if not np.isfinite(var) or var < 0:
                out[n] = (np.nan, np.nan)
            else:
                s = float(np.sqrt(var))
                lo = space.to_natural(_with(x, i, x[i] - z * s))[n]
                hi = space.to_natural(_with(x, i, x[i] + z * s))[n]
                out[n] = (lo, hi)
            i += 1
    return pd.DataFrame.from_dict(out, orient="index", columns=["lower", "upper"]).reindex(
        space.estimated)


def _with(x: NDArray[np.float64], i: int, value: float) -> NDArray[np.float64]:
    y = np.array(x, dtype=float)
    y[i] = value
    return y


def wald_unreliable(estimate: float, se: float, lower: float, upper: float,
                    bounds: tuple[float, float], at_bound: bool,
                    level: float = LEVEL) -> bool:
    """Whether a parameter's Wald interval is not to be trusted (the rule of ``auto``; see
    the module docstring).

    Examples
    --------
    >>> wald_unreliable(0.5, 0.1, 0.31, 0.69, (0, 1), False)
    False
    >>> wald_unreliable(0.05, 0.1, 0.008, 0.26, (0, 1), False)   # reaches the bound
    True
    >>> wald_unreliable(3.0, 0.5, 1.0, 8.0, (0, np.inf), False)   # skewed: 5 against 2
    True
    """
    if at_bound:
        return True
    if not (np.isfinite(se) and np.isfinite(lower) and np.isfinite(upper)):
        return False
    z = float(ndtri(0.5 + level / 2))
    lo, hi = bounds
    if estimate - z * se <= lo or estimate + z * se >= hi:
        return True
    below, above = estimate - lower, upper - estimate
    return bool(below <= 0 or above <= 0 or max(below / above, above / below) > 2.0)


# ------------------------------------------------------------------- profile likelihood
@dataclass(frozen=True, eq=False)
class ProfileEnd:
    """A runner task: one end of the profile-likelihood interval of ``target`` (a parameter
    or a derived quantity) for the fit at ``estimate``.

    The estimator is rebuilt from ``model, dataset, epsilon, estimate_epsilon, fixed,
    selection``; ``side`` is -1 (lower end) or +1 (upper end); ``step`` the first step on
    the search scale (the estimation scale of a parameter; logit of a share; a derived
    quantity's transformed scale). Its result is a dict: ``end`` (natural scale),
    ``open`` (no end before the bound or the far limit), ``points`` (value, profile
    log-likelihood) evaluated, and ``higher`` (the best log-likelihood seen, to flag an
    estimate that was not the maximum).
    """

    model: Any
    dataset: Any
    epsilon: float
    estimate_epsilon: bool
    fixed: Mapping[str, float]
    selection: Mapping[str, Any]
    estimate: Mapping[str, float]
    loglik: float
    target: str
    side: int
    critical: float
    step: float
    at_bound: bool = False
    derived: bool = False
    derived_range: tuple[float, float] = (-np.inf, np.inf)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return (f"profile {self.model.name}: {self.target} "
                f"{'lower' if self.side < 0 else 'upper'} end")

    def run(self) -> dict[str, Any]:
        from .mle import MaximumLikelihood

        est = MaximumLikelihood(self.model, self.dataset, epsilon=self.epsilon,
                                fixed=self.fixed, estimate_epsilon=self.estimate_epsilon,
                                **self.selection)
        return _profile_end(est, self)


def _scale(task: ProfileEnd, est: Any) -> tuple[Any, Any, tuple[float, float]]:
    """(to natural, from natural, natural bounds) of the search scale of ``task.target``."""
    if task.derived:
        bounds = task.derived_range
    elif any(task.target in g for g in est.space.simplex_groups):
        bounds = (0.0, 1.0)
    else:
        bounds = est.space.bounds.get(task.target, (-np.inf, np.inf))
    lo, hi = bounds
    if np.isinf(lo) and np.isinf(hi):
        return (lambda t: t), (lambda v: v), bounds
    if np.isinf(hi):
        return (lambda t: lo + np.exp(t)), (lambda v: np.log(max(v - lo, 1e-300))), bounds
    if np.isinf(lo):
        return (lambda t: hi - np.exp(t)), (lambda v: np.log(max(hi - v, 1e-300))), bounds
    w = hi - lo
    return ((lambda t: lo + w * expit(t)),
            (lambda v: logit(np.clip((v - lo) / w, 1e-300, 1 - 1e-16))), bounds)


def _profile_end(est: Any, task: ProfileEnd) -> dict[str, Any]:
    to_nat, to_scale, bounds = _scale(task, est)
    value0 = (est.model.derived(task.estimate)[task.target] if task.derived
              else task.estimate[task.target])
    # For a decreasing map (upper bound only) the natural side is the scale's reverse.
    decreasing = np.isinf(bounds[0]) and np.isfinite(bounds[1])
    direction = -task.side if decreasing else task.side
    if task.at_bound and ((task.side < 0 and np.isfinite(bounds[0])
                           and abs(value0 - bounds[0]) < 1e-3 * max(1, abs(bounds[0])))
                          or (task.side > 0 and np.isfinite(bounds[1])
                              and abs(value0 - bounds[1]) < 1e-3 * max(1, abs(bounds[1])))):
        edge = bounds[0] if task.side < 0 else bounds[1]
        return {"end": float(edge), "open": False, "one_sided": True, "points": [],
                "higher": task.loglik}
    t0 = float(to_scale(value0))
    # Each inner fit starts from the maximiser at the nearest point already profiled between
    # the estimate and it (a continuation outward from the estimate): a point further out can
    # sit in another basin (at a large lying-cost spread, one where the spread no longer
    # matters), and started from there a nearer point would stay in that basin, below its
    # profile log-likelihood.
    starts: dict[float, Mapping[str, float]] = {t0: dict(task.estimate)}
    points: list[tuple[float, float]] = []
    cache: dict[float, float] = {}

    def deviance(t: float) -> float:
        if t in cache:
            return cache[t]
        c = float(to_nat(t))
        inner_side = [s for s in starts if (s - t0) * (t - s) >= 0]
        ll, params = _profile_point(est, task, c, starts[min(inner_side, key=lambda s: abs(t - s))])
        if np.isfinite(ll):
            starts[t] = params
        points.append((c, ll))
        d = 2.0 * (task.loglik - ll) if np.isfinite(ll) else np.inf
        cache[t] = d
        return d

    h = max(abs(task.step), 1e-3)
    inner, t = t0, t0 + direction * h
    found = None
    for _ in range(_MAX_STEPS):
        nat = float(to_nat(t))
        if not np.isfinite(nat) or nat <= bounds[0] or nat >= bounds[1]:
            break
        d = deviance(t)
        if d >= task.critical:
            found = (inner, t)
            break
        inner = t
        h *= 2.0
        if abs(t - t0) > _FAR:
            break
        t = t0 + direction * h
    higher = max([ll for _, ll in points if np.isfinite(ll)], default=task.loglik)
    if found is None:
        edge = bounds[0] if task.side < 0 else bounds[1]
        return {"end": float(edge), "open": True, "one_sided": False, "points": points,
                "higher": float(higher)}
    a, b = found
    fa = deviance(a) - task.critical if a != t0 else -task.critical
    fb = deviance(b) - task.critical
    if fa >= 0:  # the estimate was not the maximum nearby; keep the outer end
        root = b
    else:
        # the signed root of the deviance is nearly linear in t: Brent converges in a few
        # inner fits on it
        try:
            root = optimize.brentq(
                lambda s: np.sqrt(max(deviance(s), 0.0)) - np.sqrt(task.critical), a, b,
                xtol=1e-4 * max(1.0, abs(b - a)), maxiter=30)
        except ValueError:
            root = b if fb >= 0 else a
    higher = max([ll for _, ll in points if np.isfinite(ll)], default=task.loglik)
    return {"end": float(to_nat(root)), "open": False, "one_sided": False,
            "points": points, "higher": float(higher)}


def _profile_point(est: Any, task: ProfileEnd, value: float, start: Mapping[str, float]
                   ) -> tuple[float, dict[str, float]]:
    """The profile log-likelihood at ``target = value`` and the maximising parameters."""
    scalar = not task.derived and not any(task.target in g for g in est.space.simplex_groups)
    if scalar:
        return est.held_fit(task.target, value, start)
    return _constrained_fit(est, task, value, start)


def _constrained_fit(est: Any, task: ProfileEnd, value: float, start: Mapping[str, float]
                     ) -> tuple[float, dict[str, float]]:
    """Maximise the log-likelihood subject to ``g(theta) = value`` (SLSQP in the free
    space; exact gradient of the log-likelihood, central differences of ``g``)."""
    space = est.space

    def g(x: NDArray[np.float64]) -> float:
        theta = space.to_natural(x)
        return float(est.model.derived(theta)[task.target] if task.derived
                     else theta[task.target])

    def g_jac(x: NDArray[np.float64]) -> NDArray[np.float64]:
        out = np.zeros_like(x)
        for i in range(x.size):
            e = np.zeros_like(x)
            e[i] = 1e-6
            out[i] = (g(x + e) - g(x - e)) / 2e-6
        return out

    x0 = space.to_free(start)
    scale = max(1.0, abs(value))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = optimize.minimize(
            est._objective, x0, jac=True, method="SLSQP",
            constraints=[{"type": "eq", "fun": lambda x: (g(x) - value) / scale,
                          "jac": lambda x: g_jac(x) / scale}],
            options={"maxiter": 200, "ftol": 1e-9})
    if abs(g(res.x) - value) > 1e-4 * scale:
        return -np.inf, dict(start)
    return -float(res.fun), space.to_natural(res.x)


def profile_intervals(
    results: FitResults, dataset: Dataset, names: Sequence[str] | None = None,
    level: float = LEVEL,
    fixed: Mapping[str, float] | None = None, selection: Mapping[str, Any] | None = None,
    jobs: int | None = None, progress: Progress | None = None, backend: Backend | None = None,
) -> pd.DataFrame:
    """Profile-likelihood intervals for ``names`` (parameters or derived quantities of the
    fit; default every estimated parameter and derived quantity).

    Parameters
    ----------
    results : FitResults
        A fit of ``dataset`` (its estimate must be the maximum).
    dataset : Dataset
    names : sequence of str, optional
    level : float
    fixed : mapping, optional
        Parameters the fit held fixed by request (not those it found not identified).
    selection : mapping, optional
        ``rows`` / ``subjects`` the fit used.
    jobs, progress, backend
        As in :func:`cheaptalk.estimation.bootstrap.bootstrap`: each end is one task.

    Returns
    -------
    DataFrame
        Index: the quantities; columns ``lower, upper, method`` (``"profile"`` or
        ``"profile-one-sided"``), ``lower_open, upper_open`` (no end found before the
        bound), ``higher_loglik`` (the best log-likelihood met on the way: above the fit's
        when the fit was not the maximum).
    """
    model = results.model
    estimable = [n for n in results.bounds
                 if n not in results.not_identified and n not in (fixed or {})]
    derived = list(results.derived.index)
    targets = list(names) if names is not None else estimable + derived
    unknown = [n for n in targets if n not in estimable and n not in derived]
    if unknown:
        raise ValueError(f"no profile interval for {', '.join(unknown)}: not an estimated "
                         "parameter or derived quantity of this fit")
    ranges = model.derived_bounds()
    estimate = {k: float(v) for k, v in results.params.items()}
    estimate_epsilon = "epsilon" in estimate and "epsilon" not in model.parameter_names()
    held = {n: estimate[n] for n in results.not_identified}
    held.update(fixed or {})
    tasks = []
    for n in targets:
        is_derived = n in derived
        at_bound = n in results.at_bound
        se = float((results.derived_se if is_derived else results.bse_sandwich).get(n, np.nan))
        if not np.isfinite(se):
            se = float((results.derived_se if is_derived else results.bse).get(n, np.nan))
        value = float(results.derived[n] if is_derived else estimate[n])
        step = _first_step(value, se, ranges.get(n) if is_derived else None, results, n,
                           at_bound)
        for side in (-1, 1):
            tasks.append(ProfileEnd(
                model, dataset, results.epsilon, estimate_epsilon, held,
                dict(selection or {}), estimate, float(results.llf), n, side,
                critical_value(level, at_bound), step, at_bound, is_derived,
                tuple(ranges.get(n, (-np.inf, np.inf)))))
    ends = run_tasks(tasks, backend or default_backend(jobs), progress)
    rows = {}
    for k, n in enumerate(targets):
        lo, hi = ends[2 * k], ends[2 * k + 1]
        rows[n] = {"lower": lo["end"], "upper": hi["end"],
                   "method": "profile-one-sided" if n in results.at_bound else "profile",
                   "lower_open": lo["open"], "upper_open": hi["open"],
                   "higher_loglik": max(lo["higher"], hi["higher"])}
    return pd.DataFrame.from_dict(rows, orient="index")


def unreliable_names(results: FitResults, level: float = LEVEL) -> list[str]:
    """The estimated parameters of ``results`` whose Wald interval :func:`wald_unreliable`
    rejects (the ones ``auto`` profiles).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fit = SimpleNamespace(
    ...     bounds={"q": (0.0, 1.0), "lam": (0.0, np.inf)}, not_identified=[],
    ...     at_bound=["lam"], params=pd.Series({"q": 0.5, "lam": 0.0}),
    ...     bse_sandwich=pd.Series({"q": 0.1, "lam": np.nan}),
    ...     intervals={"wald": pd.DataFrame({"lower": [0.31, np.nan],
    ...                                      "upper": [0.69, np.nan]}, index=["q", "lam"])})
    >>> unreliable_names(fit)
    ['lam']
    """
    wald = results.intervals.get("wald")
    out = []
    for n, bounds in results.bounds.items():
        if n in results.not_identified:
            continue
        lower, upper = ((np.nan, np.nan) if wald is None or n not in wald.index
                        else (wald.loc[n, "lower"], wald.loc[n, "upper"]))
        if wald_unreliable(float(results.params[n]), float(results.bse_sandwich.get(n, np.nan)),
                           float(lower), float(upper), bounds, n in results.at_bound, level):
            out.append(n)
    return out


def _first_step(value: float, se: float, derived_range: Any, results: Any, name: str,
                at_bound: bool) -> float:
    """A first step on the search scale: about one Wald half-width (z·se converted to the
    scale), 1 where none is known (a parameter at a bound)."""
    if at_bound or not np.isfinite(se) or se <= 0:
        return 1.0
    lo, hi = derived_range if derived_range is not None else (-np.inf, np.inf)
    if derived_range is None and name in results.bounds:
        lo, hi = results.bounds[name]
    if np.isinf(lo) and np.isinf(hi):
        d = 1.0
    elif np.isinf(hi):
        d = max(value - lo, 1e-12)
    elif np.isinf(lo):
        d = max(hi - value, 1e-12)
    else:
        u = float(np.clip((value - lo) / (hi - lo), 1e-9, 1 - 1e-9))
        d = (hi - lo) * u * (1 - u)
    return float(np.clip(Z_95 * se / d, 0.02, 3.0))


# ------------------------------------------------------------------- bootstrap percentile
def bootstrap_percentile(draws: pd.DataFrame, model: Model, level: float = LEVEL
                         ) -> pd.DataFrame:
    """Percentile intervals of the parameters (columns of ``draws``, one row per
    replication) and of the model's derived quantities computed from each row.

    Examples
    --------
    >>> class M:
    ...     def derived(self, p): return {"twice": 2 * p["a"]}
    >>> draws = pd.DataFrame({"a": np.arange(101.0)})
    >>> ci = bootstrap_percentile(draws, M()).loc[["a", "twice"], ["lower", "upper"]]
    >>> ci.round(6).values.tolist()
    [[2.5, 97.5], [5.0, 195.0]]
    """
    table = _with_derived(draws, model)
    a = (1 - level) / 2
    out = pd.DataFrame({"lower": table.quantile(a), "upper": table.quantile(1 - a)})
    out["method"] = "bootstrap"
    return out


def derived_jacobian(model: Model, theta: Mapping[str, float], names: Sequence[str]
                     ) -> tuple[dict[str, float], NDArray[np.float64]]:
    """The model's derived quantities at ``theta`` and their gradient with respect to the
    parameters ``names`` (central differences, step 1e-6 · max(1, |θ_j|)):
    row ``i`` of the gradient belongs to the ``i``-th derived quantity.

    Examples
    --------
    >>> class M:
    ...     def derived(self, p): return {"twice": 2 * p["a"] + p["b"] ** 2}
    >>> values, grad = derived_jacobian(M(), {"a": 1.0, "b": 3.0}, ["a", "b"])
    >>> values, grad.round(6).tolist()
    ({'twice': 11.0}, [[2.0, 6.0]])
    """
    values = model.derived(theta)
    grads = np.zeros((len(values), len(names)))
    if not values:
        return values, grads
    for j, n in enumerate(names):
        h = 1e-6 * max(1.0, abs(theta[n]))
        up, down = dict(theta), dict(theta)
        up[n] += h
        down[n] -= h
        vu, vd = model.derived(up), model.derived(down)
        grads[:, j] = [(vu[key] - vd[key]) / (2 * h) for key in values]
    return values, grads


def _with_derived(draws: pd.DataFrame, model: Any) -> pd.DataFrame:
    """``draws`` with the model's derived quantities of each row appended as columns."""
    rows = [model.derived(r) for r in draws.to_dict("records")]
    if rows and rows[0]:
        return pd.concat([draws, pd.DataFrame(rows, index=draws.index)], axis=1)
    return draws.copy()


def bootstrap_bca(draws: pd.DataFrame, estimate: Mapping[str, float],
                  influence: pd.DataFrame, model: Model, level: float = LEVEL
                  ) -> pd.DataFrame:
    """BCa intervals (see the module docstring) of the parameters in ``draws`` and of the
    model's derived quantities.

    Parameters
    ----------
    draws : DataFrame
        One row per bootstrap replication, one column per parameter.
    estimate : mapping
        The full-sample estimates (natural scale).
    influence : DataFrame
        One row per subject (the bootstrap's resampling unit), one column per parameter:
        :math:`U_i`, the subject's influence on each estimate.
    model : Model
        Supplies ``derived``.
    level : float

    Returns
    -------
    DataFrame
        Columns ``lower, upper, method`` (``"bootstrap-bca"``), also ``z0`` and
        ``acceleration``.

    Examples
    --------
    With no bias (half the draws below the estimate) and no skew in the influence, BCa is
    the percentile interval:

    >>> class M:
    ...     def derived(self, p): return {}
    >>> draws = pd.DataFrame({"a": np.arange(101.0)})
    >>> influence = pd.DataFrame({"a": [-1.0, 1.0]})
    >>> ci = bootstrap_bca(draws, {"a": 50.0}, influence, M())
    >>> ci.loc["a", ["lower", "upper"]].astype(float).round(6).tolist()
    [2.5, 97.5]
    """
    table = _with_derived(draws, model)
    params = {k: float(v) for k, v in estimate.items()}
    columns = list(draws.columns)
    derived, grads = derived_jacobian(model, params, columns)
    point = {**params, **derived}
    infl = influence.reindex(columns=columns).fillna(0.0)
    for name, grad in zip(derived, grads, strict=True):  # the chain rule
        infl[name] = infl[columns].to_numpy() @ grad
    a_half = (1 - level) / 2
    rows = {}
    for name in table.columns:
        x = table[name].to_numpy(dtype=float)
        x = x[np.isfinite(x)]
        below = (np.mean(x < point[name]) + 0.5 * np.mean(x == point[name])) if x.size else 0
        u = infl[name].to_numpy(dtype=float) if name in infl else np.zeros(1)
        spread = float(np.sum(u ** 2))
        accel = float(np.sum(u ** 3) / (6 * spread ** 1.5)) if spread > 0 else 0.0
        if not 0 < below < 1:
            rows[name] = {"lower": np.nan, "upper": np.nan, "z0": np.nan,
                          "acceleration": accel}
            continue
        z0 = float(ndtri(below))
        ends = []
        for q in (a_half, 1 - a_half):
            zq = z0 + ndtri(q)
            ends.append(float(np.quantile(x, ndtr(z0 + zq / (1 - accel * zq)))))
        rows[name] = {"lower": ends[0], "upper": ends[1], "z0": z0, "acceleration": accel}
    out = pd.DataFrame.from_dict(rows, orient="index")
    out["method"] = "bootstrap-bca"
    return out


r"""Maximum likelihood estimation of a behavioural model (SPEC §5).

:class:`MaximumLikelihood` maximises the subject-level mixture log-likelihood
(:mod:`cheaptalk.estimation.likelihood`) over the unconstrained parametrisation of
:mod:`cheaptalk.estimation.parameters`, with exact gradients from the model's pullback,
L-BFGS, and several starts. :meth:`MaximumLikelihood.fit` returns :class:`FitResults` in the
statsmodels manner: ``params``, ``bse`` (inverse Hessian), ``bse_sandwich`` (clustered by
subject, with the CR1 factor :math:`G/(G-1)` for :math:`G` subjects), ``llf``, ``aic``,
``bic``, per-role and per-treatment log-likelihood, posterior types, 95% intervals
(:mod:`cheaptalk.estimation.intervals`: transformed Wald always, profile likelihood on
request or where Wald is unreliable), a convergence report and ``summary()``. Standard
errors are delta-method ones on the natural scale; the intervals are not
``estimate ± 1.96 se`` but built on the estimation scale or from the profile likelihood.

Conventions: ``nobs`` is the number of decisions (a row holds a sender and a receiver
decision); ``aic = 2k - 2 llf`` and ``bic = k log(nobs) - 2 llf`` with ``k`` the number of
estimated free parameters (a simplex of K + 1 shares counts K).

Identification (SPEC §3.5). One parameter vector serves every treatment of the data. A
parameter that the model declares inert in every treatment of the data
(:meth:`~cheaptalk.models.base.Model.inert_parameters`: e.g. ``lambda_s`` of
``equilibrium`` when every treatment babbles) does not move the likelihood: it is held at
its start value, reported in :attr:`FitResults.not_identified` with NaN standard errors,
and not counted in ``k``. Bounds that depend on the game are intersected over the data's
games (the tightest floor wins).

Clustered standard errors need at least two clusters (subjects) whose decisions depend on
the parameter: with one, the scores sum to zero at the optimum and the sandwich collapses to
zero. Such standard errors are reported as NaN, with a warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import optimize

from cheaptalk._threads import single_blas_thread
from cheaptalk.choice import DEFAULT_TREMBLE, TREMBLE
from cheaptalk.data.interactions import Dataset
from cheaptalk.models.base import Model, ParameterError
from cheaptalk.numerics.quadrature import doubling_tolerance
from cheaptalk.runner import Backend, Progress

from .likelihood import ROLES, Evaluation, Likelihood
from .parameters import ParameterSpace

__all__ = ["INTERVAL_CHOICES", "FitResults", "MaximumLikelihood", "parameter_status"]

_FD_STEP = 1e-5
#: Step across a profiled (non-smooth) coordinate in the free space.
_PROFILE_STEP = 0.05
#: What :meth:`MaximumLikelihood.fit` (and the command line's ``--intervals``) accepts as
#: ``intervals``, and what each choice profiles (the ``names`` of
#: :meth:`MaximumLikelihood.add_profile_intervals`): nothing, the parameters whose Wald
#: interval is unreliable, or all.
INTERVAL_CHOICES: dict[str, tuple[str, ...] | str] = {"wald": (), "auto": "auto",
                                                       "profile": "all"}


@dataclass
class FitResults:
    """Results of a maximum-likelihood fit.

    Attributes
    ----------
    model : Model
    params : Series
        Estimates (fixed parameters included, at their fixed values).
    bse, bse_sandwich : Series
        Standard errors from the inverse Hessian and the subject-clustered CR1 sandwich (NaN
        for fixed and not identified parameters; sandwich NaN where fewer than two subjects
        inform the parameter).
    cov, cov_sandwich : DataFrame
    llf : float
    nobs, n_subjects, n_units, df_model : int
    llf_by_role, llf_by_treatment : dict
    converged : bool
    convergence : dict
        Optimiser messages, iterations, gradient norm, how many starts agreed, gradient
        method, Hessian condition.
    posterior : DataFrame
        One row per (subject, role): most likely type and its probability, probability of
        each type family.
    derived : Series
        Model-derived quantities (e.g. ``mean_trust``) with delta-method ``derived_se``.
    """

    model: Model
    params: pd.Series
    bse: pd.Series
    bse_sandwich: pd.Series
    cov: pd.DataFrame
    cov_sandwich: pd.DataFrame
    llf: float
    nobs: int
    n_subjects: int
    n_units: int
    df_model: int
    llf_by_role: dict[str, float]
    llf_by_treatment: dict[str, float]
    converged: bool
    convergence: dict[str, Any]
    posterior: pd.DataFrame
    subject_llf: NDArray[np.float64]
    derived: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    derived_se: pd.Series = field(default_factory=lambda: pd.Series(dtype=float))
    epsilon: float = DEFAULT_TREMBLE
    bse_bootstrap: pd.Series | None = None
    not_identified: list[str] = field(default_factory=list)
    #: Each estimated parameter's bounds (intersected over the data's games).
    bounds: dict[str, tuple[float, float]] = field(default_factory=dict)
    #: Computed 95% intervals by method (:mod:`cheaptalk.estimation.intervals`): ``"wald"``
    #: (transformed, every fit), ``"profile"``, ``"bootstrap"``; each a DataFrame indexed
    #: by parameter and derived quantity with columns ``lower, upper, method``.
    intervals: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: The free-space estimate and sandwich covariance (absent for a fit read from JSON).
    free: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def aic(self) -> float:
        return 2 * self.df_model - 2 * self.llf

    @property
    def bic(self) -> float:
        return self.df_model * np.log(self.nobs) - 2 * self.llf

    def conf_int(self, alpha: float = 0.05, kind: str = "reported") -> pd.DataFrame:
        """Confidence intervals of the parameters and derived quantities.

        ``kind``: ``"reported"`` (the one tables show: profile where computed, else
        transformed Wald), ``"wald"`` (transformed Wald from the CR1 sandwich),
        ``"profile"``, ``"bootstrap"`` (percentile), ``"bootstrap-bca"``, or ``"sandwich"`` /
        ``"hessian"``
        (symmetric natural-scale ``estimate ± z se``, kept for comparison). Columns
        ``lower, upper, method``; NaN for fixed parameters (and, for Wald, at a bound).
        Levels other than 95% are available for ``"wald"``, ``"sandwich"`` and
        ``"hessian"`` of a fit made here.
        """
        from scipy.special import ndtri  # the standard normal quantile

        from .intervals import INTERVAL_LABELS, transformed_wald

        level = 1 - alpha
        if kind in ("sandwich", "hessian"):
            se = self.bse_sandwich if kind == "sandwich" else self.bse
            dse = self.derived_se if kind == "sandwich" else pd.Series(dtype=float)
            z = ndtri(1 - alpha / 2)
            est = pd.concat([self.params, self.derived])
            se_all = pd.concat([se, dse.reindex(self.derived.index)])
            ci = pd.DataFrame({"lower": est - z * se_all, "upper": est + z * se_all})
            ci.loc[[n for n in self.at_bound if n in ci.index]] = np.nan
            ci["method"] = "wald-natural"
            return ci
        if kind == "wald" and abs(level - 0.95) > 1e-12:
            if not self.free:
                raise ValueError("Wald intervals at another level need a fit made here")
            table = transformed_wald(self.free["space"], self.free["x"],
                                     self.free["cov_sandwich"], level)
            out = table.reindex(self.params.index)
            out.loc[[n for n in self.at_bound if n in out.index]] = np.nan
            out["method"] = "wald"
            return out
        if abs(level - 0.95) > 1e-12:
            raise ValueError(f"{kind} intervals are stored at the 95% level only")
        if kind == "reported":
            return self.reported_intervals()
        if kind not in self.intervals:
            hint = {"bootstrap": "fit with bootstrap > 0",
                    "bootstrap-bca": "fit with bootstrap > 0 and standard errors",
                    "profile": "fit with intervals='profile'"}.get(kind, "")
            known = ", ".join(INTERVAL_LABELS)
            raise ValueError(f"no {kind} intervals for this fit"
                             + (f": {hint}" if hint else f" (kinds: {known})"))
        return self.intervals[kind][["lower", "upper", "method"]].copy()

    def reported_intervals(self) -> pd.DataFrame:
        """The interval each parameter and derived quantity is reported with: the profile
        interval where one was computed, else the transformed Wald interval (columns
        ``lower, upper, method``; index: parameters then derived quantities)."""
        index = list(self.params.index) + list(self.derived.index)
        out = pd.DataFrame({"lower": np.nan, "upper": np.nan, "method": None}, index=index)
        for kind in ("wald", "profile"):
            table = self.intervals.get(kind)
            if table is None:
                continue
            for n in table.index.intersection(out.index):
                if np.isfinite(table.loc[n, "lower"]) or np.isfinite(table.loc[n, "upper"]):
                    out.loc[n, ["lower", "upper", "method"]] = [
                        table.loc[n, "lower"], table.loc[n, "upper"], table.loc[n, "method"]]
        out["lower"] = out["lower"].astype(float)
        out["upper"] = out["upper"].astype(float)
        return out

    @property
    def model_params(self) -> dict[str, float]:
        """The model's parameters (without an estimated tremble), for ``model.predict``."""
        return {n: float(v) for n, v in self.params.items() if n != TREMBLE}

    @property
    def at_bound(self) -> list[str]:
        """Parameters estimated at the edge of the parameter space (no standard error)."""
        return list(self.convergence.get("at_bound", []))

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON (the per-model entry of SPEC §4.2)."""

        def number(v: float) -> float | None:
            return float(v) if np.isfinite(v) else None

        def clean(s: pd.Series | None) -> dict[str, float | None]:
            return {} if s is None else {k: number(v) for k, v in s.items()}

        def matrix(df: pd.DataFrame) -> list[list[float | None]]:
            return [[number(v) for v in row] for row in df.to_numpy()]

        return {
            "name": self.model.name,
            "label": self.model.label,
            "options": self.model.options,
            "loglik": self.llf,
            "n_params": self.df_model,
            "aic": self.aic,
            "bic": self.bic,
            "params": clean(self.params),
            "se": clean(self.bse_sandwich),
            "se_hessian": clean(self.bse),
            "se_bootstrap": clean(self.bse_bootstrap),
            "derived": clean(self.derived),
            "derived_se": clean(self.derived_se),
            "covariance": {"parameters": list(self.params.index),
                           "sandwich": matrix(self.cov_sandwich),
                           "hessian": matrix(self.cov)},
            "loglik_by_role": self.llf_by_role,
            "loglik_by_treatment": self.llf_by_treatment,
            "n_decisions": self.nobs,
            "n_subjects": self.n_subjects,
            "epsilon": self.epsilon,
            "converged": self.converged,
            "convergence": self.convergence,
            "not_identified": list(self.not_identified),
            "intervals": self.intervals_dict(),
        }

    def intervals_dict(self) -> dict[str, Any]:
        """The intervals as plain data: ``level``, ``se`` (what the ``se`` column means),
        ``reported`` (name → ``{lower, upper, method}``), each computed method's table, and
        ``methods`` (method → its label). An open end (no bound reached) is ``null``."""
        from .intervals import INTERVAL_LABELS

        def number(v: Any) -> float | None:
            return float(v) if v is not None and np.isfinite(v) else None

        def table(df: pd.DataFrame) -> dict[str, dict[str, Any]]:
            return {str(n): {"lower": number(r["lower"]), "upper": number(r["upper"]),
                             "method": r["method"],
                             **{k: bool(r[k]) for k in ("lower_open", "upper_open")
                                if k in r.index}}
                    for n, r in df.iterrows()}

        reported = self.reported_intervals()
        out: dict[str, Any] = {
            "level": 0.95,
            "se": "delta-method standard error on the natural scale from the subject-"
                  "clustered sandwich with the CR1 factor G/(G-1)",
            "reported": table(reported),
        }
        for kind, df in self.intervals.items():
            out[kind] = table(df)
        used = {m for m in reported["method"] if m} | {
            m for df in self.intervals.values() for m in df["method"] if m}
        out["methods"] = {m: INTERVAL_LABELS[m] for m in INTERVAL_LABELS if m in used}
        return out

    def summary(self) -> str:
        """A plain-text summary table."""
        from .intervals import INTERVAL_METHODS

        ci = self.conf_int()
        lines = [
            f"Model: {self.model.label}    {self.model.description}",
            f"Log-likelihood: {self.llf:.2f}    AIC: {self.aic:.2f}    BIC: {self.bic:.2f}",
            f"Decisions: {self.nobs}    Subjects: {self.n_subjects}    "
            f"Units (subject, role): {self.n_units}    Free parameters: {self.df_model}    "
            f"Tremble: {self.epsilon:g}"
            + (" (estimated)" if TREMBLE in self.params.index else "") + (
                "    Quadrature: " + ", ".join(
                    f"{k} = {v}" for k, v in self.convergence["quadrature"].items()
                    if k.startswith("n_"))
                + f" (doubling moves llf by "
                  f"{self.convergence['quadrature']['loglik_change_when_doubled']:.2g})"
                if "quadrature" in self.convergence else ""),
            f"Converged: {'yes' if self.converged else 'NO'} "
            f"({self.convergence.get('message', '')}; "
            f"{self.convergence.get('starts_agreeing', '?')}/"
            f"{self.convergence.get('n_starts', '?')} starts agree; gradient: "
            f"{self.convergence.get('gradient', '?')})",
            "",
            f"{'parameter':<14}{'estimate':>12}{'se(sandw.)':>12}{'se(Hess.)':>12}"
            f"{'95% CI':>26}  method",
        ]
        def interval(name: str) -> str:
            lo, hi, method = ci.loc[name, ["lower", "upper", "method"]]
            if not method:
                return ""
            return f"{f'[{_end(lo)}, {_end(hi)}]':>26}  {INTERVAL_METHODS[method].short}"

        status = parameter_status(self)
        for name, value in self.params.items():
            se, seh = self.bse_sandwich[name], self.bse[name]
            if status[name] in ("fixed", "not identified"):
                lines.append(f"{name:<14}{value:>12.4g}  {status[name]}")
                continue
            if status[name] == "at bound":
                lines.append(f"{name:<14}{value:>12.4g}{'at bound':>24}{interval(name)}")
                continue
            se_text = "n/a" if np.isnan(se) else f"{se:.3g}"  # n/a: too few clusters
            lines.append(f"{name:<14}{value:>12.4g}{se_text:>12}{seh:>12.3g}{interval(name)}")
        for name, value in self.derived.items():
            se = self.derived_se.get(name, np.nan)
            lines.append(f"{name:<14}{value:>12.4g}{se:>12.3g}{'(derived)':>12}"
                         f"{interval(name)}")
        lines.append("95% CI: profile = profile likelihood; transformed Wald = built on the "
                     "estimation scale and mapped back; se = delta-method sandwich (CR1) on "
                     "the natural scale.")
        for kind, label in (("bootstrap", "Bootstrap percentile"),
                            ("bootstrap-bca", "Bootstrap BCa")):
            if kind in self.intervals:
                boot = self.intervals[kind]
                lines.append(f"{label} 95% CI: " + "; ".join(
                    f"{n} [{_end(r['lower'])}, {_end(r['upper'])}]"
                    for n, r in boot.iterrows() if np.isfinite(r["lower"])))
        lines.append("")
        lines.append("Log-likelihood by role: " + ", ".join(
            f"{k} {v:.2f}" for k, v in self.llf_by_role.items()))
        lines.append("Log-likelihood by treatment: " + ", ".join(
            f"{k} {v:.2f}" for k, v in self.llf_by_treatment.items()))
        if self.not_identified:
            lines.append("Not identified (no treatment of the data depends on them; held at "
                         "their start values, not counted as free parameters): "
                         + ", ".join(self.not_identified))
        if "warning" in self.convergence:
            lines.append(f"WARNING: {self.convergence['warning']}")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<FitResults {self.model.name}: llf={self.llf:.2f}, k={self.df_model}>"


#: Points whose evaluation a fit remembers: the optimiser's last steps and the Hessian's.
_MEMO_POINTS = 64


def parameter_status(results: Any) -> pd.Series:
    """Each parameter's status in a fit: ``"estimated"``, ``"at bound"``, ``"fixed"`` (held:
    no Hessian standard error) or ``"not identified"`` (held because inert).

    ``results`` is a :class:`FitResults` or anything with its ``params``, ``bse``,
    ``at_bound`` and ``not_identified``. A parameter informed by fewer than two subjects
    is estimated: only its sandwich standard error is missing.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fit = SimpleNamespace(params=pd.Series({"a": 1.0, "b": 0.0, "c": 2.0, "d": 0.5}),
    ...                       bse=pd.Series({"a": 0.1, "b": np.nan, "c": np.nan, "d": np.nan}),
    ...                       at_bound=["b"], not_identified=["d"])
    >>> parameter_status(fit).tolist()
    ['estimated', 'at bound', 'fixed', 'not identified']
    """
    at_bound, inert = set(results.at_bound), set(results.not_identified)
    return pd.Series(
        ["not identified" if n in inert else "at bound" if n in at_bound
         else "fixed" if not np.isfinite(results.bse.get(n, np.nan)) else "estimated"
         for n in results.params.index], index=results.params.index, dtype=object)


def _memo_key(theta: Mapping[str, float]) -> tuple[tuple[str, float], ...]:
    return tuple(sorted((n, float(v)) for n, v in theta.items()))


@dataclass
class _Point:
    """The likelihood at one parameter vector, as a fit remembers it (the whole
    :class:`Evaluation` is kept for the latest point only)."""

    loglik: float
    gradient: dict[str, float] | None
    subject_loglik: NDArray[np.float64]


class MaximumLikelihood:
    """Maximum-likelihood estimator of ``model`` on ``dataset``.

    Parameters
    ----------
    model : Model
    dataset : Dataset
    epsilon : float
        Tremble weight (held fixed).
    fixed : mapping, optional
        Parameters held at given values.
    rows : array of int, optional
        Use only these rows of the data (leave one treatment out).
    subjects : collection of str, optional
        Use only these subjects' decisions (cross-validation by subject).
    estimate_epsilon : bool
        Estimate the tremble too, as the parameter ``"epsilon"`` in (0, 1), starting from
        ``epsilon`` (SPEC §1: "may be estimated").
    chunk_size : int, optional
        Decisions the likelihood evaluates together (default
        :data:`~cheaptalk.estimation.likelihood.DEFAULT_CHUNK_SIZE`; see
        :class:`~cheaptalk.estimation.likelihood.Likelihood`): it bounds the memory of an
        evaluation, not its result, so the estimates do not depend on it (up to rounding).
    """

    def __init__(
        self, model: Model, dataset: Dataset, epsilon: float = DEFAULT_TREMBLE,
        fixed: Mapping[str, float] | None = None, rows: NDArray[np.intp] | None = None,
        subjects: Collection[str] | None = None, estimate_epsilon: bool = False,
        chunk_size: int | None = None,
    ) -> None:
        self.model = model
        self.dataset = dataset
        self.epsilon = epsilon
        self.estimate_epsilon = bool(estimate_epsilon)
        # How every likelihood of this fit is built (the quadrature check builds a second).
        self._selection = {"rows": rows, "subjects": subjects, "chunk_size": chunk_size}
        self.likelihood = Likelihood(model, dataset, epsilon=epsilon, **self._selection)
        games = [self.likelihood.games[g] for g in self.likelihood.treatments]
        self.game = games[0]
        names = list(model.parameter_names())
        bounds = _common_bounds([model.bounds(g) for g in games])
        if self.estimate_epsilon:
            names.append(TREMBLE)
            bounds[TREMBLE] = (0.0, 1.0)
        groups = model.simplex_groups()
        #: Parameters inert in every treatment of the data: held fixed, reported as such.
        self.not_identified = _not_identified(model, games, groups)
        self._user_fixed = dict(fixed or {})
        held = dict(self._user_fixed)
        defaults = model.default_params(self.game)
        for n in self.not_identified:
            held.setdefault(n, float(defaults[n]))
        self.space = ParameterSpace(names, bounds, groups, held)
        self._analytic = model.predict_with_pullback(self.game, defaults)[1] is not None
        self.n_evaluations = 0
        #: Evaluations at the points of the current fit (:meth:`_evaluation`), and the
        #: latest point's whole evaluation.
        self._memo: dict[tuple[tuple[str, float], ...], _Point] = {}
        self._latest: tuple[tuple[tuple[str, float], ...], Evaluation] | None = None
        #: The covariance that scales L-BFGS's steps (``fit(metric=...)``), or ``None``.
        self._metric: NDArray[np.float64] | None = None
        self._ftol = 1e-10
        nonsmooth = set(model.nonsmooth_parameters()) - set(self.space.fixed)
        self._profiled = [i for i, n in enumerate(self.space.free_names)
                          if n.split(" ")[-1] in nonsmooth]
        if len(self._profiled) > 1:
            raise ValueError("at most one non-smooth parameter can be profiled")

    # ------------------------------------------------------------ objective
    def _evaluation(self, theta: Mapping[str, float], gradient: bool) -> _Point:
        """The likelihood at ``theta`` (with its analytic gradient if asked), remembered for
        the rest of the fit: the optimiser's last point is the estimate, and the Hessian's
        points are the subject scores' (:meth:`_results`)."""
        key = _memo_key(theta)
        point = self._memo.get(key)
        if point is None or (gradient and point.gradient is None):
            self.n_evaluations += 1
            with np.errstate(all="ignore"):
                ev = self.likelihood.evaluate(theta, gradient=gradient)
            point = _Point(ev.loglik, ev.gradient, self.likelihood.subject_loglik(ev))
            if len(self._memo) >= _MEMO_POINTS:  # oldest first out
                self._memo.pop(next(iter(self._memo)))
            self._memo[key] = point
            self._latest = (key, ev)
        return point

    def _forget(self) -> None:
        """Drop the remembered evaluations (a new fit, or another parameter space)."""
        self._memo.clear()
        self._latest = None

    def _objective(self, x: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
        theta = self.space.to_natural(x)
        try:
            if self._analytic:
                point = self._evaluation(theta, gradient=True)
                assert point.gradient is not None
                g_nat = np.array([point.gradient.get(n, 0.0) for n in self.space.names])
                g = self.space.jacobian(x).T @ g_nat
                f = point.loglik
            else:
                f = self._evaluation(theta, gradient=False).loglik
                g = self._numerical_gradient(x)
        except ParameterError:
            # Outside a joint constraint the transforms cannot express (e.g. point masses
            # alpha_p0 + alpha_p1 <= 1): a steep wall pushes the optimiser back.
            f, g = -np.inf, np.zeros_like(x)
        if not np.isfinite(f) or not np.all(np.isfinite(g)):
            # Push the optimiser back towards the origin of the free space.
            return 1e12 + float(x @ x), 2.0 * x
        return -f, -g

    def _numerical_gradient(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        g = np.zeros_like(x)
        for i in range(x.size):
            e = np.zeros_like(x)
            e[i] = _FD_STEP
            g[i] = (self._evaluation(self.space.to_natural(x + e), False).loglik
                    - self._evaluation(self.space.to_natural(x - e), False).loglik) / (
                        2 * _FD_STEP)
        return g

    def gradient(self, params: Mapping[str, float]) -> dict[str, float]:
        """Gradient of the log-likelihood in the natural parameters (analytic if available)."""
        if self._analytic:
            ev = self.likelihood.evaluate(params, gradient=True)
            assert ev.gradient is not None
            return {n: ev.gradient.get(n, 0.0) for n in self.space.names}
        x = self.space.to_free(params)
        g_free = self._numerical_gradient(x)
        jac = self.space.jacobian(x)
        return dict(zip(self.space.names, np.linalg.pinv(jac.T) @ g_free, strict=True))

    # ------------------------------------------------------------------- fit
    def start_values(self, n_starts: int, seed: int | None,
                     start: Mapping[str, float] | None = None) -> list[NDArray[np.float64]]:
        base = dict(self.model.default_params(self.game))
        if self.estimate_epsilon:
            base[TREMBLE] = self.epsilon
        if start is not None:
            base.update(start)
            for n in self.not_identified:  # held at the given start value
                if n in start and n not in self._user_fixed:
                    self.space.fixed[n] = float(start[n])  # type: ignore[index]
        base.update(self.space.fixed)
        x0 = self.space.to_free(base)
        rng = np.random.default_rng(seed)
        return [x0] + [x0 + rng.normal(0.0, 1.0, x0.size) for _ in range(n_starts - 1)]

    def fit(
        self, start: Mapping[str, float] | None = None, n_starts: int = 3, seed: int | None = 0,
        maxiter: int = 500, standard_errors: bool = True, ftol: float = 1e-10,
        intervals: str = "wald", jobs: int | None = None, backend: Backend | None = None,
        metric: FitResults | None = None,
    ) -> FitResults:
        """Maximise the likelihood from several starts; return :class:`FitResults`.

        ``ftol`` is L-BFGS's relative tolerance on the change of the log-likelihood.
        ``metric``: a fit of the same model on related data (the full sample, for a
        held-out fit started at its estimate); L-BFGS then works in coordinates scaled by
        that fit's covariance, in which the curvature is about the same in every direction,
        and needs fewer steps. Only the path changes, not the optimum; except that the
        profile search over a jumping parameter (cognitive hierarchy's τ), which otherwise
        fits a 9-point grid of it around the start before refining the best, spaces that grid
        by two of the metric's standard deviations (at most the usual 0.5) and grows it
        outward from the start only while its best point is at an end (up to the full grid's
        range).
        ``intervals`` (:mod:`cheaptalk.estimation.intervals`): ``"wald"`` (transformed Wald
        only), ``"auto"`` (profile intervals too, for the parameters whose Wald interval is
        unreliable), ``"profile"`` (profile intervals for every parameter and derived
        quantity), run by ``backend`` (default a pool of ``jobs`` processes).
        """
        if intervals not in INTERVAL_CHOICES:
            raise ValueError(f"intervals must be one of {', '.join(INTERVAL_CHOICES)}, "
                             f"not {intervals!r}")
        self._ftol = ftol
        self._forget()
        self._metric = None if metric is None else self._metric_covariance(metric)
        try:
            with single_blas_thread():
                res = self._fit(start, n_starts, seed, maxiter, standard_errors)
        finally:
            self._forget()
            self._metric = None
        if standard_errors and intervals != "wald":
            self.add_profile_intervals(res, INTERVAL_CHOICES[intervals], jobs=jobs,
                                       backend=backend)
        return res

    def add_profile_intervals(self, results: FitResults,
                              names: Sequence[str] | str | None = None,
                              jobs: int | None = None, backend: Backend | None = None,
                              progress: Progress | None = None) -> pd.DataFrame:
        """Compute profile-likelihood intervals for ``names`` (default or ``"all"``: all
        estimated parameters and derived quantities; ``"auto"``: those whose Wald interval is
        unreliable, :func:`~cheaptalk.estimation.intervals.wald_unreliable`) and store them
        in ``results.intervals["profile"]``; returns the table."""
        from .intervals import profile_intervals, unreliable_names

        if isinstance(names, str) and names == "auto":
            names = unreliable_names(results)
        elif isinstance(names, str) and names == "all":
            names = None
        table = profile_intervals(results, self.dataset, names, fixed=self._user_fixed,
                                  selection=self._selection, jobs=jobs, backend=backend,
                                  progress=progress)
        if len(table):
            before = results.intervals.get("profile")
            results.intervals["profile"] = (table if before is None else pd.concat(
                [before.drop(table.index, errors="ignore"), table]))
            higher = float(table["higher_loglik"].max())
            if higher > results.llf + 1e-3:
                _warn(results.convergence, f"the profile search found a log-likelihood "
                      f"{higher:.4f} above the estimate's {results.llf:.4f}: the fit is not "
                      "the maximum (refit with more starts)")
        return table

    def held_fit(self, name: str, value: float, start: Mapping[str, float]
                 ) -> tuple[float, dict[str, float]]:
        """Maximise the log-likelihood with ``name`` held at ``value`` (the other free
        parameters by the usual L-BFGS with exact gradients, from ``start``); returns the
        maximum and the maximising parameters (a profile point)."""
        space, profiled, ftol = self.space, self._profiled, self._ftol
        # a profile point needs the log-likelihood to ~1e-4, not to the fit's 1e-10
        self._ftol = max(ftol, 1e-8)
        fixed = dict(space.fixed)
        fixed[name] = float(value)
        self.space = ParameterSpace(space.names, space.bounds, space.simplex_groups, fixed)
        nonsmooth = set(self.model.nonsmooth_parameters()) - set(fixed)
        self._profiled = [i for i, n in enumerate(self.space.free_names)
                          if n.split(" ")[-1] in nonsmooth]
        self._forget()
        try:
            with single_blas_thread():
                if self.space.size == 0:
                    theta = self.space.to_natural(np.zeros(0))
                    return self.likelihood.evaluate(theta).loglik, theta
                x0 = self.space.to_free({**start, name: value})
                run = self._optimize(x0, 500)
                return -float(run.fun), self.space.to_natural(run.x)
        finally:
            self.space, self._profiled, self._ftol = space, profiled, ftol
            self._forget()

    def _fit(
        self, start: Mapping[str, float] | None, n_starts: int, seed: int | None,
        maxiter: int, standard_errors: bool,
    ) -> FitResults:
        if self.space.size == 0:
            x_best = np.zeros(0)
            runs = []
        else:
            runs = [self._optimize(x0, maxiter)
                    for x0 in self.start_values(max(1, n_starts), seed, start)]
            best = min(runs, key=lambda r: r.fun)
            x_best = best.x
        theta = self.space.to_natural(x_best)
        self._evaluation(theta, gradient=False)  # the optimiser's last point, as a rule
        assert self._latest is not None
        key, ev = self._latest
        if key != _memo_key(theta):  # not the latest point (another start ended later)
            ev = self.likelihood.evaluate(theta)
        convergence: dict[str, Any] = {
            "gradient": "analytic" if self._analytic else "numerical (central differences)",
            "n_starts": len(runs),
            "evaluations": self.n_evaluations,
        }
        if runs:
            best_f = min(r.fun for r in runs)
            grad = self._objective(x_best)[1]
            grad[self._profiled] = 0.0  # no gradient across the jumps of a profiled parameter
            if self._profiled:
                convergence["profiled"] = (
                    f"{', '.join(self.space.free_names[j] for j in self._profiled)}: the "
                    "likelihood jumps with it (best responses switch), so it is maximised "
                    "by a profile search (grid, then Brent) instead of by its gradient")
            convergence.update({
                "message": str(best.message),
                "iterations": int(best.nit),
                "optimizer_success": bool(best.success),
                "gradient_norm": float(np.max(np.abs(grad))),
                "starts_agreeing": int(sum(abs(r.fun - best_f) < 1e-2 for r in runs)),
                "start_logliks": [-float(r.fun) for r in runs],
            })
            converged = bool(convergence["gradient_norm"] < 1e-2 * max(1.0, abs(ev.loglik))
                             ** 0.5 and (best.success or convergence["gradient_norm"] < 1e-3))
        else:
            convergence.update({"message": "no free parameters", "iterations": 0,
                                "starts_agreeing": 0, "gradient_norm": 0.0})
            converged = True
        convergence["converged"] = converged
        return self._results(x_best, ev, converged, convergence, standard_errors)

    def _lbfgs(self, fun: Any, x0: NDArray[np.float64], maxiter: int,
               coords: NDArray[np.intp] | None = None) -> Any:
        """L-BFGS on ``fun`` from ``x0``; with a metric (``fit(metric=...)``), in coordinates
        ``x0 + S z``, ``S`` a square root of the metric on the free coordinates ``coords``
        (default all) that ``fun`` takes."""
        scale = None
        if self._metric is not None:
            idx = np.arange(x0.size) if coords is None else coords
            try:
                scale = np.linalg.cholesky(self._metric[np.ix_(idx, idx)])
            except np.linalg.LinAlgError:
                scale = None
        target, start = fun, x0
        if scale is not None:
            def target(z: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
                f, g = fun(x0 + scale @ z)
                return f, scale.T @ g

            start = np.zeros_like(x0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            res = optimize.minimize(target, start, jac=True, method="L-BFGS-B",
                                    options={"maxiter": maxiter, "gtol": 1e-5,
                                             "ftol": self._ftol})
        if scale is not None:
            res.x = x0 + scale @ res.x
        return res

    def _metric_covariance(self, metric: FitResults) -> NDArray[np.float64] | None:
        """``metric``'s free-space covariance on this fit's free coordinates, matched by name
        (unit variance where it has none); ``None`` where it has no covariance."""
        free = metric.free or {}
        cov = free.get("cov")
        if cov is None or self.space.size == 0:
            return None
        theirs = list(free["space"].free_names)
        ours = self.space.free_names
        full = np.eye(len(ours))
        common = [(i, theirs.index(n)) for i, n in enumerate(ours) if n in theirs]
        if not common:
            return None
        mine, their = (np.array(v) for v in zip(*common, strict=True))
        full[np.ix_(mine, mine)] = np.asarray(cov)[np.ix_(their, their)]
        return full

    def _optimize(self, x0: NDArray[np.float64], maxiter: int) -> Any:
        """L-BFGS with exact gradients; a profile search over a non-smooth coordinate."""
        if not self._profiled:
            return self._lbfgs(self._objective, x0, maxiter)
        j = self._profiled[0]
        rest = np.array([i for i in range(x0.size) if i != j], dtype=np.intp)
        warm = {"x": x0.copy()}
        inner_runs: dict[float, Any] = {}

        def inner(u: float) -> float:
            u = float(u)
            if u in inner_runs:
                return inner_runs[u].fun
            x = warm["x"].copy()
            x[j] = u

            def fun(z: NDArray[np.float64]) -> tuple[float, NDArray[np.float64]]:
                x[rest] = z
                f, g = self._objective(x)
                return f, g[rest]

            res = self._lbfgs(fun, x[rest], maxiter, rest) if rest.size else None
            full = x.copy()
            if res is not None:
                full[rest] = res.x
            f = res.fun if res is not None else self._objective(full)[0]
            out = optimize.OptimizeResult(x=full, fun=f, success=res is None or res.success,
                                          nit=0 if res is None else res.nit,
                                          message="" if res is None else res.message)
            inner_runs[u] = out
            if f <= min(r.fun for r in inner_runs.values()):
                warm["x"] = full
            return f

        spacing, reach = 0.5, 4

        def best_u() -> float:
            return min(inner_runs, key=lambda u: inner_runs[u].fun)

        if self._metric is None:
            for k in range(-reach, reach + 1):
                inner(x0[j] + spacing * k)
        else:
            # Started at a full-sample estimate (fit(metric=...)): the grid, two of that
            # fit's standard deviations apart (at most the usual spacing), grows outward
            # from the start only while its best point is at an end.
            sd = float(np.sqrt(self._metric[j, j]))
            if np.isfinite(sd) and sd > 0:
                finer = float(np.clip(2.0 * sd, _PROFILE_STEP, spacing))
                # the same range as the full grid, however fine the spacing
                reach = int(np.ceil(reach * spacing / finer))
                spacing = finer
            low, high = -1, 1
            for k in (0, low, high):
                inner(x0[j] + spacing * k)
            while True:
                if best_u() == x0[j] + spacing * low and low > -reach:
                    low -= 1
                    inner(x0[j] + spacing * low)
                elif best_u() == x0[j] + spacing * high and high < reach:
                    high += 1
                    inner(x0[j] + spacing * high)
                else:
                    break
        u_best = best_u()
        warm["x"] = inner_runs[u_best].x
        found = optimize.minimize_scalar(inner, bounds=(u_best - spacing, u_best + spacing),
                                         method="bounded", options={"xatol": 1e-3})
        best = min(inner_runs.values(), key=lambda r: r.fun)
        best.success = bool(best.success and found.success)
        best.message = (f"profile search over {self.space.free_names[j]} "
                        f"({len(inner_runs)} inner fits): {best.message}")
        best.nit = sum(r.nit for r in inner_runs.values())
        return best

    # ------------------------------------------------------------- inference
    def _step(self, i: int) -> float:
        """Difference step in the free space: wide across a profiled (jumping) coordinate."""
        return _PROFILE_STEP if i in self._profiled else _FD_STEP * 10

    def _hessian_free(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """Hessian of the log-likelihood in the free space (differences of the gradient).

        A profiled coordinate has no useful gradient (the likelihood jumps with it): its
        diagonal entry comes from second differences of the log-likelihood over a wide step,
        which averages over the jumps.
        """
        k = x.size
        h = np.zeros((k, k))
        for i in range(k):
            e = np.zeros(k)
            e[i] = self._step(i)
            gp = -self._objective(x + e)[1]
            gm = -self._objective(x - e)[1]
            h[:, i] = (gp - gm) / (2 * e[i])
        for j in self._profiled:
            e = np.zeros(k)
            e[j] = self._step(j)
            f0, fp, fm = (-self._objective(x)[0], -self._objective(x + e)[0],
                          -self._objective(x - e)[0])
            h[j, :] = h[:, j]
            h[j, j] = (fp - 2 * f0 + fm) / e[j] ** 2
        return 0.5 * (h + h.T)

    def _subject_scores(self, x: NDArray[np.float64]
                        ) -> tuple[NDArray[np.float64], NDArray[np.intp]]:
        """Per-subject score vectors in the free space (central differences), and for each
        free coordinate the number of subjects whose log-likelihood depends on it at all."""
        lik = self.likelihood

        def subject_loglik(z: NDArray[np.float64]) -> NDArray[np.float64]:
            # the Hessian's points, evaluated with gradients: the same values bit for bit
            return self._evaluation(self.space.to_natural(z), self._analytic).subject_loglik

        center = subject_loglik(x)
        scores = np.zeros((lik.n_subjects, x.size))
        informed = np.zeros(x.size, dtype=np.intp)
        for i in range(x.size):
            e = np.zeros(x.size)
            e[i] = self._step(i)
            up = subject_loglik(x + e)
            down = subject_loglik(x - e)
            scores[:, i] = (up - down) / (2 * e[i])
            # a subject the coordinate does not reach has bit-identical log-likelihoods
            informed[i] = int(np.sum((up != center) | (down != center)))
        return scores, informed

    def _results(self, x: NDArray[np.float64], ev: Evaluation, converged: bool,
                 convergence: dict[str, Any], standard_errors: bool) -> FitResults:
        names = self.space.names
        theta = self.space.to_natural(x)
        params = pd.Series(theta, dtype=float)[names]
        k = self.space.size
        cov = np.full((len(names), len(names)), np.nan)
        cov_s = cov.copy()
        free: dict[str, Any] = {}
        if standard_errors and k:
            hess = self._hessian_free(x)
            info = -hess
            jac = self.space.jacobian(x)
            try:
                cond = float(np.linalg.cond(info))
                inv = np.linalg.inv(info) if cond < 1e12 else np.linalg.pinv(info)
            except np.linalg.LinAlgError:
                cond, inv = np.inf, np.linalg.pinv(info)
            convergence["hessian_condition"] = cond
            if cond >= 1e12:
                _warn(convergence, "Hessian nearly singular: some parameters are not "
                      "identified or lie at a boundary")
            scores, informed = self._subject_scores(x)
            # CR1: the small-sample factor G/(G-1) of the clustered sandwich (G subjects).
            n_clusters = scores.shape[0]
            meat = scores.T @ scores * (n_clusters / (n_clusters - 1) if n_clusters > 1
                                        else np.nan)
            free_cov = inv
            free_cov_s = inv @ meat @ inv
            cov_full = jac @ free_cov @ jac.T
            cov_s_full = jac @ free_cov_s @ jac.T
            est = [i for i, n in enumerate(names) if n not in self.space.fixed]
            cov[np.ix_(est, est)] = cov_full[np.ix_(est, est)]
            cov_s[np.ix_(est, est)] = cov_s_full[np.ix_(est, est)]
            # Each subject's empirical influence on the natural-scale estimates (the
            # infinitesimal jackknife, n × parameters): the BCa bootstrap's acceleration.
            free = {"space": self.space, "x": np.array(x), "cov": free_cov,
                    "cov_sandwich": free_cov_s,
                    "influence": pd.DataFrame(scores @ inv @ jac.T, columns=names)}
            # One cluster cannot estimate a clustered variance: its score is the total
            # score, zero at the optimum, so the sandwich would report a spurious ~0.
            few = informed < 2
            lonely = [n for j, n in enumerate(names)
                      if n not in self.space.fixed and np.any(jac[j, few] != 0)]
            if lonely:
                rows = [names.index(n) for n in lonely]
                cov_s[rows, :] = np.nan
                cov_s[:, rows] = np.nan
                free["cov_sandwich"] = free_cov_s.copy()
                free["cov_sandwich"][few, :] = np.nan
                free["cov_sandwich"][:, few] = np.nan
                convergence["sandwich_unavailable"] = lonely
                _warn(convergence, "clustered (sandwich) standard errors need at least two "
                      "subjects whose decisions depend on the parameter; fewer do for "
                      f"{', '.join(lonely)}: reported as NaN (see the Hessian ones)")
        at_bound = self.space.at_bounds(theta)
        if at_bound:
            convergence["at_bound"] = at_bound
            _warn(convergence, "at the edge of the parameter space: " + ", ".join(
                f"{n} = {theta[n]:.4g}" for n in at_bound) + " (the data push it there; its "
                "standard error and Wald interval are not meaningful)")
        bse = pd.Series(np.sqrt(np.clip(np.diag(cov), 0, None)), index=names)
        bse_s = pd.Series(np.sqrt(np.clip(np.diag(cov_s), 0, None)), index=names)
        derived, derived_se = self._derived(
            theta, cov_s, convergence.get("sandwich_unavailable", []))
        intervals = {}
        if free:
            intervals["wald"] = _wald_table(self.model, free, at_bound, derived, derived_se)
        finer = self.model.refined() if standard_errors else None
        if finer is not None:
            try:
                fine_ll = Likelihood(finer, self.dataset, epsilon=self.epsilon,
                                     **self._selection).evaluate(theta).loglik
            except ParameterError as e:  # twice the nodes too large for memory: no check
                _warn(convergence, f"the quadrature check (doubled nodes) was not run: {e}")
                finer = None
        if finer is not None:
            change = abs(fine_ll - ev.loglik)
            # Scale-aware (doubling_tolerance): 0.01, or 1e-6 per decision on large data.
            tolerance = doubling_tolerance(self.likelihood.n_decisions)
            convergence["quadrature"] = {**self.model.quadrature(),
                                         "loglik_change_when_doubled": change,
                                         "tolerance": tolerance}
            if change >= tolerance:
                _warn(convergence,
                      f"doubling the quadrature nodes moves the log-likelihood by {change:.3g} "
                      f"(>= {tolerance:.3g}, the tolerance for "
                      f"{self.likelihood.n_decisions} decisions): raise n_alpha / n_beta")
        lik = self.likelihood
        return FitResults(
            model=self.model, params=params, bse=bse, bse_sandwich=bse_s,
            cov=pd.DataFrame(cov, index=names, columns=names),
            cov_sandwich=pd.DataFrame(cov_s, index=names, columns=names),
            llf=ev.loglik, nobs=lik.n_decisions, n_subjects=lik.n_subjects,
            n_units=lik.n_units, df_model=k, llf_by_role=ev.by_role,
            llf_by_treatment=ev.by_treatment, converged=converged, convergence=convergence,
            posterior=posterior_table(lik, ev), subject_llf=lik.subject_loglik(ev),
            derived=derived, derived_se=derived_se,
            epsilon=float(theta[TREMBLE]) if TREMBLE in theta else self.epsilon,
            not_identified=list(self.not_identified),
            bounds={n: tuple(map(float, self.space.bounds.get(n, (-np.inf, np.inf))))
                    for n in self.space.estimated},
            intervals=intervals, free=free,
        )

    def _derived(self, theta: dict[str, float], cov: NDArray[np.float64],
                 unavailable: list[str]) -> tuple[pd.Series, pd.Series]:
        """Derived quantities and their delta-method standard errors (fixed parameters count
        as known; a quantity that depends on a parameter in ``unavailable`` gets NaN)."""
        from .intervals import derived_jacobian

        names = self.space.names
        values, grads = derived_jacobian(self.model, theta, names)
        if not values:
            return pd.Series(dtype=float), pd.Series(dtype=float)
        c = np.nan_to_num(cov)
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", grads, c, grads), 0, None))
        missing = [names.index(n) for n in unavailable]
        se[np.any(grads[:, missing] != 0, axis=1)] = np.nan
        return pd.Series(values, dtype=float), pd.Series(se, index=list(values))


def _end(v: float) -> str:
    """An interval end for text: 3 significant digits, open ends as ±inf."""
    return f"{v:.3g}" if np.isfinite(v) else ("-inf" if v < 0 else "inf")


def _wald_table(model: Model, free: dict[str, Any], at_bound: list[str], derived: pd.Series,
                derived_se: pd.Series) -> pd.DataFrame:
    """Transformed Wald intervals of the estimated parameters (NaN at a bound) and of the
    derived quantities (on the scale of their declared range)."""
    from .intervals import transform_interval, transformed_wald

    table = transformed_wald(free["space"], free["x"], free["cov_sandwich"])
    table.loc[[n for n in at_bound if n in table.index]] = np.nan
    table["method"] = "wald"
    ranges = model.derived_bounds()
    rows = []
    for n, v in derived.items():
        bounds = ranges.get(n, (-np.inf, np.inf))
        lo, hi = transform_interval(float(v), float(derived_se.get(n, np.nan)), bounds)
        bounded = np.isfinite(bounds[0]) or np.isfinite(bounds[1])
        rows.append(pd.Series({"lower": lo, "upper": hi,
                               "method": "wald" if bounded else "wald-natural"}, name=n))
    return pd.concat([table, pd.DataFrame(rows)]) if rows else table


def _common_bounds(per_game: list[dict[str, tuple[float, float]]]
                   ) -> dict[str, tuple[float, float]]:
    """The intersection of each parameter's bounds over several games.

    Examples
    --------
    >>> _common_bounds([{"s": (0.2, np.inf)}, {"s": (0.3, 9.0)}])
    {'s': (0.3, 9.0)}
    """
    out: dict[str, tuple[float, float]] = {}
    for bounds in per_game:
        for n, (lo, hi) in bounds.items():
            lo0, hi0 = out.get(n, (-np.inf, np.inf))
            out[n] = (max(lo0, lo), min(hi0, hi))
    return out


def _not_identified(model: Model, games: list[Any], groups: list[tuple[str, ...]]
                    ) -> list[str]:
    """Parameters inert in every game, in the model's order (a simplex group only as a
    whole: its shares are estimated or held together)."""
    inert = set.intersection(*(set(model.inert_parameters(g)) for g in games))
    for group in groups:
        if not inert.issuperset(group):
            inert -= set(group)
    return [n for n in model.parameter_names() if n in inert]


def _warn(convergence: dict[str, Any], message: str) -> None:
    """Add a warning to the convergence report (warnings accumulate, separated by '; ')."""
    before = convergence.get("warning")
    convergence["warning"] = f"{before}; {message}" if before else message


def posterior_table(lik: Likelihood, ev: Evaluation) -> pd.DataFrame:
    """One row per (subject, role): treatment, most likely type and family probabilities."""
    frames = []
    for role in ROLES:
        post = ev.posterior[role]
        families = ev.type_families[role]
        fam_names = list(dict.fromkeys(families))
        fam = np.zeros((len(fam_names), post.shape[1]))
        for i, f in enumerate(families):
            fam[fam_names.index(f)] += post[i]
        best = np.argmax(post, axis=0)
        best_fam = np.argmax(fam, axis=0)
        df = pd.DataFrame({
            "subject": lik.units[role], "role": role,
            "treatment": lik.unit_treatment[role],
            "type": [ev.type_names[role][lik.treatments[home]][i]
                     for i, home in zip(best, lik.unit_home[role], strict=True)],
            "type_probability": post[best, np.arange(
                post.shape[1])],
            "family": [fam_names[i] for i in best_fam],
            "family_probability": fam[best_fam, np.arange(fam.shape[1])],
            "loglik": ev.unit_loglik[role],
        })
        for i, f in enumerate(fam_names):
            df[f"P({f})"] = fam[i]
        frames.append(df)
    return pd.concat(frames, ignore_index=True)

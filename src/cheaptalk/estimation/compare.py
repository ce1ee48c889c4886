r"""Model comparison (SPEC §5): in-sample fit, Vuong tests, cross-validation by subject,
leave-one-treatment-out prediction, posterior types and fit diagnostics.

* **Information criteria**: AIC and BIC of each fit (:mod:`cheaptalk.estimation.mle`).
* **Vuong test** (non-nested, Vuong 1989) on per-subject log-likelihood contributions
  :math:`d_i = \ell_{a,i} - \ell_{b,i}`, with the Schwarz correction:

  .. math::

      z = \frac{\sum_i d_i - \tfrac{k_a - k_b}{2} \log N}{\sqrt{n}\, \hat\omega}, \qquad
      \hat\omega^2 = \tfrac1n \sum_i (d_i - \bar d)^2,

  with :math:`n` subjects and :math:`N` decisions; :math:`z > 0` favours model *a*; the
  p-value is two-sided. Two fits whose per-subject contributions differ by less than
  :data:`INDISTINGUISHABLE` everywhere coincide (z = 0, p = 1, favours neither).
* **Cross-validation by subject**: subjects are split into K folds at random (seeded); each
  model is fitted without a fold and scored on it; the result is the out-of-sample
  log-likelihood per decision (higher is better).
* **Leave one treatment out**: fit on the other treatments, score the held-out one.
* **Diagnostics**: mean message by state bin and mean action by message bin, observed
  against each model's prediction (:mod:`cheaptalk.estimation.diagnostics`).

The fits are independent tasks (:class:`SampleFit`, :class:`HeldOutFit`) run by
:mod:`cheaptalk.runner`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.special import chdtrc, ndtr  # chi-square and normal upper tails, lower CDF

from cheaptalk.choice import DEFAULT_TREMBLE
from cheaptalk.data.interactions import Dataset
from cheaptalk.models.base import Model
from cheaptalk.runner import Backend, Progress, choose_backend, run_tasks, run_tasks_then

from .diagnostics import diagnostics
from .likelihood import Likelihood
from .mle import INTERVAL_CHOICES, FitResults, MaximumLikelihood

__all__ = ["Comparison", "HeldOutFit", "SampleFit", "compare", "diagnostics",
           "held_out_score", "is_synthetic", "vuong_test"]


#: Per-subject log-likelihood differences below this (in every subject) mean two fits
#: coincide: the optimiser's tolerance, not evidence.
INDISTINGUISHABLE = 1e-4


def vuong_test(a: FitResults, b: FitResults) -> dict[str, Any]:
    """Vuong's closeness test with the Schwarz correction (see the module docstring).

    Both fits must be on the same data (same subjects in the same order).
    """
    d = a.subject_llf - b.subject_llf
    n = d.size
    la, lb = a.model.label, b.model.label
    if float(np.max(np.abs(d), initial=0.0)) < INDISTINGUISHABLE:
        # The fits coincide subject by subject (two models that agree in this game, or a
        # nested model at its restriction): the test has no power; BIC still prefers the
        # smaller one.
        return {"a": la, "b": lb, "z": 0.0, "p": 1.0, "favours": "neither"}
    correction = 0.5 * (a.df_model - b.df_model) * np.log(a.nobs)
    omega = float(np.std(d))
    stat = float(d.sum() - correction)
    z = stat / (np.sqrt(n) * omega) if omega > 0 else (0.0 if stat == 0 else np.sign(stat) * np.inf)
    p = float(2 * ndtr(-abs(z)))
    return {"a": la, "b": lb, "z": float(z), "p": p,
            "favours": la if z > 0 else lb if z < 0 else "neither"}


def likelihood_ratio_tests(fits: Mapping[str, Any]) -> list[dict[str, Any]]:
    r"""Likelihood-ratio tests of every fitted model against each fitted model it nests
    (:meth:`~cheaptalk.models.base.Model.restrictions`).

    :math:`LR = 2(\ell_a - \ell_b)` with ``df`` the difference in free parameters. Where the
    restriction lies on the boundary (``eta = 0``), :math:`LR` follows the 50:50 mixture of
    :math:`\chi^2_{df}` and :math:`\chi^2_{df-1}` (Self & Liang 1987), so
    :math:`p = \tfrac12 P(\chi^2_{df} > LR) + \tfrac12 P(\chi^2_{df-1} > LR)`.
    """
    out = []
    for label, a in fits.items():
        model = getattr(a, "model", None)
        for r in (model.restrictions() if model is not None else ()):
            b = fits.get(r.nested)
            if b is None:
                continue
            lr = max(2.0 * (a.llf - b.llf), 0.0)
            df = max(int(a.df_model - b.df_model), 1)
            p = float(chdtrc(df, lr))
            if r.boundary:
                below = float(chdtrc(df - 1, lr)) if df > 1 else float(lr <= 0)
                p = 0.5 * p + 0.5 * below
            out.append({"model": label, "nested": r.nested, "restriction": r.text,
                        "lr": lr, "df": df, "p": p, "boundary": r.boundary})
    return out


@dataclass
class Comparison:
    """The outcome of :func:`compare`: numbers only (its tables are built by
    :mod:`cheaptalk.report.tables`)."""

    fits: dict[str, FitResults]
    vuong: list[dict[str, Any]]
    cv: dict[str, float]
    loto: dict[str, dict[str, float]]
    diagnostics: pd.DataFrame
    n_decisions: int
    n_subjects: int
    folds: int
    dataset_source: str = ""
    design_source: str = ""
    #: SHA-256 of the data file's bytes ("" for data built in memory).
    data_sha256: str = ""
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)
    #: The column map the data were read with (cheaptalk's name → the file's column).
    columns: dict[str, str] = field(default_factory=dict)

    @property
    def best_bic(self) -> str:
        return min(self.fits, key=lambda n: self.fits[n].bic)

    @property
    def best_cv(self) -> str | None:
        return max(self.cv, key=self.cv.get) if self.cv else None  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cheaptalk compare`` (SPEC §4.2)."""
        models = []
        for name, f in self.fits.items():
            entry = f.to_dict()
            entry["cv_loglik_per_decision"] = self.cv.get(name)
            entry["loto_loglik_per_decision"] = self.loto.get(name, {})
            models.append(entry)
        return {
            "models": models,
            "vuong": self.vuong,
            "likelihood_ratio": likelihood_ratio_tests(self.fits),
            "best_bic": self.best_bic,
            "best_cv": self.best_cv,
            "n_decisions": self.n_decisions,
            "n_subjects": self.n_subjects,
            "folds": self.folds,
            "design": _locate(self.design_source),
            "data": _locate(self.dataset_source),
            **({"data_sha256": self.data_sha256} if self.data_sha256 else {}),
            **({"columns": dict(self.columns)} if self.columns else {}),
            "synthetic": self.synthetic,
            "notes": self.notes,
        }


def is_synthetic(dataset: Dataset) -> bool:
    """Whether any row was simulated by cheaptalk (:attr:`Dataset.synthetic_rows`): results
    that rest on simulated data, even in part, are labelled synthetic."""
    return dataset.synthetic_rows > 0


def _locate(source: str) -> str:
    """An absolute path for a file on disk (so that ``cheaptalk report`` finds it from any
    folder); other sources (a bundled design's name) as they are."""
    p = Path(source)
    return str(p.resolve()) if source and p.is_file() else source


@dataclass(frozen=True)
class SampleFit:
    """A runner task: fit ``model`` to ``dataset`` (standard errors included); its result is
    the :class:`FitResults`."""

    model: Model
    dataset: Dataset
    epsilon: float
    estimate_epsilon: bool
    n_starts: int
    seed: int
    name: str

    @property
    def description(self) -> str:
        return f"fitting {self.name}"

    def run(self) -> FitResults:
        est = MaximumLikelihood(self.model, self.dataset, epsilon=self.epsilon,
                                estimate_epsilon=self.estimate_epsilon)
        return est.fit(n_starts=self.n_starts, seed=self.seed)


@dataclass(frozen=True)
class HeldOutFit:
    """A runner task: fit ``model`` on the training part (``train_rows`` or
    ``train_subjects``) from ``start``, then score the held-out part (``test_rows`` or
    ``test_subjects``); its result is the held-out ``(log-likelihood, decisions)``."""

    model: Model
    dataset: Dataset
    epsilon: float
    estimate_epsilon: bool
    start: Mapping[str, float]
    seed: int
    description: str
    train_rows: np.ndarray | None = None
    train_subjects: frozenset[str] | None = None
    test_rows: np.ndarray | None = None
    test_subjects: frozenset[str] | None = None
    #: The full-sample fit whose covariance scales L-BFGS's steps
    #: (:meth:`MaximumLikelihood.fit`'s ``metric``).
    metric: FitResults | None = None

    def run(self) -> tuple[float, int]:
        est = MaximumLikelihood(self.model, self.dataset, epsilon=self.epsilon,
                                rows=self.train_rows, subjects=self.train_subjects,
                                estimate_epsilon=self.estimate_epsilon)
        # The held-out score is only needed to ~1e-4: a looser tolerance than a full fit.
        fit = est.fit(start=self.start, n_starts=1, seed=self.seed, standard_errors=False,
                      ftol=1e-8, metric=self.metric)
        test = Likelihood(self.model, self.dataset, epsilon=self.epsilon,
                          rows=self.test_rows, subjects=self.test_subjects)
        return test.evaluate(fit.params.to_dict()).loglik, test.n_decisions


def held_out_score(scores: Sequence[tuple[float, int]]) -> float:
    """Out-of-sample log-likelihood per decision of held-out parts: the summed
    log-likelihood over the summed decisions.

    Examples
    --------
    >>> held_out_score([(-10.0, 4), (-2.0, 2)])
    -2.0
    """
    return sum(ll for ll, _ in scores) / sum(n for _, n in scores)


def compare(
    models: Sequence[Model] | Mapping[str, Model], dataset: Dataset, folds: int = 5,
    leave_one_treatment_out: bool = True, seed: int = 0, n_starts: int = 3,
    epsilon: float = DEFAULT_TREMBLE, progress: Progress | None = None,
    jobs: int | None = None, estimate_epsilon: bool = False, backend: Backend | None = None,
    intervals: str = "wald",
    client: Any = None,
) -> Comparison:
    """Fit every model and compare them (see the module docstring).

    Parameters
    ----------
    models : sequence of Model (keyed by :attr:`Model.label`: variants of one model with
        different options are compared as different models), or mapping label → Model
    dataset : Dataset
    folds : int
        K of the K-fold cross-validation by subject (0 or 1: none).
    leave_one_treatment_out : bool
    seed : int
        Seeds the starts and the fold assignment.
    n_starts : int
        Starts of each full-sample fit (held-out fits start from the full-sample estimate).
    progress : callable, optional
        Called with a short description as each fit ends.
    jobs : int, optional
        Worker processes for the fits (default: all cores; 1 runs everything here), when
        no ``backend`` is given. The results do not depend on it.
    estimate_epsilon : bool
        Estimate each model's tremble too (``epsilon`` is then its start value).
    backend : Backend, optional
        Runs the independent fits (:mod:`cheaptalk.runner`); default a local process pool
        of ``jobs`` workers.
    intervals : str
        ``"wald"``, ``"auto"`` or ``"profile"``: the full-sample fits' intervals, as in
        :meth:`~cheaptalk.estimation.mle.MaximumLikelihood.fit` (profile ends run by
        ``backend``).
    client : distributed.Client, optional
        Run the fits on this Dask cluster instead (when no ``backend`` is given).
    """
    if isinstance(models, Mapping):
        named = dict(models)
    else:
        named = {m.label: m for m in models}
        if len(named) < len(models):
            raise ValueError("the same model (with the same options) is listed twice")
    backend = choose_backend(backend, jobs, client)
    full = [SampleFit(model, dataset, epsilon, estimate_epsilon, n_starts, seed, name)
            for name, model in named.items()]

    lik_all = Likelihood(next(iter(named.values())), dataset, epsilon=epsilon)
    subjects = np.array(lik_all.subjects, dtype=object)
    notes: list[str] = []
    if folds and folds > 1 and subjects.size < folds:
        notes.append(f"cross-validation skipped: {subjects.size} subjects < {folds} folds")
        folds = 0
    cv_on = bool(folds and folds > 1)
    fold_of = (np.random.default_rng(seed).permutation(np.arange(subjects.size) % folds)
               if cv_on else np.zeros(0, dtype=int))
    treatments = lik_all.treatments
    g_of_row = dataset.table["treatment"].to_numpy()
    loto_on = leave_one_treatment_out and len(treatments) > 1
    # The held-out fits of a model, keyed, started at its full-sample fit and scaled by it.
    keys: list[tuple[str, Any]] = ([("cv", k) for k in range(folds)] if cv_on else []) + (
        [("loto", g) for g in treatments] if loto_on else [])

    def held_out(i: int, fit: FitResults) -> list[HeldOutFit]:
        name, model = list(named.items())[i]
        start = fit.params.to_dict()
        tasks = []
        for kind, part in keys:
            if kind == "cv":
                tasks.append(HeldOutFit(
                    model, dataset, epsilon, estimate_epsilon, start, seed,
                    f"cross-validating {name}: fold {part + 1}/{folds}",
                    train_subjects=frozenset(subjects[fold_of != part]),
                    test_subjects=frozenset(subjects[fold_of == part]), metric=fit))
            else:
                tasks.append(HeldOutFit(
                    model, dataset, epsilon, estimate_epsilon, start, seed,
                    f"leave-one-treatment-out {name}: {part}",
                    train_rows=np.flatnonzero(g_of_row != part),
                    test_rows=np.flatnonzero(g_of_row == part), metric=fit))
        return tasks

    if intervals == "wald":
        # Each model's held-out fits start as soon as its full-sample fit ends.
        results, follow = run_tasks_then(full, held_out, backend, progress,
                                         total=len(full) * (1 + len(keys)))
        fits = dict(zip(named, results, strict=True))
    else:
        fits = dict(zip(named, run_tasks(full, backend, progress), strict=True))
        for name, model in named.items():
            est = MaximumLikelihood(model, dataset, epsilon=epsilon,
                                    estimate_epsilon=estimate_epsilon)
            est.add_profile_intervals(fits[name], INTERVAL_CHOICES[intervals],
                                      backend=backend, progress=progress)
        tasks = [held_out(i, fits[name]) for i, name in enumerate(named)]
        flat = run_tasks([t for group in tasks for t in group], backend, progress)
        follow = [flat[i * len(keys):(i + 1) * len(keys)] for i in range(len(named))]
    scores = {(kind, name, part): score
              for name, group in zip(named, follow, strict=True)
              for (kind, part), score in zip(keys, group, strict=True)}
    names = list(fits)
    vuong = [vuong_test(fits[a], fits[b]) for i, a in enumerate(names) for b in names[i + 1:]]

    cv: dict[str, float] = {}
    loto: dict[str, dict[str, float]] = {}
    for name in named:
        if cv_on:
            cv[name] = held_out_score([scores[("cv", name, k)] for k in range(folds)])
        if loto_on:
            loto[name] = {g: held_out_score([scores[("loto", name, g)]]) for g in treatments}
    synthetic = is_synthetic(dataset)
    return Comparison(
        fits=fits, vuong=vuong, cv=cv, loto=loto,
        diagnostics=diagnostics(dataset, fits), n_decisions=lik_all.n_decisions,
        n_subjects=lik_all.n_subjects, folds=folds, dataset_source=dataset.source,
        design_source=dataset.design.source, data_sha256=dataset.sha256,
        synthetic=synthetic, notes=notes, columns=dict(dataset.columns),
    )

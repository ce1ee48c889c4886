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
  against each model's prediction (population strategy, with the tremble).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm

from cheaptalk.choice import DEFAULT_TREMBLE, tremble
from cheaptalk.data.interactions import Dataset
from cheaptalk.models.base import Model

from .likelihood import Likelihood
from .mle import FitResults, MaximumLikelihood

__all__ = ["Comparison", "compare", "diagnostics", "is_synthetic", "vuong_test"]

Progress = Callable[[str], None]


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
    p = float(2 * norm.sf(abs(z)))
    return {"a": la, "b": lb, "z": float(z), "p": p,
            "favours": la if z > 0 else lb if z < 0 else "neither"}


def _bins(grid: np.ndarray, values: np.ndarray, n_bins: int = 10) -> tuple[np.ndarray, list[str]]:
    """Bin label index per value: each grid point if few, else equal-width bins."""
    if grid.size <= 12:
        idx = np.searchsorted(np.sort(grid), values)
        return idx, [f"{v:g}" for v in np.sort(grid)]
    edges = np.linspace(grid.min(), grid.max(), n_bins + 1)
    idx = np.clip(np.searchsorted(edges, values, side="right") - 1, 0, n_bins - 1)
    return idx, [f"{edges[i]:g}–{edges[i + 1]:g}" for i in range(n_bins)]


def diagnostics(dataset: Dataset, fits: Mapping[str, FitResults]) -> pd.DataFrame:
    """Mean message by state bin and mean action by message bin: observed and per model
    (population strategy with the fit's tremble).

    Returns a long table with columns ``treatment, measure, bin, n, observed`` and one
    column per model.
    """
    t = dataset.table
    rows = []
    for g in dataset.design.treatments:
        sel = np.flatnonzero((t["treatment"] == g).to_numpy())
        if sel.size == 0:
            continue
        game = dataset.design.game(g)
        preds = {name: f.model.predict(game, f.model_params) for name, f in fits.items()}
        # Model means of the message given each state, and of the action given each message,
        # each with its fit's tremble (estimated or fixed).
        eps = {name: f.epsilon for name, f in fits.items()}
        means = {
            "message by state": {n: tremble(p.sender, eps[n]) @ game.messages
                                 for n, p in preds.items()},
            "action by message": {n: tremble(p.receiver, eps[n]) @ game.actions
                                  for n, p in preds.items()},
        }
        for measure, x_idx, y_vals, x_grid in (
            ("message by state", dataset.state[sel], t["message"].to_numpy()[sel],
             game.states),
            ("action by message", dataset.message[sel], t["action"].to_numpy()[sel],
             game.messages),
        ):
            b, labels = _bins(x_grid, x_grid[x_idx])
            expected = {name: m[x_idx] for name, m in means[measure].items()}
            for i, label in enumerate(labels):
                inside = b == i
                if not inside.any():
                    continue
                row = {"treatment": g, "measure": measure, "bin": label,
                       "n": int(inside.sum()), "observed": float(y_vals[inside].mean())}
                row.update({name: float(e[inside].mean()) for name, e in expected.items()})
                rows.append(row)
    return pd.DataFrame(rows)


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
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)

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
            "best_bic": self.best_bic,
            "best_cv": self.best_cv,
            "n_decisions": self.n_decisions,
            "n_subjects": self.n_subjects,
            "folds": self.folds,
            "design": _locate(self.design_source),
            "data": _locate(self.dataset_source),
            "synthetic": self.synthetic,
            "notes": self.notes,
        }


def is_synthetic(dataset: Dataset) -> bool:
    """Whether every row was simulated by cheaptalk (session ``"synthetic"``)."""
    t = dataset.table
    return bool("session" in t.columns and len(t)
                and (t["session"].astype(str) == "synthetic").all())


def _locate(source: str) -> str:
    """An absolute path for a file on disk (so that ``cheaptalk report`` finds it from any
    folder); other sources (a bundled design's name) as they are."""
    p = Path(source)
    return str(p.resolve()) if source and p.is_file() else source


def _fit_task(args: tuple) -> tuple[Any, ...]:
    """One fit, for a worker process: full sample, a CV fold or a left-out treatment."""
    key, model, dataset, epsilon, estimate, start, n_starts, seed, rows, subjects, held = args
    est = MaximumLikelihood(model, dataset, epsilon=epsilon, rows=rows, subjects=subjects,
                            estimate_epsilon=estimate)
    full = held is None
    # Held-out fits only need the out-of-sample log-likelihood to ~1e-4: a looser tolerance.
    fit = est.fit(start=start, n_starts=n_starts, seed=seed, standard_errors=full,
                  ftol=1e-10 if full else 1e-8)
    if full:
        return key, fit
    test = Likelihood(model, dataset, epsilon=epsilon, **held)
    return key, (test.evaluate(fit.params.to_dict()).loglik, test.n_decisions)


def _run(tasks: list[tuple], jobs: int, say: Progress, label: Callable[[Any], str]
         ) -> dict[Any, Any]:
    out: dict[Any, Any] = {}
    if jobs <= 1 or len(tasks) <= 1:
        for t in tasks:
            key, value = _fit_task(t)
            say(label(key) + " done")
            out[key] = value
        return out
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(jobs, len(tasks))) as pool:
        futures = {pool.submit(_fit_task, t): t[0] for t in tasks}
        for fut in as_completed(futures):
            say(label(futures[fut]) + " done")
            key, value = fut.result()
            out[key] = value
    return out


def compare(
    models: Sequence[Model] | Mapping[str, Model], dataset: Dataset, folds: int = 5,
    leave_one_treatment_out: bool = True, seed: int = 0, n_starts: int = 3,
    epsilon: float = DEFAULT_TREMBLE, progress: Progress | None = None,
    jobs: int | None = None, estimate_epsilon: bool = False,
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
        Worker processes for the fits (default: all cores; 1 runs everything here). The
        results do not depend on it.
    estimate_epsilon : bool
        Estimate each model's tremble too (``epsilon`` is then its start value).
    """
    import os

    if isinstance(models, Mapping):
        named = dict(models)
    else:
        named = {m.label: m for m in models}
        if len(named) < len(models):
            raise ValueError("the same model (with the same options) is listed twice")
    say = progress or (lambda _msg: None)
    jobs = jobs or os.cpu_count() or 1
    full = [((name,), model, dataset, epsilon, estimate_epsilon, None, n_starts, seed, None,
             None, None)
            for name, model in named.items()]
    fits: dict[str, FitResults] = {
        key[0]: fit for key, fit in _run(full, jobs, say, lambda k: f"fitting {k[0]}").items()}
    fits = {name: fits[name] for name in named}
    names = list(fits)
    vuong = [vuong_test(fits[a], fits[b]) for i, a in enumerate(names) for b in names[i + 1:]]

    lik_all = Likelihood(next(iter(named.values())), dataset, epsilon=epsilon)
    subjects = np.array(lik_all.subjects, dtype=object)
    notes: list[str] = []
    held_out: list[tuple] = []
    if folds and folds > 1:
        if subjects.size < folds:
            notes.append(f"cross-validation skipped: {subjects.size} subjects < {folds} folds")
            folds = 0
        else:
            fold_of = np.random.default_rng(seed).permutation(np.arange(subjects.size) % folds)
            for name, model in named.items():
                start = fits[name].params.to_dict()
                for k in range(folds):
                    held_out.append((("cv", name, k), model, dataset, epsilon,
                                     estimate_epsilon, start, 1, seed,
                                     None, set(subjects[fold_of != k]),
                                     {"subjects": set(subjects[fold_of == k])}))
    treatments = lik_all.treatments
    g_of_row = dataset.table["treatment"].to_numpy()
    loto_on = leave_one_treatment_out and len(treatments) > 1
    if loto_on:
        for name, model in named.items():
            start = fits[name].params.to_dict()
            for g in treatments:
                held_out.append((("loto", name, g), model, dataset, epsilon,
                                 estimate_epsilon, start, 1, seed,
                                 np.flatnonzero(g_of_row != g), None,
                                 {"rows": np.flatnonzero(g_of_row == g)}))
    scores = _run(held_out, jobs, say, lambda k: (
        f"cross-validating {k[1]}: fold {k[2] + 1}/{folds}" if k[0] == "cv"
        else f"leave-one-treatment-out {k[1]}: {k[2]}"))
    cv: dict[str, float] = {}
    loto: dict[str, dict[str, float]] = {}
    for name in named:
        if folds and folds > 1:
            parts = [scores[("cv", name, k)] for k in range(folds)]
            cv[name] = sum(p[0] for p in parts) / sum(p[1] for p in parts)
        if loto_on:
            loto[name] = {g: scores[("loto", name, g)][0] / scores[("loto", name, g)][1]
                          for g in treatments}
    synthetic = is_synthetic(dataset)
    return Comparison(
        fits=fits, vuong=vuong, cv=cv, loto=loto,
        diagnostics=diagnostics(dataset, fits), n_decisions=lik_all.n_decisions,
        n_subjects=lik_all.n_subjects, folds=folds, dataset_source=dataset.source,
        design_source=dataset.design.source,
        synthetic=synthetic, notes=notes,
    )

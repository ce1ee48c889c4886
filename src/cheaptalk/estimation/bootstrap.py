"""Nonparametric bootstrap over subjects (SPEC §5).

Each replication draws the subjects with replacement; a subject drawn ``c`` times enters the
log-likelihood with weight ``c`` (all its decisions, in both roles where it has two), which
is the same as duplicating it. Each replication is re-fitted from the full-sample estimate.
Replications are independent tasks (:class:`BootstrapReplication`, each with its own
counts drawn here from ``seed``) run by :mod:`cheaptalk.runner`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cheaptalk.choice import TREMBLE
from cheaptalk.data.interactions import Dataset
from cheaptalk.models.base import Model
from cheaptalk.runner import Backend, Progress, choose_backend, run_tasks

from .intervals import bootstrap_bca, bootstrap_percentile
from .likelihood import Likelihood
from .mle import FitResults, MaximumLikelihood

__all__ = ["BootstrapReplication", "bootstrap", "resample_counts"]


@dataclass(frozen=True, eq=False)
class BootstrapReplication:
    """A runner task: re-fit ``model`` from ``start`` with each subject's log-likelihood
    weighted by ``counts`` (times drawn); its result is the estimates."""

    model: Model
    dataset: Dataset
    epsilon: float
    start: Mapping[str, float]
    counts: NDArray[np.float64]
    replication: int
    replications: int
    #: The full-sample fit, whose covariance scales L-BFGS's steps.
    metric: FitResults | None = None

    @property
    def description(self) -> str:
        return f"bootstrap {self.model.name}: {self.replication + 1}/{self.replications}"

    def run(self) -> dict[str, float]:
        est = MaximumLikelihood(self.model, self.dataset, epsilon=self.epsilon,
                                estimate_epsilon=TREMBLE in self.start)
        est.likelihood.subject_weights = self.counts
        fit = est.fit(start=self.start, n_starts=1, standard_errors=False, metric=self.metric)
        return fit.params.to_dict()


def resample_counts(n_subjects: int, replications: int, seed: int) -> list[NDArray[np.float64]]:
    """How many times each subject is drawn, per replication (``n_subjects`` draws with
    replacement each).

    Examples
    --------
    >>> [float(c.sum()) for c in resample_counts(5, 3, seed=0)]
    [5.0, 5.0, 5.0]
    """
    rng = np.random.default_rng(seed)
    return [np.bincount(rng.integers(0, n_subjects, n_subjects),
                        minlength=n_subjects).astype(float) for _ in range(replications)]


def bootstrap(
    results: FitResults, dataset: Dataset, replications: int = 200, seed: int = 0,
    jobs: int | None = None, progress: Progress | None = None, backend: Backend | None = None,
    client: Any = None,
) -> pd.DataFrame:
    """Bootstrap the fit in ``results``; sets ``results.bse_bootstrap``, the percentile
    intervals ``results.intervals["bootstrap"]``
    (:func:`~cheaptalk.estimation.intervals.bootstrap_percentile`) and, for a fit with
    standard errors, the BCa intervals ``results.intervals["bootstrap-bca"]``
    (:func:`~cheaptalk.estimation.intervals.bootstrap_bca`); returns the draws.

    Parameters
    ----------
    results : FitResults
        A full-sample fit of ``dataset``.
    replications : int
    seed : int
        The same seed gives the same draws, whichever backend runs them.
    jobs : int, optional
        Worker processes when no ``backend`` is given (default: all cores; 1 runs in this
        process).
    progress : callable, optional
        Called with a description as each replication ends.
    backend : Backend, optional
        Runs the replications (:mod:`cheaptalk.runner`).
    client : distributed.Client, optional
        Run them on this Dask cluster instead (when no ``backend`` is given).

    Returns
    -------
    DataFrame
        One row per replication, one column per parameter.
    """
    n_subjects = Likelihood(results.model, dataset, epsilon=results.epsilon).n_subjects
    start = results.params.to_dict()
    tasks = [BootstrapReplication(results.model, dataset, results.epsilon, start, counts, r,
                                  replications, results)
             for r, counts in enumerate(resample_counts(n_subjects, replications, seed))]
    table = pd.DataFrame(run_tasks(tasks, choose_backend(backend, jobs, client), progress))
    results.bse_bootstrap = table.std(ddof=1)
    results.intervals["bootstrap"] = bootstrap_percentile(table, results.model)
    if "influence" in results.free:
        results.intervals["bootstrap-bca"] = bootstrap_bca(
            table, results.params, results.free["influence"], results.model)
    return table

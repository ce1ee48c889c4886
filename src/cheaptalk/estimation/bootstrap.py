"""Nonparametric bootstrap over subjects (SPEC §5).

Each replication draws the subjects with replacement; a subject drawn ``c`` times enters the
log-likelihood with weight ``c`` (all its decisions, in both roles where it has two), which
is the same as duplicating it. Each replication is re-fitted from the full-sample estimate.
Replications run in parallel over the machine's cores.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor, as_completed

import numpy as np
import pandas as pd

from cheaptalk.choice import TREMBLE
from cheaptalk.data.interactions import Dataset

from .mle import FitResults, MaximumLikelihood

__all__ = ["bootstrap"]


def _replicate(args: tuple) -> dict[str, float]:
    model, dataset, epsilon, start, weights = args
    est = MaximumLikelihood(model, dataset, epsilon=epsilon, estimate_epsilon=TREMBLE in start)
    est.likelihood.subject_weights = weights
    fit = est.fit(start=start, n_starts=1, standard_errors=False)
    return fit.params.to_dict()


def bootstrap(
    results: FitResults, dataset: Dataset, replications: int = 200, seed: int = 0,
    jobs: int | None = None, show_progress: bool = False,
) -> pd.DataFrame:
    """Bootstrap the fit in ``results``; sets ``results.bse_bootstrap`` and returns the draws.

    Parameters
    ----------
    results : FitResults
        A full-sample fit of ``dataset``.
    replications : int
    seed : int
        The same seed gives the same draws.
    jobs : int, optional
        Worker processes (default: all cores; 1 runs in this process).
    show_progress : bool
        Show a progress bar on standard error.
    """
    est = MaximumLikelihood(results.model, dataset, epsilon=results.epsilon)
    n = est.likelihood.n_subjects
    rng = np.random.default_rng(seed)
    weights = [np.bincount(rng.integers(0, n, n), minlength=n).astype(float)
               for _ in range(replications)]
    start = results.params.to_dict()
    tasks = [(results.model, dataset, results.epsilon, start, w) for w in weights]
    jobs = jobs or os.cpu_count() or 1
    draws: list[dict[str, float] | None] = [None] * replications

    progress = None
    if show_progress:
        from rich.console import Console
        from rich.progress import Progress

        progress = Progress(console=Console(stderr=True), transient=True)
        progress.start()
        task = progress.add_task(f"bootstrap {results.model.name}", total=replications)
    try:
        if jobs == 1:
            for i, t in enumerate(tasks):
                draws[i] = _replicate(t)
                if progress is not None:
                    progress.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                futures = {pool.submit(_replicate, t): i for i, t in enumerate(tasks)}
                for fut in as_completed(futures):
                    draws[futures[fut]] = fut.result()
                    if progress is not None:
                        progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
    table = pd.DataFrame(draws)
    se = table.std(ddof=1)
    se[list(est.space.fixed)] = np.nan
    results.bse_bootstrap = se
    return table

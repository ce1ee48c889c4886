"""Simulation studies: parameter recovery and design power (SPEC §5).

* :func:`recover`: simulate a design from a model with known parameters many times, fit the
  same model to each dataset, and report bias, RMSE and the coverage of the 95% sandwich
  confidence interval.
* :func:`power`: for each candidate model as the truth, simulate, fit every candidate, and
  count how often each one wins by BIC: how likely is this design (subjects × rounds) to
  tell the models apart?

All data are synthetic; replications run in parallel over the cores, each with its own
seed (``seed + replication``), so a study is exactly reproducible.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from cheaptalk.choice import DEFAULT_TREMBLE
from cheaptalk.data.design import Design
from cheaptalk.data.interactions import validate_table
from cheaptalk.models.base import Model
from cheaptalk.simulation import Simulation, check_size

from .mle import MaximumLikelihood

__all__ = ["power", "recover"]


def _map(func: Callable[[Any], Any], tasks: Sequence[Any], jobs: int | None,
         label: str, show_progress: bool) -> list[Any]:
    jobs = jobs or os.cpu_count() or 1
    progress = None
    if show_progress:
        from rich.console import Console
        from rich.progress import Progress

        progress = Progress(console=Console(stderr=True), transient=True)
        progress.start()
        task = progress.add_task(label, total=len(tasks))
    out = []
    try:
        if jobs == 1:
            for t in tasks:
                out.append(func(t))
                if progress is not None:
                    progress.advance(task)
        else:
            with ProcessPoolExecutor(max_workers=jobs) as pool:
                for r in pool.map(func, tasks):
                    out.append(r)
                    if progress is not None:
                        progress.advance(task)
    finally:
        if progress is not None:
            progress.stop()
    return out


def _simulate(design: Design, model: Model, params: Mapping[str, float], subjects: int,
              rounds: int, seed: int, epsilon: float) -> Any:
    df = Simulation(design, model, params, subjects_per_role=subjects, rounds=rounds,
                    epsilon=epsilon).run(seed)
    return validate_table(df, design, source=f"synthetic seed {seed}")


def _recover_one(args: tuple) -> dict[str, Any]:
    design, model, params, subjects, rounds, seed, epsilon, n_starts = args
    ds = _simulate(design, model, params, subjects, rounds, seed, epsilon)
    fit = MaximumLikelihood(model, ds, epsilon=epsilon).fit(start=params, n_starts=n_starts,
                                                             seed=seed)
    return {"seed": seed, "converged": fit.converged,
            **{f"est:{k}": v for k, v in fit.params.items()},
            **{f"se:{k}": v for k, v in fit.bse_sandwich.items()}}


def recover(
    design: Design, model: Model, params: Mapping[str, float], subjects: int = 16,
    rounds: int = 30, replications: int = 20, seed: int = 0, epsilon: float = DEFAULT_TREMBLE,
    n_starts: int = 1, jobs: int | None = None, show_progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parameter recovery study.

    Returns
    -------
    summary : DataFrame
        One row per parameter: ``truth, mean, bias, rmse, mean_se, sd_estimate, coverage``.
    draws : DataFrame
        One row per replication: estimates and standard errors.
    """
    check_size(design, subjects, rounds)
    tasks = [(design, model, dict(params), subjects, rounds, seed + r, epsilon, n_starts)
             for r in range(replications)]
    draws = pd.DataFrame(_map(_recover_one, tasks, jobs, f"recovering {model.name}",
                              show_progress))
    rows = []
    for name, truth in params.items():
        est, se = draws[f"est:{name}"], draws[f"se:{name}"]
        covered = (est - 1.96 * se <= truth) & (truth <= est + 1.96 * se)
        rows.append({"parameter": name, "truth": truth, "mean": est.mean(),
                     "bias": est.mean() - truth, "rmse": float(np.sqrt(((est - truth) ** 2)
                                                                       .mean())),
                     "sd_estimate": est.std(ddof=1) if len(est) > 1 else np.nan,
                     "mean_se": se.mean(), "coverage": covered.mean()})
    return pd.DataFrame(rows).set_index("parameter"), draws


def _power_one(args: tuple) -> dict[str, Any]:
    design, truth_name, truth_model, truth_params, candidates, subjects, rounds, seed, \
        epsilon, n_starts = args
    ds = _simulate(design, truth_model, truth_params, subjects, rounds, seed, epsilon)
    bic = {}
    for m in candidates:
        start = truth_params if m.name == truth_name else None
        bic[m.name] = MaximumLikelihood(m, ds, epsilon=epsilon).fit(
            start=start, n_starts=n_starts, seed=seed, standard_errors=False).bic
    return {"truth": truth_name, "seed": seed, "winner": min(bic, key=bic.get),
            **{f"bic:{k}": v for k, v in bic.items()}}


def power(
    design: Design, truths: Mapping[str, tuple[Model, Mapping[str, float]]],
    candidates: Sequence[Model], subjects: int = 16, rounds: int = 30,
    replications: int = 20, seed: int = 0, epsilon: float = DEFAULT_TREMBLE,
    n_starts: int = 1, jobs: int | None = None, show_progress: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Design-power study: how often each candidate wins (by BIC) under each true model.

    Parameters
    ----------
    truths : mapping name → (model, params)
        The data-generating models.
    candidates : sequence of Model
        The models fitted to every dataset.

    Returns
    -------
    shares : DataFrame
        Rows: true model; columns: candidate; values: share of replications it won.
    draws : DataFrame
        One row per (truth, replication): winner and every candidate's BIC.
    """
    check_size(design, subjects, rounds)
    tasks = [(design, name, model, dict(p), list(candidates), subjects, rounds, seed + r,
              epsilon, n_starts)
             for name, (model, p) in truths.items() for r in range(replications)]
    draws = pd.DataFrame(_map(_power_one, tasks, jobs, "power study", show_progress))
    shares = (pd.crosstab(draws["truth"], draws["winner"], normalize="index")
              .reindex(columns=[m.name for m in candidates], fill_value=0.0))
    return shares, draws

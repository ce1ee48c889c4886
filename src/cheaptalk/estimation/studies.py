"""Simulation studies: parameter recovery and design power (SPEC §5).

* :func:`recover`: simulate a design from a model with known parameters many times, fit the
  same model to each dataset, and report bias, RMSE, the coverage of each 95% interval type
  computed (natural-scale and transformed Wald, profile likelihood on request) and how
  often an estimate sat at a bound.
* :func:`power`: for each candidate model as the truth, simulate, fit every candidate, and
  count how often each one wins by BIC: how likely is this design (subjects × rounds) to
  tell the models apart?

All data are synthetic; replications are independent tasks (:class:`RecoveryReplication`,
:class:`PowerReplication`), each with its own seed (``seed + replication``), run by
:mod:`cheaptalk.runner`, so a study is exactly reproducible whichever backend runs it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from cheaptalk.choice import DEFAULT_TREMBLE
from cheaptalk.data.design import Design
from cheaptalk.data.interactions import validate_table
from cheaptalk.models.base import Model
from cheaptalk.runner import Backend, InProcess, Progress, choose_backend, run_tasks
from cheaptalk.simulation import Simulation, check_size

from .intervals import Z_95
from .mle import MaximumLikelihood

__all__ = ["PowerReplication", "RecoveryReplication", "power", "recover",
           "summarise_recovery"]


def _simulate(design: Design, model: Model, params: Mapping[str, float], subjects: int,
              rounds: int | None, seed: int, epsilon: float) -> Any:
    df = Simulation(design, model, params, subjects_per_role=subjects, rounds=rounds,
                    epsilon=epsilon).run(seed)
    return validate_table(df, design, source=f"synthetic seed {seed}")


@dataclass(frozen=True, eq=False)
class RecoveryReplication:
    """A runner task: simulate ``design`` from ``model`` at ``params`` with ``seed``, fit the
    same model; its result is one row of draws (estimates and sandwich standard errors)."""

    design: Design
    model: Model
    params: Mapping[str, float]
    subjects: int
    rounds: int | None
    seed: int
    epsilon: float
    n_starts: int
    profile: tuple[str, ...] | str = ()

    @property
    def description(self) -> str:
        return f"recovering {self.model.name}: seed {self.seed}"

    def run(self) -> dict[str, Any]:
        ds = _simulate(self.design, self.model, self.params, self.subjects, self.rounds,
                       self.seed, self.epsilon)
        est = MaximumLikelihood(self.model, ds, epsilon=self.epsilon)
        fit = est.fit(start=self.params, n_starts=self.n_starts, seed=self.seed)
        if self.profile:
            names = (self.profile if isinstance(self.profile, str)  # "auto" or "all"
                     else [n for n in self.profile if n not in fit.not_identified])
            est.add_profile_intervals(fit, names, backend=InProcess())
        # A parameter the data do not identify is held at its start (the truth): no estimate.
        row: dict[str, Any] = {
            "seed": self.seed, "converged": fit.converged,
            **{f"est:{k}": np.nan if k in fit.not_identified else v
               for k, v in fit.params.items()},
            **{f"se:{k}": v for k, v in fit.bse_sandwich.items()},
            **{f"at_bound:{k}": k in fit.at_bound for k in fit.params.index}}
        for kind, table in fit.intervals.items():
            for k in fit.params.index:
                if k in table.index and k not in fit.not_identified:
                    row[f"lo:{kind}:{k}"] = float(table.loc[k, "lower"])
                    row[f"hi:{kind}:{k}"] = float(table.loc[k, "upper"])
        return row




def summarise_recovery(draws: pd.DataFrame, truth: Mapping[str, float]) -> pd.DataFrame:
    r"""Bias, RMSE and 95% coverage of each parameter, by interval type, from a table of
    draws.

    With estimates :math:`\hat\theta_r` and standard errors :math:`s_r` over replications
    :math:`r = 1..R` of a parameter whose true value is :math:`\theta`: bias
    :math:`\bar{\hat\theta} - \theta`, RMSE
    :math:`\sqrt{\tfrac1R \sum_r (\hat\theta_r - \theta)^2}`, ``sd_estimate`` the standard
    deviation of the estimates (``ddof=1``), ``mean_se`` the mean of :math:`s_r`, coverage
    the share of replications with :math:`|\hat\theta_r - \theta| \le z_{0.975}\, s_r`.
    Replications without an estimate (NaN: the data did not identify the parameter) are
    left out of these and counted in ``identified``, the share of replications with one; a
    parameter never identified has NaN statistics, never a perfect score.

    For each interval type the draws hold (columns ``lo:KIND:NAME`` and ``hi:KIND:NAME``,
    e.g. ``wald`` the transformed Wald interval, ``profile``), ``coverage_KIND`` is the share
    of the replications with such an interval that contain the truth (a replication without
    one, e.g. Wald at a bound, is left out) and ``n_KIND`` how many had one. ``at_bound``
    is the share of replications (with an estimate) whose estimate was at a bound, from
    columns ``at_bound:NAME``.

    Parameters
    ----------
    draws : DataFrame
        Columns ``est:NAME`` and ``se:NAME`` for each parameter, one row per replication;
        optionally ``at_bound:NAME`` and interval ends.
    truth : mapping name → value

    Returns
    -------
    DataFrame
        Index ``parameter``; columns ``truth, identified, mean, bias, rmse, sd_estimate,
        mean_se, coverage`` (the symmetric natural-scale interval ``est ± z se``), then
        ``at_bound`` and ``coverage_KIND, n_KIND`` where the draws have them.

    Examples
    --------
    >>> draws = pd.DataFrame({"est:a": [1.0, 3.0], "se:a": [0.2, 2.0]})
    >>> summarise_recovery(draws, {"a": 1.5}).loc["a", ["bias", "rmse", "coverage"]].tolist()
    [0.5, 1.118033988749895, 0.5]
    >>> unidentified = pd.DataFrame({"est:a": [np.nan, np.nan], "se:a": [np.nan, np.nan]})
    >>> summarise_recovery(unidentified, {"a": 1.5}).loc["a", ["identified", "bias", "coverage"]
    ...                                                ].tolist()
    [0.0, nan, nan]
    """
    rows = []
    for name, value in truth.items():
        found = draws[f"est:{name}"].notna()
        est, se = draws.loc[found, f"est:{name}"], draws.loc[found, f"se:{name}"]
        covered = (est - Z_95 * se <= value) & (value <= est + Z_95 * se)
        rows.append({"parameter": name, "truth": value, "identified": float(found.mean()),
                     "mean": est.mean(), "bias": est.mean() - value,
                     "rmse": float(np.sqrt(((est - value) ** 2).mean())) if len(est)
                     else np.nan,
                     "sd_estimate": est.std(ddof=1) if len(est) > 1 else np.nan,
                     "mean_se": se.mean(), "coverage": covered.mean() if len(est) else np.nan})
        if f"at_bound:{name}" in draws:
            rows[-1]["at_bound"] = (float(draws.loc[found, f"at_bound:{name}"].astype(bool)
                                          .mean()) if len(est) else np.nan)
        kinds = [c.split(":")[1] for c in draws.columns
                 if c.startswith("lo:") and c.endswith(f":{name}")]
        for kind in kinds:
            lo, hi = draws[f"lo:{kind}:{name}"], draws[f"hi:{kind}:{name}"]
            has = found & lo.notna() & hi.notna()
            inside = (lo[has] <= value) & (value <= hi[has])
            rows[-1][f"coverage_{kind}"] = float(inside.mean()) if has.any() else np.nan
            rows[-1][f"n_{kind}"] = int(has.sum())
    return pd.DataFrame(rows).set_index("parameter")


def recover(
    design: Design, model: Model, params: Mapping[str, float], subjects: int = 16,
    rounds: int | None = None, replications: int = 20, seed: int = 0,
    epsilon: float = DEFAULT_TREMBLE,
    n_starts: int = 1, jobs: int | None = None, progress: Progress | None = None,
    backend: Backend | None = None, client: Any = None,
    profile: Sequence[str] | str = (),
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Parameter recovery study.

    ``jobs`` (worker processes, default all cores) applies when no ``backend``
    (:mod:`cheaptalk.runner`) and no ``client`` (a Dask client: the replications run on its
    cluster) is given; ``progress`` is called as each replication ends.
    ``profile``: parameters whose profile-likelihood intervals each replication computes
    too (``"all"``: every one; ``"auto"``: those whose Wald interval is unreliable), so
    that their coverage is reported beside the Wald intervals'.

    Returns
    -------
    summary : DataFrame
        One row per parameter (:func:`summarise_recovery`).
    draws : DataFrame
        One row per replication: estimates and standard errors.
    """
    check_size(design, subjects, rounds)
    wanted = profile if isinstance(profile, str) else tuple(profile)
    tasks = [RecoveryReplication(design, model, dict(params), subjects, rounds, seed + r,
                                 epsilon, n_starts, wanted)
             for r in range(replications)]
    draws = pd.DataFrame(run_tasks(tasks, choose_backend(backend, jobs, client), progress))
    return summarise_recovery(draws, params), draws


@dataclass(frozen=True, eq=False)
class PowerReplication:
    """A runner task: simulate ``design`` from the true model with ``seed``, fit every
    candidate; its result is the winner by BIC and every candidate's BIC."""

    design: Design
    truth_name: str
    truth_model: Model
    truth_params: Mapping[str, float]
    candidates: tuple[Model, ...]
    subjects: int
    rounds: int | None
    seed: int
    epsilon: float
    n_starts: int

    @property
    def description(self) -> str:
        return f"power: truth {self.truth_name}, seed {self.seed}"

    def run(self) -> dict[str, Any]:
        ds = _simulate(self.design, self.truth_model, self.truth_params, self.subjects,
                       self.rounds, self.seed, self.epsilon)
        bic = {}
        for m in self.candidates:
            start = self.truth_params if m.name == self.truth_name else None
            bic[m.name] = MaximumLikelihood(m, ds, epsilon=self.epsilon).fit(
                start=start, n_starts=self.n_starts, seed=self.seed,
                standard_errors=False).bic
        return {"truth": self.truth_name, "seed": self.seed, "winner": min(bic, key=bic.get),
                **{f"bic:{k}": v for k, v in bic.items()}}


def power(
    design: Design, truths: Mapping[str, tuple[Model, Mapping[str, float]]],
    candidates: Sequence[Model], subjects: int = 16, rounds: int | None = None,
    replications: int = 20, seed: int = 0, epsilon: float = DEFAULT_TREMBLE,
    n_starts: int = 1, jobs: int | None = None, progress: Progress | None = None,
    backend: Backend | None = None, client: Any = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Design-power study: how often each candidate wins (by BIC) under each true model.

    Parameters
    ----------
    truths : mapping name → (model, params)
        The data-generating models.
    candidates : sequence of Model
        The models fitted to every dataset.
    jobs, progress, backend, client
        As in :func:`recover`.

    Returns
    -------
    shares : DataFrame
        Rows: true model; columns: candidate; values: share of replications it won.
    draws : DataFrame
        One row per (truth, replication): winner and every candidate's BIC.
    """
    check_size(design, subjects, rounds)
    tasks = [PowerReplication(design, name, model, dict(p), tuple(candidates), subjects,
                              rounds, seed + r, epsilon, n_starts)
             for name, (model, p) in truths.items() for r in range(replications)]
    draws = pd.DataFrame(run_tasks(tasks, choose_backend(backend, jobs, client), progress))
    shares = (pd.crosstab(draws["truth"], draws["winner"], normalize="index")
              .reindex(columns=[m.name for m in candidates], fill_value=0.0))
    return shares, draws

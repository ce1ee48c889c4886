"""Every table of a comparison's report, as a :class:`pandas.DataFrame` of numbers, built once.

The renderers (:mod:`~cheaptalk.report.text`, :mod:`~cheaptalk.report.latex`,
:mod:`~cheaptalk.report.html`, :mod:`~cheaptalk.report.figures`) and the CSV files all read
these tables; none of them builds a table of its own. Values stay numbers (NaN where a value
was not computed) and flags stay booleans: formatting is the renderers' business.

========================  =================================================================
table                     rows and columns
========================  =================================================================
``comparison``            one row per model (index ``model``): ``loglik, n_params, aic, bic,
                          cv_loglik_per_decision, loto_loglik_per_decision`` (mean over the
                          held-out treatments), ``converged``
``parameters``            one row per (model, parameter), estimates then derived quantities:
                          ``estimate, se_sandwich, se_hessian, at_bound, ci_lower, ci_upper,
                          ci_method`` (the reported 95% interval: profile likelihood where
                          computed, else transformed Wald; ``ci_method`` names it, a key of
                          :data:`~cheaptalk.estimation.intervals.INTERVAL_LABELS`; NaN for
                          fixed parameters and at a bound without a profile interval),
                          ``boot_lower, boot_upper`` (bootstrap percentile, when run),
                          ``fixed``, ``derived``
``vuong``                 one row per pair of models: ``a, b, z, p, favours``
``likelihood_ratio``      one row per fitted model and fitted model it nests: ``model,
                          nested, restriction, lr, df, p, boundary``
``out_of_sample``         one row per model; columns ``("cv", "")`` and ``("loto", g)`` for
                          each held-out treatment g: log-likelihood per decision
``loto``                  long form of the held-out treatments: ``model, treatment,
                          loglik_per_decision``
``posterior_types``       one row per (model, subject, role): most likely type and family
``diagnostics``           observed and predicted means by bin (from the comparison)
``design``                one row per treatment (index ``treatment``): the design's settings
``treatments``            one row per treatment in the data: rows, senders, receivers, rounds
``predicted_means``       one row per (model, treatment in the data, measure, grid point):
                          ``model, treatment, measure, x, mean``, each model's predicted
                          mean message by state (measure ``"message by state"``) and action
                          by message (``"action by message"``): population strategy with
                          the tremble
``trust_over_rounds``     a pair (empty unless a fitted model's play depends on history):
                          slopes of action on message by block of rounds (``block,
                          first_round, last_round, n, source, slope, lo, hi``; source
                          ``data`` or a model) and mean trust paths (``model, round,
                          mean_trust``)
========================  =================================================================

"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from cheaptalk.data.interactions import Dataset
from cheaptalk.estimation.compare import Comparison, likelihood_ratio_tests
from cheaptalk.estimation.diagnostics import (
    MEASURES,
    expected_choices,
    predicted_means,
    round_blocks,
    slope_by_block,
)
from cheaptalk.estimation.intervals import Z_95
from cheaptalk.estimation.mle import parameter_status

__all__ = [
    "ReportTables",
    "comparison_table",
    "design_table",
    "interval_note",
    "likelihood_ratio_table",
    "loto_table",
    "mixture_share_table",
    "out_of_sample_table",
    "parameter_table",
    "posterior_types_table",
    "treatment_table",
    "trust_over_rounds_tables",
    "vuong_table",
]


_VUONG_COLUMNS = ["a", "b", "z", "p", "favours"]
_POSTERIOR_COLUMNS = ["subject", "role", "treatment", "type", "type_probability", "family",
                      "family_probability"]


def comparison_table(c: Comparison) -> pd.DataFrame:
    """One row per model: in-sample fit, information criteria and out-of-sample scores.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fit = SimpleNamespace(llf=-10.0, df_model=2, aic=24.0, bic=26.0, converged=True)
    >>> c = Comparison(fits={"m": fit}, vuong=[], cv={"m": -0.5}, loto={"m": {"A": -1.0,
    ...                "B": -2.0}}, diagnostics=pd.DataFrame(), n_decisions=20,
    ...                n_subjects=4, folds=2)
    >>> comparison_table(c).loc["m", ["loglik", "bic", "loto_loglik_per_decision"]].tolist()
    [-10.0, 26.0, -1.5]
    """
    rows = []
    for name, f in c.fits.items():
        loto = c.loto.get(name)
        rows.append({
            "model": name, "loglik": f.llf, "n_params": f.df_model, "aic": f.aic,
            "bic": f.bic, "cv_loglik_per_decision": c.cv.get(name, np.nan),
            "loto_loglik_per_decision": np.mean(list(loto.values())) if loto else np.nan,
            "converged": f.converged,
        })
    return pd.DataFrame(rows).set_index("model")


def parameter_table(c: Comparison) -> pd.DataFrame:
    """Every model's estimates with standard errors and 95% intervals, then its derived
    quantities (delta-method standard errors).

    A parameter at the edge of its space (``at_bound``), one the data do not identify
    (``not_identified``, held at its start) and a fixed one (no Hessian standard error:
    :func:`~cheaptalk.estimation.mle.parameter_status`) have no interval.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> params = pd.Series({"q": 0.5, "k": 2.0})
    >>> fit = SimpleNamespace(params=params, bse=pd.Series({"q": 0.1, "k": np.nan}),
    ...                       bse_sandwich=pd.Series({"q": 0.2, "k": np.nan}), at_bound=[],
    ...                       not_identified=[],
    ...                       derived=pd.Series({"q2": 0.25}), derived_se=pd.Series({"q2": 0.2}))
    >>> c = Comparison(fits={"m": fit}, vuong=[], cv={}, loto={},
    ...                diagnostics=pd.DataFrame(), n_decisions=20, n_subjects=4, folds=0)
    >>> t = parameter_table(c).set_index("parameter")
    >>> t[["estimate", "ci_lower", "fixed", "derived"]].round(4)  # doctest: +NORMALIZE_WHITESPACE
               estimate  ci_lower  fixed  derived
    parameter
    q              0.50     0.108  False    False
    k              2.00       NaN   True    False
    q2             0.25    -0.142  False     True
    """
    rows = []
    for name, f in c.fits.items():
        at_bound = set(f.at_bound)
        unidentified = set(f.not_identified)
        reported = _reported(f)
        status = parameter_status(f)
        boot = getattr(f, "intervals", {}).get("bootstrap")
        for par in [*f.params.index, *f.derived.index]:
            is_derived = par not in f.params.index
            est = float(f.derived[par] if is_derived else f.params[par])
            se = float((f.derived_se if is_derived else f.bse_sandwich).get(par, np.nan))
            bound = par in at_bound
            lo, hi, method = (reported.loc[par, ["lower", "upper", "method"]]
                              if par in reported.index else (np.nan, np.nan, None))
            if par in unidentified:
                lo, hi, method = np.nan, np.nan, None
            has = boot is not None and par in boot.index
            rows.append({"model": name, "parameter": par, "estimate": est,
                         "se_sandwich": se,
                         "se_hessian": np.nan if is_derived else float(f.bse.get(par, np.nan)),
                         "at_bound": bound, "ci_lower": float(lo), "ci_upper": float(hi),
                         "ci_method": method if isinstance(method, str) and method else None,
                         "boot_lower": float(boot.loc[par, "lower"]) if has else np.nan,
                         "boot_upper": float(boot.loc[par, "upper"]) if has else np.nan,
                         "not_identified": par in unidentified,
                         "fixed": not is_derived and status[par] == "fixed",
                         "derived": is_derived})
    columns = ["model", "parameter", "estimate", "se_sandwich", "se_hessian", "at_bound",
               "ci_lower", "ci_upper", "ci_method", "boot_lower", "boot_upper", "fixed",
               "derived", "not_identified"]
    return pd.DataFrame(rows, columns=columns)


def _reported(f: Any) -> pd.DataFrame:
    """A fit's reported intervals; for a bare stand-in without them, the natural-scale Wald
    interval of its sandwich standard errors (labelled ``wald-natural``)."""
    if hasattr(f, "reported_intervals"):
        return f.reported_intervals()
    est = pd.concat([f.params, f.derived])
    se = pd.concat([getattr(f, "bse_sandwich", pd.Series(dtype=float)),
                    getattr(f, "derived_se", pd.Series(dtype=float))]).reindex(est.index)
    out = pd.DataFrame({"lower": est - Z_95 * se, "upper": est + Z_95 * se,
                        "method": "wald-natural"})
    out.loc[[n for n in f.at_bound if n in out.index]] = np.nan
    out.loc[out["lower"].isna(), "method"] = None
    return out


def interval_note(p: pd.DataFrame) -> str:
    """One sentence naming the intervals a parameter table shows (for captions).

    Examples
    --------
    >>> interval_note(pd.DataFrame({"ci_method": ["wald", "profile", None]}))
    '95% intervals: Wald, transformed (estimation scale, CR1 sandwich); profile likelihood.'
    """
    from cheaptalk.estimation.intervals import INTERVAL_LABELS

    used = [m for m in INTERVAL_LABELS if m in set(p.get("ci_method", pd.Series()).dropna())]
    return ("95% intervals: " + "; ".join(INTERVAL_LABELS[m] for m in used) + "."
            if used else "")


def vuong_table(c: Comparison) -> pd.DataFrame:
    """One row per pair of models: Vuong's z (z > 0 favours ``a``), two-sided p, the model
    favoured (``"neither"`` where the fits coincide)."""
    return pd.DataFrame(c.vuong, columns=_VUONG_COLUMNS)


def likelihood_ratio_table(c: Comparison) -> pd.DataFrame:
    """One row per fitted model and fitted model it nests: the restriction, LR, df and p
    (:func:`~cheaptalk.estimation.compare.likelihood_ratio_tests`)."""
    return pd.DataFrame(likelihood_ratio_tests(c.fits),
                        columns=["model", "nested", "restriction", "lr", "df", "p", "boundary"])


def trust_over_rounds_tables(c: Comparison, dataset: Dataset
                             ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """How trust moved: the slope of action on message by block of rounds, in the data
    (with a receiver-clustered 95% interval) and under each fitted model given each
    receiver's record (:func:`~cheaptalk.estimation.diagnostics.expected_choices`); and each
    model's mean trust by round (:meth:`~cheaptalk.models.base.Model.dynamics`, averaged
    over the data's treatments; a static model's ``mean_trust`` is flat).

    Both tables are empty unless some fitted model's play depends on history and the data
    have several rounds.
    """
    slopes = pd.DataFrame(columns=["block", "first_round", "last_round", "n", "source",
                                   "slope", "lo", "hi"])
    paths = pd.DataFrame(columns=["model", "round", "mean_trust"])
    t = dataset.table
    if not any(f.model.history_roles for f in c.fits.values()) or t["round"].nunique() < 2:
        return slopes, paths
    block, labels = round_blocks(t["round"].to_numpy())
    rounds = t["round"].to_numpy()
    message = t["message"].to_numpy(dtype=float)
    parts = []
    sources = {"data": t["action"].to_numpy(dtype=float)}
    for name, f in c.fits.items():
        sources[name] = expected_choices(f.model, f.model_params, dataset, "receiver",
                                         f.epsilon)
    for source, y in sources.items():
        s = slope_by_block(message, y, block, t["receiver"].to_numpy(), len(labels))
        s.insert(0, "source", source)
        s.insert(0, "last_round", [int(rounds[block == b].max()) for b in range(len(labels))])
        s.insert(0, "first_round", [int(rounds[block == b].min()) for b in range(len(labels))])
        s.insert(0, "block", labels)
        if source != "data":
            s[["lo", "hi"]] = np.nan
        parts.append(s[slopes.columns])
    slopes = pd.concat(parts, ignore_index=True)
    n_rounds = int(rounds.max())
    treatments = [g for g in dataset.design.treatments if (t["treatment"] == g).any()]
    rows = []
    for name, f in c.fits.items():
        per_game = [f.model.dynamics(dataset.design.game(g), f.model_params, n_rounds)
                    for g in treatments]
        if all(p is not None for p in per_game):
            mean = np.mean([p["mean_trust"] for p in per_game], axis=0)
        elif "mean_trust" in f.model.derived(f.model_params):
            mean = np.full(n_rounds, f.model.derived(f.model_params)["mean_trust"])
        else:
            continue
        rows += [{"model": name, "round": r + 1, "mean_trust": float(v)}
                 for r, v in enumerate(mean)]
    return slopes, pd.DataFrame(rows, columns=paths.columns)


def out_of_sample_table(c: Comparison) -> pd.DataFrame:
    """Out-of-sample log-likelihood per decision, one row per model (the comparison's order):
    column ``("cv", "")`` for cross-validation by subject (when run), ``("loto", g)`` for each
    held-out treatment g (when run). Empty when neither was run.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> c = Comparison(fits={"m": SimpleNamespace()}, vuong=[], cv={"m": -0.5},
    ...                loto={"m": {"A": -1.0}}, diagnostics=pd.DataFrame(), n_decisions=20,
    ...                n_subjects=4, folds=2)
    >>> out_of_sample_table(c)  # doctest: +NORMALIZE_WHITESPACE
             cv loto
                   A
    model
    m      -0.5 -1.0
    """
    columns: dict[tuple[str, str], pd.Series] = {}
    if c.cv:
        columns[("cv", "")] = pd.Series(c.cv, dtype=float)
    treatments = list(dict.fromkeys(g for d in c.loto.values() for g in d))
    for g in treatments:
        columns[("loto", g)] = pd.Series({m: d[g] for m, d in c.loto.items() if g in d},
                                         dtype=float)
    if not columns:
        return pd.DataFrame(index=pd.Index([], name="model"))
    df = pd.DataFrame(columns)
    df.columns = pd.MultiIndex.from_tuples(list(columns))
    df = df.reindex([m for m in c.fits if m in df.index])
    df.index.name = "model"
    return df


def loto_table(c: Comparison) -> pd.DataFrame:
    """Leave one treatment out, long form: ``model, treatment, loglik_per_decision``."""
    rows = [{"model": m, "treatment": g, "loglik_per_decision": v}
            for m, d in c.loto.items() for g, v in d.items()]
    return pd.DataFrame(rows, columns=["model", "treatment", "loglik_per_decision"])


def posterior_types_table(c: Comparison) -> pd.DataFrame:
    """Posterior type of every (subject, role) under every model (long format)."""
    frames = []
    for name, f in c.fits.items():
        df = f.posterior[_POSTERIOR_COLUMNS].copy()
        df.insert(0, "model", name)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=["model", *_POSTERIOR_COLUMNS])
    return pd.concat(frames, ignore_index=True)


def predicted_means_table(c: Comparison, dataset: Dataset) -> pd.DataFrame:
    """Each model's predicted mean message by state and action by message, in each treatment
    of the data (see the module docstring); a model that cannot predict a treatment's game
    is left out of it."""
    present = set(dataset.table["treatment"].astype(str))
    frames = []
    for g in (g for g in dataset.design.treatments if g in present):
        game = dataset.design.game(g)
        for name, f in c.fits.items():
            try:
                p = f.model.predict(game, f.model_params)
            except Exception:  # a model that cannot predict this game: leave it out
                continue
            means = predicted_means(p, game, f.epsilon)
            for measure, m in MEASURES.items():
                frames.append(pd.DataFrame({
                    "model": name, "treatment": g, "measure": measure,
                    "x": getattr(game, m.x_grid), "mean": means[measure]}))
    columns = ["model", "treatment", "measure", "x", "mean"]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=columns)


def mixture_share_table(c: Comparison, parameters: pd.DataFrame) -> pd.DataFrame:
    """The population shares the models declare (:meth:`Model.mixture_share`), one row per
    model that has one: ``model, parameter, estimate, ci_lower, ci_upper, ci_method`` (from
    :func:`parameter_table`), and the share's ``kind`` and the ``rest`` in words."""
    rows = []
    for name, f in c.fits.items():
        model = getattr(f, "model", None)
        share = model.mixture_share() if model is not None else None
        if share is None:
            continue
        row = parameters[(parameters["model"] == name) & ~parameters["derived"]
                         & (parameters["parameter"] == share.parameter)]
        rows.append({**row.iloc[0][["model", "parameter", "estimate", "ci_lower", "ci_upper",
                                    "ci_method"]].to_dict(),
                     "kind": share.kind, "rest": share.rest})
    columns = ["model", "parameter", "estimate", "ci_lower", "ci_upper", "ci_method", "kind",
               "rest"]
    return pd.DataFrame(rows, columns=columns)


def design_table(dataset: Dataset) -> pd.DataFrame:
    """The design's settings, one row per treatment (``None`` where a setting does not
    apply)."""
    rows = [{"treatment": g, **s} for g, s in dataset.design.settings.items()]
    return pd.DataFrame(rows).set_index("treatment")


def treatment_table(dataset: Dataset) -> pd.DataFrame:
    """The data by treatment: rows, senders, receivers, rounds (first and last)."""
    df = pd.DataFrame(dataset.summary()["treatments"])
    return df.set_index("treatment") if not df.empty else df


class ReportTables:
    """Every table of a comparison's report (see the module docstring), each built on first
    use and kept.

    Parameters
    ----------
    result : Comparison
        The comparison the report describes.
    dataset : Dataset, optional
        The data it was fitted on (needed for the design and data tables, and for figures).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> fit = SimpleNamespace(llf=-10.0, df_model=2, aic=24.0, bic=26.0, converged=True)
    >>> t = ReportTables(Comparison(fits={"m": fit}, vuong=[], cv={}, loto={},
    ...                  diagnostics=pd.DataFrame(), n_decisions=20, n_subjects=4, folds=0))
    >>> t.comparison is t.comparison   # built once
    True
    >>> t.vuong.columns.tolist(), len(t.vuong)
    (['a', 'b', 'z', 'p', 'favours'], 0)
    """

    def __init__(self, result: Comparison, dataset: Dataset | None = None) -> None:
        self.result = result
        self.dataset = dataset

    @cached_property
    def comparison(self) -> pd.DataFrame:
        return comparison_table(self.result)

    @cached_property
    def parameters(self) -> pd.DataFrame:
        return parameter_table(self.result)

    @cached_property
    def vuong(self) -> pd.DataFrame:
        return vuong_table(self.result)

    @cached_property
    def mixture_shares(self) -> pd.DataFrame:
        return mixture_share_table(self.result, self.parameters)

    @cached_property
    def trust_over_rounds(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """``(slopes, paths)`` of :func:`trust_over_rounds_tables`."""
        return trust_over_rounds_tables(self.result, self.require_dataset())

    @cached_property
    def likelihood_ratio(self) -> pd.DataFrame:
        return likelihood_ratio_table(self.result)

    @cached_property
    def out_of_sample(self) -> pd.DataFrame:
        return out_of_sample_table(self.result)

    @cached_property
    def loto(self) -> pd.DataFrame:
        return loto_table(self.result)

    @cached_property
    def posterior_types(self) -> pd.DataFrame:
        return posterior_types_table(self.result)

    @property
    def diagnostics(self) -> pd.DataFrame:
        return self.result.diagnostics

    @cached_property
    def predicted_means(self) -> pd.DataFrame:
        return predicted_means_table(self.result, self.require_dataset())

    @cached_property
    def design(self) -> pd.DataFrame:
        return design_table(self.require_dataset())

    @cached_property
    def treatments(self) -> pd.DataFrame:
        return treatment_table(self.require_dataset())

    def require_dataset(self) -> Dataset:
        """The dataset, or a ``ValueError`` where the tables were built without it."""
        if self.dataset is None:
            raise ValueError("these tables need the dataset: ReportTables(result, dataset)")
        return self.dataset

    @property
    def models(self) -> list[str]:
        """The models, in the comparison's order."""
        return list(self.result.fits)

    def csv_tables(self) -> dict[str, tuple[pd.DataFrame, bool]]:
        """The report's CSV files: file name → (table, whether its index is written)."""
        out = {
            "comparison.csv": (self.comparison, True),
            "parameters.csv": (self.parameters, False),
            "vuong.csv": (self.vuong, False),
            "leave_one_treatment_out.csv": (self.loto, False),
            "posterior_types.csv": (self.posterior_types, False),
            "diagnostics.csv": (self.diagnostics, False),
        }
        if len(self.likelihood_ratio):
            out["likelihood_ratio.csv"] = (self.likelihood_ratio, False)
        if self.dataset is not None:
            slopes, paths = self.trust_over_rounds
            if len(slopes):
                out["trust_over_rounds.csv"] = (slopes, False)
                out["trust_paths.csv"] = (paths, False)
        return out

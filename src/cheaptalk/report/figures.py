"""Report figures (SPEC §5): what each model captures, drawn against the data.

Every function returns a :class:`matplotlib.figure.Figure` built without :mod:`matplotlib.pyplot`
(no global figure registry, no backend switch): figures are rendered by the Agg canvas and
nothing outlives the call but the figure itself. Colours come from the Okabe–Ito palette, which
is safe for colour-blind readers; each model and type family has the colour its model declares
(:attr:`~cheaptalk.models.base.Model.colour`, :meth:`~cheaptalk.models.base.Model.families`),
and a name no model declares gets a stable spare colour (see :func:`model_color`).
Axis labels use the design's own names for the state, message and action (e.g. forecast,
report, capacity) and roles. When the data are synthetic every title says so.

Figures of estimates, type shares and out-of-sample scores are drawn from the report's tables
(:class:`~cheaptalk.report.tables.ReportTables`); those of the data against the models' predicted
means, from the data and the fitted models. :func:`write_figures` saves all of them as PNG
(150 dpi) and SVG.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from cheaptalk.data.interactions import Dataset
from cheaptalk.estimation.compare import Comparison, is_synthetic
from cheaptalk.estimation.diagnostics import MEASURES, bin_values
from cheaptalk.estimation.intervals import INTERVAL_METHODS, Z_95
from cheaptalk.models import Family, available_models
from cheaptalk.runner import Backend, run_tasks

from .tables import ReportTables, predicted_means_table

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "FIGURES",
    "OKABE_ITO",
    "FigureFiles",
    "action_vs_message",
    "family_color",
    "family_text_color",
    "inflation_histogram",
    "known_families",
    "model_color",
    "model_dashes",
    "out_of_sample",
    "parameter_estimates",
    "posterior_type_shares",
    "report_vs_state",
    "write_figures",
]

#: Okabe & Ito (2008) colour-blind-safe palette.
OKABE_ITO = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky blue": "#56B4E9",
    "bluish green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish purple": "#CC79A7",
}
# For names no model declares: a stable choice (same name → same colour, in every run).
_SPARE = [OKABE_ITO[k] for k in ("orange", "sky blue", "reddish purple", "bluish green",
                                 "blue", "vermillion", "yellow")]
_OBSERVED = "#4D4D4D"
_RC = {
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "legend.fontsize": 8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "svg.hashsalt": "cheaptalk",
    "svg.fonttype": "path",
}


def model_color(name: str) -> str:
    """The colour of a model in every figure (and in the HTML report). A variant with
    non-default options (``"trust[lie_cost=quadratic]"``) shares its model's colour and is
    told apart by :func:`model_dashes`."""
    key = name.split(" ")[0].split("[")[0]
    model = available_models().get(key)
    if model is not None and model.colour:
        return model.colour
    return _SPARE[zlib.crc32(key.encode()) % len(_SPARE)]


#: Line styles and markers of model variants (the default model: solid line, circles).
_VARIANT_STYLES = [("--", "s"), (":", "^"), ("-.", "D"), ((0, (5, 1, 1, 1)), "v")]


def model_dashes(name: str) -> tuple[Any, str]:
    """(line style, marker) of a model: solid and ``"o"`` for a model with its default
    options, a stable other pair for each variant."""
    if "[" not in name:
        return "-", "o"
    return _VARIANT_STYLES[zlib.crc32(name.encode()) % len(_VARIANT_STYLES)]


def known_families(models: Iterable[Any] | None = None) -> dict[str, Family]:
    """The type families the given models declare (every registered model with its default
    options when ``None``), by name, in display order: models in the order given, each
    model's families in its own order."""
    if models is None:
        models = [cls() for cls in available_models().values()]
    out: dict[str, Family] = {}
    for m in models:
        for f in m.families():
            out.setdefault(f.name, f)
    return out


def family_color(family: str, families: dict[str, Family] | None = None) -> str:
    """The colour of a type family as its model declares it (``families``: see
    :func:`known_families`); a stable spare colour for a family no model declares."""
    found = (known_families() if families is None else families).get(family)
    if found is not None:
        return found.colour
    return _SPARE[zlib.crc32(family.encode()) % len(_SPARE)]


def family_text_color(family: str, families: dict[str, Family] | None = None) -> str:
    """The colour of text written on a family's colour (black for undeclared families)."""
    found = (known_families() if families is None else families).get(family)
    return "black" if found is None else found.text_colour


def _family_key(families: dict[str, Family]) -> Callable[[str], tuple[int, str]]:
    """Sort key of family names: declared order first, then undeclared names by name."""
    rank = {name: i for i, name in enumerate(families)}
    return lambda f: (rank.get(f, len(rank)), f)


# ----------------------------------------------------------------------------- helpers
def _mpl() -> Any:
    """matplotlib, imported on first use (the rest of cheaptalk does not need it)."""
    try:
        import matplotlib
    except ImportError:
        raise ImportError("the report figures need matplotlib, a dependency of cheaptalk: "
                          "pip install 'matplotlib>=3.8'") from None
    return matplotlib


def _new_figure(width: float, height: float) -> Figure:
    _mpl()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _title(fig: Figure, text: str, synthetic: bool) -> None:
    fig.suptitle(text + (" (synthetic data)" if synthetic else ""), fontweight="bold")


def _names(dataset: Dataset) -> tuple[str, str, str]:
    return tuple(v.replace("_", " ") for v in dataset.design.kind.variables)  # type: ignore


def _role_label(dataset: Dataset | None, role: str) -> str:
    """``"sender"`` → ``"manufacturer (sender)"`` where the design names its roles."""
    if dataset is None:
        return role
    roles = dataset.design.kind.roles
    i = {"sender": 0, "receiver": 1}.get(role)
    if i is None or roles[i] == role:
        return role
    return f"{roles[i]} ({role})"


def _treatments(dataset: Dataset) -> list[str]:
    present = set(dataset.table["treatment"].astype(str))
    return [g for g in dataset.design.treatments if g in present]


def _facets(n: int, width_each: float = 3.6, height_each: float = 3.1,
            max_cols: int = 4, share: bool = True) -> tuple[Figure, list[Any]]:
    """``n`` panels, at most ``max_cols`` a row (so that each stays legible on a page)."""
    cols = min(max(n, 1), max_cols)
    rows = int(np.ceil(max(n, 1) / cols))
    fig = _new_figure(width_each * cols + 0.4, height_each * rows + 0.8)
    axes = fig.subplots(rows, cols, squeeze=False, sharex=share, sharey=share).ravel()
    for ax in axes[n:]:
        ax.set_visible(False)
    return fig, list(axes[:n])


def _treatment_label(dataset: Dataset, g: str) -> str:
    """Treatment name with the parameters that vary across treatments."""
    settings = dataset.design.settings
    keys = [k for k in settings.get(g, {})
            if len({repr(s.get(k)) for s in settings.values()}) > 1
            and len(str(settings[g][k])) <= 30]  # a payoff table is too long for a title
    parts = [f"{k.replace('_', ' ')} {settings[g][k]:g}" if isinstance(settings[g][k], float)
             else f"{k.replace('_', ' ')} {settings[g][k]}" for k in keys[:3]]
    return f"{g}" + (f": {', '.join(parts)}" if parts else "")


def _binned_means(x: np.ndarray, y: np.ndarray, grid: np.ndarray) -> pd.DataFrame:
    """Mean of y by bin of x (grid values; the one binning rule of
    :func:`cheaptalk.estimation.diagnostics.bin_values`) with a 95% interval."""
    b = bin_values(x, grid)
    rows = []
    for i in np.unique(b.index[b.index >= 0]):
        inside = b.index == i
        yy = y[inside]
        n = int(inside.sum())
        sd = float(np.std(yy, ddof=1)) if n > 1 else np.nan
        half = Z_95 * sd / np.sqrt(n) if n > 1 else np.nan
        rows.append({"x": float(np.mean(x[inside])), "mean": float(np.mean(yy)), "n": n,
                     "lower": float(np.mean(yy)) - half, "upper": float(np.mean(yy)) + half})
    return pd.DataFrame(rows)


def _model_means(means: pd.DataFrame, g: str, measure: str) -> dict[str, np.ndarray]:
    """Each model's predicted means over the grid in treatment ``g``, from
    :attr:`ReportTables.predicted_means`."""
    part = means[(means["treatment"] == g) & (means["measure"] == measure)]
    return {name: rows["mean"].to_numpy() for name, rows in part.groupby("model", sort=False)}


def _jitter(values: np.ndarray, grid: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    g = np.unique(np.asarray(grid, dtype=float))
    step = float(np.min(np.diff(g))) if g.size > 1 else 1.0
    return values + rng.uniform(-0.3, 0.3, values.size) * step


def _relation(c: Comparison, dataset: Dataset, measure: str,
              means: pd.DataFrame | None) -> Figure:
    state, message, action = _names(dataset)
    m = MEASURES[measure]
    xname, yname = ({"state": state, "message": message, "action": action}[c]
                    for c in (m.x, m.y))
    title = f"Mean {yname} by {xname}: observed and predicted"
    t = dataset.table
    gs = _treatments(dataset)
    fig, axes = _facets(len(gs))
    rng = np.random.default_rng(0)
    handles: dict[str, Any] = {}
    if means is None:
        means = predicted_means_table(c, dataset)
    for ax, g in zip(axes, gs, strict=True):
        game = dataset.design.game(g)
        part = t[t["treatment"].astype(str) == g]
        x = part[m.x].to_numpy(dtype=float)
        y = part[m.y].to_numpy(dtype=float)
        xgrid, ygrid = getattr(game, m.x_grid), getattr(game, m.y_grid)
        alpha = float(np.clip(30 / max(len(part), 1) ** 0.75, 0.04, 0.5))
        h = ax.scatter(_jitter(x, xgrid, rng), _jitter(y, ygrid, rng), s=6, alpha=alpha,
                       color=_OBSERVED, linewidths=0, rasterized=len(part) > 2000)
        handles.setdefault("observed (jittered)", h)
        if (m.x, m.y) == ("state", "message") and np.array_equal(
                np.asarray(game.states, float), np.asarray(game.messages, float)):
            lo, hi = float(np.min(xgrid)), float(np.max(xgrid))
            (h,) = ax.plot([lo, hi], [lo, hi], ls=":", color="0.6", lw=1)
            handles.setdefault(f"truthful ({message} = {state})", h)
        on_grid = getattr(dataset, m.x)[(t["treatment"].astype(str) == g).to_numpy()]
        b = _binned_means(np.asarray(xgrid, dtype=float)[on_grid], y, xgrid)
        if len(b):
            h = ax.errorbar(b["x"], b["mean"], yerr=[b["mean"] - b["lower"],
                                                     b["upper"] - b["mean"]],
                            fmt="o", color="black", ms=4, capsize=2, lw=1, zorder=5)
            handles.setdefault("observed mean, 95% CI", h)
        for name, mean in _model_means(means, g, measure).items():
            (h,) = ax.plot(xgrid, mean, color=model_color(name), ls=model_dashes(name)[0],
                           lw=2, zorder=4)
            handles.setdefault(f"{name} (predicted)", h)
        ax.set_title(_treatment_label(dataset, g))
        ax.set_xlabel(xname)
        ax.set_ylabel(f"{yname}")
        ax.label_outer()
    fig.legend(list(handles.values()), list(handles), loc="outside lower center",
               ncols=min(len(handles), 5), frameon=False)
    _title(fig, title, c.synthetic)
    return fig


# ----------------------------------------------------------------------------- figures
def report_vs_state(c: Comparison, dataset: Dataset, means: pd.DataFrame | None = None
                    ) -> Figure:
    """Message (report) against state (forecast), per treatment: data, binned means with 95%
    intervals and each model's predicted mean (population strategy with the tremble;
    ``means``, the report's :attr:`~ReportTables.predicted_means`, if already built)."""
    with _mpl().rc_context(_RC):
        return _relation(c, dataset, "message by state", means)


def action_vs_message(c: Comparison, dataset: Dataset, means: pd.DataFrame | None = None
                      ) -> Figure:
    """Action (capacity) against message (report), per treatment (as :func:`report_vs_state`)."""
    with _mpl().rc_context(_RC):
        return _relation(c, dataset, "action by message", means)


def inflation_histogram(dataset: Dataset, synthetic: bool | None = None) -> Figure:
    """Distribution of message − state (report inflation), per treatment."""
    synthetic = is_synthetic(dataset) if synthetic is None else synthetic
    state, message, _ = _names(dataset)
    t = dataset.table
    gs = _treatments(dataset)
    diff_all = (t["message"].to_numpy(float) - t["state"].to_numpy(float))
    values = np.unique(diff_all)
    if values.size <= 40 and np.allclose(values, np.round(values)):
        bins: Any = np.arange(values.min() - 0.5, values.max() + 1.5)
    else:
        bins = np.histogram_bin_edges(diff_all, bins=30)
    with _mpl().rc_context(_RC):
        fig, axes = _facets(len(gs))
        for ax, g in zip(axes, gs, strict=True):
            part = t[t["treatment"].astype(str) == g]
            d = part["message"].to_numpy(float) - part["state"].to_numpy(float)
            ax.hist(d, bins=bins, color=OKABE_ITO["sky blue"], edgecolor="white", lw=0.4,
                    weights=np.full(d.size, 100.0 / max(d.size, 1)))
            ax.axvline(0, color="0.4", ls=":", lw=1)
            if d.size:
                ax.axvline(float(d.mean()), color=OKABE_ITO["vermillion"], lw=1.5)
                ax.text(0.98, 0.95, f"mean {d.mean():+.3g}\n{100 * np.mean(d > 0):.0f}% "
                        f"inflated\n{100 * np.mean(d == 0):.0f}% exact",
                        transform=ax.transAxes, ha="right", va="top", fontsize=8)
            ax.set_title(_treatment_label(dataset, g))
            ax.set_xlabel(f"{message} − {state}")
            ax.set_ylabel("% of decisions")
            ax.label_outer()
        _title(fig, f"Inflation: {message} minus {state}", synthetic)
    return fig


def posterior_type_shares(tables: ReportTables) -> Figure:
    """Per model and role: share of units whose most likely type family is each family (roles
    named as in the design where the tables carry the dataset)."""
    post = tables.posterior_types
    models = tables.models
    dataset = tables.dataset
    with _mpl().rc_context(_RC):
        fig, axes = _facets(len(models), 3.8, 2.4, max_cols=3, share=False)
        seen: dict[str, Any] = {}
        families = known_families(tables.result.fits[name].model for name in models)
        for ax, name in zip(axes, models, strict=False):
            p = post[post["model"] == name]
            roles = [r for r in ("sender", "receiver") if r in set(p["role"])]
            for i, role in enumerate(roles):
                fam = p[p["role"] == role]["family"]
                shares = fam.value_counts(normalize=True)
                order = sorted(shares.index, key=_family_key(families))
                left = 0.0
                for f in order:
                    h = ax.barh(i, 100 * shares[f], left=left, color=family_color(f, families),
                                edgecolor="white", height=0.6)
                    if shares[f] >= 0.08:
                        ax.text(left + 50 * shares[f], i, f"{f}\n{100 * shares[f]:.0f}%",
                                ha="center", va="center", fontsize=7,
                                color=family_text_color(f, families))
                    left += 100 * shares[f]
                    seen.setdefault(f, h)
            ax.set_yticks(range(len(roles)), [_role_label(dataset, r) for r in roles])
            ax.set_xlim(0, 100)
            ax.set_xlabel("% of units (most likely type family)")
            ax.set_title(name, color=model_color(name), fontweight="bold")
            ax.invert_yaxis()
        if seen:
            keys = sorted(seen, key=_family_key(families))
            fig.legend([seen[k] for k in keys], keys, loc="outside lower center",
                       ncols=min(len(keys), 6), frameon=False)
        _title(fig, "Posterior type shares by model and role", tables.result.synthetic)
    return fig


def _figure_mark(method: str | None) -> str:
    """What follows a parameter's label for its interval method (" [P]" for profile)."""
    mark = INTERVAL_METHODS[method].figure_mark if isinstance(method, str) and method else ""
    return f" {mark}" if mark else ""


def parameter_estimates(tables: ReportTables) -> Figure:
    """Estimates with their reported 95% intervals (profile likelihood where computed,
    marked [P], else transformed Wald), one panel per model; fixed parameters are marked,
    and an estimate at a bound without a profile interval has none."""
    models = tables.models
    params = tables.parameters[~tables.parameters["derived"]]
    n_par = max(params["model"].value_counts().max() if len(params) else 1, 1)
    with _mpl().rc_context(_RC):
        fig, axes = _facets(len(models), 3.8, 0.9 + 0.3 * n_par, max_cols=3, share=False)
        for ax, name in zip(axes, models, strict=False):
            p = params[params["model"] == name]
            est = p["estimate"].to_numpy(float)
            lo = p["ci_lower"].to_numpy(float)
            hi = p["ci_upper"].to_numpy(float)
            y = np.arange(len(est))
            free = np.isfinite(lo) & np.isfinite(hi)
            color = model_color(name)
            ax.errorbar(est[free], y[free], xerr=[est[free] - lo[free], hi[free] - est[free]],
                        fmt="o", color=color, capsize=3, ms=5)
            ax.plot(est[~free], y[~free], "x", color="0.4", ms=6)
            labels = [(par + (" (at bound)" if bound else "") + _figure_mark(m)) if fr
                      else f"{par} (at bound)" if bound else f"{par} (fixed)"
                      for par, fr, bound, m in zip(p["parameter"], free, p["at_bound"],
                                                   p["ci_method"], strict=True)]
            ax.set_yticks(y, labels)
            ax.axvline(0, color="0.7", lw=0.8, ls=":")
            ax.invert_yaxis()
            ax.set_xlabel("estimate (95% CI: [P] profile, else transformed Wald)")
            ax.set_title(name, color=color, fontweight="bold")
        _title(fig, "Parameter estimates", tables.result.synthetic)
    return fig


def out_of_sample(tables: ReportTables) -> Figure:
    """Cross-validated and leave-one-treatment-out log-likelihood per decision by model
    (higher is better)."""
    models = tables.models
    scores = tables.out_of_sample
    with _mpl().rc_context(_RC):
        fig = _new_figure(9.0, 4.0)
        ax_cv, ax_lo = fig.subplots(1, 2, gridspec_kw={"width_ratios": [1, 2]})
        if ("cv", "") in scores.columns:
            cv = scores[("cv", "")].dropna()
            names = [m for m in models if m in cv.index]
            y = np.arange(len(names))
            for i, m in enumerate(names):
                ax_cv.plot([cv[m]], [i], model_dashes(m)[1], color=model_color(m), ms=9)
                ax_cv.annotate(f"{cv[m]:.4f}", (cv[m], i), textcoords="offset points",
                               xytext=(8, 0), ha="left", va="center", fontsize=8)
            ax_cv.set_yticks(y, names)
            ax_cv.set_ylim(len(names) - 0.5, -0.5)
            ax_cv.margins(x=0.3)
            ax_cv.set_title(f"{tables.result.folds}-fold cross-validation by subject")
        else:
            ax_cv.text(0.5, 0.5, "no cross-validation", ha="center", va="center",
                       transform=ax_cv.transAxes, color="0.4")
            ax_cv.set_yticks([])
        ax_cv.set_xlabel("log-likelihood per decision\n(higher is better)")
        treatments = [g for kind, g in scores.columns if kind == "loto"]
        if treatments:
            x = np.arange(len(treatments))
            shift = 0.08 * (np.arange(len(models)) - (len(models) - 1) / 2)
            loto = scores["loto"].reindex(models)
            for i, m in enumerate(models):
                vals = loto.loc[m, treatments].to_numpy(float)
                ls, marker = model_dashes(m)
                ax_lo.plot(x + shift[i], vals, marker=marker, ls=ls, color=model_color(m),
                           label=m, ms=6,
                           lw=1)
            ax_lo.set_xticks(x, treatments)
            ax_lo.set_xlim(-0.5, len(treatments) - 0.5)
            ax_lo.set_xlabel("held-out treatment")
            fig.legend(*ax_lo.get_legend_handles_labels(), loc="outside lower center",
                       ncols=min(len(models), 6), frameon=False)
            ax_lo.set_title("Leave one treatment out (fit on the others)")
        else:
            ax_lo.text(0.5, 0.5, "no leave-one-treatment-out (one treatment)", ha="center",
                       va="center", transform=ax_lo.transAxes, color="0.4")
            ax_lo.set_xticks([])
        ax_lo.set_ylabel("log-likelihood per decision")
        ax_cv.grid(axis="x", color="0.9", lw=0.6)
        ax_lo.grid(axis="y", color="0.9", lw=0.6)
        _title(fig, "Out-of-sample fit", tables.result.synthetic)
    return fig


def trust_over_rounds(tables: ReportTables) -> Figure | None:
    """How trust moved: each model's mean trust by round (left) and the slope of action on
    message by block of rounds, in the data with 95% intervals and under each model (right).
    ``None`` where no fitted model's play depends on history."""
    slopes, paths = tables.trust_over_rounds
    if not len(slopes):
        return None
    _, _, action_name = _names(tables.require_dataset())
    with _mpl().rc_context(_RC):
        fig = _new_figure(9.0, 4.0)
        ax_path, ax_slope = fig.subplots(1, 2)
        for name, part in paths.groupby("model", sort=False):
            ls, _ = model_dashes(name)
            ax_path.plot(part["round"], part["mean_trust"], ls=ls, color=model_color(name),
                         label=name, lw=1.5)
        ax_path.set_xlabel("round")
        ax_path.set_ylabel("mean trust α (population)")
        ax_path.set_ylim(0, 1)
        ax_path.set_title("Fitted mean trust by round")
        data = slopes[slopes["source"] == "data"]
        x = np.arange(len(data))
        ax_slope.errorbar(x, data["slope"], yerr=[data["slope"] - data["lo"],
                                                  data["hi"] - data["slope"]],
                          fmt="o", color="black", capsize=3, label="data (95% CI)")
        for name, part in slopes[slopes["source"] != "data"].groupby("source", sort=False):
            ls, marker = model_dashes(name)
            ax_slope.plot(x, part["slope"], ls=ls, marker=marker, color=model_color(name),
                          label=name, ms=5, lw=1)
        ax_slope.set_xticks(x, data["block"])
        ax_slope.set_xlabel("rounds")
        ax_slope.set_ylabel(f"slope of {action_name} on message")
        ax_slope.set_title("Response to the message, by block of rounds")
        handles, labels = ax_slope.get_legend_handles_labels()
        fig.legend(handles, labels, loc="outside lower center", ncols=min(len(labels), 6),
                   frameon=False)
        ax_path.grid(color="0.9", lw=0.6)
        ax_slope.grid(axis="y", color="0.9", lw=0.6)
        _title(fig, "Trust over rounds", tables.result.synthetic)
    return fig


#: Figure file stem → (builder(tables), caption), in report order. A builder returns
#: ``None`` where its figure does not apply (the file is then not written).
FIGURES: dict[str, tuple[Callable[[ReportTables], Figure | None], str]] = {
    "report_vs_state": (
        lambda t: report_vs_state(t.result, t.require_dataset(), t.predicted_means),
        "Messages against states per treatment: each decision (jittered grey points), observed "
        "means by bin with 95% confidence intervals (black), and each model's predicted mean "
        "(coloured lines, population strategy with the tremble)."),
    "action_vs_message": (
        lambda t: action_vs_message(t.result, t.require_dataset(), t.predicted_means),
        "Actions against messages per treatment: data, binned means with 95% intervals and "
        "each model's predicted mean."),
    "inflation_histogram": (
        lambda t: inflation_histogram(t.require_dataset(), synthetic=t.result.synthetic),
        "Distribution of message minus state per treatment (percent of decisions); the dotted "
        "line marks a truthful message, the solid line the mean."),
    "posterior_type_shares": (
        lambda t: posterior_type_shares(t),
        "Share of units (subject × role) whose most likely type family is each family, by "
        "model."),
    "parameter_estimates": (
        lambda t: parameter_estimates(t),
        "Parameter estimates with 95% intervals: profile likelihood where marked [P] "
        "(one-sided for an estimate at a bound), otherwise Wald intervals built on the "
        "estimation scale (log, logit) from the subject-clustered CR1 sandwich and mapped "
        "back."),
    "out_of_sample": (
        lambda t: out_of_sample(t),
        "Out-of-sample log-likelihood per decision: cross-validation by subject and "
        "leave-one-treatment-out prediction (higher is better)."),
    "trust_over_rounds": (
        trust_over_rounds,
        "Trust over rounds: each model's fitted mean trust by round (a static model's is "
        "flat), and the slope of action on message by block of rounds — in the data with "
        "95% intervals clustered by receiver, and under each model given each receiver's "
        "record."),
}


@dataclass(frozen=True)
class FigureFiles:
    """A task (:mod:`cheaptalk.runner`): build figure ``name`` and save it as PNG and SVG in
    ``folder``; its result is the written paths (none for a figure that does not apply)."""

    name: str
    tables: ReportTables
    folder: Path

    @property
    def description(self) -> str:
        return f"figure {self.name}"

    def run(self) -> list[Path]:
        fig = FIGURES[self.name][0](self.tables)
        if fig is None:
            return []
        png, svg = self.folder / f"{self.name}.png", self.folder / f"{self.name}.svg"
        with _mpl().rc_context(_RC):
            fig.savefig(png, dpi=150, metadata={"Software": None})
            fig.savefig(svg, metadata={"Date": None})
        return [png, svg]


def write_figures(tables: ReportTables, folder: str | Path,
                  names: Iterable[str] | None = None, backend: Backend | None = None
                  ) -> list[Path]:
    """Save every figure (or those in ``names``) as ``<name>.png`` (150 dpi) and ``.svg``.

    ``tables`` must carry the dataset. The figures are drawn side by side by ``backend``
    (default a local pool of processes, since they write into ``folder`` here: drawing is
    most of a report's time). Returns the written paths, PNG then SVG for each figure, in
    :data:`FIGURES` order.
    """
    p = Path(folder)
    p.mkdir(parents=True, exist_ok=True)
    if tables.dataset is not None:
        _ = tables.predicted_means  # built here once, not in each worker
    tasks = [FigureFiles(name, tables, p) for name in (list(FIGURES) if names is None
                                                      else list(names))]
    return [path for paths in run_tasks(tasks, backend) for path in paths]

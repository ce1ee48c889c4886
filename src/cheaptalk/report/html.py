"""The report page (SPEC §5), rendered from :class:`~cheaptalk.report.tables.ReportTables` by a
Jinja2 template (``templates/report.html``, autoescaped).

``index.html`` is one self-contained page that works offline: inline CSS, no scripts, fonts or
external addresses; the figures are the PNG files next to it, by relative path. This module
only turns the tables' numbers into text (:func:`interpretation` reads them in plain
language) and hands them to the template.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd
from markupsafe import Markup

from cheaptalk.estimation.intervals import INTERVAL_METHODS

from .tables import ReportTables

__all__ = ["interpretation", "render_html", "write_html"]

_TEMPLATES = Path(__file__).with_name("templates")


@functools.cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(_TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["num"] = _num
    return env


def _num(x: Any, digits: int = 4) -> str:
    """A cell: ints with thousands separators, floats to ``digits`` places (general format
    for very small or large values), a dash for a missing value, yes/no for a flag."""
    if x is None:
        return "–"
    if isinstance(x, bool | np.bool_):
        return "yes" if x else "no"
    if isinstance(x, int | np.integer):
        return f"{int(x):,}"
    try:
        v = float(x)
    except (TypeError, ValueError):
        return str(x)
    if not math.isfinite(v):
        return "–"
    if v != 0 and (abs(v) < 1e-3 or abs(v) >= 1e6):
        return f"{v:.{digits}g}"
    return f"{v:,.{digits}f}"


def _setting(v: Any) -> str:
    """A design setting: numbers in general format, a dash where it does not apply."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
        return f"{v:g}"
    return str(v)


Cell = Callable[[Any], str]


def _display(df: pd.DataFrame, head: list[str], cells: dict[str, Cell] | None = None,
             index: Callable[[Any], Any] | None = None, digits: int = 4
             ) -> dict[str, Any]:
    """The template's view of a table: ``head`` (the index's header first when ``index``
    is given) and rows of formatted cells; a column without a formatter in ``cells`` goes
    through :func:`_num` (strings as they are)."""
    cells = cells or {}
    rows = []
    for key, values in zip(df.index, df.itertuples(index=False, name=None), strict=True):
        row = [index(key)] if index is not None else []
        for col, v in zip(df.columns, values, strict=True):
            fmt = cells.get(col)
            row.append(fmt(v) if fmt else v if isinstance(v, str) else _num(v, digits))
        rows.append(row)
    return {"head": head, "rows": rows}


def _strength(p: float) -> str:
    if p < 0.001:
        return "decisive"
    if p < 0.01:
        return "strong"
    if p < 0.05:
        return "moderate"
    if p < 0.10:
        return "weak"
    return "not significant"


def interpretation(tables: ReportTables) -> list[Markup]:
    """Plain-language reading of the comparison, computed from its tables (one paragraph per
    item; names escaped, emphasis as ``<b>``).

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from cheaptalk.estimation.compare import Comparison
    >>> fit = SimpleNamespace(llf=-10.0, df_model=2, aic=24.0, bic=26.0, converged=True,
    ...                       params=pd.Series(dtype=float), derived=pd.Series(dtype=float),
    ...                       at_bound=[], not_identified=[])
    >>> c = Comparison(fits={"<m>": fit}, vuong=[], cv={}, loto={},
    ...                diagnostics=pd.DataFrame(), n_decisions=2000, n_subjects=40, folds=0)
    >>> interpretation(ReportTables(c))
    [Markup('Of the 1 model compared on 2,000 decisions by 40 subjects, <b>&lt;m&gt;</b> fits best by BIC (BIC 26.0).')]
    """  # noqa: E501
    c = tables.result
    if not c.fits:
        return [Markup("No model was fitted.")]
    out: list[Markup] = []
    best = c.best_bic
    order = tables.comparison["bic"].sort_values()
    text = Markup("Of the {n} model{s} compared on {dec:,} decisions by {subj:,} subjects, "
                  "<b>{best}</b> fits best by BIC (BIC {bic:,.1f}").format(
        n=len(c.fits), s="s" if len(c.fits) > 1 else "", dec=c.n_decisions,
        subj=c.n_subjects, best=best, bic=order.iloc[0])
    if len(order) > 1:
        gap = float(order.iloc[1] - order.iloc[0])
        grade = ("very strong" if gap > 10 else "strong" if gap > 6 else "positive"
                 if gap > 2 else "weak")
        text += Markup("; the next, {m}, is {gap:,.1f} higher: {grade} evidence on the usual "
                       "BIC scale").format(m=order.index[1], gap=gap, grade=grade)
    out.append(text + ").")
    if c.cv:
        cv_best = c.best_cv
        cvs = sorted(c.cv.items(), key=lambda kv: -kv[1])
        s = Markup("Out of sample ({k}-fold cross-validation by subject), <b>{m}</b> predicts "
                   "best with a log-likelihood of {v:.4f} per decision").format(
            k=c.folds, m=cv_best, v=cvs[0][1])
        if len(cvs) > 1:
            s += Markup(" against {v:.4f} for {m} (a likelihood ratio of {r:.3g} per "
                        "decision)").format(v=cvs[1][1], m=cvs[1][0],
                                            r=math.exp(cvs[0][1] - cvs[1][1]))
        s += (Markup(", in agreement with BIC.") if cv_best == best
              else Markup("; this differs from the BIC ranking (best: {m}).").format(m=best))
        out.append(s)
    if c.loto:
        treatments = list(dict.fromkeys(g for d in c.loto.values() for g in d))
        wins = {m: 0 for m in c.loto}
        for g in treatments:
            scores = {m: d[g] for m, d in c.loto.items() if g in d}
            wins[max(scores, key=scores.get)] += 1  # type: ignore[arg-type]
        lo_best = max(wins, key=wins.get)  # type: ignore[arg-type]
        out.append(Markup("Predicting each treatment from the others (leave one treatment "
                          "out), <b>{m}</b> does best in {w} of {n} held-out treatments.")
                   .format(m=lo_best, w=wins[lo_best], n=len(treatments)))
    if len(tables.vuong):
        parts = []
        for v in tables.vuong.itertuples(index=False):
            if v.favours == "neither" or _strength(v.p) == "not significant":
                parts.append(Markup("{a} and {b} cannot be told apart (z = {z:.2f}, "
                                    "p = {p:.2g})").format(a=v.a, b=v.b, z=v.z, p=v.p))
            else:
                parts.append(Markup("{s} evidence for {f} over {o} (z = {z:.2f}, p = {p:.2g})")
                             .format(s=_strength(v.p), f=v.favours,
                                     o=v.b if v.favours == v.a else v.a, z=v.z, p=v.p))
        out.append(Markup("Vuong tests on per-subject log-likelihoods (Schwarz-corrected): ")
                   + Markup("; ").join(parts) + ".")
    for t in tables.likelihood_ratio.itertuples(index=False):
        out.append(Markup("Likelihood-ratio test of {r} ({m} against {n}): LR = {lr:.2f}, "
                          "p = {p:.2g}: {s}.").format(
            r=t.restriction, m=t.model, n=t.nested, lr=t.lr, p=t.p,
            s="the restriction is rejected" if t.p < 0.05 else "no evidence against it"))
    caveats = []
    for row in tables.mixture_shares.itertuples(index=False):
        has_ci = isinstance(row.ci_method, str) and bool(row.ci_method)
        lo, hi = max(float(row.ci_lower), 0.0), min(float(row.ci_upper), 1.0)
        interval = (f"95% CI {lo:.2f}–{hi:.2f}, {INTERVAL_METHODS[row.ci_method].short}"
                    if has_ci else "at the edge of its range, no interval")
        lead = (Markup("The best model mixes {k} and {r}: ").format(k=row.kind, r=row.rest)
                if best == row.model else Markup("In the {m} model, ").format(m=row.model))
        caveats.append(lead + Markup("the estimated share of {k} is {p} = {share:.2f} "
                                     "({interval}), so about {pct:.0f}% of subjects behave as "
                                     "{k} and the rest as {r}.").format(
            k=row.kind, r=row.rest, p="π" if row.parameter == "pi" else row.parameter,
            share=row.estimate, interval=interval, pct=100 * row.estimate))
    bad = [n for n, f in c.fits.items() if not f.converged]
    if bad:
        caveats.append(Markup("Not converged: {names}; their numbers are not reliable.")
                       .format(names=", ".join(bad)))
    if c.n_subjects < 30:
        caveats.append(Markup("With only {n} subjects, the tests and intervals rest on few "
                              "independent units; read them with care.").format(n=c.n_subjects))
    if c.synthetic:
        caveats.append(Markup("These are <b>synthetic data</b> simulated by cheaptalk, not "
                              "experiment data: the ranking shows what the method recovers, "
                              "not how people behave."))
    caveats += [Markup("{}").format(n) for n in c.notes]
    if caveats:
        out.append(Markup("Caveats: ") + Markup(" ").join(caveats))
    return out


def _swatch(name: str) -> Markup:
    from .figures import model_color

    return Markup('<span class="swatch" style="background:{c}"></span>{n}').format(
        c=model_color(name), n=name)


def _comparison(tables: ReportTables) -> dict[str, Any]:
    t = tables.comparison
    one_place: Cell = lambda v: f"{v:,.1f}"  # noqa: E731
    return _display(t, ["model", "log-likelihood", "parameters", "AIC", "BIC",
                        "CV ll/decision", "LOTO ll/decision", "converged"],
                    {"loglik": one_place, "aic": one_place, "bic": one_place,
                     "n_params": lambda v: _num(int(v))}, index=_swatch)


def _parameters(tables: ReportTables) -> dict[str, Any]:
    p = tables.parameters
    shown = pd.DataFrame({
        "model": p["model"], "parameter": p["parameter"], "estimate": p["estimate"],
        "se": p["se_sandwich"].where(~p["at_bound"]), "lower": p["ci_lower"],
        "upper": p["ci_upper"],
        "interval": [INTERVAL_METHODS[m].short if isinstance(m, str) and m else ""
                     for m in p["ci_method"]],
        "note": np.select([p["at_bound"], p["derived"], p["not_identified"], p["fixed"]],
                          ["at bound", "derived", "not identified", "fixed"], ""),
    })
    columns = ["model", "parameter", "estimate", "se (sandwich, CR1)", "95% CI lower",
               "95% CI upper", "interval", "note"]
    if p["boot_lower"].notna().any():
        shown.insert(6, "boot_lower", p["boot_lower"])
        shown.insert(7, "boot_upper", p["boot_upper"])
        columns[6:6] = ["bootstrap 2.5%", "bootstrap 97.5%"]
    return _display(shown, columns)


def _vuong(tables: ReportTables) -> dict[str, Any] | None:
    v = tables.vuong
    if v.empty:
        return None
    shown = v.assign(strength=[_strength(p) for p in v["p"]])
    return _display(shown, list(shown.columns), digits=3)


def _likelihood_ratio(tables: ReportTables) -> dict[str, Any] | None:
    lr = tables.likelihood_ratio
    if lr.empty:
        return None
    shown = lr.drop(columns="boundary").assign(strength=[_strength(p) for p in lr["p"]])
    return _display(shown, list(shown.columns), digits=3)


def _out_of_sample(tables: ReportTables) -> dict[str, Any] | None:
    o = tables.out_of_sample
    if o.empty:
        return None
    head = ["model"] + ["CV ll/decision" if kind == "cv" else f"LOTO {g}"
                        for kind, g in o.columns]
    return _display(o, head, index=str)


def _figures(figures: Iterable[str | Path]) -> list[dict[str, Any]]:
    from .figures import FIGURES

    paths = [Path(f) for f in figures]
    svgs = {f.stem for f in paths if f.suffix.lower() == ".svg"}
    return [{"stem": f.stem, "png": f.name, "alt": f.stem.replace("_", " "),
             "caption": FIGURES[f.stem][1] if f.stem in FIGURES else "",
             "svg": f"{f.stem}.svg" if f.stem in svgs else None}
            for f in paths if f.suffix.lower() == ".png"]


def render_html(tables: ReportTables, figures: Iterable[str | Path]) -> str:
    """The text of ``index.html``.

    Parameters
    ----------
    tables : ReportTables
        With the dataset (for the design and data sections).
    figures : iterable of path
        The figure files (as written by :func:`~cheaptalk.report.figures.write_figures`):
        the PNG files are shown in order, and linked to the SVG of the same name if given.
    """
    c, dataset = tables.result, tables.require_dataset()
    kind = dataset.design.kind
    summary = dataset.summary()
    treatments = tables.treatments
    return _environment().get_template("report.html").render(
        title=f"cheaptalk model comparison: {kind.name.replace('_', ' ')}",
        synthetic=c.synthetic,
        data_source=c.dataset_source or summary["source"], design_source=summary["design"],
        interpretation=interpretation(tables),
        kind=kind, variables=kind.variables, design_description=dataset.design.description,
        design=_display(tables.design, ["treatment", *tables.design.columns],
                        {k: _setting for k in tables.design.columns}, index=str),
        summary=summary,
        treatments=(_display(treatments, ["treatment", *treatments.columns], index=str)
                    if not treatments.empty else None),
        comparison=_comparison(tables), best_bic=c.best_bic, best_cv=c.best_cv,
        parameters=_parameters(tables), vuong=_vuong(tables),
        likelihood_ratio=_likelihood_ratio(tables),
        out_of_sample=_out_of_sample(tables), folds=c.folds,
        figures=_figures(figures), notes=c.notes,
    )


def write_html(tables: ReportTables, folder: str | Path, figures: Iterable[str | Path]
               ) -> Path:
    """Write :func:`render_html` to ``folder/index.html``; returns its path."""
    out = Path(folder) / "index.html"
    out.write_text(render_html(tables, figures), encoding="utf-8")
    return out

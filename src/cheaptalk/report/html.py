"""Report page and LaTeX tables (SPEC §5).

:func:`write_html` writes ``index.html``: one self-contained page that works offline (inline
CSS, no scripts, fonts or external addresses; the figures are the PNG files next to it, by
relative path). :func:`write_latex_tables` writes ``comparison.tex`` and ``parameters.tex``
(booktabs rules; ``\\usepackage{booktabs}`` in the preamble).
"""

from __future__ import annotations

import html as _html
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cheaptalk.data.interactions import Dataset
from cheaptalk.estimation.compare import Comparison

__all__ = ["interpretation", "write_html", "write_latex_tables"]

_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Helvetica, Arial, sans-serif;
       margin: 0 auto; max-width: 1100px; padding: 1rem 1.5rem 3rem; color: #222;
       line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { font-size: 1.25rem; border-bottom: 1px solid #ddd; padding-bottom: .2rem;
     margin-top: 2rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .9rem; }
th, td { padding: .25rem .6rem; border-bottom: 1px solid #e3e3e3; text-align: right; }
th { background: #f4f4f4; }
td:first-child, th:first-child { text-align: left; }
.banner { background: #D55E00; color: #fff; font-weight: bold; padding: .7rem 1rem;
          border-radius: 4px; margin: 1rem 0; letter-spacing: .03em; }
.summary { background: #f6f9fc; border-left: 4px solid #0072B2; padding: .6rem 1rem; }
.muted { color: #666; font-size: .85rem; }
figure { margin: 1.5rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid #eee; }
figcaption { font-size: .88rem; color: #444; margin-top: .3rem; }
.swatch { display: inline-block; width: .8em; height: .8em; border-radius: 2px;
          margin-right: .35em; vertical-align: baseline; }
"""


def _e(x: Any) -> str:
    return _html.escape(str(x), quote=True)


def _num(x: Any, digits: int = 4) -> str:
    if x is None:
        return "–"
    if isinstance(x, (bool, np.bool_)):
        return "yes" if x else "no"
    if isinstance(x, (int, np.integer)):
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


def _table(df: pd.DataFrame, index: bool = True, digits: int = 4,
           raw_index: bool = False) -> str:
    """An HTML table (escaped, except the index where ``raw_index``), numbers formatted,
    without pandas' styler (no jinja2)."""
    cols = list(df.columns)
    head = ([_e(df.index.name or "")] if index else []) + [_e(c) for c in cols]
    rows = []
    for idx, r in df.iterrows():
        cells = ([f"<td>{idx if raw_index else _e(idx)}</td>"] if index else [])
        for c in cols:
            v = r[c]
            cells.append(f"<td>{_e(_num(v, digits) if not isinstance(v, str) else v)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    return ("<table><thead><tr>" + "".join(f"<th>{h}</th>" for h in head)
            + "</tr></thead><tbody>" + "\n".join(rows) + "</tbody></table>")


def _parameters(c: Comparison) -> pd.DataFrame:
    rows = []
    for name, f in c.fits.items():
        ci = f.conf_int()
        for par in f.params.index:
            se = np.nan if par in f.at_bound else f.bse_sandwich.get(par, np.nan)
            rows.append({"model": name, "parameter": par, "estimate": f.params[par],
                         "se (sandwich)": se, "95% CI lower": ci.loc[par, "lower"],
                         "95% CI upper": ci.loc[par, "upper"],
                         "note": ("at bound" if par in f.at_bound
                                  else "" if np.isfinite(se) else "fixed")})
        for par in f.derived.index:
            se = f.derived_se.get(par, np.nan)
            rows.append({"model": name, "parameter": par, "estimate": f.derived[par],
                         "se (sandwich)": se, "95% CI lower": f.derived[par] - 1.96 * se,
                         "95% CI upper": f.derived[par] + 1.96 * se, "note": "derived"})
    return pd.DataFrame(rows)


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


def interpretation(c: Comparison) -> list[str]:
    """Plain-language reading of the comparison, computed from its numbers (one paragraph
    per item)."""
    out: list[str] = []
    if not c.fits:
        return ["No model was fitted."]
    t = c.table()
    best = c.best_bic
    order = t["bic"].sort_values()
    text = (f"Of the {len(c.fits)} model{'s' if len(c.fits) > 1 else ''} compared on "
            f"{c.n_decisions:,} decisions by {c.n_subjects:,} subjects, <b>{_e(best)}</b> "
            f"fits best by BIC (BIC {order.iloc[0]:,.1f}")
    if len(order) > 1:
        gap = float(order.iloc[1] - order.iloc[0])
        grade = ("very strong" if gap > 10 else "strong" if gap > 6 else "positive"
                 if gap > 2 else "weak")
        text += (f"; the next, {_e(order.index[1])}, is {gap:,.1f} higher: {grade} evidence "
                 f"on the usual BIC scale")
    text += ")."
    out.append(text)
    if c.cv:
        cv_best = c.best_cv
        cvs = sorted(c.cv.items(), key=lambda kv: -kv[1])
        s = (f"Out of sample ({c.folds}-fold cross-validation by subject), "
             f"<b>{_e(cv_best)}</b> predicts best with a log-likelihood of "
             f"{cvs[0][1]:.4f} per decision")
        if len(cvs) > 1:
            s += (f" against {cvs[1][1]:.4f} for {_e(cvs[1][0])} (a likelihood ratio of "
                  f"{math.exp(cvs[0][1] - cvs[1][1]):.3g} per decision)")
        s += (", in agreement with BIC." if cv_best == best
              else f"; this differs from the BIC ranking (best: {_e(best)}).")
        out.append(s)
    if c.loto:
        treatments = list(dict.fromkeys(g for d in c.loto.values() for g in d))
        wins = {m: 0 for m in c.loto}
        for g in treatments:
            scores = {m: d[g] for m, d in c.loto.items() if g in d}
            wins[max(scores, key=scores.get)] += 1  # type: ignore[arg-type]
        lo_best = max(wins, key=wins.get)  # type: ignore[arg-type]
        out.append(f"Predicting each treatment from the others (leave one treatment out), "
                   f"<b>{_e(lo_best)}</b> does best in {wins[lo_best]} of {len(treatments)} "
                   f"held-out treatments.")
    if c.vuong:
        parts = []
        for v in c.vuong:
            if v["favours"] == "neither" or _strength(v["p"]) == "not significant":
                parts.append(f"{_e(v['a'])} and {_e(v['b'])} cannot be told apart "
                             f"(z = {v['z']:.2f}, p = {v['p']:.2g})")
            else:
                parts.append(f"{_strength(v['p'])} evidence for {_e(v['favours'])} over "
                             f"{_e(v['b'] if v['favours'] == v['a'] else v['a'])} "
                             f"(z = {v['z']:.2f}, p = {v['p']:.2g})")
        out.append("Vuong tests on per-subject log-likelihoods (Schwarz-corrected): "
                   + "; ".join(parts) + ".")
    caveats = []
    if "combination" in c.fits and "pi" in c.fits["combination"].params.index:
        f = c.fits["combination"]
        pi = float(f.params["pi"])
        ci = f.conf_int().loc["pi"]
        lo, hi = max(float(ci["lower"]), 0.0), min(float(ci["upper"]), 1.0)
        interval = ("at the edge of its range, no interval" if "pi" in f.at_bound
                    else f"95% CI {lo:.2f}–{hi:.2f}")
        lead = ("The best model mixes trust and strategic types: "
                if best == "combination" else "In the combination model, ")
        caveats.append(f"{lead}the estimated share of trust types is π = {pi:.2f} "
                       f"({interval}), so about {100 * pi:.0f}% of subjects "
                       f"behave as trust types and the rest as level-k types.")
    bad = [n for n, f in c.fits.items() if not f.converged]
    if bad:
        caveats.append("Not converged: " + ", ".join(_e(b) for b in bad)
                       + "; their numbers are not reliable.")
    if c.n_subjects < 30:
        caveats.append(f"With only {c.n_subjects} subjects, the tests and intervals rest on "
                       f"few independent units; read them with care.")
    if c.synthetic:
        caveats.append("These are <b>synthetic data</b> simulated by cheaptalk, not "
                       "experiment data: the ranking shows what the method recovers, not how "
                       "people behave.")
    caveats += [_e(n) for n in c.notes]
    if caveats:
        out.append("Caveats: " + " ".join(caveats))
    return out


def _design_table(dataset: Dataset) -> pd.DataFrame:
    rows = []
    for g, s in dataset.design.settings.items():
        rows.append({"treatment": g, **{k: ("–" if v is None else v) for k, v in s.items()}})
    df = pd.DataFrame(rows).set_index("treatment")
    return df.astype(object).map(lambda v: f"{v:g}" if isinstance(v, (int, float)) and not
                                 isinstance(v, bool) else str(v))


def write_html(c: Comparison, dataset: Dataset, folder: str | Path,
               figures: Iterable[str | Path] | None = None) -> Path:
    """Write ``folder/index.html`` (see the module docstring).

    ``figures`` are the files written by :func:`~cheaptalk.report.figures.write_figures` (the
    PNG files are shown, in order; SVG files are linked); ``None`` writes them now.
    """
    from .figures import FIGURES, model_color, write_figures

    p = Path(folder)
    p.mkdir(parents=True, exist_ok=True)
    if figures is None:
        figures = write_figures(c, dataset, p)
    paths = [Path(f) for f in figures]
    pngs = [f for f in paths if f.suffix.lower() == ".png"]
    svgs = {f.stem for f in paths if f.suffix.lower() == ".svg"}
    kind = dataset.design.kind
    state, message, action = kind.variables
    summary = dataset.summary()
    title = f"cheaptalk model comparison: {kind.name.replace('_', ' ')}"

    parts: list[str] = [
        "<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}{' (synthetic data)' if c.synthetic else ''}</title>",
        f"<style>{_CSS}</style>", "</head>", "<body>", f"<h1>{_e(title)}</h1>",
    ]
    if c.synthetic:
        parts.append('<div class="banner" id="synthetic-banner">SYNTHETIC DATA: simulated '
                     "by cheaptalk, not experiment data.</div>")
    parts.append(f'<p class="muted">Data: {_e(c.dataset_source or summary["source"])} · '
                 f"design: {_e(summary['design'])}</p>")
    parts += ["<h2>Summary</h2>", '<div class="summary">']
    parts += [f"<p>{s}</p>" for s in interpretation(c)]
    parts.append("</div>")

    # Design
    parts += ["<h2>Design</h2>",
              f"<p>Game: <b>{_e(kind.name)}</b> ({_e(kind.description)}). Roles: "
              f"{_e(kind.roles[0])} (sender) sees the {_e(state)} and sends a {_e(message)}; "
              f"{_e(kind.roles[1])} (receiver) chooses the {_e(action)}.</p>"]
    if dataset.design.description:
        parts.append(f"<p>{_e(dataset.design.description)}</p>")
    parts.append(_table(_design_table(dataset)))

    # Data
    parts += ["<h2>Data</h2>",
              f"<p>{summary['rows']:,} interactions ({summary['decisions']:,} decisions): "
              f"{summary['senders']} {_e(kind.roles[0])}s, {summary['receivers']} "
              f"{_e(kind.roles[1])}s, {summary['role_switchers']} subjects in both roles.</p>"]
    if summary["treatments"]:
        parts.append(_table(pd.DataFrame(summary["treatments"]).set_index("treatment")))
    if summary["mapped"]:
        parts.append('<p class="muted">' + "<br>".join(_e(m) for m in summary["mapped"])
                     + "</p>")

    # Comparison
    t = c.table().copy()
    t.index = [f'<span class="swatch" style="background:{model_color(n)}"></span>{_e(n)}'
               for n in t.index]
    t.index.name = "model"
    t.columns = ["log-likelihood", "parameters", "AIC", "BIC", "CV ll/decision",
                 "LOTO ll/decision", "converged"]
    for col in ("log-likelihood", "AIC", "BIC"):
        t[col] = [f"{v:,.1f}" for v in t[col]]
    parts += ["<h2>Model comparison</h2>",
              _table(t, raw_index=True),
              f"<p>Best by BIC: <b>{_e(c.best_bic)}</b>"
              + (f"; best out of sample (CV): <b>{_e(c.best_cv)}</b>" if c.best_cv else "")
              + ". Lower AIC/BIC is better; higher log-likelihood per decision is better.</p>"]
    parts += ["<h3>Parameters</h3>", _table(_parameters(c), index=False)]
    parts.append("<h3>Vuong tests</h3>")
    if c.vuong:
        v = pd.DataFrame(c.vuong)[["a", "b", "z", "p", "favours"]]
        v["strength"] = [_strength(x) for x in v["p"]]
        parts.append(_table(v, index=False, digits=3))
        parts.append('<p class="muted">Schwarz-corrected, on per-subject log-likelihood '
                     "contributions; z &gt; 0 favours model a; two-sided p.</p>")
    else:
        parts.append("<p>Only one model: no tests.</p>")
    parts.append("<h3>Out of sample</h3>")
    oos = pd.DataFrame({"CV ll/decision": pd.Series(c.cv, dtype=float)})
    loto = pd.DataFrame(c.loto).T if c.loto else pd.DataFrame()
    if not loto.empty:
        loto.columns = [f"LOTO {g}" for g in loto.columns]
        oos = oos.join(loto, how="outer") if not oos.empty else loto
    if oos.empty:
        parts.append("<p>No cross-validation or leave-one-treatment-out results.</p>")
    else:
        oos = oos.reindex([m for m in c.fits if m in oos.index])  # the comparison's order
        oos.index.name = "model"
        parts.append(_table(oos))
        parts.append(f'<p class="muted">Log-likelihood per decision on held-out data: '
                     f"{c.folds}-fold cross-validation by subject; LOTO g: fitted without "
                     f"treatment g, scored on it.</p>")

    # Figures
    parts.append("<h2>Figures</h2>")
    for f in pngs:
        caption = FIGURES.get(f.stem, (None, ""))[1]
        svg = (f' <a href="{_e(f.stem)}.svg">SVG</a>' if f.stem in svgs else "")
        parts.append(f'<figure id="fig-{_e(f.stem)}"><img src="{_e(f.name)}" '
                     f'alt="{_e(f.stem.replace("_", " "))}">'
                     f"<figcaption>{_e(caption)}{svg}</figcaption></figure>")
    if c.notes:
        parts += ["<h2>Notes</h2>", "<ul>"] + [f"<li>{_e(n)}</li>" for n in c.notes]
        parts.append("</ul>")
    parts += ['<p class="muted">Written by cheaptalk. Tables: comparison.csv, parameters.csv, '
              "vuong.csv, comparison.tex, parameters.tex.</p>", "</body>", "</html>"]
    out = p / "index.html"
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out


# ----------------------------------------------------------------------------- LaTeX
_TEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                "^": r"\textasciicircum{}"}


def _tex(s: Any) -> str:
    return "".join(_TEX_SPECIAL.get(ch, ch) for ch in str(s))


def _tex_num(x: Any, fmt: str) -> str:
    try:
        v = float(x)
    except (TypeError, ValueError):
        return _tex(x)
    return "--" if not math.isfinite(v) else (f"${v:{fmt}}$" if v < 0 else f"{v:{fmt}}")


def _tabular(header: list[str], rows: list[list[str]], align: str, caption: str,
             label: str) -> str:
    lines = [
        "% Requires \\usepackage{booktabs}. Written by cheaptalk.",
        "\\begin{table}[htbp]", "\\centering", f"\\caption{{{caption}}}", f"\\label{{{label}}}",
        f"\\begin{{tabular}}{{{align}}}", "\\toprule", " & ".join(header) + " \\\\",
        "\\midrule",
    ]
    lines += [" & ".join(r) + " \\\\" for r in rows]
    lines += ["\\bottomrule", "\\end{tabular}", "\\end{table}"]
    return "\n".join(lines) + "\n"


def write_latex_tables(c: Comparison, folder: str | Path) -> list[Path]:
    """Write ``comparison.tex`` and ``parameters.tex`` (booktabs) into ``folder``."""
    p = Path(folder)
    p.mkdir(parents=True, exist_ok=True)
    syn = " Synthetic data." if c.synthetic else ""
    rows = []
    for name, r in c.table().iterrows():
        rows.append([_tex(name), _tex_num(r["loglik"], ".1f"),
                     str(int(r["n_params"])), _tex_num(r["aic"], ".1f"),
                     _tex_num(r["bic"], ".1f"), _tex_num(r["cv_loglik_per_decision"], ".4f"),
                     _tex_num(r["loto_loglik_per_decision"], ".4f")])
    comparison = _tabular(
        ["Model", "$\\log L$", "$k$", "AIC", "BIC", "CV $\\ell$/decision",
         "LOTO $\\ell$/decision"], rows, "lrrrrrr",
        f"Model comparison ({c.n_decisions} decisions, {c.n_subjects} subjects; "
        f"{c.folds}-fold cross-validation by subject).{syn}", "tab:comparison")
    prows = []
    for name, f in c.fits.items():
        ci = f.conf_int()
        for i, par in enumerate(f.params.index):
            se = f.bse_sandwich.get(par, np.nan)
            fixed = not np.isfinite(se) or par in f.at_bound
            prows.append([_tex(name) if i == 0 else "", f"\\texttt{{{_tex(par)}}}",
                          _tex_num(f.params[par], ".3f"),
                          ("at bound" if par in f.at_bound else "fixed") if fixed
                          else f"({_tex_num(se, '.3f')})",
                          "" if fixed else f"[{_tex_num(ci.loc[par, 'lower'], '.3f')}, "
                          f"{_tex_num(ci.loc[par, 'upper'], '.3f')}]"])
    parameters = _tabular(
        ["Model", "Parameter", "Estimate", "SE", "95\\% CI"], prows, "llrrc",
        f"Parameter estimates with subject-clustered sandwich standard errors.{syn}",
        "tab:parameters")
    out = [p / "comparison.tex", p / "parameters.tex"]
    out[0].write_text(comparison, encoding="utf-8")
    out[1].write_text(parameters, encoding="utf-8")
    return out

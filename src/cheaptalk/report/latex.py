r"""The report's LaTeX tables (booktabs; ``\usepackage{booktabs}`` in the preamble), rendered
from :class:`~cheaptalk.report.tables.ReportTables`: ``comparison.tex`` (one row per model) and
``parameters.tex`` (estimates with subject-clustered sandwich standard errors and 95% intervals).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from cheaptalk.estimation.intervals import INTERVAL_METHODS

from .tables import ReportTables

__all__ = ["latex_tables", "write_latex_tables"]

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


def _comparison(tables: ReportTables, note: str) -> str:
    c = tables.result
    rows = [[_tex(name), _tex_num(r["loglik"], ".1f"), str(int(r["n_params"])),
             _tex_num(r["aic"], ".1f"), _tex_num(r["bic"], ".1f"),
             _tex_num(r["cv_loglik_per_decision"], ".4f"),
             _tex_num(r["loto_loglik_per_decision"], ".4f")]
            for name, r in tables.comparison.iterrows()]
    return _tabular(
        ["Model", "$\\log L$", "$k$", "AIC", "BIC", "CV $\\ell$/decision",
         "LOTO $\\ell$/decision"], rows, "lrrrrrr",
        f"Model comparison ({c.n_decisions} decisions, {c.n_subjects} subjects; "
        f"{c.folds}-fold cross-validation by subject).{note}", "tab:comparison")


def _parameters(tables: ReportTables, note: str) -> str:
    p = tables.parameters
    rows = []
    previous = None
    for r in p[~p["derived"]].itertuples(index=False):
        no_se = r.at_bound or r.fixed or r.not_identified
        has_ci = isinstance(r.ci_method, str) and bool(r.ci_method)
        rows.append([
            _tex(r.model) if r.model != previous else "", f"\\texttt{{{_tex(r.parameter)}}}",
            _tex_num(r.estimate, ".3f"),
            ("at bound" if r.at_bound else "not identified" if r.not_identified
             else "fixed") if no_se
            else f"({_tex_num(r.se_sandwich, '.3f')})",
            f"[{_tex_end(r.ci_lower)}, {_tex_end(r.ci_upper)}]" if has_ci else "",
            INTERVAL_METHODS[r.ci_method].mark if has_ci else ""])
        previous = r.model
    used = [m for name, m in INTERVAL_METHODS.items() if name in set(p["ci_method"].dropna())]
    legend = "; ".join(f"{m.mark}: {_tex(m.label)}" for m in used)
    return _tabular(
        ["Model", "Parameter", "Estimate", "SE", "95\\% CI", ""], rows, "llrrcl",
        "Parameter estimates with subject-clustered (CR1) sandwich standard errors "
        f"(delta method, natural scale).{' Intervals: ' + legend + '.' if legend else ''}"
        f"{note}", "tab:parameters")


def _tex_end(v: float) -> str:
    """An interval end: a number, or $\\pm\\infty$ for an open end."""
    if np.isinf(v):
        return "$-\\infty$" if v < 0 else "$\\infty$"
    return _tex_num(v, ".3f")


def latex_tables(tables: ReportTables) -> dict[str, str]:
    """File name → LaTeX source: ``comparison.tex`` and ``parameters.tex``.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from cheaptalk.estimation.compare import Comparison
    >>> fit = SimpleNamespace(llf=-10.0, df_model=1, aic=22.0, bic=23.0, converged=True,
    ...                       params=pd.Series({"a_b": -0.5}), bse=pd.Series({"a_b": 0.1}),
    ...                       bse_sandwich=pd.Series({"a_b": 0.1}), at_bound=[], not_identified=[],
    ...                       derived=pd.Series(dtype=float), derived_se=pd.Series(dtype=float))
    >>> c = Comparison(fits={"m": fit}, vuong=[], cv={}, loto={}, diagnostics=pd.DataFrame(),
    ...                n_decisions=20, n_subjects=4, folds=0)
    >>> print(latex_tables(ReportTables(c))["parameters.tex"].splitlines()[9])
    m & \\texttt{a\\_b} & $-0.500$ & (0.100) & [$-0.696$, $-0.304$] & W$_n$ \\\\
    """
    note = " Synthetic data." if tables.result.synthetic else ""
    return {"comparison.tex": _comparison(tables, note),
            "parameters.tex": _parameters(tables, note)}


def write_latex_tables(tables: ReportTables, folder: str | Path) -> list[Path]:
    """Write :func:`latex_tables` into ``folder``; returns the paths."""
    p = Path(folder)
    p.mkdir(parents=True, exist_ok=True)
    out = []
    for name, text in latex_tables(tables).items():
        (p / name).write_text(text, encoding="utf-8")
        out.append(p / name)
    return out

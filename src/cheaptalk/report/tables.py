"""Report folder: the comparison's tables as CSV and JSON, and a plain-text summary.

A report folder is marked with a ``.cheaptalk-report`` file; the writer refuses to write into
an existing folder that is neither empty nor marked, so that nothing the user wrote is ever
replaced.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cheaptalk.data.errors import InputError
from cheaptalk.estimation.compare import Comparison

__all__ = ["MARKER", "comparison_text", "prepare_folder", "write_report", "write_tables"]

MARKER = ".cheaptalk-report"


def prepare_folder(folder: str | Path) -> Path:
    """Create the report folder, or check that an existing one may be written into."""
    p = Path(folder)
    if p.exists():
        if not p.is_dir():
            raise InputError("report path exists and is not a folder", file=p)
        if any(p.iterdir()) and not (p / MARKER).exists():
            raise InputError("folder exists and is not a cheaptalk report; choose another "
                             "--report folder", file=p)
    else:
        if not p.parent.exists():
            raise InputError("parent folder does not exist", file=p.parent)
        p.mkdir()
    (p / MARKER).write_text("written by cheaptalk; files here are replaced on each run\n")
    return p


def _cell(x: float, width: int) -> str:
    """A score, or a dash where it was not computed."""
    return f"{x:>{width}.4f}" if np.isfinite(x) else f"{'–':>{width}}"


def comparison_text(c: Comparison) -> str:
    """The comparison table and tests as plain text (as printed by the command line)."""
    t = c.table()
    lines = []
    if c.synthetic:
        lines.append("DATA: SYNTHETIC (simulated by cheaptalk, not experiment data)")
    lines.append(f"{c.n_decisions} decisions, {c.n_subjects} subjects; " + (
        f"{c.folds}-fold cross-validation by subject" if c.folds > 1
        else "no cross-validation"))
    w = max([13, *(len(str(n)) + 2 for n in t.index)])
    header = (f"{'model':<{w}}{'loglik':>11}{'k':>4}{'AIC':>11}{'BIC':>11}"
              f"{'CV ll/dec':>11}{'LOTO ll/dec':>13}")
    lines += [header, "-" * len(header)]
    for name, row in t.iterrows():
        flag = "" if row["converged"] else "  (not converged)"
        lines.append(f"{name:<{w}}{row['loglik']:>11.1f}{int(row['n_params']):>4}"
                     f"{row['aic']:>11.1f}{row['bic']:>11.1f}"
                     f"{_cell(row['cv_loglik_per_decision'], 11)}"
                     f"{_cell(row['loto_loglik_per_decision'], 13)}{flag}")
    lines.append(f"Best by BIC: {c.best_bic}" + (f"; best out of sample (CV): {c.best_cv}"
                                                 if c.best_cv else ""))
    if c.vuong:
        lines.append("Vuong tests (Schwarz-corrected; z > 0 favours a):")
        wa = max(12, *(len(v["a"]) for v in c.vuong))
        wb = max(12, *(len(v["b"]) for v in c.vuong))
        for v in c.vuong:
            lines.append(f"  {v['a']:>{wa}} vs {v['b']:<{wb}} z = {v['z']:7.2f}  "
                         f"p = {v['p']:.3g}")
    lines += c.notes
    return "\n".join(lines)


def _json_default(x: Any) -> Any:
    if isinstance(x, np.generic):
        return x.item()
    if isinstance(x, np.ndarray):
        return x.tolist()
    raise TypeError(type(x).__name__)


def write_json(obj: Any, path: Path) -> None:
    path.write_text(json.dumps(obj, indent=1, default=_json_default) + "\n", encoding="utf-8")


def write_tables(c: Comparison, folder: str | Path) -> list[Path]:
    """Write the comparison's tables into ``folder`` (see :func:`prepare_folder`)."""
    p = prepare_folder(folder)
    written = []

    def save(df: pd.DataFrame, name: str, index: bool = False) -> None:
        df.to_csv(p / name, index=index)
        written.append(p / name)

    save(c.table(), "comparison.csv", index=True)
    params = []
    for name, f in c.fits.items():
        for par in f.params.index:
            params.append({"model": name, "parameter": par, "estimate": f.params[par],
                           "se_sandwich": f.bse_sandwich[par], "se_hessian": f.bse[par],
                           "at_bound": par in f.at_bound})
        for par in f.derived.index:
            params.append({"model": name, "parameter": par, "estimate": f.derived[par],
                           "se_sandwich": f.derived_se.get(par, np.nan),
                           "se_hessian": np.nan, "at_bound": False})
    save(pd.DataFrame(params), "parameters.csv")
    save(pd.DataFrame(c.vuong), "vuong.csv")
    loto = [{"model": m, "treatment": g, "loglik_per_decision": v}
            for m, d in c.loto.items() for g, v in d.items()]
    save(pd.DataFrame(loto), "leave_one_treatment_out.csv")
    save(c.posterior_types(), "posterior_types.csv")
    save(c.diagnostics, "diagnostics.csv")
    write_json(c.to_dict(), p / "comparison.json")
    written.append(p / "comparison.json")
    text = comparison_text(c) + "\n\n" + "\n\n".join(f.summary() for f in c.fits.values())
    (p / "summary.txt").write_text(text + "\n", encoding="utf-8")
    written.append(p / "summary.txt")
    return written


def write_report(c: Comparison, dataset: Any, folder: str | Path) -> Path:
    """The whole report folder: tables (CSV, JSON, LaTeX), figures (PNG, SVG) and
    ``index.html``, which opens offline. Returns the path of ``index.html``."""
    from .figures import write_figures
    from .html import write_html, write_latex_tables

    write_tables(c, folder)
    figures = write_figures(c, dataset, folder)
    write_latex_tables(c, folder)
    return write_html(c, dataset, folder, figures)

"""The comparison as plain text: what ``cheaptalk compare``, ``demo`` and ``report`` print,
and the head of the report's ``summary.txt``; rendered from
:class:`~cheaptalk.report.tables.ReportTables`.
"""

from __future__ import annotations

import numpy as np

from .tables import ReportTables

__all__ = ["comparison_text"]


def _cell(x: float, width: int) -> str:
    """A score, or a dash where it was not computed."""
    return f"{x:>{width}.4f}" if np.isfinite(x) else f"{'–':>{width}}"


def comparison_text(tables: ReportTables) -> str:
    """The comparison table, the best models and the Vuong tests, as plain text.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> import pandas as pd
    >>> from cheaptalk.estimation.compare import Comparison
    >>> fit = SimpleNamespace(llf=-10.0, df_model=2, aic=24.0, bic=26.0, converged=True)
    >>> c = Comparison(fits={"m": fit}, vuong=[], cv={}, loto={}, diagnostics=pd.DataFrame(),
    ...                n_decisions=20, n_subjects=4, folds=0)
    >>> print(comparison_text(ReportTables(c)))
    20 decisions, 4 subjects; no cross-validation
    model             loglik   k        AIC        BIC  CV ll/dec  LOTO ll/dec
    --------------------------------------------------------------------------
    m                  -10.0   2       24.0       26.0          –            –
    Best by BIC: m
    """
    c = tables.result
    t = tables.comparison
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
    v = tables.vuong
    if len(v):
        lines.append("Vuong tests (Schwarz-corrected; z > 0 favours a):")
        wa = max(12, *(len(a) for a in v["a"]))
        wb = max(12, *(len(b) for b in v["b"]))
        for row in v.itertuples(index=False):
            lines.append(f"  {row.a:>{wa}} vs {row.b:<{wb}} z = {row.z:7.2f}  "
                         f"p = {row.p:.3g}")
    lr = tables.likelihood_ratio
    if len(lr):
        lines.append("Likelihood-ratio tests of nested models (a restriction on the boundary "
                     "takes p from the 50:50 chi-square mixture):")
        for row in lr.itertuples(index=False):
            lines.append(f"  {row.model} vs {row.nested} ({row.restriction}): LR = "
                         f"{row.lr:.2f}, df {row.df}, p = {row.p:.3g}")
    lines += c.notes
    return "\n".join(lines)

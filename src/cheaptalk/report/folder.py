"""The report folder (SPEC §5): every table as CSV and LaTeX, ``comparison.json``,
``summary.txt``, every figure as PNG and SVG, and ``index.html``, which opens offline.

The tables are built once (:class:`~cheaptalk.report.tables.ReportTables`) and every file is
rendered from them. The folder is written atomically (:func:`cheaptalk.outputs.atomic_folder`):
it is built beside its target and moved into place only when complete, so an interrupted or
failed report leaves the previous one as it was and no partial folder. An existing report
(marked by :data:`~cheaptalk.outputs.REPORT_MARKER`) is replaced only with ``force``; a folder
that is not a cheaptalk report is never replaced.
"""

from __future__ import annotations

from pathlib import Path

from cheaptalk.data.interactions import Dataset
from cheaptalk.estimation.compare import Comparison
from cheaptalk.outputs import atomic_folder, json_text

from .tables import ReportTables
from .text import comparison_text

__all__ = ["write_report", "write_tables"]


def write_tables(tables: ReportTables, folder: str | Path) -> list[Path]:
    """Write the CSV tables, ``comparison.json`` and ``summary.txt`` (the comparison as
    text, then every fit's summary) into ``folder``; returns the paths."""
    p = Path(folder)
    p.mkdir(parents=True, exist_ok=True)
    written = []
    for name, (df, index) in tables.csv_tables().items():
        df.to_csv(p / name, index=index)
        written.append(p / name)
    c = tables.result
    (p / "comparison.json").write_text(json_text(c.to_dict()), encoding="utf-8")
    text = comparison_text(tables) + "\n\n" + "\n\n".join(f.summary() for f in c.fits.values())
    (p / "summary.txt").write_text(text + "\n", encoding="utf-8")
    return [*written, p / "comparison.json", p / "summary.txt"]


def write_report(c: Comparison, dataset: Dataset, folder: str | Path, force: bool = False,
                 *, tables: ReportTables | None = None) -> Path:
    """Write the whole report folder (see the module docstring).

    Parameters
    ----------
    c : Comparison
    dataset : Dataset
        The data the comparison was fitted on.
    folder : path
        The report folder: new, empty, or (with ``force``) an earlier cheaptalk report.
    force : bool
        Replace an existing report.
    tables : ReportTables, optional
        The comparison's tables if already built (e.g. for the printed comparison).

    Returns
    -------
    Path
        ``folder/index.html``.

    Raises
    ------
    InputError
        If ``folder`` is a report and not ``force``, is not a report, or cannot be written.
    """
    from .figures import write_figures
    from .html import write_html
    from .latex import write_latex_tables

    if tables is None or tables.dataset is None:
        tables = ReportTables(c, dataset)
    target = Path(folder)
    with atomic_folder(target, force) as tmp:
        write_tables(tables, tmp)
        figures = write_figures(tables, tmp)
        write_latex_tables(tables, tmp)
        write_html(tables, tmp, figures)
    return target / "index.html"

"""Report figures, HTML page and LaTeX tables on a small synthetic comparison."""

import dataclasses
import subprocess
import sys
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("matplotlib", reason="matplotlib (a core dependency) is missing")

from matplotlib.figure import Figure
from matplotlib.image import imread

from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.compare import Comparison, compare
from cheaptalk.models import get_model
from cheaptalk.report import figures as F
from cheaptalk.report.html import interpretation, write_html
from cheaptalk.report.latex import write_latex_tables
from cheaptalk.report.tables import ReportTables
from cheaptalk.simulation import Simulation

LEVELK = {"p0": 0.2, "p1": 0.4, "p2": 0.3, "p3": 0.1, "lambda_s": 0.4, "lambda_r": 0.2}


@pytest.fixture(scope="module")
def small():
    """Crawford–Sobel, 3 treatments, 6 subjects per role, 10 rounds (a few seconds)."""
    d = load_design("crawford_sobel")
    df = Simulation(d, get_model("levelk"), LEVELK, subjects_per_role=6, rounds=10).run(seed=1)
    ds = validate_table(df, d, source="synthetic levelk")
    c = compare([get_model(m) for m in ("levelk", "trust")], ds, folds=2, n_starts=1, jobs=1)
    assert c.synthetic
    return c, ds


@pytest.fixture(scope="module")
def report(small, tmp_path_factory):
    c, ds = small
    folder = tmp_path_factory.mktemp("report")
    tables = ReportTables(c, ds)
    figs = F.write_figures(tables, folder)
    page = write_html(tables, folder, figs)
    tex = write_latex_tables(tables, folder)
    return folder, figs, page, tex


BUILDERS = {
    "report_vs_state": lambda c, ds: F.report_vs_state(c, ds),
    "action_vs_message": lambda c, ds: F.action_vs_message(c, ds),
    "inflation_histogram": lambda c, ds: F.inflation_histogram(ds),
    "posterior_type_shares": lambda c, ds: F.posterior_type_shares(ReportTables(c, ds)),
    "parameter_estimates": lambda c, ds: F.parameter_estimates(ReportTables(c)),
    "out_of_sample": lambda c, ds: F.out_of_sample(ReportTables(c)),
}


@pytest.mark.parametrize("name", list(BUILDERS))
def test_each_figure_is_a_figure_marked_synthetic(small, name):
    c, ds = small
    fig = BUILDERS[name](c, ds)
    assert isinstance(fig, Figure)
    assert fig.get_suptitle().endswith("(synthetic data)")
    real = dataclasses.replace(c, synthetic=False)
    if name != "inflation_histogram":
        assert "synthetic" not in BUILDERS[name](real, ds).get_suptitle()


def test_relation_figures_use_the_design_names_and_model_colours(small):
    c, ds = small
    fig = F.report_vs_state(c, ds)
    axes = [ax for ax in fig.axes if ax.get_visible()]
    assert len(axes) == len(ds.design.treatments)
    assert axes[-1].get_xlabel() == "state" and axes[0].get_ylabel() == "message"
    colours = {line.get_color() for ax in axes for line in ax.get_lines()}
    for name in c.fits:
        assert F.model_color(name) in colours
    assert F.model_color("levelk") != F.model_color("trust")
    assert F.model_color("some new model") == F.model_color("some new model")
    fs = load_design("forecast_sharing")
    assert fs.kind.variables == ("forecast", "report", "capacity")


def test_write_figures_png_and_svg(report):
    folder, figs, _, _ = report
    # every figure but trust over rounds (no fitted model here depends on history)
    applies = [name for name in F.FIGURES if name != "trust_over_rounds"]
    assert len(figs) == 2 * len(applies)
    assert not (folder / "trust_over_rounds.png").exists()
    for name in applies:
        png, svg = folder / f"{name}.png", folder / f"{name}.svg"
        assert png in figs and svg in figs
        assert png.stat().st_size > 1000
        img = imread(png)
        assert img.ndim == 3 and img.shape[0] > 100 and img.shape[1] > 100
        assert float(np.std(img[..., :3])) > 0.01, f"{name}.png is blank"
        text = svg.read_text()
        assert "<svg" in text and "</svg>" in text


def test_html_page_is_self_contained(report):
    folder, figs, page, _ = report
    assert page == folder / "index.html"
    text = page.read_text(encoding="utf-8")
    for f in figs:
        if f.suffix == ".png":
            assert f'<img src="{f.name}"' in text
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text and "<link" not in text and "@import" not in text
    assert 'id="synthetic-banner"' in text and "SYNTHETIC DATA" in text
    for name in ("levelk", "trust"):
        assert name in text
    assert "Vuong" in text and "cross-validation" in text
    for g in ("d05", "d12", "d20"):
        assert g in text  # design treatments


def test_html_without_synthetic_banner(small, tmp_path):
    c, ds = small
    real = dataclasses.replace(c, synthetic=False)
    tables = ReportTables(real, ds)
    page = write_html(tables, tmp_path, F.write_figures(tables, tmp_path, ["out_of_sample"]))
    text = page.read_text(encoding="utf-8")
    assert "synthetic-banner" not in text
    assert '<img src="out_of_sample.png"' in text


def test_latex_tables_use_booktabs(report):
    folder, _, _, tex = report
    assert tex == [folder / "comparison.tex", folder / "parameters.tex"]
    for p in tex:
        t = p.read_text()
        assert "\\toprule" in t and "\\midrule" in t and "\\bottomrule" in t
        assert t.count("\\begin{tabular}") == 1 == t.count("\\end{tabular}")
    params = tex[1].read_text()
    assert "lambda\\_s" in params and "lambda_s" not in params
    comp = tex[0].read_text()
    assert "levelk" in comp and "trust" in comp


def _stub_fit(llf, params, se, converged=True):
    params, se = pd.Series(params, dtype=float), pd.Series(se, dtype=float)
    return SimpleNamespace(
        llf=llf, df_model=len(params), aic=2 * len(params) - 2 * llf,
        bic=len(params) * np.log(1000) - 2 * llf, converged=converged, params=params,
        bse_sandwich=se, bse=se, at_bound=[], not_identified=[], derived=pd.Series(dtype=float),
        derived_se=pd.Series(dtype=float))


def test_interpretation_reports_pi_of_combination():
    from cheaptalk.models.combination import Combination

    fits = {"combination": _stub_fit(-400.0, {"pi": 0.4, "lambda_s": 1.0}, {"pi": 0.1,
                                                                             "lambda_s": 0.1}),
            "levelk": _stub_fit(-450.0, {"p1": 0.5}, {"p1": 0.1}, converged=False)}
    fits["combination"].model = Combination()   # which declares its share, pi
    c = Comparison(fits=fits, vuong=[{"a": "combination", "b": "levelk", "z": 3.2,
                                      "p": 0.0014, "favours": "combination"}],
                   cv={"combination": -1.1, "levelk": -1.3}, loto={}, diagnostics=pd.DataFrame(),
                   n_decisions=1000, n_subjects=20, folds=5)
    text = " ".join(interpretation(ReportTables(c)))
    assert "<b>combination</b> fits best by BIC" in text
    assert "π = 0.40 (95% CI 0.20–0.60, Wald)" in text  # a stand-in fit: natural-scale Wald
    assert "strong evidence for combination over levelk" in text
    assert "Not converged: levelk" in text
    assert "in agreement with BIC" in text


def test_figures_do_not_touch_pyplot():
    code = (
        "import sys\n"
        "from cheaptalk.data import load_design, validate_table\n"
        "from cheaptalk.models import get_model\n"
        "from cheaptalk.simulation import Simulation\n"
        "from cheaptalk.report.figures import inflation_histogram\n"
        "d = load_design('crawford_sobel')\n"
        f"df = Simulation(d, get_model('levelk'), {LEVELK!r}, subjects_per_role=2, "
        "rounds=2).run(seed=0)\n"
        "fig = inflation_histogram(validate_table(df, d))\n"
        "fig.savefig(sys.argv[1])\n"
        "assert 'matplotlib.pyplot' not in sys.modules\n"
    )
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([sys.executable, "-c", code, f"{tmp}/x.png"], capture_output=True,
                           text=True, timeout=120)
    assert r.returncode == 0, r.stderr

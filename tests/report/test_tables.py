"""The report's tables (numbers, built once) and their renderers (text, LaTeX, HTML), on stub
fits whose numbers are known, so that every value can be checked by hand."""

import re
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.compare import Comparison
from cheaptalk.estimation.intervals import INTERVAL_METHODS
from cheaptalk.models import get_model
from cheaptalk.report.figures import parameter_estimates
from cheaptalk.report.folder import write_tables
from cheaptalk.report.html import interpretation, render_html
from cheaptalk.report.latex import latex_tables
from cheaptalk.report.tables import ReportTables
from cheaptalk.report.text import comparison_text
from cheaptalk.simulation import Simulation

Z = norm.ppf(0.975)


def _fit(llf, params, se, at_bound=(), derived=None, converged=True, nobs=400,
         not_identified=()):
    params, se = pd.Series(params, dtype=float), pd.Series(se, dtype=float)
    derived = derived or {}
    k = int(se.notna().sum())
    return SimpleNamespace(
        llf=llf, df_model=k, aic=2 * k - 2 * llf, bic=k * np.log(nobs) - 2 * llf,
        converged=converged, params=params, bse=se * 1.5, bse_sandwich=se,
        at_bound=list(at_bound), not_identified=list(not_identified),
        derived=pd.Series({n: v for n, (v, _) in derived.items()}, dtype=float),
        derived_se=pd.Series({n: s for n, (_, s) in derived.items()}, dtype=float),
        posterior=pd.DataFrame({"subject": ["s1"], "role": ["sender"], "treatment": ["A"],
                                "type": ["T1"], "type_probability": [0.9], "family": ["F"],
                                "family_probability": [0.9]}),
        to_dict=lambda: {"loglik": llf}, summary=lambda: f"fit summary {llf}")


@pytest.fixture
def comparison():
    fits = {
        "alpha": _fit(-200.0, {"a_1": 0.5, "b": -1.25, "c": 0.0},
                      {"a_1": 0.1, "b": 0.4, "c": 0.3}, at_bound=["c"],
                      derived={"mean_a": (0.7, 0.05)}),
        "beta": _fit(-230.0, {"q": 2.0, "held": 1.0, "inert": 0.5},
                     {"q": 0.25, "held": np.nan, "inert": np.nan}, converged=False,
                     not_identified=["inert"]),
    }
    return Comparison(
        fits=fits,
        vuong=[{"a": "alpha", "b": "beta", "z": 2.5, "p": 0.0124, "favours": "alpha"}],
        cv={"alpha": -0.51, "beta": -0.58},
        loto={"alpha": {"A": -0.5, "B": -0.6}, "beta": {"A": -0.7, "B": -0.4}},
        diagnostics=pd.DataFrame(), n_decisions=400, n_subjects=20, folds=4)


def test_comparison_table_by_hand(comparison):
    t = ReportTables(comparison).comparison
    assert list(t.index) == ["alpha", "beta"]
    assert t.loc["alpha", "loglik"] == -200.0 and t.loc["beta", "n_params"] == 1
    assert t.loc["alpha", "bic"] == pytest.approx(3 * np.log(400) + 400)
    assert t.loc["alpha", "loto_loglik_per_decision"] == pytest.approx((-0.5 - 0.6) / 2)
    assert t.loc["beta", "cv_loglik_per_decision"] == -0.58
    assert not t.loc["beta", "converged"]
    no_cv = ReportTables(Comparison(**{**comparison.__dict__, "cv": {}, "loto": {}}))
    assert no_cv.comparison[["cv_loglik_per_decision", "loto_loglik_per_decision"]].isna(
    ).all().all()


def test_parameter_table_intervals_bounds_fixed_and_derived(comparison):
    p = ReportTables(comparison).parameters.set_index(["model", "parameter"])
    assert list(p.index) == [("alpha", "a_1"), ("alpha", "b"), ("alpha", "c"),
                             ("alpha", "mean_a"), ("beta", "q"), ("beta", "held"),
                             ("beta", "inert")]
    row = p.loc[("alpha", "b")]
    assert row["ci_lower"] == pytest.approx(-1.25 - Z * 0.4)
    assert row["ci_upper"] == pytest.approx(-1.25 + Z * 0.4)
    assert row["se_hessian"] == pytest.approx(0.6) and row["se_sandwich"] == 0.4
    assert not row["at_bound"] and not row["fixed"] and not row["derived"]
    bound = p.loc[("alpha", "c")]
    assert bound["at_bound"] and not bound["fixed"]
    assert np.isnan(bound["ci_lower"]) and np.isnan(bound["ci_upper"])
    fixed = p.loc[("beta", "held")]
    assert fixed["fixed"] and not fixed["at_bound"] and np.isnan(fixed["ci_lower"])
    derived = p.loc[("alpha", "mean_a")]
    assert derived["derived"] and np.isnan(derived["se_hessian"])
    assert derived["ci_lower"] == pytest.approx(0.7 - Z * 0.05)


def test_a_parameter_without_sandwich_error_is_estimated_not_fixed(comparison):
    """Too few subjects inform ``a_1``: no sandwich error, but a Hessian one. The report
    does not call it fixed, as the fit's own summary does not (one rule for both)."""
    fit = comparison.fits["alpha"]
    fit.bse_sandwich = fit.bse_sandwich.copy()
    fit.bse_sandwich["a_1"] = np.nan
    p = ReportTables(comparison).parameters.set_index("parameter")
    assert not p.loc["a_1", "fixed"] and np.isnan(p.loc["a_1", "se_sandwich"])
    assert p.loc["a_1", "se_hessian"] == pytest.approx(0.15)
    assert p.loc["held", "fixed"]


def test_out_of_sample_and_loto_tables(comparison):
    t = ReportTables(comparison)
    o = t.out_of_sample
    assert list(o.columns) == [("cv", ""), ("loto", "A"), ("loto", "B")]
    assert o.loc["beta", ("loto", "B")] == -0.4 and o.loc["alpha", ("cv", "")] == -0.51
    long = t.loto
    assert len(long) == 4
    assert long.set_index(["model", "treatment"]).loc[("beta", "A"), "loglik_per_decision"] \
        == -0.7
    assert t.vuong.to_dict("records") == comparison.vuong


def test_text_renders_the_comparison_table(comparison):
    text = comparison_text(ReportTables(comparison))
    alpha = next(line for line in text.splitlines() if line.startswith("alpha"))
    bic = 3 * np.log(400) + 400
    assert alpha.split() == ["alpha", "-200.0", "3", "406.0", f"{bic:.1f}", "-0.5100",
                             "-0.5500"]
    assert "(not converged)" in next(line for line in text.splitlines()
                                     if line.startswith("beta"))
    assert "4-fold cross-validation by subject" in text
    assert "Best by BIC: alpha; best out of sample (CV): alpha" in text
    assert re.search(r"alpha vs beta\s+z =\s+2\.50\s+p = 0\.0124", text)


def test_latex_renders_the_parameter_table(comparison):
    tex = latex_tables(ReportTables(comparison))["parameters.tex"]
    lines = [line for line in tex.splitlines() if "\\texttt" in line]
    assert len(lines) == 6  # estimates only, not the derived quantity
    b = next(line for line in lines if "{b}" in line)
    assert f"[${-1.25 - Z * 0.4:.3f}$, ${-1.25 + Z * 0.4:.3f}$]" in b and "$-1.250$" in b
    assert "(0.400)" in b
    assert "at bound" in next(line for line in lines if "{c}" in line)
    assert "not identified" in next(line for line in lines if "{inert}" in line)
    assert "fixed" in next(line for line in lines if "{held}" in line)
    assert lines[0].startswith("alpha & \\texttt{a\\_1}") and lines[1].startswith(" & ")
    comp = latex_tables(ReportTables(comparison))["comparison.tex"]
    assert "alpha & $-200.0$ & 3 & 406.0" in comp


@pytest.mark.parametrize("method", list(INTERVAL_METHODS))
def test_every_interval_method_is_named_in_every_renderer(comparison, dataset, method):
    """One registry names the methods: the LaTeX mark and caption, the HTML column and the
    figure's label all come from it, for every method it holds."""
    tables = ReportTables(comparison, dataset)
    reported = tables.parameters["ci_method"].notna()
    tables.__dict__["parameters"] = tables.parameters.assign(
        ci_method=tables.parameters["ci_method"].where(~reported, method))
    named = INTERVAL_METHODS[method]
    tex = latex_tables(tables)["parameters.tex"]
    b = next(line for line in tex.splitlines() if "{b}" in line)
    assert b.rstrip(" \\").endswith(f"& {named.mark}")
    assert f"{named.mark}: {named.label}" in tex  # (no LaTeX specials in the labels)
    page = render_html(tables, [])
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page) if "<td>b</td>" in r)
    assert re.findall(r"<td>(.*?)</td>", row)[6] == named.short
    fig = parameter_estimates(tables)
    labels = [t.get_text() for ax in fig.axes for t in ax.get_yticklabels()]
    assert f"b{' ' + named.figure_mark if named.figure_mark else ''}" in labels
    assert len({m.mark for m in INTERVAL_METHODS.values()}) == len(INTERVAL_METHODS)


def test_csv_tables_are_the_tables(comparison, tmp_path):
    tables = ReportTables(comparison)
    write_tables(tables, tmp_path)
    back = pd.read_csv(tmp_path / "parameters.csv")
    pd.testing.assert_frame_equal(back, tables.parameters, check_dtype=False)
    assert list(back.columns[:6]) == ["model", "parameter", "estimate", "se_sandwich",
                                      "se_hessian", "at_bound"]
    cmp = pd.read_csv(tmp_path / "comparison.csv", index_col="model")
    pd.testing.assert_frame_equal(cmp, tables.comparison, check_dtype=False)
    summary = (tmp_path / "summary.txt").read_text()
    assert summary == (comparison_text(tables) + "\n\nfit summary -200.0\n\n"
                       "fit summary -230.0\n")


@pytest.fixture(scope="module")
def dataset():
    d = load_design("crawford_sobel")
    df = Simulation(d, get_model("levelk"), {"p0": 0.2, "p1": 0.4, "p2": 0.3, "p3": 0.1,
                                             "lambda_s": 0.4, "lambda_r": 0.2},
                    subjects_per_role=2, rounds=2).run(seed=0)
    return validate_table(df, d, source="tiny <data> & more")


def test_html_escapes_everything_it_is_given(comparison, dataset):
    evil = "<script>alert(1)</script>"
    fits = dict(comparison.fits)
    fits[evil] = fits.pop("beta")
    c = Comparison(**{**comparison.__dict__, "fits": fits,
                      "vuong": [{**comparison.vuong[0], "b": evil}],
                      "cv": {"alpha": -0.51, evil: -0.58},
                      "loto": {"alpha": {"A": -0.5}, evil: {"A": -0.7}},
                      "notes": ["a note with <b>markup</b> & an ampersand"]})
    page = render_html(ReportTables(c, dataset), [])
    assert "<script" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "a note with &lt;b&gt;markup&lt;/b&gt; &amp; an ampersand" in page
    assert "tiny &lt;data&gt; &amp; more" in page
    # the interpretation's own emphasis is kept, the names inside it escaped
    assert "<b>alpha</b> fits best by BIC" in page
    assert "Not converged: &lt;script&gt;" in " ".join(interpretation(ReportTables(c)))


def test_html_shows_the_tables_numbers(comparison, dataset):
    page = render_html(ReportTables(comparison, dataset), [])
    cells = re.findall(r"<td>(.*?)</td>", page)
    assert f"{-1.25 - Z * 0.4:.4f}" in cells and f"{0.7 + Z * 0.05:.4f}" in cells
    assert "at bound" in cells and "fixed" in cells and "derived" in cells
    rows = {tuple(re.findall(r"<td>(.*?)</td>", r))[1]: re.findall(r"<td>(.*?)</td>", r)
            for r in re.findall(r"<tr>(.*?)</tr>", page) if r.count("<td>") == 8}
    # the sandwich standard error; a stand-in fit has the natural-scale Wald interval
    assert rows["b"] == ["alpha", "b", "-1.2500", "0.4000", f"{-1.25 - Z * 0.4:.4f}",
                         f"{-1.25 + Z * 0.4:.4f}", "Wald", ""]
    assert rows["c"][3:] == ["–", "–", "–", "", "at bound"]
    assert rows["held"][3:] == ["–", "–", "–", "", "fixed"]
    assert rows["inert"][3:] == ["–", "–", "–", "", "not identified"]
    p = ReportTables(comparison).parameters.set_index("parameter")
    assert p.loc["inert", "not_identified"] and not p.loc["inert", "fixed"]
    assert p.loc["held", "fixed"] and not p.loc["held", "not_identified"]
    assert "-0.5100" in cells and "-0.4000" in cells  # CV, LOTO B of beta
    assert "moderate" in cells  # Vuong p = 0.0124
    assert "d05" in page and "Out of sample" in page
    assert "<h2>Notes</h2>" not in page


@pytest.mark.parametrize(("strategic", "rest"), [("levelk", "level-k types"),
                                                  ("ch", "cognitive-hierarchy types")])
def test_a_declared_mixture_share_is_stated_in_words(strategic, rest):
    """The report states the share a model declares (Model.mixture_share), under the fit's
    own label and with the model's own words for both kinds of subject."""
    from cheaptalk.models.combination import Combination

    fit = _fit(-150.0, {"pi": 0.65, "alpha_a": 2.0}, {"pi": 0.05, "alpha_a": 0.5})
    fit.model = Combination(strategic=strategic)
    other = _fit(-200.0, {"q": 1.0}, {"q": 0.1})
    other.model = get_model("levelk")   # declares no share
    label = f"combination[strategic={strategic}]"
    c = Comparison(fits={label: fit, "levelk": other}, vuong=[], cv={}, loto={},
                   diagnostics=pd.DataFrame(), n_decisions=400, n_subjects=40, folds=0)
    tables = ReportTables(c)
    shares = tables.mixture_shares
    assert shares[["model", "parameter", "kind", "rest"]].values.tolist() == [
        [label, "pi", "trust types", rest]]
    assert shares["ci_lower"].iloc[0] == pytest.approx(0.65 - Z * 0.05)
    text = " ".join(str(m) for m in interpretation(tables))
    assert (f"The best model mixes trust types and {rest}: the estimated share of trust "
            f"types is π = 0.65 (95% CI {0.65 - Z * 0.05:.2f}–{0.65 + Z * 0.05:.2f}, Wald), "
            f"so about 65% of subjects behave as trust types and the rest as {rest}.") in text

"""Model comparison: cross-validation and leave-one-treatment-out scores are log-likelihoods
per decision (checked exactly on a model without free parameters), Vuong tests, the
comparison's tables and JSON."""

import numpy as np
import pytest

from cheaptalk.estimation.compare import compare, held_out_score
from cheaptalk.report.tables import comparison_table
from toy_model import TRUE, Honest, Toy


class Fixed(Toy):
    """The toy at TRUE with nothing to estimate: every fit, on any part of the data, gives
    the same strategies, so held-out scores can be computed from the full-sample fit."""

    name = "fixed"

    def parameter_names(self):
        return ()

    def default_params(self, game=None):
        return {}

    def bounds(self, game=None):
        return {}

    def check_params(self, params):
        return dict(TRUE)

    def predict_with_pullback(self, game, params):
        pred, _ = Toy.predict_with_pullback(self, game, TRUE)
        return pred, lambda *_: {}


def test_held_out_scores_are_per_decision_when_nothing_is_estimated(cs_data):
    c = compare([Fixed()], cs_data, folds=4, n_starts=1, jobs=1)
    fit = c.fits["fixed"]
    assert fit.df_model == 0
    # every decision is held out exactly once: the CV score is the log-likelihood per decision
    assert c.cv["fixed"] == pytest.approx(fit.llf / fit.nobs, rel=1e-12)
    t = cs_data.table
    for g in cs_data.design.treatments:
        n_g = 2 * int((t["treatment"] == g).sum())  # a sender and a receiver decision per row
        assert c.loto["fixed"][g] == pytest.approx(fit.llf_by_treatment[g] / n_g, rel=1e-12)
    row = comparison_table(c).loc["fixed"]
    assert row["cv_loglik_per_decision"] == pytest.approx(fit.llf / fit.nobs, rel=1e-12)
    assert row["loto_loglik_per_decision"] == pytest.approx(
        np.mean([fit.llf_by_treatment[g] / (2 * int((t["treatment"] == g).sum()))
                 for g in cs_data.design.treatments]), rel=1e-12)


def test_held_out_score_pools_parts_by_decision():
    # (-10 - 2 - 3) / (4 + 2 + 9): a mean over decisions, not over parts
    assert held_out_score([(-10.0, 4), (-2.0, 2), (-3.0, 9)]) == pytest.approx(-1.0)
    assert held_out_score([(-6.0, 3)]) == pytest.approx(-2.0)


def test_compare_runs_cv_loto_and_vuong(cs_data):
    toy, honest = Toy(), Honest()
    toy.name, honest.name = "toy", "honest"  # instance names (not registered)
    c = compare([toy, honest], cs_data, folds=3, n_starts=1, jobs=2)
    table = comparison_table(c)
    assert list(table.index) == ["toy", "honest"]
    assert c.best_bic == "toy"  # data come from the toy with q = 0.6
    v = c.vuong[0]
    assert v["a"] == "toy" and v["z"] > 0 and v["favours"] == "toy"
    assert set(c.cv) == {"toy", "honest"} and c.cv["toy"] > c.cv["honest"]
    # out of sample, per decision: close to (and below) the in-sample fit per decision
    for name, fit in c.fits.items():
        assert fit.llf / fit.nobs - 0.05 < c.cv[name] < fit.llf / fit.nobs + 1e-3
        for score in c.loto[name].values():
            assert np.log(1 / 9) * 1.5 < score < 0
    assert set(c.loto["toy"]) == set(cs_data.design.treatments)
    d = c.to_dict()
    for key in ("models", "vuong", "best_bic", "n_decisions", "n_subjects"):
        assert key in d
    for key in ("name", "loglik", "n_params", "aic", "bic", "params", "se", "loglik_by_role",
                "loglik_by_treatment", "cv_loglik_per_decision"):
        assert key in d["models"][0]
    assert d["models"][0]["cv_loglik_per_decision"] == c.cv["toy"]
    assert d["synthetic"] is True
    assert {"observed", "toy", "honest"} <= set(c.diagnostics.columns)


def test_results_do_not_depend_on_the_backend(cs_data):
    from cheaptalk.runner import InProcess, ProcessPool

    toy = Toy()
    toy.name = "toy"
    said = []
    here = compare([toy], cs_data, folds=2, n_starts=1, backend=InProcess(),
                   progress=said.append)
    pool = compare([toy], cs_data, folds=2, n_starts=1, backend=ProcessPool(2))
    assert here.cv == pool.cv and here.loto == pool.loto
    assert here.fits["toy"].llf == pool.fits["toy"].llf
    # one progress call per fit: the full sample, 2 folds, 3 left-out treatments
    assert len(said) == 6 and said[0] == "fitting toy"


def test_too_few_subjects_for_the_folds_is_a_note(cs_data):
    fixed = Fixed()
    c = compare([fixed], cs_data, folds=10_000, n_starts=1, jobs=1,
                leave_one_treatment_out=False)
    assert c.cv == {} and c.loto == {} and c.folds == 0
    assert c.notes and "cross-validation skipped" in c.notes[0]

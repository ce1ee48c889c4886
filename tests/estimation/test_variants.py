"""Variants of one model (different options) compared side by side, and the Vuong test when
two fits coincide."""

from types import SimpleNamespace

import numpy as np
import pytest
from scipy.stats import norm

from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.compare import INDISTINGUISHABLE, compare, vuong_test
from cheaptalk.models import get_model
from cheaptalk.simulation import Simulation

TRUST = {"alpha_a": 2.0, "alpha_b": 2.0, "beta_mu": 0.0, "beta_sigma": 0.5,
         "lambda_s": 0.3, "lambda_r": 0.3}


def _fit(label, subject_llf, k, nobs=100):
    return SimpleNamespace(model=SimpleNamespace(label=label), df_model=k, nobs=nobs,
                           subject_llf=np.asarray(subject_llf, dtype=float))


def test_vuong_by_hand():
    a = _fit("a", [-10.0, -12.0, -9.0, -11.0], 3)
    b = _fit("b", [-11.0, -12.5, -9.5, -12.0], 2)
    d = np.array([1.0, 0.5, 0.5, 1.0])
    z = (d.sum() - 0.5 * np.log(100)) / (2 * np.std(d))
    v = vuong_test(a, b)
    assert v["z"] == pytest.approx(z) and v["p"] == pytest.approx(2 * norm.sf(abs(z)))
    assert v["favours"] == ("a" if z > 0 else "b")


def test_coinciding_fits_are_no_evidence_either_way():
    base = np.array([-10.0, -12.0, -9.0, -11.0])
    noise = 0.3 * INDISTINGUISHABLE * np.array([1.0, -1.0, 0.5, 0.0])
    v = vuong_test(_fit("levelk", base, 5), _fit("levelk[levels=2]", base + noise, 4))
    assert v == {"a": "levelk", "b": "levelk[levels=2]", "z": 0.0, "p": 1.0,
                 "favours": "neither"}
    # a real difference is still tested (Schwarz correction included)
    assert vuong_test(_fit("x", base, 5), _fit("y", base + 0.01 * np.arange(4), 4))["p"] < 1


@pytest.fixture(scope="module")
def data():
    d = load_design("crawford_sobel")
    df = Simulation(d, get_model("trust"), TRUST, subjects_per_role=6, rounds=10).run(seed=3)
    return validate_table(df, d)


def test_compare_keys_variants_by_label(data):
    variants = [get_model("trust"), get_model("trust", lie_cost="quadratic")]
    c = compare(variants, data, folds=0, n_starts=1, jobs=1)
    assert list(c.fits) == ["trust", "trust[lie_cost=quadratic]"]
    assert c.vuong[0]["a"] == "trust" and c.vuong[0]["b"] == "trust[lie_cost=quadratic]"
    entries = c.to_dict()["models"]
    assert [m["label"] for m in entries] == list(c.fits)
    assert entries[1]["options"]["lie_cost"] == "quadratic"
    with pytest.raises(ValueError, match="listed twice"):
        compare([get_model("trust"), get_model("trust")], data, folds=0, jobs=1)

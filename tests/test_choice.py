import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from cheaptalk.choice import best_response, logit, tremble

values = arrays(float, st.tuples(st.integers(1, 4), st.integers(1, 6)),
                elements=st.floats(-1e4, 1e4))


@given(values, st.floats(0, 1e6))
def test_logit_rows_are_distributions(u, lam):
    p = logit(u, lam)
    assert np.all(np.isfinite(p)) and np.all(p >= 0)
    np.testing.assert_allclose(p.sum(axis=-1), 1.0)


def test_logit_matches_textbook_formula():
    u = np.array([1.0, 2.0, 4.0])
    lam = 0.7
    expected = np.exp(lam * u) / np.exp(lam * u).sum()
    np.testing.assert_allclose(logit(u, lam), expected, rtol=1e-14)


def test_logit_is_stable_for_huge_precision():
    p = logit([0.0, 1e-3, 1.0], 1e9)
    np.testing.assert_allclose(p, [0, 0, 1])


def test_infinite_precision_is_best_response_with_even_ties():
    u = np.array([[3.0, 1.0, 3.0, 2.0]])
    np.testing.assert_array_equal(logit(u, np.inf), [[0.5, 0, 0.5, 0]])
    # floating-point noise in payoff sums still counts as a tie
    np.testing.assert_array_equal(best_response([0.1 + 0.2, 0.3]), [0.5, 0.5])


def test_zero_precision_is_uniform():
    np.testing.assert_allclose(logit([5.0, -2.0, 1.0, 0.0], 0.0), 0.25)


@pytest.mark.parametrize("lam", [-1.0, np.nan])
def test_logit_rejects_bad_precision(lam):
    with pytest.raises(ValueError, match="precision"):
        logit([1.0, 2.0], lam)


def test_tremble_mixes_with_uniform():
    p = tremble(np.array([[1.0, 0.0, 0.0, 0.0]]), 0.2)
    np.testing.assert_allclose(p, [[0.85, 0.05, 0.05, 0.05]])
    with pytest.raises(ValueError):
        tremble([1.0], 1.5)

"""Bootstrap over subjects: the resampling counts, each replication maximises the weighted
likelihood, the standard errors are the draws' standard deviations, and the backend does
not change the numbers."""

import numpy as np
import pandas as pd
import pytest

from cheaptalk.estimation.bootstrap import BootstrapReplication, bootstrap, resample_counts
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.estimation.mle import MaximumLikelihood
from toy_model import Toy


@pytest.fixture(scope="module")
def full_fit(cs_data):
    return MaximumLikelihood(Toy(), cs_data).fit(n_starts=1)


def test_resample_counts():
    counts = resample_counts(7, 50, seed=3)
    assert len(counts) == 50
    for c in counts:
        assert c.shape == (7,) and c.sum() == 7 and (c >= 0).all()
        np.testing.assert_array_equal(c, np.round(c))
    again = resample_counts(7, 50, seed=3)
    assert all(np.array_equal(a, b) for a, b in zip(counts, again, strict=True))
    other = resample_counts(7, 50, seed=4)
    assert not all(np.array_equal(a, b) for a, b in zip(counts, other, strict=True))
    # each subject is drawn once per draw on average
    assert np.mean(counts, axis=0) == pytest.approx(np.ones(7), abs=0.4)


def test_a_replication_maximises_the_weighted_likelihood(cs_data, full_fit):
    start = full_fit.params.to_dict()
    n = Likelihood(Toy(), cs_data).n_subjects
    ones = BootstrapReplication(Toy(), cs_data, full_fit.epsilon, start, np.ones(n), 0, 1)
    # every subject once: the full-sample estimate again
    assert ones.run() == pytest.approx(start, rel=1e-4)
    counts = resample_counts(n, 1, seed=8)[0]
    task = BootstrapReplication(Toy(), cs_data, full_fit.epsilon, start, counts, 0, 1)
    estimate = task.run()
    assert estimate != pytest.approx(start, rel=1e-3)
    lik = Likelihood(Toy(), cs_data, epsilon=full_fit.epsilon)
    lik.subject_weights = counts
    gradient = lik.evaluate(estimate, gradient=True).gradient
    # first-order condition of the weighted log-likelihood (all parameters interior), where
    # the full-sample estimate is far from it
    at_start = lik.evaluate(start, gradient=True).gradient
    worst = max(abs(g) for g in gradient.values())
    assert worst < 1e-2 * max(abs(g) for g in at_start.values()), (gradient, at_start)
    assert task.description.endswith(": 1/1")


def test_standard_errors_are_the_standard_deviations_of_the_draws(cs_data, full_fit):
    said = []
    draws = bootstrap(full_fit, cs_data, replications=4, seed=2, jobs=1, progress=said.append)
    assert list(draws.columns) == list(full_fit.params.index) and len(draws) == 4
    for name in draws.columns:
        values = draws[name].to_numpy()
        sd = np.sqrt(((values - values.mean()) ** 2).sum() / (len(values) - 1))
        assert full_fit.bse_bootstrap[name] == pytest.approx(sd, rel=1e-12)
    assert len(said) == 4
    ci = full_fit.conf_int(kind="bootstrap")  # percentile intervals of the draws
    for name in draws.columns:
        lo, hi = np.percentile(draws[name].to_numpy(), [2.5, 97.5])
        assert ci.loc[name, ["lower", "upper"]].tolist() == pytest.approx([lo, hi])


@pytest.mark.slow
def test_bootstrap_standard_errors_agree_with_sandwich(cs_data):
    res = MaximumLikelihood(Toy(), cs_data).fit(n_starts=1)
    draws = bootstrap(res, cs_data, replications=30, seed=1, jobs=2)
    assert len(draws) == 30 and res.bse_bootstrap is not None
    ratio = res.bse_bootstrap / res.bse_sandwich
    assert ((ratio > 0.5) & (ratio < 2.0)).all(), ratio
    again = bootstrap(res, cs_data, replications=30, seed=1, jobs=1)
    pd.testing.assert_frame_equal(draws, again)

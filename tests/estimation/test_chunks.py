"""The likelihood evaluated chunk by chunk (SPEC §5.1) equals the evaluation in one piece."""

import numpy as np
import pytest

from cheaptalk.choice import TREMBLE
from cheaptalk.data import load_data, load_design
from cheaptalk.demo import demo_data_path
from cheaptalk.estimation.likelihood import DEFAULT_CHUNK_SIZE, Likelihood
from cheaptalk.models import get_model

WHOLE = 10**9  # more decisions than the data have: one chunk per role


@pytest.fixture(scope="module")
def demo():
    return load_data(demo_data_path(), load_design("forecast_sharing"))


def _params(name, data):
    model = get_model(name)
    params = model.default_params(data.design.game(data.design.treatments[0]))
    return model, params


def _same(a, b):
    assert a.loglik == pytest.approx(b.loglik, rel=0, abs=1e-9)
    assert a.by_treatment.keys() == b.by_treatment.keys()
    for key in a.by_treatment:
        assert a.by_treatment[key] == pytest.approx(b.by_treatment[key], rel=0, abs=1e-9)
    for role in ("sender", "receiver"):
        np.testing.assert_allclose(a.unit_loglik[role], b.unit_loglik[role], rtol=0, atol=1e-9)
        np.testing.assert_allclose(a.posterior[role], b.posterior[role], rtol=0, atol=1e-9)
    if b.gradient is not None:
        assert a.gradient.keys() == b.gradient.keys()
        for name, value in b.gradient.items():
            assert a.gradient[name] == pytest.approx(value, rel=1e-9, abs=1e-9), name


@pytest.mark.parametrize("name", ["trust", "levelk", "dynamic_trust"])
def test_chunked_equals_whole_value_and_gradient(demo, name):
    model, params = _params(name, demo)
    whole = Likelihood(model, demo, chunk_size=WHOLE)
    assert [len(whole.chunks[r]) for r in ("sender", "receiver")] == [1, 1]
    expected = whole.evaluate(params, gradient=True)
    assert expected.gradient and any(v != 0 for v in expected.gradient.values())
    for size in (1, 7, 100):
        _same(Likelihood(model, demo, chunk_size=size).evaluate(params, gradient=True), expected)


def test_one_unit_per_chunk_at_chunk_size_one(demo):
    lik = Likelihood(get_model("levelk"), demo, chunk_size=1)
    for role in ("sender", "receiver"):
        assert len(lik.chunks[role]) == len(lik.units[role])
        assert [c.stop - c.start for c in lik.chunks[role]] == [1] * len(lik.units[role])


def test_chunks_hold_about_chunk_size_decisions_and_split_no_unit(demo):
    size = 100
    lik = Likelihood(get_model("levelk"), demo, chunk_size=size)
    table = demo.table
    for role in ("sender", "receiver"):
        per_unit = table[role].value_counts()
        seen = []
        for chunk in lik.chunks[role]:
            n = sum(cb.block.flat.size for cb in chunk.blocks)
            units = lik.units[role][chunk.start:chunk.stop]
            # every decision of each of the chunk's units, and no more than one unit beyond
            assert n == sum(per_unit[u] for u in units)
            assert n - per_unit[units[-1]] < size
            seen += units
        assert seen == lik.units[role]


def test_estimated_tremble_bootstrap_weights_and_a_subset_of_subjects(demo):
    """The tremble's gradient, subject weights and cross-validation's subject subsets go
    through the chunks as through the whole."""
    model, params = _params("trust", demo)
    params = {**params, TREMBLE: 0.02}
    some = sorted(set(demo.table["sender"]))[::3] + sorted(set(demo.table["receiver"]))[::2]
    whole = Likelihood(model, demo, subjects=some, chunk_size=WHOLE)
    part = Likelihood(model, demo, subjects=some, chunk_size=5)
    counts = np.random.default_rng(0).integers(0, 3, whole.n_subjects).astype(float)
    whole.subject_weights = part.subject_weights = counts
    expected = whole.evaluate(params, gradient=True)
    assert TREMBLE in expected.gradient
    _same(part.evaluate(params, gradient=True), expected)


def test_default_chunk_size_and_bad_sizes(demo):
    assert Likelihood(get_model("levelk"), demo).chunk_size == DEFAULT_CHUNK_SIZE
    with pytest.raises(ValueError, match="chunk_size"):
        Likelihood(get_model("levelk"), demo, chunk_size=0)


def test_a_unit_spanning_treatments_is_labelled_and_chunked_whole(demo):
    from cheaptalk.data import validate_table

    table = demo.table.copy()
    table.loc[table["sender"] == "LH-S01", "sender"] = "LL-S01"  # one sender in LL and LH
    data = validate_table(table, demo.design)
    model, params = _params("levelk", data)
    lik = Likelihood(model, data, chunk_size=7)
    for role in ("sender", "receiver"):  # independent: the treatments each unit played
        played = data.table.groupby(role)["treatment"].agg(set)
        expected = ["+".join(g for g in lik.treatments if g in played[u])
                    for u in lik.units[role]]
        assert lik.unit_treatment[role] == expected
    assert lik.unit_treatment["sender"][lik.units["sender"].index("LL-S01")] == "LL+LH"
    expected = Likelihood(model, data, chunk_size=WHOLE).evaluate(params, gradient=True)
    assert "LL+LH" in expected.by_treatment
    _same(lik.evaluate(params, gradient=True), expected)


def _four_copies(demo):
    """Four copies of the demo's subjects (4 × 3,840 decisions)."""
    import pandas as pd

    from cheaptalk.data import validate_table

    copies = []
    for c in range(4):
        t = demo.table.copy()
        t["sender"] = t["sender"] + f"-{c}"
        t["receiver"] = t["receiver"] + f"-{c}"
        t["round"] = t["round"] + 100 * c
        copies.append(t)
    return validate_table(pd.concat(copies, ignore_index=True), demo.design)


def _peak_growth(model, params, small, big, size):
    """How much more memory an evaluation (value and gradient) takes on ``big`` than on
    ``small``, in chunks of ``size`` decisions."""
    import tracemalloc

    def peak(data):
        lik = Likelihood(model, data, chunk_size=size)
        lik.evaluate(params, gradient=True)  # caches warm
        tracemalloc.start()
        try:
            lik.evaluate(params, gradient=True)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    return peak(big) - peak(small)


@pytest.mark.slow
def test_memory_is_bounded_by_a_chunk_not_by_the_data(demo):
    """Per decision (a role whose play has a history: dynamic trust's receivers), an
    evaluation in one piece holds types × decisions arrays, so four times the data add at
    least one such array; in chunks the peak grows by far less."""
    big = _four_copies(demo)
    model, params = _params("dynamic_trust", demo)
    assert model.history_roles == ("receiver",)
    chunked = _peak_growth(model, params, demo, big, 500)
    whole = _peak_growth(model, params, demo, big, WHOLE)
    # one-piece growth: at least one (64 types x 3 x 1,920 receiver decisions) float array
    assert whole > 64 * 3 * 1920 * 8, whole / 2**20
    assert chunked < whole / 4, (chunked / 2**20, whole / 2**20)


@pytest.mark.slow
def test_a_static_role_holds_cells_not_decisions(demo):
    """A static model's decisions are summed per cell: four times the data, even in one
    piece, add far less than one types × decisions array (161 trust sender types × 3 ×
    1,920 added sender decisions)."""
    big = _four_copies(demo)
    model, params = _params("trust", demo)
    per_decision = 161 * 3 * 1920 * 8
    for size in (500, WHOLE):
        growth = _peak_growth(model, params, demo, big, size)
        assert growth < per_decision / 2, (size, growth / 2**20, per_decision / 2**20)


def test_a_fit_in_chunks_of_one_subject_gives_the_default_fit(monkeypatch):
    """``MaximumLikelihood(chunk_size=...)`` reaches every likelihood the fit builds (the
    quadrature check's too) and moves neither the estimates nor the log-likelihood."""
    from cheaptalk.data import validate_table
    from cheaptalk.estimation import mle
    from cheaptalk.simulation import Simulation

    design = load_design("binary_deception")  # a small game: two trust fits in seconds
    model = get_model("trust")
    truth = model.default_params(design.game(design.treatments[0]))
    data = validate_table(Simulation(design, model, truth, subjects_per_role=4,
                                     rounds=6).run(seed=5), design)
    built = []

    class Recorded(Likelihood):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            built.append(self.chunk_size)

    monkeypatch.setattr(mle, "Likelihood", Recorded)
    default = mle.MaximumLikelihood(model, data).fit(n_starts=1)
    assert built == [DEFAULT_CHUNK_SIZE, DEFAULT_CHUNK_SIZE]  # the fit's and the check's
    built.clear()
    estimator = mle.MaximumLikelihood(model, data, chunk_size=1)
    assert [len(estimator.likelihood.chunks[r]) for r in ("sender", "receiver")] == [
        len(estimator.likelihood.units[r]) for r in ("sender", "receiver")]
    tiny = estimator.fit(n_starts=1)
    assert built == [1, 1]
    # The two likelihoods agree to rounding (test above); on data this small the optimum
    # is a flat ridge (beta_mu near -19), along which rounding moves the estimates, so the
    # fits are compared by the maximum they reach, and the chunked fit's per-subject values
    # against the one-piece likelihood at its estimate.
    assert tiny.llf == pytest.approx(default.llf, rel=0, abs=1e-6)
    whole = Likelihood(model, data)
    at_tiny = whole.subject_loglik(whole.evaluate(tiny.params.to_dict()))
    np.testing.assert_allclose(tiny.subject_llf, at_tiny, rtol=0, atol=1e-9)
    assert abs(tiny.convergence["quadrature"]["loglik_change_when_doubled"]) < 0.01


def _expected_choices_in_one_piece(model, params, data, role, epsilon):
    """Each row's expected choice from the whole role's record at once (all decisions of
    a treatment together, the history of every unit in one piece): no chunks."""
    from cheaptalk.choice import tremble

    lik = Likelihood(model, data, epsilon=epsilon, chunk_size=WHOLE)
    out = np.full(len(data.table), np.nan)
    table_rows = np.flatnonzero(lik.masks[role])
    for block in lik.blocks[role]:
        game = lik.games[block.treatment]
        values = game.actions if role == "receiver" else game.messages
        weights, strategies, _ = model.predict(game, params).role_types(role)
        if role in lik.histories:
            expected = sum(
                w * (tremble(model.history_strategy_rows(
                    game, params, role, lik.histories[role], block.rows, block.x,
                    np.full(block.rows.size, k, dtype=np.intp)), epsilon) @ values)
                for k, w in enumerate(weights))
        else:
            expected = (tremble(np.tensordot(weights, strategies, axes=1), epsilon)
                        @ values)[block.x]
        out[table_rows[block.rows]] = expected
    return out


@pytest.mark.parametrize("role", ["receiver", "sender"])  # with and without history
def test_expected_choices_in_chunks_equal_the_one_piece_values(demo, role):
    from cheaptalk.estimation.diagnostics import expected_choices

    # Few quadrature nodes: the model's cost per call, not the data, makes this test slow.
    model, params = _params("dynamic_trust[n_alpha=8,n_beta=21]", demo)
    assert role in model.history_roles or role == "sender"
    expected = _expected_choices_in_one_piece(model, params, demo, role, 0.03)
    assert np.isfinite(expected).all() and np.unique(expected).size > 10
    for size in (1, 7, 100, None):
        got = expected_choices(model, params, demo, role, 0.03, chunk_size=size)
        np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)

"""Field-size simulation (SPEC §5.1): subjects index their type's strategy table (no copy per
subject), and a Parquet file is written one treatment at a time with run()'s table."""

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from cheaptalk.data import load_design
from cheaptalk.models import get_model
from cheaptalk.simulation import Simulation, SubjectStrategies, simulate_experiment


@pytest.fixture(scope="module")
def levelk_sim():
    design = load_design("forecast_sharing")
    model = get_model("levelk")
    params = model.default_params(design.game("LL"))
    return design, model, params


def test_subjects_index_one_table_per_type(levelk_sim):
    design, model, params = levelk_sim
    sim = Simulation(design, model, params, subjects_per_role=50, rounds=2)
    drawn = sim.draw_subjects(np.random.default_rng(0))
    for name, s in drawn.items():
        n_types = len(sim.predictions[name].role_types("sender")[0])
        assert s.by_type and s.sender.shape[0] == n_types and s.n_subjects == 50


def test_tables_by_type_play_like_a_copy_per_subject():
    """Independent path: the same subjects given as one copied table each."""
    design = load_design("crawford_sobel")
    rng = np.random.default_rng(4)
    strategies, copies = {}, {}
    for name in design.treatments:
        g = design.game(name)
        sigma = rng.dirichlet(np.ones(g.n_messages), size=(3, g.n_states))
        rho = rng.dirichlet(np.ones(g.n_actions), size=(2, g.n_messages))
        ks, kr = rng.integers(0, 3, 7), rng.integers(0, 2, 7)
        strategies[name] = SubjectStrategies(sigma, rho, sender_index=ks, receiver_index=kr,
                                             by_type=True)
        copies[name] = SubjectStrategies(sigma[ks], rho[kr])
    a = simulate_experiment(design, strategies, rounds=6, seed=2)
    b = simulate_experiment(design, copies, rounds=6, seed=2)
    pd.testing.assert_frame_equal(a, b)


def test_memory_does_not_grow_with_a_table_per_subject(levelk_sim):
    design, model, params = levelk_sim
    n = 300
    g = design.game("LL")
    per_subject = n * 8 * (g.n_states * g.n_messages + g.n_messages * g.n_actions)
    sim = Simulation(design, model, params, subjects_per_role=n, rounds=1)
    tracemalloc.start()
    try:
        sim.run(seed=1)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < per_subject / 3, (peak, per_subject)


def test_parquet_written_by_treatment_is_runs_table(tmp_path, levelk_sim):
    pytest.importorskip("pyarrow")
    design, model, params = levelk_sim
    sim = Simulation(design, model, params, subjects_per_role=5, rounds=3)
    out = tmp_path / "sim.parquet"
    assert sim.write_parquet(out, seed=9) == 4 * 5 * 3
    whole = tmp_path / "whole.parquet"
    sim.run(seed=9).to_parquet(whole, index=False)
    pd.testing.assert_frame_equal(pd.read_parquet(out), pd.read_parquet(whole))


def test_run_is_draw_subjects_then_simulate_experiment(levelk_sim):
    """run() builds each treatment's tables on demand; the public path draws them all first:
    the same random stream, the same table."""
    design, model, params = levelk_sim
    sim = Simulation(design, model, params, subjects_per_role=6, rounds=3)
    rng = np.random.default_rng(13)
    subjects = sim.draw_subjects(rng)
    expected = simulate_experiment(design, subjects, 3, seed=int(rng.integers(2**63 - 1)),
                                   epsilon=sim.epsilon, model=model, params=params)
    pd.testing.assert_frame_equal(sim.run(13), expected)

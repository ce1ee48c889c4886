import numpy as np
import pandas as pd
import pytest

from cheaptalk.data import load_data, load_design
from cheaptalk.simulation import SubjectStrategies, simulate_experiment


@pytest.fixture(scope="module")
def cs():
    return load_design("crawford_sobel")


def strategies(game, n, rng):
    s = rng.dirichlet(np.ones(game.n_messages), size=(n, game.n_states))
    r = rng.dirichlet(np.ones(game.n_actions), size=(n, game.n_messages))
    return SubjectStrategies(s, r, [f"s{i}" for i in range(n)], [f"r{i}" for i in range(n)])


def test_same_seed_same_table_different_seed_different(cs):
    rng = np.random.default_rng(0)
    strat = {t: strategies(cs.game(t), 5, rng) for t in cs.treatments}
    a = simulate_experiment(cs, strat, rounds=10, seed=3)
    b = simulate_experiment(cs, strat, rounds=10, seed=3)
    c = simulate_experiment(cs, strat, rounds=10, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    assert len(a) == 3 * 5 * 10
    assert (a["session"] == "synthetic").all()


def test_rematching_each_round_is_a_permutation(cs):
    rng = np.random.default_rng(1)
    strat = {"d12": strategies(cs.game("d12"), 8, rng)}
    df = simulate_experiment(cs, strat, rounds=20, seed=0)
    for _, rnd in df.groupby("round"):
        assert rnd["sender"].is_unique and rnd["receiver"].is_unique
    pairs = df.groupby("sender")["receiver"].nunique()
    assert (pairs > 1).all()  # partners change over rounds


def test_choices_follow_the_strategies(cs):
    """Empirical frequencies converge to prior x strategy (chi-square-sized tolerance)."""
    game = cs.game("d05")
    rng = np.random.default_rng(2)
    sigma = rng.dirichlet(np.ones(5), size=5)
    rho = rng.dirichlet(np.ones(9), size=5)
    n = 50
    strat = {"d05": SubjectStrategies(np.repeat(sigma[None], n, 0), np.repeat(rho[None], n, 0))}
    df = simulate_experiment(cs, strat, rounds=200, seed=5, epsilon=0.0)
    ds = load_data_frame(df, cs)
    joint = np.zeros((5, 5))
    np.add.at(joint, (ds.state, ds.message), 1)
    expected = game.prior[:, None] * sigma
    np.testing.assert_allclose(joint / joint.sum(), expected, atol=0.01)
    act = np.zeros((5, 9))
    np.add.at(act, (ds.message, ds.action), 1)
    n_m = act.sum(1, keepdims=True)
    se = np.sqrt(rho * (1 - rho) / n_m)
    assert np.all(np.abs(act / n_m - rho) < 5 * se + 1e-12)


def load_data_frame(df, design):
    from cheaptalk.data import validate_table

    return validate_table(df, design)


def test_round_trip_through_csv_is_unchanged(tmp_path):
    d = load_design("forecast_sharing")
    rng = np.random.default_rng(3)
    strat = {t: strategies(d.game(t), 3, rng) for t in d.treatments}
    df = simulate_experiment(d, strat, rounds=4, seed=9)
    p = tmp_path / "sim.csv"
    df.to_csv(p, index=False)
    back = load_data(p, d).table
    pd.testing.assert_frame_equal(back, df, check_dtype=False)
    assert back["round"].dtype == np.int64 and back["state"].dtype == float


def test_rejects_unequal_roles(cs):
    game = cs.game("d05")
    s = np.full((2, 5, 5), 0.2)
    r = np.full((3, 5, 9), 1 / 9)
    with pytest.raises(ValueError, match="equal numbers"):
        simulate_experiment(cs, {"d05": SubjectStrategies(s, r)}, rounds=1)
    assert game.n_states == 5


PLAYED = """game = "forecast_sharing"
[treatments.F]
forecast_low = 50
forecast_high = 250
step = 25
noise = 20
capacity_cost = 0.25
matching = "fixed"
rounds = 6
[treatments.G]
forecast_low = 50
forecast_high = 250
step = 25
noise = 50
capacity_cost = 0.75
group_size = 3
rounds = 4
"""


def test_matching_groups_rounds_and_demand():
    from cheaptalk.data.design import parse_design
    from cheaptalk.data.interactions import validate_table

    d = parse_design(PLAYED)
    rng = np.random.default_rng(1)
    strat = {t: strategies(d.game(t), 6, rng) for t in d.treatments}
    df = simulate_experiment(d, strat, seed=5)
    f, g = df[df.treatment == "F"], df[df.treatment == "G"]
    assert f["round"].max() == 6 and g["round"].max() == 4   # rounds from the design
    pairs = f.groupby("sender")["receiver"].nunique()
    assert (pairs == 1).all()                                 # fixed partners
    group = {f"G-S{i:02d}": (i - 1) // 3 for i in range(1, 7)}
    same_group = [group[s] == (int(r[-2:]) - 1) // 3
                  for s, r in zip(g.sender, g.receiver, strict=True)]
    assert all(same_group)
    assert g.groupby("sender")["receiver"].nunique().max() > 1  # re-matched
    noise = df.treatment.map({"F": 20, "G": 50})
    assert ((df.demand - df.state).abs() <= noise).all()
    assert (df.demand == df.demand.round(2)).all()
    ds = validate_table(df, d)
    np.testing.assert_array_equal(ds.feedback, df.demand.to_numpy())

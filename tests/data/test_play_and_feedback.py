"""Design keys for repeated play (SPEC §2.4) and the feedback column."""

import numpy as np
import pandas as pd
import pytest

from cheaptalk.data import InputError, load_design
from cheaptalk.data.design import Play, parse_design
from cheaptalk.data.interactions import validate_table
from cheaptalk.games import crawford_sobel, forecast_sharing

CS = """game = "crawford_sobel"
[treatments.A]
states = [1, 3, 5, 7, 9]
actions = [1, 2, 3, 4, 5, 6, 7, 8, 9]
bias = 1.2
"""


def test_play_keys_default_and_given():
    assert parse_design(CS).play_of("A") == Play("random", None, None)
    d = parse_design(CS + 'matching = "fixed"\nrounds = 40\n')
    assert d.play_of("A") == Play("fixed", None, 40)
    d = parse_design(CS + "group_size = 4\n")
    assert d.play_of("A") == Play("random", 4, None)


@pytest.mark.parametrize("extra, key, words", [
    ('matching = "stranger"\n', "matching", "must be one of 'random', 'fixed'"),
    ("rounds = 0\n", "rounds", "whole number >= 1"),
    ("rounds = 2.5\n", "rounds", "whole number >= 1"),
    ("group_size = true\n", "group_size", "whole number >= 1"),
    ('matching = "fixed"\ngroup_size = 4\n', "group_size", "random matching only"),
])
def test_bad_play_keys(extra, key, words):
    with pytest.raises(InputError) as e:
        parse_design(CS + extra, source="d.toml")
    assert e.value.key == f"treatments.A.{key}"
    assert words in e.value.message
    assert e.value.line is not None


def test_unknown_key_lists_play_keys():
    with pytest.raises(InputError) as e:
        parse_design(CS + "roundz = 3\n")
    assert "did you mean 'rounds'" in e.value.message


def test_forecast_feedback_is_checked_against_the_band(forecast_design, good_rows):
    rows = good_rows.assign(demand=good_rows["state"] + np.array([20, -20, 0, 5, -3, 19.99]))
    ds = validate_table(rows, forecast_design)
    assert ds.feedback_column == "demand"
    np.testing.assert_allclose(ds.feedback, rows["demand"].to_numpy())
    # LL and HH have noise 20 and 50: 20.01 leaves the LL band, stays in HH's.
    outside = rows.assign(demand=rows["demand"].astype(float))
    outside.loc[1, "demand"] = 150.4 + 20.01
    with pytest.raises(InputError) as e:
        validate_table(outside, forecast_design, source="x.csv")
    assert (e.value.row, e.value.column) == (2, "demand")
    assert "outside the noise band" in e.value.message
    outside.loc[1, "demand"] = rows.loc[1, "demand"]
    outside.loc[4, "demand"] = 120 + 49.9
    assert validate_table(outside, forecast_design).feedback[4] == pytest.approx(169.9)


@pytest.mark.parametrize("value, words", [("", "missing value"), ("lots", "not a finite")])
def test_bad_feedback_cells(forecast_design, good_rows, value, words):
    rows = good_rows.assign(demand=good_rows["state"].astype(str))
    rows.loc[3, "demand"] = value
    with pytest.raises(InputError) as e:
        validate_table(rows, forecast_design, source="x.csv")
    assert (e.value.row, e.value.column) == (4, "demand")
    assert words in e.value.message


def test_no_feedback_column(forecast_design, good_rows):
    ds = validate_table(good_rows, forecast_design, source="x.csv")
    assert ds.feedback is None
    with pytest.raises(InputError) as e:
        ds.require_feedback("model dynamic_trust")
    assert e.value.column == "demand" and "dynamic_trust" in e.value.message


def test_other_games_feed_back_the_state():
    d = load_design("crawford_sobel")
    g = d.game(d.treatments[0])
    rows = pd.DataFrame({"treatment": d.treatments[0], "round": [1, 2], "sender": "s",
                         "receiver": "r", "state": [3, 7], "message": [5, 7], "action": [4, 7]})
    ds = validate_table(rows, d)
    assert ds.feedback.tolist() == [3.0, 7.0]
    assert g.credible(ds.message, ds.feedback).tolist() == [0.0, 1.0]


def test_credibility_and_density_forecast():
    g = forecast_sharing(step=10, noise=20)
    m = np.searchsorted(g.messages, [100, 100, 150])
    # demand 119 is within 20 of the report 100; 121 is not; 130 is within 20 of 150
    assert g.credible(m, [119.0, 121.0, 130.0]).tolist() == [1.0, 0.0, 1.0]
    f = g.feedback_density([100.0])
    inside = np.abs(g.states - 100) <= 20
    np.testing.assert_allclose(f[0], np.where(inside, 1 / 40, 0.0))
    cs = crawford_sobel()
    np.testing.assert_array_equal(cs.feedback_density([5.0])[0], cs.states == 5)


def test_validate_says_where_the_feedback_comes_from(forecast_design, good_rows):
    assert "no 'demand' column" in validate_table(good_rows, forecast_design).summary()[
        "feedback"]
    rows = good_rows.assign(demand=good_rows["state"])
    assert "column 'demand'" in validate_table(rows, forecast_design).summary()["feedback"]

import pytest

from cheaptalk.data import InputError, bundled_designs, load_design, parse_design

FORECAST = """game = "forecast_sharing"

[treatments.LL]
forecast_low = 50
forecast_high = 250
noise = 20
capacity_cost = 0.25
"""


def test_bundled_designs_load():
    assert set(bundled_designs()) >= {"forecast_sharing", "crawford_sobel", "binary_deception"}
    d = load_design("forecast_sharing")
    assert d.kind.name == "forecast_sharing"
    assert [d.settings[t]["noise"] for t in d.treatments] == [20, 20, 50, 50]
    assert [d.settings[t]["capacity_cost"] for t in d.treatments] == [0.25, 0.75, 0.25, 0.75]
    cs = load_design("crawford_sobel")
    assert [cs.game(t).parameters["bias"] for t in cs.treatments] == [0.5, 1.2, 2.0]


def test_defaults_filled_and_round_trip(tmp_path):
    d = parse_design(FORECAST, "x.toml")
    assert d.settings["LL"]["step"] == 1.0 and d.settings["LL"]["capacity_max"] is None
    assert d.game("LL").actions[-1] == 270
    p = tmp_path / "d.toml"
    p.write_text(d.to_toml())
    assert load_design(p).settings == d.settings


def error_of(text: str) -> InputError:
    with pytest.raises(InputError) as info:
        parse_design(text, "design.toml")
    return info.value


def test_misspelt_key_names_key_line_and_suggestion():
    e = error_of(FORECAST.replace("noise = 20", "nosie = 20"))
    assert e.key == "treatments.LL.nosie" and e.line == 6
    assert "did you mean 'noise'" in str(e)
    assert str(e).startswith("design.toml: line 6, key 'treatments.LL.nosie'")


def test_unknown_top_level_key():
    e = error_of("gmae = 'x'\n" + FORECAST)
    assert e.key == "gmae" and e.line == 1 and "did you mean 'game'" in str(e)


def test_unknown_game():
    e = error_of(FORECAST.replace("forecast_sharing", "forecast_shareing"))
    assert "unknown game" in str(e) and "did you mean 'forecast_sharing'" in str(e)


def test_missing_required_key():
    e = error_of(FORECAST.replace("noise = 20\n", ""))
    assert "missing required key 'noise'" in str(e) and e.line == 3


@pytest.mark.parametrize("bad,match", [
    ("noise = 'twenty'", "must be a number"),
    ("noise = true", "must be a number"),
    ("noise = nan", "finite"),
    ("noise = -5", "noise must be >= 0"),
])
def test_bad_values(bad, match):
    e = error_of(FORECAST.replace("noise = 20", bad))
    assert match in str(e) and "design.toml" in str(e)


def test_invalid_toml_and_empty_and_no_treatments():
    assert "invalid TOML" in str(error_of("game = \n"))
    assert error_of("game = 1\n[treatments\n").line == 2
    assert "empty" in str(error_of("  \n"))
    assert "no [treatments" in str(error_of('game = "crawford_sobel"\n'))
    assert "missing key 'game'" in str(error_of("[treatments.A]\nbias = 1\n"))


def test_missing_file_and_bad_bytes(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_design(tmp_path / "nope.toml")
    p = tmp_path / "bin.toml"
    p.write_bytes(b'game = "crawford_sobel"\n\xff\xfe\n')
    with pytest.raises(InputError, match="UTF-8") as info:
        load_design(p)
    assert info.value.line == 2


def test_crawford_sobel_lists_are_checked():
    text = 'game = "crawford_sobel"\n[treatments.A]\nstates = [1, "x"]\nactions = [1]\nbias = 1\n'
    e = error_of(text)
    assert "list of numbers" in str(e) and e.line == 3


# ---- issue 9, item 7: sizes, grids, duplicates, ragged tables, treatment names
def test_grid_too_large_is_refused_with_its_size_before_allocating():
    e = error_of(FORECAST.replace("noise = 20", "noise = 20\nstep = 0.0001"))
    # 200 / 0.0001 + 1 forecasts, (250 + 20) / 0.0001 + 1 capacities
    cells = 2_000_001 * 2_700_001
    assert e.key == "treatments.LL.step" and e.line == 7
    assert "2000001 forecasts x 2700001 capacities" in str(e) and f"{cells:.2g}" in str(e)
    tiny = error_of(FORECAST.replace("noise = 20", "noise = 20\nstep = 5e-324"))
    assert tiny.key == "treatments.LL.step"


def test_largest_grid_allowed_builds():
    from cheaptalk.games.base import MAX_TABLE_CELLS

    # step 0.1: 2001 forecasts x 2701 capacities, under the limit
    assert 2001 * 2701 <= MAX_TABLE_CELLS
    d = parse_design(FORECAST.replace("noise = 20", "noise = 20\nstep = 0.1"), "design.toml")
    assert d.game("LL").shape == (2001, 2001, 2701)


def test_capacity_max_off_the_step_grid_is_refused():
    e = error_of(FORECAST.replace("noise = 20", "noise = 20\ncapacity_max = 260.5"))
    assert e.key == "treatments.LL.capacity_max" and "260.5" in str(e) and "step" in str(e)
    d = parse_design(FORECAST.replace("noise = 20", "noise = 20\ncapacity_max = 260"),
                     "design.toml")
    assert d.game("LL").actions[-1] == 260


CS = 'game = "crawford_sobel"\n[treatments.A]\nbias = 1\nstates = [1, 3, 5]\n'


@pytest.mark.parametrize("line, key, match", [
    ("actions = [1, 2, 2, 3]", "actions", "2 appears more than once"),
    ("actions = [1, 2]\nprior = [0.5, 0.5]", "prior", "one entry per state"),
])
def test_duplicate_grid_values_are_refused_at_their_key(line, key, match):
    e = error_of(CS + line + "\n")
    assert e.key == f"treatments.A.{key}" and match in str(e)


def test_duplicate_states_are_refused():
    e = error_of(CS.replace("[1, 3, 5]", "[1, 3, 3]") + "actions = [1, 2]\n")
    assert e.key == "treatments.A.states"


BD = 'game = "binary_deception"\n[treatments.A]\n'


@pytest.mark.parametrize("table, match", [
    ("[[5, 6], [6]]", "row 2 has 1 entries but row 1 has 2"),
    ("[[5, 6], 6]", "row 2 must be a list of numbers"),
    ("[5, [6, 5]]", "row 1 must be a list of numbers"),
    ("[[5, 6, 7], [6, 5, 5]]", "2x2"),
])
def test_ragged_payoff_tables_name_key_and_row(table, match):
    e = error_of(BD + f"sender_payoffs = {table}\n")
    assert e.key == "treatments.A.sender_payoffs" and match in str(e) and e.line == 3


@pytest.mark.parametrize("name", ['""', '" LL"', '"LL "', '"a\\tb"'])
def test_treatment_names_follow_the_data_rule(name):
    e = error_of(FORECAST.replace("[treatments.LL]", f"[treatments.{name}]"))
    assert "non-empty, printable and without leading or trailing spaces" in str(e)
    assert e.key.startswith("treatments.")


def test_treatment_name_with_inner_space_matches_the_data(tmp_path):
    import pandas as pd

    from cheaptalk.data import load_data

    d = parse_design(FORECAST.replace("[treatments.LL]", '[treatments."low cost"]'), "d.toml")
    p = tmp_path / "d.csv"
    pd.DataFrame({"treatment": ["low cost"], "round": [1], "sender": ["s"], "receiver": ["r"],
                  "state": [50], "message": [50], "action": [50]}).to_csv(p, index=False)
    assert load_data(p, d).summary()["treatments"][0]["treatment"] == "low cost"

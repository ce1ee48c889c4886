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

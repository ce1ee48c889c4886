"""Malformed tables and designs never produce a traceback: exit 0 or exit 2 with one message."""

import csv
import io

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from cheaptalk.cli import app
from cheaptalk.data import REQUIRED_COLUMNS, InputError, load_data, load_design, parse_design
from helpers import assert_bad_input

DESIGN = load_design("crawford_sobel")
runner = CliRunner()

cells = st.one_of(
    st.sampled_from(["", "nan", "NA", "inf", "-1", "0", "1", "3", "5", "9", "d05", "d12", "x",
                     "1e400", "3.0", " 5 ", "2.5", "😀", '"', ",", "1,5"]),
    st.integers(-20, 20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(max_size=6),
)
columns = st.lists(
    st.one_of(st.sampled_from([*REQUIRED_COLUMNS, "session", "Action", "extra"]),
              st.text(max_size=5)),
    min_size=0, max_size=9,
)


@st.composite
def tables(draw):
    cols = draw(columns)
    n = draw(st.integers(0, 6))
    rows = [[draw(cells) for _ in cols] for _ in range(n)]
    buf = io.StringIO()
    w = csv.writer(buf)
    if cols:
        w.writerow(cols)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8", errors="surrogatepass")


def check_load(tmp_path, content: bytes, suffix=".csv"):
    p = tmp_path / f"data{suffix}"
    p.write_bytes(content)
    try:
        load_data(p, DESIGN)
    except InputError as e:
        assert str(e).startswith(str(p))
    assert p.read_bytes() == content


@settings(max_examples=300, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables())
def test_malformed_tables_raise_only_input_error(tmp_path, content):
    check_load(tmp_path, content)


@settings(max_examples=100, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=200))
def test_random_bytes_raise_only_input_error(tmp_path, content):
    check_load(tmp_path, content)
    check_load(tmp_path, content, ".parquet")


toml_values = st.one_of(
    st.integers(-5, 300).map(str), st.floats(-1e3, 1e3).map(repr),
    st.sampled_from(['"x"', "true", "[1, 3, 5]", "[]", "[[5, 6], [6, 5]]", "nan", "inf",
                     "[1, 2, 3, 4, 5, 6, 7, 8, 9]", "[0.5, 0.5]", "-inf", "{a = 1}"]),
)
keys = st.sampled_from(["forecast_low", "forecast_high", "step", "noise", "margin_sender",
                        "margin_receiver", "capacity_cost", "capacity_max", "states", "actions",
                        "bias", "base", "scale", "exponent", "prior", "sender_payoffs",
                        "receiver_payoffs", "nosie", "game"])


@st.composite
def designs(draw):
    game = draw(st.sampled_from(['"forecast_sharing"', '"crawford_sobel"',
                                 '"binary_deception"', '"poker"', "3"]))
    lines = [f"game = {game}"]
    for i in range(draw(st.integers(0, 2))):
        lines.append(f"[treatments.T{i}]")
        for k in draw(st.lists(keys, max_size=9, unique=True)):
            lines.append(f"{k} = {draw(toml_values)}")
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.text(max_size=10)))
    return "\n".join(lines) + "\n"


@settings(max_examples=300, deadline=None)
@given(designs())
def test_malformed_designs_raise_only_input_error(text):
    try:
        parse_design(text, "fuzz.toml")
    except InputError as e:
        assert str(e).startswith("fuzz.toml")


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tables())
def test_cli_validate_never_shows_a_traceback(tmp_path, content):
    p = tmp_path / "d.csv"
    p.write_bytes(content)
    result = runner.invoke(app, ["validate", "--design", "crawford_sobel", "--data", str(p)])
    if result.exit_code != 0:
        assert_bad_input(result, str(p))

"""Malformed tables and designs never produce a traceback: exit 0 or exit 2 with one message."""

import csv
import io
import json
from pathlib import Path

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


# ------------------------------------------------------------------ issue 9, item 7, by kind
import errno  # noqa: E402

import pytest  # noqa: E402

from cheaptalk.models import get_model  # noqa: E402
from cheaptalk.simulation import Simulation  # noqa: E402


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    m = get_model("levelk")
    df = Simulation(DESIGN, m, m.default_params(DESIGN.game(DESIGN.treatments[0])),
                    subjects_per_role=3, rounds=3).run(seed=5)
    p = tmp_path_factory.mktemp("small") / "small.csv"
    df.to_csv(p, index=False)
    return p


def _writers(data):
    """Every command that writes a --json/--out file: (arguments before the path, heavy
    function that must not run when the output is refused, output name)."""
    cs = ["-d", "crawford_sobel"]
    tiny = ["--subjects", "2", "--rounds", "2"]
    return {
        "validate": (["validate", *cs, "--data", data, "--json"], None, "out.json"),
        "simulate": (["simulate", *cs, "-m", "levelk", *tiny, "--out"],
                     "cheaptalk.simulation.Simulation.run", "out.csv"),
        "predict": (["predict", *cs, "-m", "levelk", "--json"], None, "out.json"),
        "fit": (["fit", *cs, "--data", data, "-m", "levelk", "--starts", "1", "--intervals",
                 "wald", "--json"],
                "cheaptalk.estimation.mle.MaximumLikelihood.fit", "out.json"),
        "compare": (["compare", *cs, "--data", data, "--models", "levelk", "--folds", "0",
                     "--starts", "1", "--intervals", "wald", "--json"],
                    "cheaptalk.estimation.compare.compare", "out.json"),
        "recover": (["recover", *cs, "-m", "levelk", *tiny, "--replications", "2", "--jobs",
                     "1", "--json"], "cheaptalk.estimation.studies.recover", "out.json"),
        "power": (["power", *cs, "--models", "levelk", *tiny, "--replications", "1", "--jobs",
                   "1", "--json"], "cheaptalk.estimation.studies.power", "out.json"),
    }


def _never(*args, **kwargs):
    raise AssertionError("the work started although the output cannot be written")


WRITERS = list(_writers("x"))


@pytest.mark.parametrize("command", WRITERS)
@pytest.mark.parametrize("case", ["folder", "missing folder", "read-only", "exists"])
def test_unwritable_output_is_refused_before_the_work(run, small_data, tmp_path, monkeypatch,
                                                     command, case):
    args, heavy, name = _writers(small_data)[command]
    if heavy:
        monkeypatch.setattr(heavy, _never)
    out = tmp_path / name
    expect = str(out)
    if case == "folder":
        out.mkdir()
    elif case == "missing folder":
        out = tmp_path / "missing" / name
        expect = str(out.parent)
    elif case == "read-only":
        import os

        real = os.access
        monkeypatch.setattr("cheaptalk.outputs.os.access",
                            lambda p, mode: os.fspath(p) != str(tmp_path) and real(p, mode))
        expect = str(tmp_path)
    else:
        out.write_text("the user's")
    assert_bad_input(run(*args, out), expect)
    if case == "exists":
        assert out.read_text() == "the user's"


@pytest.mark.parametrize("command", ["validate", "predict", "fit"])
def test_force_never_writes_over_an_input(run, small_data, tmp_path, command):
    """--json naming the command's own data or parameter file is refused, --force or not,
    and the file is left as it was."""
    args, _, _ = _writers(small_data)[command]
    victim = Path(small_data)
    if command == "predict":
        victim = tmp_path / "params.json"
        victim.write_text(json.dumps(get_model("levelk").default_params(
            load_design("crawford_sobel").game("d05"))))
        args = [*args[:-1], "--params", victim, "--json"]
    before = victim.read_bytes()
    assert_bad_input(run(*args, victim, "--force"), str(victim), "is an input of this command")
    assert victim.read_bytes() == before


def test_force_keeps_a_users_file_in_a_report_folder(run, small_data, tmp_path):
    """`report --force` rebuilds a report from its own comparison.json, but not over a data
    file or notes the user put in that folder."""
    cs = ["--design", "crawford_sobel"]
    rep = tmp_path / "rep"
    r = run("compare", *cs, "--data", small_data, "--models", "levelk", "--folds", "0",
            "--starts", "1", "--intervals", "wald", "--json", tmp_path / "c.json",
            "--report", rep)
    assert r.exit_code == 0, r.output
    r = run("report", "--comparison", rep / "comparison.json", "--report", rep, "--force")
    assert r.exit_code == 0, r.output
    (rep / "notes.txt").write_text("mine")
    r = run("report", "--comparison", rep / "comparison.json", "--report", rep, "--force")
    assert_bad_input(r, str(rep), "holds files cheaptalk did not write (notes.txt)")
    assert (rep / "notes.txt").read_text() == "mine" and (rep / "index.html").exists()


@pytest.mark.parametrize("command", WRITERS)
def test_every_output_goes_through_write_atomic(run, small_data, tmp_path, monkeypatch, command):
    import cheaptalk.cli as cli
    import cheaptalk.outputs as outputs

    args, _, name = _writers(small_data)[command]
    written = []

    def spy(path, content, force=False):
        written.append(path)
        return real(path, content, force)

    real = outputs.write_atomic
    for module in (cli, outputs):  # the CLI writes tables itself and JSON through outputs
        monkeypatch.setattr(module, "write_atomic", spy)
    out = tmp_path / name
    r = run(*args, out)
    assert r.exit_code == 0, r.output
    assert written == [out]
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # no temporary file left
    if name.endswith(".json"):
        assert isinstance(json.loads(out.read_text()), dict)
    # a file that appears while the command works is kept, and the write refused
    def racing(path, content, force=False):
        path.write_text("appeared meanwhile")
        return real(path, content, force)

    for module in (cli, outputs):
        monkeypatch.setattr(module, "write_atomic", racing)
    again = tmp_path / f"again-{name}"
    r = run(*args, again)
    assert r.exit_code == 2 and "Traceback" not in r.output
    assert r.output.strip().splitlines()[-1].startswith(f"error: {again}: output file exists")
    assert again.read_text() == "appeared meanwhile"


@pytest.mark.parametrize("command", ["predict", "simulate"])
def test_full_disk_gives_one_error_line_and_no_file(run, small_data, tmp_path, monkeypatch,
                                                    command):
    args, _, name = _writers(small_data)[command]

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("cheaptalk.outputs.os.link", full)
    assert_bad_input(run(*args, tmp_path / name), str(tmp_path / name), "no space left")
    assert list(tmp_path.iterdir()) == []


def test_simulate_parquet_goes_through_write_atomic(run, tmp_path):
    pytest.importorskip("pyarrow")
    import pandas as pd

    out = tmp_path / "sim.parquet"
    r = run("simulate", "-d", "crawford_sobel", "-m", "levelk", "--subjects", "2", "--rounds",
            "2", "--out", out)
    assert r.exit_code == 0, r.output
    assert len(pd.read_parquet(out)) == 2 * 2 * len(DESIGN.treatments)
    assert [p.name for p in tmp_path.iterdir()] == ["sim.parquet"]
    assert_bad_input(run("simulate", "-d", "crawford_sobel", "-m", "levelk", "--out", out),
                     "exists")


SEEDED = {
    "simulate": ["simulate", "-d", "crawford_sobel", "-m", "levelk", "--out", "never.csv"],
    "fit": ["fit", "-d", "crawford_sobel", "--data", "never.csv", "-m", "levelk"],
    "compare": ["compare", "-d", "crawford_sobel", "--data", "never.csv", "--json", "n.json"],
    "demo": ["demo", "--report", "never"],
    "recover": ["recover", "-d", "crawford_sobel", "-m", "levelk"],
    "power": ["power", "-d", "crawford_sobel"],
    "advise": ["advise", "-d", "crawford_sobel", "-m", "dynamic_trust", "--role", "sender",
               "--policy", "truthful"],
}


@pytest.mark.parametrize("command", list(SEEDED))
def test_negative_seed_is_one_error_line(run, command):
    from typer.main import get_command

    # every command that takes --seed is here
    group = get_command(app)
    takes_seed = {name for name, c in group.commands.items()
                  if any("--seed" in p.opts for p in c.params)}
    assert takes_seed == set(SEEDED)
    assert_bad_input(run(*SEEDED[command], "--seed", "-1"), "--seed")


@pytest.mark.parametrize("args, flag", [
    (["compare", "-d", "crawford_sobel", "--data", "x.csv", "--json", "x.json", "--folds",
      "-1"], "--folds"),
    (["simulate", "-d", "crawford_sobel", "-m", "levelk", "-o", "x.csv", "--subjects", "abc"],
     "--subjects"),
    (["fit", "-d", "crawford_sobel", "--data", "x.csv", "-m", "levelk", "--starts", "0"],
     "--starts"),
    (["fit", "-d", "crawford_sobel", "--data", "x.csv", "-m", "levelk", "--epsilon", "2"],
     "--epsilon"),
    (["recover", "-d", "crawford_sobel", "-m", "levelk", "--replications", "1.5"],
     "--replications"),
    (["predict", "-d", "crawford_sobel", "-m", "levelk", "--no-such-flag"], "--no-such-flag"),
    (["fit", "-d", "crawford_sobel", "--data", "x.csv"], "--model"),
    (["no-such-command"], "no-such-command"),
    # counts so large that what they size would not fit in memory: refused at once
    (["fit", "-d", "crawford_sobel", "--data", "x.csv", "-m", "levelk", "--starts",
      "1000000000000"], "--starts"),
    (["fit", "-d", "crawford_sobel", "--data", "x.csv", "-m", "levelk", "--bootstrap",
      "1000000000000"], "--bootstrap"),
    (["recover", "-d", "crawford_sobel", "-m", "levelk", "--replications", "1000000000000"],
     "--replications"),
    (["power", "-d", "crawford_sobel", "--replications", "1000000000000"], "--replications"),
    (["advise", "-d", "crawford_sobel", "-m", "dynamic_trust", "--role", "sender", "--policy",
      "truthful", "--replications", "1000000000000"], "--replications"),
    (["advise", "-d", "crawford_sobel", "-m", "dynamic_trust", "--role", "sender", "--policy",
      "truthful", "--rounds", "100000000"], "--rounds"),
    (["experiment", "-d", "crawford_sobel", "--out", "x", "--rounds", "1000000000000"],
     "--rounds"),
])
def test_usage_errors_are_one_error_line(run, args, flag):
    r = run(*args)
    assert_bad_input(r, flag)
    assert len(r.output.strip().splitlines()) == 1 and "╭" not in r.output


def test_help_is_still_shown(run):
    assert run("--help").exit_code == 0 and "Usage" in run("--help").output
    r = run("fit", "--help")
    assert r.exit_code == 0 and "--seed" in r.output
    r = run()
    assert "Usage" in r.output and "error:" not in r.output


@pytest.mark.parametrize("command", ["simulate", "recover", "power"])
def test_simulation_too_large_says_how_large(run, tmp_path, command):
    args = {"simulate": ["simulate", "-d", "forecast_sharing", "-m", "levelk", "-o",
                         tmp_path / "x.csv"],
            "recover": ["recover", "-d", "forecast_sharing", "-m", "levelk"],
            "power": ["power", "-d", "forecast_sharing"]}[command]
    # 4 treatments x 10**7 subjects x 30 rounds
    assert_bad_input(run(*args, "--subjects", "10000000"), f"{4 * 10**7 * 30:.3g} rows")
    assert not (tmp_path / "x.csv").exists()


def test_grid_too_large_says_how_large(run, tmp_path):
    p = tmp_path / "fine.toml"
    p.write_text('game = "forecast_sharing"\n[treatments.T]\nforecast_low = 50\n'
                 "forecast_high = 250\nnoise = 20\ncapacity_cost = 0.25\nstep = 0.0001\n")
    assert_bad_input(run("predict", "-d", p, "-m", "levelk"), "fine.toml", "line 7",
                     "treatments.T.step", "2000001 forecasts x 2700001 capacities")


HEADER = "treatment,round,sender,receiver,state,message,action\n"


@pytest.mark.parametrize("text, fragments", [
    (HEADER + "d05,1e23,a,b,1,1,1\n", ["row 1", "'round'", "1e23"]),
    (HEADER + "d05,1,a,b,1,1,1\nd05,1,c,a,1,1,1\nd05,1,d,d,1,1,1\n", ["row 3", "'receiver'"]),
    (HEADER.replace("\n", ",state\n") + "d05,1,a,b,1,1,1,9\n", ["'state'", "more than once"]),
    (HEADER.replace(",", ";") + "d05;1;a;b;1;1;1\n", ["semicolons", "comma-separated"]),
    (HEADER + "d05,1,a,b,9.000001,1,1\n", ["9.000001 is outside"]),
])
def test_validate_names_each_silent_error(run, tmp_path, text, fragments):
    p = tmp_path / "d.csv"
    p.write_text(text)
    assert_bad_input(run("validate", "-d", "crawford_sobel", "--data", p), str(p), *fragments)
    assert p.read_text() == text

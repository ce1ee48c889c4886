"""The command line on games from tables (``game = "matrix"``) and data read through a column
map (``--columns``): bad input of each kind is one ``error:`` line naming the file and the key
(and row and column for a CSV table), exit status 2, and nothing the user wrote changes."""

import json

import pytest

from cheaptalk.data import load_design
from cheaptalk.models import get_model
from cheaptalk.simulation import Simulation
from helpers import assert_bad_input

GOOD = """game = "matrix"

[treatments.G]
states = [1, 2, 3]
prior = [0.2, 0.3, 0.5]
messages = ["low", "mid", "high", "very high"]
literal = [1, 2, 3, 3]
actions = [1, 2, 3]
sender_payoffs = "sender.csv"
receiver_payoffs = [[3, 2, 0], [2, 3, 2], [0, 2, 3]]
"""
SENDER_CSV = "2,3,2\n0,2,3\n0,1,3\n"

#: (what the design says instead, what the CSV holds, fragments the error must name)
BAD_DESIGNS = {
    "ragged table": (
        ("receiver_payoffs = [[3, 2, 0], [2, 3, 2], [0, 2, 3]]",
         "receiver_payoffs = [[3, 2, 0], [2, 3], [0, 2, 3]]"), SENDER_CSV,
        ["design.toml", "treatments.G.receiver_payoffs", "row 2 has 2 entries"]),
    "wrongly shaped table": (
        ("receiver_payoffs = [[3, 2, 0], [2, 3, 2], [0, 2, 3]]",
         "receiver_payoffs = [[3, 2, 0], [2, 3, 2]]"), SENDER_CSV,
        ["design.toml", "treatments.G.receiver_payoffs", "one row per state (3)"]),
    "wrongly shaped CSV table": (
        None, "2,3\n0,2\n0,1\n",
        ["design.toml", "treatments.G.sender_payoffs", "one column per action (3)",
         "sender.csv"]),
    "ragged CSV table": (
        None, "2,3,2\n0,2\n0,1,3\n",
        ["sender.csv", "row 2", "treatments.G.sender_payoffs", "row 2 has 2 entries"]),
    "prior not summing to one": (
        ("prior = [0.2, 0.3, 0.5]", "prior = [0.2, 0.3, 0.6]"), SENDER_CSV,
        ["design.toml", "treatments.G.prior", "must sum to 1"]),
    "negative prior": (
        ("prior = [0.2, 0.3, 0.5]", "prior = [-0.2, 0.7, 0.5]"), SENDER_CSV,
        ["design.toml", "treatments.G.prior", "negative entry"]),
    "literal not a state": (
        ("literal = [1, 2, 3, 3]", "literal = [1, 2, 3, 4]"), SENDER_CSV,
        ["design.toml", "treatments.G.literal", "4 is not a state"]),
    "duplicate states": (
        ("states = [1, 2, 3]", "states = [1, 2, 2]"), SENDER_CSV,
        ["design.toml", "treatments.G.states", "2 appears more than once"]),
    "duplicate actions": (
        ("actions = [1, 2, 3]", "actions = [1, 3, 3]"), SENDER_CSV,
        ["design.toml", "treatments.G.actions", "3 appears more than once"]),
    "non-numeric payoff": (
        ("receiver_payoffs = [[3, 2, 0], [2, 3, 2], [0, 2, 3]]",
         'receiver_payoffs = [[3, 2, 0], [2, "x", 2], [0, 2, 3]]'), SENDER_CSV,
        ["design.toml", "treatments.G.receiver_payoffs", "numbers"]),
    "non-numeric CSV payoff": (
        None, "2,3,2\n0,two,3\n0,1,3\n",
        ["sender.csv", "row 2", "column '2'", "treatments.G.sender_payoffs", "'two'"]),
    "missing CSV file": (
        ('sender_payoffs = "sender.csv"', 'sender_payoffs = "no_such.csv"'), SENDER_CSV,
        ["no_such.csv", "treatments.G.sender_payoffs", "not found"]),
    "labels without literal states": (
        ("literal = [1, 2, 3, 3]\n", ""), SENDER_CSV,
        ["design.toml", "treatments.G.messages", "literal is required"]),
}


def _write(folder, design_text, csv_text):
    (folder / "design.toml").write_text(design_text)
    (folder / "sender.csv").write_text(csv_text)
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def _one_error_line(result, *fragments):
    assert_bad_input(result, *fragments)
    assert len(result.output.strip().splitlines()) == 1, result.output


@pytest.mark.parametrize("case", list(BAD_DESIGNS))
def test_bad_matrix_design(run, tmp_path, case):
    change, csv_text, fragments = BAD_DESIGNS[case]
    text = GOOD if change is None else GOOD.replace(*change)
    assert text != GOOD or csv_text != SENDER_CSV
    before = _write(tmp_path, text, csv_text)
    r = run("predict", "--design", tmp_path / "design.toml", "--model", "levelk")
    _one_error_line(r, *fragments)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before


@pytest.fixture
def export(tmp_path):
    """A labelled matrix design and an 'oTree-like' export of data simulated from it."""
    _write(tmp_path, GOOD, SENDER_CSV)
    design = load_design(tmp_path / "design.toml")
    model = get_model("levelk")
    df = Simulation(design, model, model.default_params(design.game("G")), subjects_per_role=6,
                    rounds=6).run(seed=2)
    df = df.rename(columns={"state": "player.type", "message": "player.advice",
                            "action": "player.choice", "round": "subsession.round_number"})
    df.to_csv(tmp_path / "export.csv", index=False)
    return tmp_path


MAP = ("state=player.type,message=player.advice,action=player.choice,"
       "round=subsession.round_number")


def test_validate_fit_compare_report_through_a_column_map(run, export):
    design, data = export / "design.toml", export / "export.csv"
    r = run("validate", "--design", design, "--data", data)
    _one_error_line(r, "export.csv", "missing required column 'round'", "--columns")
    r = run("validate", "--design", design, "--data", data, "--columns", MAP)
    assert r.exit_code == 0, r.output
    assert "player.advice" in r.output
    r = run("fit", "--design", design, "--data", data, "--columns", MAP, "--model", "levelk",
            "--starts", 1, "--json", export / "fit.json")
    assert r.exit_code == 0, r.output
    recorded = json.loads((export / "fit.json").read_text())["columns"]
    assert recorded == dict(x.split("=") for x in MAP.split(","))
    r = run("compare", "--design", design, "--data", data, "--columns", MAP, "--models",
            "levelk", "--folds", 0, "--starts", 1, "--json", export / "c.json")
    assert r.exit_code == 0, r.output
    saved = json.loads((export / "c.json").read_text())
    assert saved["columns"] == recorded
    # the report reloads the data with the recorded map ...
    r = run("report", "--comparison", export / "c.json", "--report", export / "rep")
    assert r.exit_code == 0, r.output
    # ... which a JSON without it cannot do
    del saved["columns"]
    (export / "bare.json").write_text(json.dumps(saved))
    r = run("report", "--comparison", export / "bare.json", "--report", export / "rep2")
    _one_error_line(r, "export.csv", "missing required column")


@pytest.mark.parametrize(("columns", "fragments"), [
    ("state=player.type,message=player.advise,action=player.choice,"
     "round=subsession.round_number",
     ["export.csv", "the file has no column 'player.advise'", "player.advice"]),
    ("state=player.type,message=player.type,action=player.choice,"
     "round=subsession.round_number",
     ["--columns", "'player.type' is mapped to both 'state' and 'message'"]),
    ("stat=player.type", ["--columns", "unknown column name 'stat'", "did you mean 'state'"]),
    ("state", ["--columns", "'state' is not NAME=COLUMN"]),
    ("state=player.type,state=player.choice", ["--columns", "'state' is mapped twice"]),
])
def test_bad_column_map(run, export, columns, fragments):
    before = (export / "export.csv").read_bytes()
    for command in (["validate"], ["fit", "--model", "levelk"],
                    ["compare", "--json", export / "c.json"]):
        r = run(*command, "--design", export / "design.toml", "--data", export / "export.csv",
                "--columns", columns)
        _one_error_line(r, *fragments)
    assert (export / "export.csv").read_bytes() == before
    assert not (export / "c.json").exists()


def test_predict_writes_the_message_labels(run, export):
    r = run("predict", "--design", export / "design.toml", "--model", "trust", "--json",
            export / "p.json")
    assert r.exit_code == 0, r.output
    doc = json.loads((export / "p.json").read_text())
    assert doc["message_labels"] == ["low", "mid", "high", "very high"]
    assert doc["messages"] == [1.0, 2.0, 3.0, 3.0]  # the literal values
    assert len(doc["population"]["sender"][0]) == 4
    # the printed preview has a row for every message (four), by its label
    rows = [line for line in r.output.splitlines() if "│" in line]
    assert [line.split("│")[3].strip() for line in rows] == ["low", "mid", "high", "very high"]


def test_a_message_that_is_no_label_is_located(run, export):
    text = (export / "export.csv").read_text().splitlines()
    header = text[0].split(",")
    cells = text[3].split(",")
    cells[header.index("player.advice")] = "medium"
    text[3] = ",".join(cells)
    (export / "export.csv").write_text("\n".join(text) + "\n")
    r = run("validate", "--design", export / "design.toml", "--data", export / "export.csv",
            "--columns", MAP)
    _one_error_line(r, "export.csv", "row 3 (line 4)", "column 'player.advice'",
                    "'medium' is not one of the messages", "low, mid, high, very high")


def test_advise_reads_and_writes_message_labels(run, export):
    """Decision support in a game whose messages are labels, two of which ("high", "very
    high") assert the same state: reports and histories are labels, as in the data, and the
    advice after each label is the game-level advice at that message."""
    from cheaptalk.advice import advise_game, advise_sender_game, history_from_values

    design = export / "design.toml"
    game = load_design(design).game("G")
    model = get_model("levelk")
    prediction = model.predict(game, model.default_params(game))
    (export / "history.csv").write_text("message,state\nvery high,3\nlow,1\nhigh,3\n")
    record = history_from_values(game, ["very high", "low", "high"], [3, 1, 3])
    assert record.message.tolist() == [3, 0, 2]
    seen = {}
    for index, label in ((2, "high"), (3, "very high")):
        out = export / f"advice_{index}.json"
        r = run("advise", "--design", design, "--model", "levelk", "--report", label,
                "--history", export / "history.csv", "--json", out,
                "--report-dir", export / f"fig_{index}")
        assert r.exit_code == 0, r.output
        assert f"message {label}, after 3 rounds" in r.output
        doc = json.loads(out.read_text())
        expected = advise_game(game, prediction, index, record, 1e-3, model)
        assert doc["report"] == label and doc["action"] == expected.action
        assert doc["expected_payoff"] == pytest.approx(expected.expected_payoff, abs=1e-12)
        assert doc["response"]["report"] == ["low", "mid", "high", "very high"]
        assert (export / f"fig_{index}" / "advice.png").stat().st_size > 0
        seen[label] = doc["state_posterior"]["probabilities"]
    assert seen["high"] != seen["very high"]  # two messages, not one literal value
    r = run("advise", "--design", design, "--model", "levelk", "--role", "sender",
            "--state", 3, "--json", export / "sender.json", "--report-dir", export / "sfig")
    assert r.exit_code == 0, r.output
    doc = json.loads((export / "sender.json").read_text())
    sender = advise_sender_game(game, prediction, 2, 1e-3, model)
    assert doc["truthful_report"] == "high" == sender.truthful_report
    assert doc["best_report"] == sender.best_report in ("low", "mid", "high", "very high")
    assert f"Truthful message high: expected payoff {sender.truthful_payoff:.2f}" in r.output


@pytest.mark.parametrize(("report", "history", "fragments"), [
    ("3", None, ["--report '3' is not one of the messages", "low, mid, high, very high"]),
    ("high", "message,state\nhigh,3\nmedium,2\n",
     ["history.csv", "row 2", "column 'message'", "'medium' is not one of the messages"]),
])
def test_advise_refuses_what_is_no_label(run, export, report, history, fragments):
    args = ["advise", "--design", export / "design.toml", "--model", "levelk",
            "--report", report, "--json", export / "a.json"]
    if history is not None:
        (export / "history.csv").write_text(history)
        args += ["--history", export / "history.csv"]
    assert_bad_input(run(*args), *fragments)
    assert not (export / "a.json").exists()

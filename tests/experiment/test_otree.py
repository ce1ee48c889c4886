"""The generated oTree project run by oTree itself (slow; skipped where oTree is missing).

* bots: `otree test` with level-k bots, fixed and random matching; the export is valid for
  `cheaptalk validate` unchanged, has pairs x rounds rows, pays by the payoff rule, keeps
  partners as the design says, and the bots' choices are ones their stored strategies allow;
  on a larger bot run `cheaptalk fit` finds level-k, the bots' model, ahead of trust;
* a real server (`otree prodserver`) driven over HTTP: a server restart after round 1 of a
  fixed-partner session loses nothing and the session goes on; timeouts get the documented
  default, marked in the data; the same run against PostgreSQL when
  CHEAPTALK_TEST_DATABASE_URL names one (CI starts it).
"""

import importlib.util
import json
import os
import re
import subprocess
import time
from io import StringIO

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from cheaptalk.cli import app
from otree_driver import Participant, Server, otree_command, otree_env, otree_test, play_round

pytestmark = pytest.mark.slow

BIG = """game = "forecast_sharing"

[treatments.LL]
forecast_low = 50
forecast_high = 150
step = 10
noise = 20
capacity_cost = 0.25
rounds = 10
"""


def run(*args):
    return CliRunner().invoke(app, [str(a) for a in args])


def generate(design, out, *args):
    r = run("experiment", "--design", design, "--out", out, *args)
    assert r.exit_code == 0, r.output
    return out


def validate(design, data):
    r = run("validate", "--design", design, "--data", data)
    assert r.exit_code == 0, r.output
    assert "OK: the data are valid" in r.output


def _components(edges):
    """Connected components of the graph of sender-receiver pairs (union-find)."""
    parent = {}

    def root(x):
        parent.setdefault(x, x)
        while parent[x] != x:
            x = parent[x]
        return x

    for a, b in edges:
        parent[root(a)] = root(b)
    groups = {}
    for x in parent:
        groups.setdefault(root(x), set()).add(x)
    return list(groups.values())


def check_points(df, margin_sender, margin_receiver, capacity_cost):
    sales = np.minimum(df["demand"], df["action"])
    np.testing.assert_allclose(df["sender_points"], np.round(margin_sender * sales, 2))
    np.testing.assert_allclose(df["receiver_points"],
                               np.round(margin_receiver * sales - capacity_cost * df["action"],
                                        2))


def test_bots_fixed_and_random_matching(tmp_path, design_file):
    otree_command()
    project = generate(design_file, tmp_path / "lab", "--bots", "levelk")
    bots = json.loads((project / "forecast_sharing" / "bots.json").read_text())
    game = json.loads((project / "forecast_sharing" / "game.json").read_text())
    for config, rounds in (("LL", 3), ("LH", 2)):
        export = tmp_path / f"export_{config}"
        otree_test(project, config, 8, export)
        data = export / "forecast_sharing_custom.csv"
        validate(design_file, data)
        df = pd.read_csv(data, dtype={"sender": str, "receiver": str})
        assert len(df) == 4 * rounds  # 8 participants: 4 pairs, every round
        assert sorted(df["round"].unique()) == list(range(1, rounds + 1))
        assert (df["treatment"] == config).all()
        assert not set(df["sender"]) & set(df["receiver"])  # roles fixed for the session
        assert df[["sender_timeout", "receiver_timeout"]].to_numpy().sum() == 0
        t = game["treatments"][config]
        check_points(df, t["parameters"]["margin_sender"], t["parameters"]["margin_receiver"],
                     t["parameters"]["capacity_cost"])
        partners = df.groupby("sender")["receiver"].nunique()
        if config == "LL":  # fixed partners
            assert (partners == 1).all()
        else:  # random within matching groups of 2 per role: never beyond the group
            for group in _components(df[["sender", "receiver"]].itertuples(index=False)):
                assert len(group) <= 4, group
        # every choice is one the bots' stored strategies allow
        states, messages, actions = (np.array(t[k]) for k in ("states", "messages", "actions"))
        for row in df.itertuples():
            s, m = int(np.flatnonzero(states == row.state)[0]), int(
                np.flatnonzero(messages == row.message)[0])
            a = int(np.flatnonzero(actions == row.action)[0])
            assert any(m in rows[s][0] for rows in bots["treatments"][config]["sender"]
                       ["strategies"]), row
            assert any(a in rows[m][0] for rows in bots["treatments"][config]["receiver"]
                       ["strategies"]), row


@pytest.mark.parametrize(("design", "config", "model"), [
    ("crawford_sobel", "all_treatments", "trust"), ("binary_deception", "G1", "levelk")])
def test_bots_in_table_games(tmp_path, design, config, model):
    otree_command()
    project = generate(design, tmp_path / "lab", "--bots", model, "--rounds", "2")
    otree_test(project, config, 4, tmp_path / "export")
    data = tmp_path / "export" / f"{design}_custom.csv"
    validate(design, data)
    df = pd.read_csv(data)
    spec = json.loads((project / design / "game.json").read_text())["treatments"]
    assert len(df) == 2 * 2 * len(spec)  # 2 pairs, 2 rounds, every treatment
    assert "demand" not in df.columns  # the state itself is the feedback
    for row in df.itertuples():
        t = spec[row.treatment]
        s, a = t["states"].index(row.state), t["actions"].index(row.action)
        assert row.sender_points == pytest.approx(round(t["sender_payoffs"][s][a], 2))
        assert row.receiver_points == pytest.approx(round(t["receiver_payoffs"][s][a], 2))


def test_larger_bot_run_fits_levelk_ahead_of_trust(tmp_path):
    otree_command()
    design = tmp_path / "big.toml"
    design.write_text(BIG)
    project = generate(design, tmp_path / "lab", "--bots", "levelk")
    otree_test(project, "LL", 20, tmp_path / "export")
    data = tmp_path / "export" / "forecast_sharing_custom.csv"
    validate(design, data)
    assert len(pd.read_csv(data)) == 10 * 10
    loglik = {}
    for model in ("levelk", "trust"):
        r = run("fit", "--design", design, "--data", data, "--model", model, "--json",
                tmp_path / f"{model}.json")
        assert r.exit_code == 0, r.output
        loglik[model] = json.loads((tmp_path / f"{model}.json").read_text())["loglik"]
    assert loglik["levelk"] > loglik["trust"], loglik


def _database(kind):
    if kind == "sqlite":
        return None
    url = os.environ.get("CHEAPTALK_TEST_DATABASE_URL")
    if not url:
        pytest.skip("no PostgreSQL server: set CHEAPTALK_TEST_DATABASE_URL "
                    "(.ci/run starts one)")
    if importlib.util.find_spec("psycopg2") is None:
        pytest.skip("psycopg2 is not installed: pip install 'cheaptalk[experiment]'")
    return url


@pytest.mark.parametrize("database", ["sqlite", "postgresql"])
def test_server_restart_and_timeouts(tmp_path, design_file, database):
    otree = otree_command()
    url = _database(database)
    project = generate(design_file, tmp_path / "lab")
    if url:  # start from empty tables
        subprocess.run([str(otree), "resetdb", "--noinput"], cwd=project, env=otree_env(url),
                       check=True, capture_output=True, timeout=120)
    game = json.loads((project / "forecast_sharing" / "game.json").read_text())
    rng = np.random.default_rng(0)
    server = Server(project, database_url=url)
    with server:
        _, codes = server.create_session("LL", 2, decision_timeout_seconds=0)
        pair = [Participant(server, c).start() for c in codes]
        play_round(pair, game["treatments"]["LL"], rng)
        first = pd.read_csv(StringIO(server.export("forecast_sharing")))
        assert len(first) == 1
    # The server is down; a new one on the same database finds round 1 and goes on.
    with Server(project, port=server.port, database_url=url) as again:
        after = pd.read_csv(StringIO(again.export("forecast_sharing")))
        pd.testing.assert_frame_equal(after, first)
        for p in pair:
            p.refresh()
        assert sorted(p.page for p in pair) == ["SenderDecision", "WaitForMessage"]
        for _ in range(2):
            play_round(pair, game["treatments"]["LL"], rng)
        assert {p.page for p in pair} == {"Payment"}
        payment = {p.code: p.html for p in pair}
        # Timeouts: a second session with a 5-second limit; nobody decides in time.
        _, codes = again.create_session("LH", 2, decision_timeout_seconds=5)
        late = [Participant(again, c).start() for c in codes]
        t = game["treatments"]["LH"]
        for p in late:
            p.submit({"quiz_points": t["quiz"][p.role()]["answer"], "quiz_cheap": 2})
        sender = next(p for p in late if p.page == "SenderDecision")
        receiver = next(p for p in late if p is not sender)
        sender.submit({"timeout_happened": "1"})  # too early: the server refuses it
        assert sender.page == "SenderDecision"
        time.sleep(5.5)
        sender.submit({"timeout_happened": "1"})  # what the browser's timer sends
        receiver.wait_for("ReceiverDecision")
        time.sleep(5.5)
        receiver.submit({"timeout_happened": "1"})
        sender.wait_for("Results")
        # Roles that alternate every round (session config option).
        _, codes = again.create_session("LL", 2, decision_timeout_seconds=0,
                                        alternate_roles=True)
        swap = [Participant(again, c).start() for c in codes]
        for _ in range(2):
            play_round(swap, game["treatments"]["LL"], rng)
        export = tmp_path / "export.csv"
        export.write_text(again.export("forecast_sharing"))
    validate(design_file, export)
    df = pd.read_csv(export)
    alternating = df[df["session"] == df["session"].iloc[-1]]
    assert list(alternating["round"]) == [1, 2]
    assert alternating["sender"].iloc[0] == alternating["receiver"].iloc[1]
    assert alternating["receiver"].iloc[0] == alternating["sender"].iloc[1]
    df = df[df["session"] != df["session"].iloc[-1]]
    fixed = df[df["treatment"] == "LL"]
    assert list(fixed["round"]) == [1, 2, 3] and fixed["sender"].nunique() == 1
    assert fixed["receiver"].nunique() == 1
    assert fixed[["sender_timeout", "receiver_timeout"]].to_numpy().sum() == 0
    for code, page in payment.items():  # the payment page: every round's points, in money
        total = (fixed.loc[fixed["sender"] == code, "sender_points"].sum()
                 + fixed.loc[fixed["receiver"] == code, "receiver_points"].sum())
        shown = re.search(r'id="total-points">([^<]+)<', page).group(1)
        money = re.sub(r"[^0-9.\-]", "", re.search(r'id="money">([^<]+)<', page).group(1))
        assert float(shown) == pytest.approx(total, abs=0.01)
        assert float(money) == pytest.approx(total * 0.01, abs=0.0051)  # to the cent
    timed_out = df[df["treatment"] == "LH"].iloc[0]
    assert timed_out["sender_timeout"] == 1 and timed_out["receiver_timeout"] == 1
    assert timed_out["message"] == timed_out["state"]  # the truthful report
    assert timed_out["action"] == t["actions"][t["timeout_action"]]
    check_points(df[df["treatment"] == "LL"], 1.0, 1.0, 0.25)
    check_points(df[df["treatment"] == "LH"], 2.0, 1.0, 0.75)


LABELLED = """game = "matrix"

[treatments.advice]
states = [0, 1]
prior = [0.6, 0.4]
messages = ["sell", "buy", "strong buy"]
literal = [0, 1, 1]
actions = [0, 1]
sender_payoffs = [[2, 0], [3, 4]]
receiver_payoffs = [[1, -2], [0, 3]]
rounds = 3
"""


def test_bots_in_a_game_whose_messages_are_labels(tmp_path):
    """Two labels assert one state: the app keeps the message by index and exports the
    label, which validate and fit read."""
    otree_command()
    design = tmp_path / "labels.toml"
    design.write_text(LABELLED)
    project = generate(design, tmp_path / "lab", "--bots", "levelk")
    otree_test(project, "advice", 4, tmp_path / "export")
    data = next((tmp_path / "export").glob("*_custom.csv"))
    validate(design, data)
    df = pd.read_csv(data)
    assert len(df) == 2 * 3 and set(df["message"]) <= {"sell", "buy", "strong buy"}
    r = run("fit", "--design", design, "--data", data, "--model", "levelk", "--starts", "1")
    assert r.exit_code == 0, r.output

"""`cheaptalk report`: the report rebuilt from a saved comparison JSON, and bad input."""

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cheaptalk.outputs import REPORT_MARKER
from helpers import assert_bad_input, json_values, mutate_json, simulated_csv

FIGURES = ("report_vs_state", "action_vs_message", "inflation_histogram",
           "posterior_type_shares", "parameter_estimates", "out_of_sample")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    from typer.testing import CliRunner

    from cheaptalk.cli import app

    folder = tmp_path_factory.mktemp("saved")
    data = simulated_csv(folder / "sim.csv", 6, 10, 3)
    r = CliRunner().invoke(app, ["compare", "--design", "crawford_sobel", "--data", str(data),
                                 "--models", "levelk,trust", "--folds", "2", "--starts", "1",
                                 "--intervals", "wald", "--json", str(folder / "cmp.json"),
                                 "--report", str(folder / "first")])
    assert r.exit_code == 0, r.output
    return folder


def test_report_from_saved_json_matches_the_compare_report(run, saved, tmp_path):
    r = run("report", "--comparison", saved / "cmp.json", "--report", tmp_path / "again")
    assert r.exit_code == 0, r.output
    assert "Best by BIC: levelk" in r.output and "DATA: SYNTHETIC" in r.output
    first, again = saved / "first", tmp_path / "again"
    assert json.loads((again / "comparison.json").read_text()) == json.loads(
        (first / "comparison.json").read_text())
    for name in ("comparison.csv", "parameters.csv", "vuong.csv", "posterior_types.csv",
                 "diagnostics.csv", "summary.txt"):
        assert (again / name).read_text() == (first / name).read_text(), name
    html = (again / "index.html").read_text()
    for stem in FIGURES:
        png = again / f"{stem}.png"
        assert png.stat().st_size > 1000 and f'src="{stem}.png"' in html, stem
        assert (again / f"{stem}.svg").stat().st_size > 1000, stem


def test_report_rebuilt_in_place_and_with_explicit_files(run, saved, tmp_path):
    folder = tmp_path / "rep"
    shutil.copytree(saved / "first", folder)
    before = (folder / "comparison.json").read_text()
    # the data recorded in the JSON is an absolute path, so this works from anywhere; the
    # report it came from is replaced only with --force
    assert_bad_input(run("report", "--json", folder / "comparison.json", "--report", folder),
                     "rep", "--force")
    r = run("report", "--json", folder / "comparison.json", "--report", folder, "--force")
    assert r.exit_code == 0, r.output
    assert json.loads((folder / "comparison.json").read_text()) == json.loads(before)
    r = run("report", "--comparison", saved / "cmp.json", "--report", tmp_path / "x",
            "--design", "crawford_sobel", "--data", saved / "sim.csv")
    assert r.exit_code == 0, r.output


def test_report_refuses_other_data(run, saved, tmp_path):
    other = tmp_path / "other.csv"
    r = run("simulate", "--design", "crawford_sobel", "--model", "levelk", "--subjects", "6",
            "--rounds", "10", "--seed", "4", "--out", other)
    assert r.exit_code == 0, r.output
    assert_bad_input(run("report", "--comparison", saved / "cmp.json", "--data", other,
                         "--report", tmp_path / "r"),
                     "cmp.json", "data_sha256", str(other), "has changed")
    assert not (tmp_path / "r").exists()
    # a JSON written before the checksum was recorded: the log-likelihood check still holds
    doc = json.loads((saved / "cmp.json").read_text())
    del doc["data_sha256"]
    older = tmp_path / "older.json"
    older.write_text(json.dumps(doc))
    assert_bad_input(run("report", "--comparison", older, "--data", other,
                         "--report", tmp_path / "r"),
                     "older.json", "models[0].loglik", "not fitted on this design and data")
    r = run("report", "--comparison", older, "--report", tmp_path / "r2")
    assert r.exit_code == 0, r.output


def test_report_refuses_data_changed_since_the_comparison(run, saved, tmp_path):
    import hashlib

    doc = json.loads((saved / "cmp.json").read_text())
    assert doc["data_sha256"] == hashlib.sha256((saved / "sim.csv").read_bytes()).hexdigest()
    # the same rows, but not the same file: one decision changed
    lines = (saved / "sim.csv").read_text().splitlines()
    head, first = lines[0].split(","), lines[1].split(",")
    at = head.index("action")
    first[at] = "1" if first[at] != "1" else "2"
    changed = tmp_path / "sim.csv"
    changed.write_text("\n".join([lines[0], ",".join(first), *lines[2:]]) + "\n")
    assert_bad_input(run("report", "--comparison", saved / "cmp.json", "--data", changed,
                         "--report", tmp_path / "r"), str(changed), "has changed")


def test_report_refuses_negative_standard_errors(run, saved, tmp_path):
    doc = json.loads((saved / "cmp.json").read_text())
    name = next(iter(doc["models"][0]["se"]))
    doc["models"][0]["se"][name] = -0.5
    bad = tmp_path / "neg.json"
    bad.write_text(json.dumps(doc))
    assert_bad_input(run("report", "--comparison", bad, "--report", tmp_path / "r"),
                     "neg.json", f"models[0].se.{name}", "cannot be negative")


def test_report_names_a_missing_data_file(run, saved, tmp_path):
    doc = json.loads((saved / "cmp.json").read_text())
    doc["data"] = str(tmp_path / "gone.csv")
    moved = tmp_path / "moved.json"
    moved.write_text(json.dumps(doc))
    assert_bad_input(run("report", "--comparison", moved, "--report", tmp_path / "r"),
                     "moved.json", "gone.csv", "pass --data")
    doc.pop("data")
    moved.write_text(json.dumps(doc))
    assert_bad_input(run("report", "--comparison", moved, "--report", tmp_path / "r"),
                     "does not record its data")


def test_report_will_not_write_into_a_users_folder(run, saved, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("mine")
    for force in ((), ("--force",)):
        assert_bad_input(run("report", "--comparison", saved / "cmp.json", "--report", mine,
                             *force), "not a cheaptalk report")
        assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert (mine / "notes.txt").read_text() == "mine"
    a_file = tmp_path / "a_file"
    a_file.write_text("mine")
    assert_bad_input(run("report", "--comparison", saved / "cmp.json", "--report", a_file,
                         "--force"), "not a folder")
    assert a_file.read_text() == "mine"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_an_existing_report_is_refused_before_the_work_without_force(run, saved, tmp_path):
    folder = tmp_path / "rep"
    shutil.copytree(saved / "first", folder)
    before = _snapshot(folder)
    # compare checks the report folder before fitting: no JSON written, nothing replaced
    out = tmp_path / "new.json"
    assert_bad_input(run("compare", "--design", "crawford_sobel", "--data", saved / "sim.csv",
                         "--models", "levelk", "--folds", "0", "--json", out,
                         "--report", folder), "rep", "--force")
    assert not out.exists()
    assert _snapshot(folder) == before
    # with --force the report is replaced as a whole (no file of the old one left over,
    # such as one an older run wrote, and listed in the marker as its own)
    (folder / "stale.csv").write_text("from an older run")
    with open(folder / REPORT_MARKER, "a", encoding="utf-8") as marker:
        marker.write("stale.csv\n")
    r = run("report", "--comparison", saved / "cmp.json", "--report", folder, "--force")
    assert r.exit_code == 0, r.output
    after = _snapshot(folder)
    assert "stale.csv" not in after
    assert set(after) == set(before)
    assert after["comparison.csv"] == before["comparison.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]  # no temporary folder left


def _explode(tables):
    raise RuntimeError("the figure writer failed")


@pytest.mark.parametrize("force", [False, True])
def test_a_failed_report_leaves_the_old_one_and_no_temporary_folder(run, saved, tmp_path,
                                                                    monkeypatch, force):
    from cheaptalk.report import figures

    caption = figures.FIGURES["out_of_sample"][1]
    monkeypatch.setitem(figures.FIGURES, "out_of_sample", (_explode, caption))
    folder = tmp_path / "rep"
    if force:  # an old report to replace, told apart from the new one by a table
        shutil.copytree(saved / "first", folder)
        (folder / "comparison.csv").write_text("the old report's table\n")
        before = _snapshot(folder)
    r = run("report", "--comparison", saved / "cmp.json", "--report", folder,
            *(("--force",) if force else ()))
    assert isinstance(r.exception, RuntimeError), r.output
    if force:
        assert _snapshot(folder) == before
        assert [p.name for p in tmp_path.iterdir()] == ["rep"]
    else:
        assert list(tmp_path.iterdir()) == []


def test_an_interrupted_report_leaves_the_old_one(saved, tmp_path, monkeypatch):
    from cheaptalk.data import load_data, load_design
    from cheaptalk.estimation.saved import read_comparison, rebuild_comparison
    from cheaptalk.report import figures
    from cheaptalk.report.folder import write_report

    d = load_design("crawford_sobel")
    ds = load_data(saved / "sim.csv", d)
    c = rebuild_comparison(read_comparison(saved / "cmp.json"), ds)
    folder = tmp_path / "rep"
    shutil.copytree(saved / "first", folder)
    (folder / "comparison.csv").write_text("the old report's table\n")
    before = _snapshot(folder)

    def interrupt(tables):
        raise KeyboardInterrupt

    monkeypatch.setitem(figures.FIGURES, "parameter_estimates", (interrupt, ""))
    with pytest.raises(KeyboardInterrupt):
        write_report(c, ds, folder, force=True)
    assert _snapshot(folder) == before
    assert [p.name for p in tmp_path.iterdir()] == ["rep"]


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=st.integers(0, 10**6), delete=st.booleans(), value=json_values())
def test_mutated_json_is_bad_input_never_a_crash(run, saved, tmp_path, choice, delete, value):
    doc = json.loads((saved / "cmp.json").read_text())
    mutate_json(doc, choice, delete, value)
    bad = tmp_path / "mutated.json"
    text = json.dumps(doc)
    bad.write_text(text)
    # The report folder's parent does not exist: every run ends in exit 2 (a mutation the
    # reader accepts fails there), so each example is quick; none may crash.
    r = run("report", "--comparison", bad, "--report", tmp_path / "no" / "such")
    assert_bad_input(r)
    assert bad.read_text() == text

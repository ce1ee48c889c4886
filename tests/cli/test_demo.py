import json

import pandas as pd
import pytest

from cheaptalk.demo import DEMO_TRUTH, demo_data_path, make_demo_data
from helpers import assert_bad_input


def test_bundled_demo_data_is_exactly_what_the_package_generates():
    regenerated = make_demo_data().to_csv(index=False)
    assert demo_data_path().read_text() == regenerated
    meta = json.loads(demo_data_path().with_suffix(".json").read_text())
    assert meta == json.loads(json.dumps(DEMO_TRUTH))
    assert "SYNTHETIC" in meta["label"]
    df = pd.read_csv(demo_data_path())
    assert (df["session"] == "synthetic").all() and len(df) * 2 == 3840


@pytest.mark.slow
def test_demo_runs_and_writes_the_report(run, tmp_path):
    report = tmp_path / "report"
    r = run("demo", "--models", "levelk,trust", "--folds", "2", "--starts", "1",
            "--report", report)
    assert r.exit_code == 0, r.output
    assert "DATA: SYNTHETIC" in r.output and "Best by BIC: trust" in r.output
    for name in ("comparison.csv", "comparison.json", "parameters.csv", "vuong.csv",
                 "posterior_types.csv", "diagnostics.csv", "summary.txt",
                 "leave_one_treatment_out.csv", "index.html", "comparison.tex",
                 "report_vs_state.png"):
        assert (report / name).stat().st_size > 0, name
    doc = json.loads((report / "comparison.json").read_text())
    assert doc["synthetic"] is True and doc["n_decisions"] == 3840
    assert doc["design"] == "forecast_sharing" and doc["data"] == str(demo_data_path())
    # the report is rebuilt from the saved JSON alone, without refitting
    again = tmp_path / "again"
    r = run("report", "--comparison", report / "comparison.json", "--report", again)
    assert r.exit_code == 0, r.output
    assert "Best by BIC: trust" in r.output
    assert (again / "summary.txt").read_text() == (report / "summary.txt").read_text()
    # a second run replaces its own report only with --force (and says so before fitting)
    before = (report / "comparison.json").read_text()
    assert_bad_input(run("demo", "--models", "levelk", "--folds", "0", "--starts", "1",
                         "--report", report), "report", "--force", "--report")
    assert (report / "comparison.json").read_text() == before
    assert run("demo", "--models", "levelk", "--folds", "0", "--starts", "1",
               "--report", report, "--force").exit_code == 0
    assert [m["name"] for m in json.loads((report / "comparison.json").read_text())[
        "models"]] == ["levelk"]


def test_demo_will_not_write_into_a_users_folder(run, tmp_path):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert_bad_input(run("demo", "--models", "levelk", "--report", mine), "not a cheaptalk")
    assert_bad_input(run("demo", "--models", "levelk", "--report", mine, "--force"),
                     "not a cheaptalk")
    assert [p.name for p in mine.iterdir()] == ["notes.txt"]
    assert (mine / "notes.txt").read_text() == "keep"

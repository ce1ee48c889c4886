"""Moving trust from the command line: simulate, predict, compare with a report, rebuild.

SYNTHETIC data, simulated here (small grid so that the test is quick).
"""

import json

import pandas as pd

from cheaptalk.data import load_data
from cheaptalk.data.design import load_design

DESIGN = """game = "forecast_sharing"
[treatments.A]
forecast_low = 50
forecast_high = 250
step = 25
noise = 25
capacity_cost = 0.25
matching = "fixed"
rounds = 15
"""
PARAMS = {"alpha_a": 2.0, "alpha_b": 3.0, "beta_mu": 0.0, "beta_sigma": 0.8,
          "lambda_s": 0.5, "lambda_r": 0.2, "eta": 0.3}


def test_simulate_predict_compare_report(run, tmp_path):
    design, params = tmp_path / "d.toml", tmp_path / "truth.json"
    design.write_text(DESIGN)
    params.write_text(json.dumps({"name": "dynamic_trust", "params": PARAMS}))
    data = tmp_path / "moving.csv"
    r = run("simulate", "--design", design, "--model", "dynamic_trust", "--params", params,
            "--subjects", "10", "--seed", "2", "--out", data)
    assert r.exit_code == 0, r.output
    df = pd.read_csv(data)
    assert df["round"].max() == 15 and "demand" in df.columns   # rounds from the design
    assert (df.groupby("sender")["receiver"].nunique() == 1).all()  # fixed partners

    out = tmp_path / "pred.json"
    r = run("predict", "--design", design, "--model", "dynamic_trust", "--params", params,
            "--json", out)
    assert r.exit_code == 0, r.output
    assert "mean trust" in r.output
    path = json.loads(out.read_text())["rounds"]
    assert path["round"] == list(range(1, 16)) and path["mean_trust"][0] == 0.4

    comparison, report = tmp_path / "c.json", tmp_path / "report"
    r = run("compare", "--design", design, "--data", data, "--models", "trust,dynamic_trust",
            "--folds", "0", "--starts", "1", "--intervals", "wald", "--json", comparison,
            "--report", report)
    assert r.exit_code == 0, r.output
    assert "dynamic_trust vs trust (eta = 0): LR =" in r.output
    doc = json.loads(comparison.read_text())
    (lr,) = doc["likelihood_ratio"]
    assert lr["model"] == "dynamic_trust" and lr["nested"] == "trust" and lr["df"] == 1
    lls = {m["name"]: m["loglik"] for m in doc["models"]}
    assert abs(lr["lr"] - 2 * (lls["dynamic_trust"] - lls["trust"])) < 1e-9
    for name in ("trust_over_rounds.png", "trust_over_rounds.csv", "trust_paths.csv",
                 "likelihood_ratio.csv"):
        assert (report / name).exists(), name
    html = (report / "index.html").read_text()
    assert "Likelihood-ratio tests of nested models" in html
    paths = pd.read_csv(report / "trust_paths.csv")
    flat = paths[paths["model"] == "trust"]["mean_trust"]
    assert flat.nunique() == 1 and paths[paths["model"] == "dynamic_trust"].shape[0] == 15

    again = tmp_path / "again"
    r = run("report", "--comparison", comparison, "--report", again)
    assert r.exit_code == 0, r.output
    assert (again / "trust_over_rounds.png").exists()


def test_default_models_need_feedback_and_rounds(tmp_path):
    from cheaptalk.cli import _models_for

    d = tmp_path / "d.toml"
    d.write_text(DESIGN)
    rows = pd.DataFrame({"treatment": "A", "round": [1, 2, 1, 2], "sender": ["s1", "s1", "s2",
                         "s2"], "receiver": ["r1", "r1", "r2", "r2"], "state": [50, 75, 100, 125],
                         "message": [50, 75, 100, 150], "action": [50, 75, 100, 150],
                         "demand": [55.5, 70.0, 110.0, 120.0]})
    rows.to_csv(tmp_path / "with.csv", index=False)
    rows.drop(columns="demand").to_csv(tmp_path / "without.csv", index=False)
    design = load_design(d)
    names = {s.name for s in _models_for(load_data(tmp_path / "with.csv", design))}
    assert "dynamic_trust" in names and "trust" in names
    without = {s.name for s in _models_for(load_data(tmp_path / "without.csv", design))}
    assert without == names - {"dynamic_trust"}
    static = {s.name for s in _models_for(load_data(tmp_path / "with.csv", design),
                                          static_only=True)}
    assert static == without

"""A saved comparison read back: the rebuilt comparison equals the one that was saved."""

import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from cheaptalk.data import InputError, load_design, validate_table
from cheaptalk.estimation.compare import compare
from cheaptalk.estimation.saved import read_comparison, rebuild_comparison
from cheaptalk.models import get_model
from cheaptalk.outputs import write_json
from cheaptalk.report.folder import write_tables
from cheaptalk.report.html import interpretation
from cheaptalk.report.latex import write_latex_tables
from cheaptalk.report.tables import ReportTables
from cheaptalk.report.text import comparison_text
from cheaptalk.simulation import Simulation
from helpers import json_values, mutate_json

LEVELK = {"p0": 0.2, "p1": 0.4, "p2": 0.3, "p3": 0.1, "lambda_s": 0.4, "lambda_r": 0.2}


def _data(seed):
    d = load_design("crawford_sobel")
    df = Simulation(d, get_model("levelk"), LEVELK, subjects_per_role=6, rounds=10).run(seed=seed)
    return validate_table(df, d, source=f"synthetic levelk seed {seed}")


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    ds = _data(1)
    c = compare([get_model(m) for m in ("levelk", "trust", "equilibrium")], ds, folds=2,
                n_starts=1, jobs=1)
    path = tmp_path_factory.mktemp("saved") / "comparison.json"
    write_json(c.to_dict(), path)
    return c, ds, path


def test_round_trip_reproduces_everything(saved):
    c, ds, path = saved
    back = rebuild_comparison(read_comparison(path), ds, source=str(path))
    assert list(back.fits) == list(c.fits)
    for name, f in c.fits.items():
        g = back.fits[name]
        assert g.llf == pytest.approx(f.llf, rel=1e-12)
        pd.testing.assert_series_equal(g.params, f.params)
        pd.testing.assert_series_equal(g.bse_sandwich, f.bse_sandwich)
        pd.testing.assert_frame_equal(g.cov_sandwich, f.cov_sandwich)
        pd.testing.assert_series_equal(g.derived_se, f.derived_se, check_names=False,
                                       check_index_type=False)
        np.testing.assert_allclose(g.subject_llf, f.subject_llf, rtol=1e-12)
        pd.testing.assert_frame_equal(g.posterior, f.posterior)
        assert g.summary() == f.summary()
    assert back.vuong == c.vuong
    assert back.cv == c.cv and back.loto == c.loto
    pd.testing.assert_frame_equal(back.diagnostics, c.diagnostics)
    assert back.synthetic and back.folds == c.folds
    # Saving the rebuilt comparison gives the same JSON (so re-rendering in place is stable).
    assert json.loads(json.dumps(back.to_dict(), default=float)) == json.loads(path.read_text())


def test_recorded_design_and_data(saved):
    c, _, path = saved
    doc = json.loads(path.read_text())
    assert doc["design"] == "crawford_sobel"  # a bundled design, by name
    assert doc["data"] == "synthetic levelk seed 1"  # not a file: kept as it was
    assert len(doc["models"][0]["covariance"]["sandwich"]) == len(c.fits["levelk"].params)


def test_other_data_are_refused(saved):
    _, _, path = saved
    with pytest.raises(InputError, match="not fitted on this design and data") as e:
        rebuild_comparison(read_comparison(path), _data(2), source=str(path))
    assert e.value.key == "models[0].loglik"


def test_fewer_rows_are_refused(saved):
    _, ds, path = saved
    fewer = validate_table(ds.table.iloc[:-3].drop(columns=["sender_type", "receiver_type"],
                                                   errors="ignore"), ds.design)
    with pytest.raises(InputError, match="fitted on"):
        rebuild_comparison(read_comparison(path), fewer, source=str(path))


@pytest.mark.parametrize("edit, key, message", [
    (lambda d: d["models"][0]["params"].pop("p1"), "models[0].params", "missing parameter 'p1'"),
    (lambda d: d["models"][1]["params"].update(gamma=1.0), "models[1].params.gamma",
     "has no parameter 'gamma'"),
    (lambda d: d["models"][0]["params"].update(p0=-0.5), "models[0].params", "p0"),
    (lambda d: d["models"][0].update(options={"levels": "many"}),
     "models[0].options.levels", "option levels of levelk is a whole number, got 'many'"),
    (lambda d: d["models"][0].update(options={"levels": 0}), "models[0].options",
     "invalid model options for levelk: levels must be an integer >= 1"),
    (lambda d: d["models"][0].update(options={"depth": 2}), "models[0].options.depth",
     "no option 'depth'; options of levelk: levels"),
])
def test_parameters_that_do_not_fit_the_model(saved, tmp_path, edit, key, message):
    _, ds, path = saved
    doc = json.loads(path.read_text())
    edit(doc)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(InputError, match=message) as e:
        rebuild_comparison(read_comparison(bad), ds, source=str(bad))
    assert e.value.key == key and e.value.file == str(bad)


@pytest.mark.parametrize("text, fragment", [
    ("", "invalid JSON"),
    ("{\"models\": [}", "line 1"),
    ("[1, 2]", "expected a JSON object"),
    ("{}", "missing key 'models'"),
    ("{\"name\": \"trust\", \"params\": {}}", "the JSON of one fit (`cheaptalk fit`)"),
    ("{\"models\": []}", "no models"),
    ("{\"models\": [{\"name\": \"nope\"}]}", "key 'models[0].name': unknown model 'nope'"),
    ("{\"models\": [{\"name\": \"trust\", \"params\": {\"pi\": \"x\"}}]}",
     "key 'models[0].params.pi': expected a finite number"),
    ("{\"models\": [{\"name\": \"trust\", \"params\": {}}]}",
     "key 'models[0]': missing key 'loglik'"),
    ("{\"models\": [{\"name\": \"trust\", \"params\": {}, \"loglik\": 1, \"n_params\": 1.5}]}",
     "'models[0].n_params': expected a whole number"),
    ("{\"models\": [{\"name\": \"trust\", \"params\": {}, \"loglik\": NaN, \"n_params\": 1}]}",
     "expected a finite number"),
])
def test_structure_errors_name_the_key(tmp_path, text, fragment):
    p = tmp_path / "c.json"
    p.write_text(text)
    with pytest.raises(InputError) as e:
        read_comparison(p)
    assert str(e.value).startswith(str(p)) and fragment in str(e.value), str(e.value)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choice=st.integers(0, 10**6), delete=st.booleans(), value=json_values())
def test_any_mutation_is_refused_or_reported(saved, tmp_path, choice, delete, value):
    """A mutated JSON is either refused with an InputError naming the file, or read into a
    comparison whose tables and text can all be written."""
    _, ds, path = saved
    doc = json.loads(path.read_text())
    mutate_json(doc, choice, delete, value)
    bad = tmp_path / "mutated.json"
    bad.write_text(json.dumps(doc))
    try:
        c = rebuild_comparison(read_comparison(bad), ds, source=str(bad))
    except InputError as e:
        assert e.file == str(bad)
        event("refused")
        return
    event("accepted")
    tables = ReportTables(c, ds)
    comparison_text(tables)
    interpretation(tables)
    write_tables(tables, tmp_path / f"tables{choice}")
    write_latex_tables(tables, tmp_path / f"tables{choice}")


def _edited(path, tmp_path, edit):
    doc = json.loads(path.read_text())
    edit(doc)
    bad = tmp_path / "edited.json"
    bad.write_text(json.dumps(doc))
    return bad


@pytest.mark.parametrize("key", ["se", "se_hessian"])
def test_negative_standard_errors_are_refused(saved, tmp_path, key):
    _, _, path = saved
    bad = _edited(path, tmp_path, lambda d: d["models"][1][key].update(pi=-0.1))
    with pytest.raises(InputError, match="cannot be negative") as e:
        read_comparison(bad)
    assert e.value.key == f"models[1].{key}.pi"


def test_changed_data_are_refused_by_their_checksum(saved, tmp_path):
    from dataclasses import replace

    c, ds, path = saved
    recorded = _edited(path, tmp_path, lambda d: d.update(data_sha256="a" * 64))
    raw = read_comparison(recorded)
    with pytest.raises(InputError, match="has changed since the comparison") as e:
        rebuild_comparison(raw, replace(ds, sha256="b" * 64), source=str(recorded))
    assert e.value.key == "data_sha256" and ds.source in str(e.value)
    # the same bytes, or data without a checksum (older JSON, data in memory): accepted
    same = rebuild_comparison(raw, replace(ds, sha256="a" * 64), source=str(recorded))
    assert same.to_dict()["data_sha256"] == "a" * 64
    assert rebuild_comparison(raw, ds, source=str(recorded)).fits.keys() == c.fits.keys()
    with pytest.raises(InputError, match="64 hexadecimal digits"):
        read_comparison(_edited(path, tmp_path, lambda d: d.update(data_sha256="xyz")))


def test_a_comparison_saved_before_intervals_is_read_with_labelled_wald(saved, tmp_path):
    """An older JSON has no ``intervals``: it is read, and its intervals are the natural-scale
    Wald intervals of its standard errors, labelled so."""
    _, ds, path = saved
    doc = json.loads(path.read_text())
    for m in doc["models"]:
        del m["intervals"]
    old = tmp_path / "old.json"
    old.write_text(json.dumps(doc))
    back = rebuild_comparison(read_comparison(old), ds, source=str(old))
    f = back.fits["levelk"]
    ci = f.reported_intervals()
    z = 1.959963984540054
    for n in ("lambda_s", "p1"):
        assert ci.loc[n, "method"] == "wald-natural"
        assert ci.loc[n, "lower"] == pytest.approx(f.params[n] - z * f.bse_sandwich[n])
    p = ReportTables(back).parameters
    assert set(p["ci_method"].dropna()) == {"wald-natural"}


def test_a_bad_interval_method_is_bad_input(saved, tmp_path):
    _, ds, path = saved
    doc = json.loads(path.read_text())
    doc["models"][0]["intervals"]["wald"]["lambda_s"]["method"] = "guess"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    with pytest.raises(InputError, match="unknown interval method 'guess'"):
        rebuild_comparison(read_comparison(bad), ds, source=str(bad))

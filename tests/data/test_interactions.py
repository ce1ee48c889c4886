"""Every bad input of SPEC §4 and issue #2: one InputError naming file, row and column."""

import numpy as np
import pandas as pd
import pytest

from cheaptalk.data import InputError, load_data


def write(tmp_path, df, name="data.csv"):
    p = tmp_path / name
    df.to_csv(p, index=False)
    return p


def error_of(path, design) -> InputError:
    before = path.read_bytes() if path.exists() else None
    with pytest.raises(InputError) as info:
        load_data(path, design)
    if before is not None:
        assert path.read_bytes() == before  # nothing the user wrote is changed
    return info.value


def test_good_data_loads_and_maps_to_grid(tmp_path, forecast_design, good_rows):
    ds = load_data(write(tmp_path, good_rows), forecast_design)
    assert ds.n_decisions == 12
    g = forecast_design.game("LL")
    assert g.states[ds.state[1]] == 150  # 150.4 -> nearest grid point
    assert forecast_design.game("HH").actions[ds.action[4]] == 100  # tie 100.5 -> lower
    mapped = {m.column: m for m in ds.mappings}
    assert mapped["state"].n_mapped == 1 and mapped["state"].max_distance == pytest.approx(0.4)
    assert mapped["action"].n_mapped == 1 and mapped["message"].n_mapped == 0
    s = ds.summary()
    assert [t["treatment"] for t in s["treatments"]] == ["LL", "HH"]
    assert s["treatments"][0]["senders"] == 2 and s["treatments"][0]["rounds"] == 2
    assert "session" in ds.table.columns  # extra columns pass through


def test_parquet_reads_like_csv(tmp_path, forecast_design, good_rows):
    p = tmp_path / "data.parquet"
    good_rows.to_parquet(p, index=False)
    a = load_data(p, forecast_design)
    b = load_data(write(tmp_path, good_rows), forecast_design)
    np.testing.assert_array_equal(a.action, b.action)


def test_role_switchers_are_counted(tmp_path, forecast_design, good_rows):
    good_rows.loc[2, "sender"], good_rows.loc[2, "receiver"] = "r1", "s1"
    good_rows.loc[3, "sender"], good_rows.loc[3, "receiver"] = "r2", "s2"
    ds = load_data(write(tmp_path, good_rows), forecast_design)
    assert ds.role_switchers == ["r1", "r2", "s1", "s2"]


def test_empty_file(tmp_path, forecast_design):
    p = tmp_path / "e.csv"
    p.write_text("")
    assert "empty" in str(error_of(p, forecast_design))


def test_header_only(tmp_path, forecast_design):
    p = tmp_path / "h.csv"
    p.write_text("treatment,round,sender,receiver,state,message,action\n")
    assert "no data rows" in str(error_of(p, forecast_design))


def test_missing_file(tmp_path, forecast_design):
    assert "not found" in str(error_of(tmp_path / "none.csv", forecast_design))


@pytest.mark.parametrize("column", ["treatment", "round", "state", "action"])
def test_missing_column(tmp_path, forecast_design, good_rows, column):
    e = error_of(write(tmp_path, good_rows.drop(columns=column)), forecast_design)
    assert e.column == column and f"missing required column {column!r}" in str(e)


def test_missing_column_case_hint(tmp_path, forecast_design, good_rows):
    e = error_of(write(tmp_path, good_rows.rename(columns={"state": "State"})), forecast_design)
    assert "case-sensitive" in str(e)


@pytest.mark.parametrize("column,value,match", [
    ("state", "abc", "not a finite number: 'abc'"),
    ("message", "1e999", "not a finite number"),
    ("action", "", "missing value"),
    ("sender", "", "missing value"),
    ("round", "1.5", "whole number"),
])
def test_bad_cells_name_row_line_and_column(tmp_path, forecast_design, good_rows, column, value,
                                             match):
    df = good_rows.astype(str)
    df.loc[3, column] = value
    e = error_of(write(tmp_path, df), forecast_design)
    assert (e.row, e.line, e.column) == (4, 5, column)
    assert match in str(e)
    assert str(e).startswith(f"{tmp_path / 'data.csv'}: row 4 (line 5), column {column!r}")


@pytest.mark.parametrize("column,value,match", [
    ("state", 300, "outside the design's range [50, 250]"),
    ("message", 10, "outside the design's range"),
    ("action", -5, "negative capacity"),
    ("action", 280, "raise capacity_max"),
])
def test_values_outside_range(tmp_path, forecast_design, good_rows, column, value, match):
    good_rows[column] = good_rows[column].astype(float)
    good_rows.loc[2, column] = value
    e = error_of(write(tmp_path, good_rows), forecast_design)
    assert (e.row, e.column) == (3, column) and match in str(e)


def test_unknown_treatment(tmp_path, forecast_design, good_rows):
    good_rows.loc[5, "treatment"] = "XX"
    e = error_of(write(tmp_path, good_rows), forecast_design)
    assert (e.row, e.column) == (6, "treatment") and "'XX' is not in the design" in str(e)


@pytest.mark.parametrize("role", ["sender", "receiver"])
def test_duplicate_rows(tmp_path, forecast_design, good_rows, role):
    good_rows.loc[1, role] = good_rows.loc[0, role]
    e = error_of(write(tmp_path, good_rows), forecast_design)
    assert e.column == role and "duplicate row" in str(e) and "rows 1, 2" in str(e)
    assert e.row == 2


def test_unreadable_bytes(tmp_path, forecast_design, good_rows):
    p = write(tmp_path, good_rows)
    p.write_bytes(p.read_bytes().replace(b"s2", b"s\xff2", 1))
    e = error_of(p, forecast_design)
    assert "unreadable bytes" in str(e) and e.line == 3


def test_binary_file(tmp_path, forecast_design):
    p = tmp_path / "x.csv"
    p.write_bytes(b"\x00\x01\x02binary")
    assert "unreadable bytes" in str(error_of(p, forecast_design))


def test_corrupt_parquet(tmp_path, forecast_design):
    p = tmp_path / "x.parquet"
    p.write_bytes(b"PAR1 this is not parquet")
    assert "Parquet" in str(error_of(p, forecast_design))


def test_table_in_memory_not_modified(forecast_design, good_rows):
    from cheaptalk.data import validate_table

    copy = good_rows.copy()
    validate_table(good_rows, forecast_design)
    pd.testing.assert_frame_equal(good_rows, copy)


# ---- silent wrong results (issue 9, item 7): integers exact, repeated names, self-matching
def test_rounds_are_read_exactly_beyond_float64(tmp_path, forecast_design, good_rows):
    # 2**53 + 1 and 2**53 are distinct rounds; through float64 they were one (duplicates).
    big = 2**53
    good_rows["round"] = [big + 1, big + 1, big, big, 1, 1]
    ds = load_data(write(tmp_path, good_rows), forecast_design)
    assert ds.table["round"].tolist() == [big + 1, big + 1, big, big, 1, 1]
    assert ds.summary()["treatments"][0]["rounds"] == 2


@pytest.mark.parametrize("value, match", [
    ("1e23", "too large to be read exactly"),             # float64 -> int64 gave a negative
    ("99999999999999999999", "does not fit a 64-bit integer"),
    ("-9223372036854775809", "does not fit a 64-bit integer"),
    ("2.5", "whole number"),
])
def test_rounds_that_do_not_fit_are_refused(tmp_path, forecast_design, good_rows, value, match):
    good_rows["round"] = good_rows["round"].astype(object)
    good_rows.loc[3, "round"] = value
    e = error_of(write(tmp_path, good_rows), forecast_design)
    assert (e.row, e.line, e.column) == (4, 5, "round")
    assert match in str(e) and value in str(e)


def test_largest_int64_round_is_kept(tmp_path, forecast_design, good_rows):
    good_rows["round"] = [2**63 - 1, 2**63 - 1, 5, 5, -(2**63), -(2**63)]
    ds = load_data(write(tmp_path, good_rows), forecast_design)
    assert ds.table["round"].tolist() == [2**63 - 1, 2**63 - 1, 5, 5, -(2**63), -(2**63)]


def test_rounds_from_parquet_integers_and_floats(tmp_path, forecast_design, good_rows):
    pytest.importorskip("pyarrow")
    big = 2**53
    good_rows["round"] = np.array([big + 1, big + 1, big, big, 1, 1], dtype=np.int64)
    p = tmp_path / "d.parquet"
    good_rows.to_parquet(p)
    assert load_data(p, forecast_design).table["round"].tolist()[:3] == [big + 1, big + 1, big]
    good_rows["round"] = [1.0, 1.0, 2.0, 2.0, 1e23, 1e23]
    good_rows.to_parquet(p)
    e = error_of(p, forecast_design)
    assert (e.row, e.column) == (5, "round") and "too large" in str(e)


def test_repeated_column_name_is_refused_not_renamed(tmp_path, forecast_design, good_rows):
    p = tmp_path / "d.csv"
    text = good_rows.to_csv(index=False).splitlines()
    text[0] += ",state"
    p.write_text("\n".join([text[0], *(line + ",999" for line in text[1:])]) + "\n")
    e = error_of(p, forecast_design)
    assert e.column == "state" and "more than once" in str(e)


def test_sender_matched_with_themselves(tmp_path, forecast_design, good_rows):
    good_rows.loc[2, "receiver"] = good_rows.loc[2, "sender"]
    e = error_of(write(tmp_path, good_rows), forecast_design)
    assert (e.row, e.column) == (3, "receiver") and "'s1'" in str(e)


@pytest.mark.parametrize("sep, name", [(";", "semicolon"), ("\t", "tab")])
def test_other_delimiter_is_named(tmp_path, forecast_design, good_rows, sep, name):
    p = tmp_path / "d.csv"
    good_rows.to_csv(p, index=False, sep=sep)
    e = error_of(p, forecast_design)
    assert f"{len(good_rows.columns) - 1} {name}s" in str(e)  # the separators of the header
    assert "comma-separated" in str(e) and e.line == 1


def test_value_beyond_range_printed_as_given(tmp_path, forecast_design, good_rows):
    good_rows["state"] = good_rows["state"].astype(object)
    good_rows.loc[0, "state"] = "250.000001"
    e = error_of(write(tmp_path, good_rows), forecast_design)
    assert "forecast 250.000001 is outside" in str(e) and e.column == "state"


def test_sha256_of_the_file_bytes(tmp_path, forecast_design, good_rows):
    import hashlib

    p = write(tmp_path, good_rows)
    assert load_data(p, forecast_design).sha256 == hashlib.sha256(p.read_bytes()).hexdigest()

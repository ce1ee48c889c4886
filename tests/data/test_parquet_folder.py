"""Data from a folder of Parquet files (SPEC §5.1): read like the same data as one CSV,
extra columns kept, validated batch by batch with the CSV's messages."""

import numpy as np
import pandas as pd
import pytest

from cheaptalk.data import InputError, load_data, load_design
from cheaptalk.demo import demo_data_path
from cheaptalk.estimation.mle import MaximumLikelihood
from cheaptalk.models import get_model

pytest.importorskip("pyarrow")


@pytest.fixture(scope="module")
def design():
    return load_design("forecast_sharing")


@pytest.fixture(scope="module")
def demo_table():
    return pd.read_csv(demo_data_path())


def split(table, folder, extra=True):
    """The table as three Parquet files (one in a subfolder), in path order."""
    folder.mkdir()
    (folder / "later").mkdir()
    parts = np.array_split(np.arange(len(table)), 3)
    names = [folder / "a.parquet", folder / "b.parquet", folder / "later" / "c.parquet"]
    for name, rows in zip(names, parts, strict=True):
        part = table.iloc[rows].copy()
        if extra:
            part["notes"] = "kept"
        part.to_parquet(name, index=False)
    return names, parts


def test_folder_gives_the_csv_data_and_fit(tmp_path, design, demo_table):
    split(demo_table, tmp_path / "data")
    from_folder = load_data(tmp_path / "data", design)
    from_csv = load_data(demo_data_path(), design)
    for field in ("state", "message", "action", "feedback"):
        np.testing.assert_array_equal(getattr(from_folder, field), getattr(from_csv, field))
    assert (from_folder.table["notes"] == "kept").all()  # extra columns are kept
    pd.testing.assert_frame_equal(from_folder.table.drop(columns="notes"), from_csv.table)
    model = get_model("levelk")
    a = MaximumLikelihood(model, from_folder).fit(n_starts=1, standard_errors=False)
    b = MaximumLikelihood(model, from_csv).fit(n_starts=1, standard_errors=False)
    assert a.llf == b.llf
    pd.testing.assert_series_equal(a.params, b.params)


def test_a_bad_cell_is_named_by_its_file_and_row(tmp_path, design, demo_table):
    bad = demo_table.copy()
    names, _ = split(bad, tmp_path / "data", extra=False)
    # the 5th row of the second file
    table = pd.read_parquet(names[1])
    table.loc[4, "message"] = 10_000.0
    table.to_parquet(names[1], index=False)
    with pytest.raises(InputError) as info:
        load_data(tmp_path / "data", design)
    e = info.value
    assert (e.file, e.row, e.column) == (str(names[1]), 5, "message")
    assert "outside the design's range" in str(e)


def test_a_file_lacking_a_column_the_others_have(tmp_path, design, demo_table):
    names, _ = split(demo_table, tmp_path / "data", extra=False)
    pd.read_parquet(names[2]).drop(columns="demand").to_parquet(names[2], index=False)
    with pytest.raises(InputError, match="no column 'demand'") as info:
        load_data(tmp_path / "data", design)
    assert info.value.file == str(names[2])


def test_empty_folder_and_missing_path(tmp_path, design):
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no Parquet files"):
        load_data(tmp_path / "empty", design)
    with pytest.raises(InputError, match="not found"):
        load_data(tmp_path / "none.parquet", design)


def test_column_map_reads_a_folder_with_other_names(tmp_path, design, demo_table):
    renamed = demo_table.rename(columns={"state": "forecast", "demand": "sales"})
    split(renamed, tmp_path / "data")
    ds = load_data(tmp_path / "data", design, columns="state=forecast,demand=sales")
    csv = load_data(demo_data_path(), design)
    np.testing.assert_array_equal(ds.state, csv.state)
    np.testing.assert_array_equal(ds.feedback, csv.feedback)
    assert ds.columns == {"state": "forecast", "demand": "sales"}


def test_digest_follows_the_files(tmp_path, design, demo_table):
    names, _ = split(demo_table, tmp_path / "data")
    first = load_data(tmp_path / "data", design).sha256
    assert load_data(tmp_path / "data", design).sha256 == first
    table = pd.read_parquet(names[0])
    table.loc[0, "notes"] = "changed"
    table.to_parquet(names[0], index=False)
    assert load_data(tmp_path / "data", design).sha256 != first


def test_extra_columns_are_the_same_from_csv_and_from_parquet(tmp_path, design, demo_table):
    """SPEC §4: columns cheaptalk does not read are kept, in either format: a text column
    identical, a numeric one with the same values (a CSV file holds text, Parquet numbers)."""
    table = demo_table.copy()
    table["platform"] = np.where(np.arange(len(table)) % 3 == 0, "web", "app")
    table["payoff"] = np.round(np.linspace(-5.5, 12.25, len(table)), 2)
    table.to_csv(tmp_path / "data.csv", index=False)
    split(table, tmp_path / "data", extra=False)
    from_csv = load_data(tmp_path / "data.csv", design)
    from_folder = load_data(tmp_path / "data", design)
    for ds in (from_csv, from_folder):
        assert list(ds.table.columns) == list(table.columns)
    pd.testing.assert_series_equal(from_folder.table["platform"], from_csv.table["platform"])
    assert all(isinstance(v, str) for v in from_csv.table["payoff"])  # as the file has it
    np.testing.assert_array_equal(from_folder.table["payoff"].to_numpy(),
                                  pd.to_numeric(from_csv.table["payoff"]).to_numpy())
    # extra_columns=False: only the columns cheaptalk reads, in either format
    only_csv = load_data(tmp_path / "data.csv", design, extra_columns=False)
    only_folder = load_data(tmp_path / "data", design, extra_columns=False)
    known = ["treatment", "round", "sender", "receiver", "state", "message", "action",
             "demand", "session"]
    assert list(only_csv.table.columns) == list(only_folder.table.columns) == known
    pd.testing.assert_frame_equal(only_folder.table, from_folder.table[known])
    pd.testing.assert_frame_equal(only_csv.table, from_csv.table[known])


def test_an_extra_column_some_files_lack_is_missing_there(tmp_path, design, demo_table):
    names, parts = split(demo_table, tmp_path / "data")
    pd.read_parquet(names[1]).drop(columns="notes").to_parquet(names[1], index=False)
    notes = load_data(tmp_path / "data", design).table["notes"]
    lacking = np.zeros(len(demo_table), dtype=bool)
    lacking[parts[1]] = True
    assert notes[lacking].isna().all()
    assert (notes[~lacking] == "kept").all()


@pytest.fixture
def small_batches(monkeypatch):
    """Parquet read 100 rows at a time; the sizes of the batches validated."""
    from cheaptalk.data import interactions

    monkeypatch.setattr(interactions, "PARQUET_BATCH_ROWS", 100)
    sizes = []
    validate = interactions._validate_rows

    def recorded(table, *args, **kwargs):
        sizes.append(len(table))
        return validate(table, *args, **kwargs)

    monkeypatch.setattr(interactions, "_validate_rows", recorded)
    return sizes


def test_batches_give_the_csv_data(tmp_path, design, demo_table, small_batches):
    """Validated 100 rows at a time, off-grid values included: the data, the grid mapping and
    the feedback are those of the CSV file read in one piece."""
    table = demo_table.copy()
    table.loc[::7, "action"] += 0.3  # off the grid: mapped, and reported
    table.to_csv(tmp_path / "data.csv", index=False)
    split(table, tmp_path / "data", extra=False)
    from_folder = load_data(tmp_path / "data", design)
    assert small_batches == [100] * 6 + [40] + [100] * 6 + [40] + [100] * 6 + [40]
    small_batches.clear()
    from_csv = load_data(tmp_path / "data.csv", design)
    assert small_batches == [len(table)]  # a CSV file in one piece
    pd.testing.assert_frame_equal(from_folder.table, from_csv.table)
    for field in ("state", "message", "action", "feedback"):
        np.testing.assert_array_equal(getattr(from_folder, field), getattr(from_csv, field))
    assert from_folder.mappings == from_csv.mappings
    assert from_folder.mappings[2].n_mapped == len(range(0, len(table), 7))


def test_a_bad_cell_in_a_later_batch_of_the_second_file(tmp_path, design, demo_table,
                                                        small_batches):
    """The error names the second file and the row in it (the third batch of that file),
    with the message the same cell gets in a CSV file."""
    names = split(demo_table, tmp_path / "data", extra=False)[0]
    table = pd.read_parquet(names[1])
    table.loc[249, "action"] = -3.0
    table.to_parquet(names[1], index=False)
    with pytest.raises(InputError) as info:
        load_data(tmp_path / "data", design)
    e = info.value
    assert (e.file, e.row, e.column, e.line) == (str(names[1]), 250, "action", None)
    assert small_batches[-1] == 100 and len(small_batches) == 7 + 3  # stopped at that batch
    table.to_csv(tmp_path / "b.csv", index=False)
    with pytest.raises(InputError) as from_csv:
        load_data(tmp_path / "b.csv", design)
    assert (from_csv.value.row, from_csv.value.column) == (250, "action")
    assert e.message == from_csv.value.message
    # a single Parquet file: named as given, the row counted across its batches
    with pytest.raises(InputError) as single:
        load_data(names[1], design)
    assert (single.value.file, single.value.row) == (str(names[1]), 250)
    assert str(single.value) == str(e)


def test_a_duplicate_across_files_names_both(tmp_path, design, demo_table, small_batches):
    names = split(demo_table, tmp_path / "data", extra=False)[0]
    first = pd.read_parquet(names[0]).iloc[[2]]
    later = pd.read_parquet(names[2])
    later = pd.concat([later.iloc[:150], first, later.iloc[150:]], ignore_index=True)
    later.to_parquet(names[2], index=False)
    with pytest.raises(InputError, match="duplicate row") as info:
        load_data(tmp_path / "data", design)
    e = info.value
    assert (e.file, e.row, e.column) == (str(names[2]), 151, "sender")
    assert f"({names[0]} row 3, {names[2]} row 151)" in str(e)

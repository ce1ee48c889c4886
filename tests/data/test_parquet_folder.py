"""Data from a folder of Parquet files (SPEC §5.1): read like the same data as one CSV."""

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
            part["notes"] = "not read"
        part.to_parquet(name, index=False)
    return names, parts


def test_folder_gives_the_csv_data_and_fit(tmp_path, design, demo_table):
    split(demo_table, tmp_path / "data")
    from_folder = load_data(tmp_path / "data", design)
    from_csv = load_data(demo_data_path(), design)
    for field in ("state", "message", "action", "feedback"):
        np.testing.assert_array_equal(getattr(from_folder, field), getattr(from_csv, field))
    assert from_folder.table["sender"].tolist() == from_csv.table["sender"].tolist()
    assert "notes" not in from_folder.table.columns  # only the columns cheaptalk reads
    assert "sender_type" not in from_folder.table.columns
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

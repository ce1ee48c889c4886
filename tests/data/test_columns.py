"""Column maps in Python: ``load_data(..., columns=...)`` reads a file whose columns have
other names, locates errors at the file's own columns and records the map."""

import pandas as pd
import pytest

from cheaptalk.data import InputError, load_data, load_design
from cheaptalk.data.columns import parse_column_map

ROWS = {
    "treatment": ["d12", "d12"], "period": [1, 1], "sender": ["s1", "s2"],
    "receiver": ["r1", "r2"], "type": [1, 3], "report": [3, 5], "choice": [4, 5],
}
MAP = {"round": "period", "state": "type", "message": "report", "action": "choice"}


@pytest.fixture
def export(tmp_path):
    path = tmp_path / "export.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    return path


def test_a_mapped_file_reads_as_the_renamed_file(export, tmp_path):
    design = load_design("crawford_sobel")
    mapped = load_data(export, design, columns=MAP)
    renamed = tmp_path / "renamed.csv"
    pd.DataFrame(ROWS).rename(columns={v: k for k, v in MAP.items()}).to_csv(renamed,
                                                                           index=False)
    plain = load_data(renamed, design)
    for c in ("state", "message", "action"):
        assert getattr(mapped, c).tolist() == getattr(plain, c).tolist()
    assert mapped.columns == MAP and plain.columns == {}
    assert mapped.summary()["columns"] == MAP
    # the text form is the same map
    assert load_data(export, design, columns="round=period, state=type, message=report,"
                     "action=choice").columns == MAP


def test_errors_name_the_file_s_own_column(export):
    design = load_design("crawford_sobel")
    bad = pd.DataFrame(ROWS).assign(report=[3, 11])
    bad.to_csv(export, index=False)
    with pytest.raises(InputError) as e:
        load_data(export, design, columns=MAP)
    assert (e.value.row, e.value.column) == (2, "report")
    assert "message 11 is outside the design's range" in str(e.value)


def test_a_map_onto_a_column_the_file_has_is_refused(export):
    pd.DataFrame(ROWS).assign(state=[9, 9]).to_csv(export, index=False)
    with pytest.raises(InputError, match="the file has a column 'state' too"):
        load_data(export, load_design("crawford_sobel"), columns=MAP)


def test_parse_column_map_accepts_dicts_and_checks_them():
    assert parse_column_map(None) == {} and parse_column_map({"state": " x "}) == {"state": "x"}
    with pytest.raises(InputError, match="mapped to both"):
        parse_column_map({"state": "x", "action": "x"})
    with pytest.raises(InputError, match="empty column map"):
        parse_column_map(" , ")

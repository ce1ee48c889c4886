import pandas as pd
import pytest

from cheaptalk.data import load_design


@pytest.fixture(scope="session")
def forecast_design():
    return load_design("forecast_sharing")


@pytest.fixture
def good_rows():
    return pd.DataFrame({
        "treatment": ["LL", "LL", "LL", "LL", "HH", "HH"],
        "round": [1, 1, 2, 2, 1, 1],
        "sender": ["s1", "s2", "s1", "s2", "s3", "s4"],
        "receiver": ["r1", "r2", "r2", "r1", "r3", "r4"],
        "state": [100, 150.4, 50, 250, 120, 130],
        "message": [120, 180, 60, 250, 120, 200],
        "action": [110, 170, 0, 270, 100.5, 150],
        "session": ["A", "A", "A", "A", "B", "B"],
    })

"""Shared pieces of the experiment tests (the small design and the oTree helpers are in
otree_driver.py)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # otree_driver

from otree_driver import SMALL


@pytest.fixture
def design_file(tmp_path):
    p = tmp_path / "small.toml"
    p.write_text(SMALL)
    return p

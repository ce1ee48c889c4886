import pytest

from cheaptalk.data import load_design, validate_table
from cheaptalk.simulation import Simulation
from toy_model import TRUE, Toy


@pytest.fixture(scope="module")
def cs_data():
    """Synthetic Crawford–Sobel data from the toy model at ``TRUE`` (12 subjects per role,
    20 rounds, three treatments)."""
    design = load_design("crawford_sobel")
    df = Simulation(design, Toy(), TRUE, subjects_per_role=12, rounds=20).run(seed=11)
    return validate_table(df, design)

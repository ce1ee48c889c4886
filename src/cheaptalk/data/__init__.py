"""Data: design files, interaction data, validation, grid mapping (SPEC §4)."""

from .design import Design, bundled_designs, load_design, parse_design
from .errors import InputError
from .interactions import REQUIRED_COLUMNS, Dataset, GridMapping, load_data, validate_table

__all__ = [
    "REQUIRED_COLUMNS",
    "Dataset",
    "Design",
    "GridMapping",
    "InputError",
    "bundled_designs",
    "load_data",
    "load_design",
    "parse_design",
    "validate_table",
]

"""The bundled demonstration: design, synthetic data and how the data were made.

``cheaptalk demo`` runs the whole study of Li, Özer & Subramanian (2021) on the bundled
2×2 forecast-sharing design (step 1) and a bundled dataset that is **synthetic**: simulated
by cheaptalk from a documented subject-level mixture of trust-embedded and level-k types
(:data:`DEMO_TRUTH`), 16 manufacturers and 16 suppliers per treatment, 30 rounds with
random re-matching, tremble 1e-3: 1,920 interactions, 3,840 decisions. The generating
parameters are stored beside the data (``demo_data.json``), and
``python examples/make_demo_data.py`` rebuilds the file exactly.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from cheaptalk.data.design import Design, load_design
from cheaptalk.models import get_model
from cheaptalk.simulation import Simulation

__all__ = ["DEMO_TRUTH", "demo_data_path", "make_demo_data"]

#: How the bundled synthetic data were generated.
DEMO_TRUTH: dict[str, Any] = {
    "label": "SYNTHETIC data simulated by cheaptalk; not experiment data",
    "design": "forecast_sharing",
    "model": "combination",
    "options": {},
    "params": {
        "pi": 0.6,                     # 60% of subjects are trust-embedded types
        "alpha_a": 3.0, "alpha_b": 2.0,  # mean trust 0.6
        "beta_mu": -1.5, "beta_sigma": 0.8,  # median lying cost 0.22 per unit of lie
        "p0": 0.15, "p1": 0.45, "p2": 0.3, "p3": 0.1,
        "lambda_s": 0.5, "lambda_r": 0.2,
    },
    "subjects_per_role": 16,
    "rounds": 30,
    "epsilon": 1e-3,
    "seed": 20210401,
}


def demo_data_path() -> Path:
    """Path of the bundled synthetic dataset."""
    return Path(str(resources.files("cheaptalk") / "designs" / "demo_data.csv"))


def make_demo_data(design: Design | None = None) -> pd.DataFrame:
    """Simulate the demo dataset from :data:`DEMO_TRUTH` (same result every time)."""
    t = DEMO_TRUTH
    design = design or load_design(t["design"])
    sim = Simulation(design, get_model(t["model"], **t["options"]), t["params"],
                     subjects_per_role=t["subjects_per_role"], rounds=t["rounds"],
                     epsilon=t["epsilon"])
    return sim.run(seed=t["seed"])


def write_demo_data(folder: Path) -> tuple[Path, Path]:
    """Write ``demo_data.csv`` and ``demo_data.json`` (the truth) into ``folder``."""
    df = make_demo_data()
    data, meta = folder / "demo_data.csv", folder / "demo_data.json"
    df.to_csv(data, index=False)
    meta.write_text(json.dumps(DEMO_TRUTH, indent=1) + "\n", encoding="utf-8")
    return data, meta

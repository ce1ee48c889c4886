"""Where the demo's time goes: each model's share of its comparison (the full-sample fit with
standard errors, 5-fold cross-validation and leave-one-treatment-out) and the report, all in
this one process and on one thread, as in the demo's worker processes (the demo itself
spreads the fits over the cores: its wall time is about the sum of the models' shares over
the cores, plus the report).

Data: the bundled synthetic demo dataset (forecast sharing at step 1, 3,840 decisions), one
start, tremble 1e-3, seed 0, as ``cheaptalk demo`` runs them.

Run alone on an idle machine:
    python benchmarks/bench_demo.py [--models ch,trust] [--no-report]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

from cheaptalk._threads import serial_kernels
from cheaptalk.data import load_data, load_design
from cheaptalk.demo import DEMO_TRUTH, demo_data_path
from cheaptalk.estimation.compare import compare
from cheaptalk.models import available_models, get_model
from cheaptalk.runner import InProcess


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", default=None,
                        help="comma-separated (default: the demo's static models)")
    parser.add_argument("--no-report", action="store_true")
    args = parser.parse_args()
    design = load_design(DEMO_TRUTH["design"])
    dataset = load_data(demo_data_path(), design)
    names = (args.models.split(",") if args.models else
             [n for n, cls in available_models().items() if not cls.history_roles])
    warnings.simplefilter("ignore")
    seconds = {}
    for name in names:
        t = time.perf_counter()
        with serial_kernels():
            compare([get_model(name)], dataset, folds=5, seed=0, n_starts=1,
                    epsilon=DEMO_TRUTH["epsilon"], backend=InProcess())
        seconds[name] = time.perf_counter() - t
        print(f"{name:<14}{seconds[name]:8.1f} s  (fit with SEs, 5 folds, leave-one-"
              "treatment-out)", flush=True)
    if not args.no_report:
        from cheaptalk.report.folder import write_report

        comparison = compare([get_model(n) for n in ("levelk", "trust")], dataset, folds=0,
                             leave_one_treatment_out=False, n_starts=1,
                             epsilon=DEMO_TRUTH["epsilon"], backend=InProcess())
        t = time.perf_counter()
        with tempfile.TemporaryDirectory() as tmp:
            write_report(comparison, dataset, Path(tmp) / "report")
        seconds["report (2 models)"] = time.perf_counter() - t
        print(f"{'report':<14}{seconds['report (2 models)']:8.1f} s  (levelk and trust)")
    print(f"{'total':<14}{sum(seconds.values()):8.1f} s in one process")


if __name__ == "__main__":
    main()

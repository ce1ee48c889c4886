"""Time the AQRE literal branch (:mod:`cheaptalk.numerics.continuation`) in the forecast game.

Targets (issue #14): one ``branch="literal"`` solve at step 1 (201 × 201 × 271, treatment
LL) ≤ 10 s, and an AQRE fit (literal branch) on the demo data ≤ 60 s.

Prints, all on one BLAS thread (as the command line runs):

1. the cost of the solver's parts at step 1: one Jacobian factorisation (201 block inverses
   of 201 × 201 and the capacitance matrix), one evaluation of the equations, one
   Jacobian-vector product and one block solve with two right-hand sides;
2. for each grid step in ``--steps`` (default 10 and 5) the literal solve at λ = 0.11 (the
   default starting precision): wall time, continuation steps, factorisations, time per
   step; with ``--baseline REV`` also the solver as it was at git revision REV, run in the
   same process, with the ratio of the times and the largest difference of the sender
   strategies (the same equilibrium: ~1e-12);
3. with ``--full``, the literal solve at step 1 (long: see benchmarks/README.md);
4. with ``--fit``, the AQRE literal fit on the demo data (long).

Run ``python benchmarks/bench_aqre.py [--steps 10,5,2] [--baseline REV] [--full] [--fit]``.
Exit code 1 if a target that was run is missed.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

import numpy as np

from cheaptalk._threads import single_blas_thread
from cheaptalk.games import forecast_sharing
from cheaptalk.numerics import continuation

LAMBDA = 0.11
SOLVE_TARGET_S = 10.0
FIT_TARGET_S = 60.0
REPO = Path(__file__).resolve().parents[1]
SOLVER_PATH = "src/cheaptalk/numerics/continuation.py"


def median_time(fn, repeat: int) -> float:
    """Median wall time of ``repeat`` calls, in seconds."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def baseline_solver(rev: str) -> ModuleType:
    """The solver module as it was at git revision ``rev``, loaded under its own name."""
    source = subprocess.run(["git", "-C", str(REPO), "show", f"{rev}:{SOLVER_PATH}"],
                            check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "continuation_baseline.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("continuation_baseline", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def counting_factorisations(module: ModuleType) -> list[int]:
    """Count ``_Factor._build`` calls of ``module`` (a one-element list, reset by hand)."""
    count = [0]
    build = module._Factor._build

    def counted(self):
        count[0] += 1
        return build(self)

    module._Factor._build = counted
    return count


def parts_at_step_one() -> None:
    game = forecast_sharing(step=1)
    system = continuation._System(game, LAMBDA, LAMBDA, "literal")
    y = system.start()
    point = system.evaluate(y, 0.5)
    rhs = np.random.default_rng(0).normal(size=(2, system.size))

    def factorise():
        continuation._Factor(system, point)._build()

    factor = continuation._Factor(system, point)
    factor._build()
    print(f"step 1 {game.shape}, one BLAS thread, median of 3 (factorisation: of 2)")
    print(f"  factorisation        {median_time(factorise, 2):8.3f} s")
    print(f"  evaluation           {median_time(lambda: system.evaluate(y, 0.5), 3):8.3f} s")
    print(f"  Jacobian-vector      {median_time(lambda: system.jvp(point, rhs[0]), 3):8.3f} s")
    print(f"  block solve (2 rhs)  {median_time(lambda: factor.solve(rhs), 3):8.3f} s")


def solve_on_grids(steps: list[float], rev: str | None) -> None:
    solvers = [("now", continuation)]
    if rev is not None:
        solvers.insert(0, (rev, baseline_solver(rev)))
    print(f"literal solve, lambda = {LAMBDA}")
    for step in steps:
        game = forecast_sharing(step=step)
        senders, times = {}, {}
        for label, module in solvers:
            count = counting_factorisations(module)
            start = time.perf_counter()
            sol = module.solve_aqre(game, LAMBDA, LAMBDA, "literal")
            times[label] = time.perf_counter() - start
            senders[label] = sol.sender
            print(f"  step {step:g} {game.shape}  {label:>8}: {times[label]:7.2f} s, "
                  f"{sol.steps} steps, {count[0]} factorisations, "
                  f"{times[label] / max(sol.steps, 1) * 1e3:6.1f} ms/step")
        if rev is not None:
            diff = float(np.abs(senders[rev] - senders["now"]).max())
            print(f"  step {step:g}: {rev} / now = {times[rev] / times['now']:.2f}x, "
                  f"max |d sigma| = {diff:.1e}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", default="10,5", help="grid steps for full solves")
    parser.add_argument("--baseline", default=None, help="git revision to compare with")
    parser.add_argument("--full", action="store_true", help="also solve at step 1 (long)")
    parser.add_argument("--fit", action="store_true", help="also fit the demo data (long)")
    args = parser.parse_args()
    missed = False
    with single_blas_thread():
        parts_at_step_one()
        solve_on_grids([float(s) for s in args.steps.split(",") if s], args.baseline)
        if args.full:
            game = forecast_sharing(step=1)
            start = time.perf_counter()
            sol = continuation.solve_aqre(game, LAMBDA, LAMBDA, "literal")
            took = time.perf_counter() - start
            missed |= took > SOLVE_TARGET_S
            print(f"step 1 literal solve: {took:.1f} s ({sol.steps} steps, "
                  f"{sol.factorisations} factorisations), target {SOLVE_TARGET_S:g} s: "
                  f"ratio {took / SOLVE_TARGET_S:.2f}")
        if args.fit:
            from cheaptalk.data import load_data, load_design
            from cheaptalk.estimation import MaximumLikelihood
            from cheaptalk.models.aqre import AQRE

            design = load_design("forecast_sharing")
            data = load_data(REPO / "src/cheaptalk/designs/demo_data.csv", design)
            start = time.perf_counter()
            res = MaximumLikelihood(AQRE(branch="literal"), data).fit(n_starts=3, seed=0)
            took = time.perf_counter() - start
            missed |= took > FIT_TARGET_S
            print(f"AQRE literal fit on the demo data: {took:.1f} s (log-likelihood "
                  f"{res.llf:.2f}), target {FIT_TARGET_S:g} s: "
                  f"ratio {took / FIT_TARGET_S:.2f}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

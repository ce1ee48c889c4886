"""Field-size data (SPEC §5.1): simulate to Parquet, then fit level-k and trust, at growing
numbers of decisions; wall time and peak memory of each step.

Data: the bundled 4-treatment forecast-sharing design at step 1, simulated from trust at the
parameters below, 50 rounds; subjects per role per treatment = decisions / (2 × 4 × 50)
(1,000,000 decisions: 2,500 subjects per role per treatment). Each step runs in a fresh
process, so that its peak resident memory (``ru_maxrss``) is its own: ``simulate`` writes
the Parquet file one treatment at a time (:meth:`cheaptalk.simulation.Simulation.
write_parquet`), ``fit`` reads it (:func:`cheaptalk.data.load_data`) and runs one start of
the maximum-likelihood fit with standard errors and the quadrature doubling check, as
``cheaptalk fit --starts 1`` does. Targets (issue #13): a 1M-decision trust fit under 2 GB
and 200 s, time growing no faster than linearly.

Run alone on an idle machine:
    python benchmarks/bench_scale.py [--decisions 10000,100000,1000000] [--models levelk,trust]
    python benchmarks/bench_scale.py --decisions 4000    # a quick check that it runs
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRUTH = {"alpha_a": 2.0, "alpha_b": 3.0, "beta_mu": -1.0, "beta_sigma": 0.7,
         "lambda_s": 0.4, "lambda_r": 0.2}
ROUNDS = 50
TREATMENTS = 4


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def child_simulate(out: str, decisions: int, seed: int) -> dict:
    from cheaptalk.data import load_design
    from cheaptalk.models import get_model
    from cheaptalk.simulation import Simulation

    subjects = max(1, decisions // (2 * TREATMENTS * ROUNDS))
    t = time.perf_counter()
    sim = Simulation(load_design("forecast_sharing"), get_model("trust"), TRUTH,
                     subjects_per_role=subjects, rounds=ROUNDS)
    rows = sim.write_parquet(out, seed)
    return {"step": "simulate", "decisions": 2 * rows, "subjects_per_role": subjects,
            "seconds": time.perf_counter() - t, "peak_mb": _peak_mb()}


def child_fit(data: str, model_name: str) -> dict:
    from cheaptalk._threads import single_blas_thread
    from cheaptalk.data import load_data, load_design
    from cheaptalk.estimation.mle import MaximumLikelihood
    from cheaptalk.models import get_model

    t = time.perf_counter()
    ds = load_data(data, load_design("forecast_sharing"))
    loaded = time.perf_counter() - t
    with single_blas_thread():
        res = MaximumLikelihood(get_model(model_name), ds).fit(n_starts=1)
    quad = res.convergence.get("quadrature", {})
    return {"step": f"fit {model_name}", "decisions": ds.n_decisions,
            "seconds": time.perf_counter() - t, "load_seconds": loaded, "peak_mb": _peak_mb(),
            "loglik": res.llf, "converged": res.converged,
            "quadrature_change": quad.get("loglik_change_when_doubled"),
            "quadrature_tolerance": quad.get("tolerance"),
            "warning": res.convergence.get("warning", "")}


def _in_child(*args: str) -> dict:
    out = subprocess.run([sys.executable, __file__, "--child", *args], check=True,
                         capture_output=True, text=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", default="10000,100000,1000000")
    parser.add_argument("--models", default="levelk,trust")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, *rest = args.child
        result = (child_simulate(rest[0], int(rest[1]), int(rest[2])) if kind == "simulate"
                  else child_fit(rest[0], rest[1]))
        print(json.dumps(result))
        return
    print(f"forecast sharing, {TREATMENTS} treatments, step 1, {ROUNDS} rounds; data "
          "simulated from trust; each step in a fresh process")
    print(f"{'step':<14}{'decisions':>11}{'seconds':>10}{'s/1k dec':>10}{'peak MB':>10}"
          f"{'doubling':>10}{'tol':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for n in (int(x) for x in args.decisions.split(",")):
            data = str(Path(folder) / f"data_{n}.parquet")
            rows = [_in_child("simulate", data, str(n), str(args.seed))]
            rows += [_in_child("fit", data, m) for m in args.models.split(",")]
            for r in rows:
                change = r.get("quadrature_change")
                print(f"{r['step']:<14}{r['decisions']:>11,}{r['seconds']:>10.1f}"
                      f"{1000 * r['seconds'] / r['decisions']:>10.3f}{r['peak_mb']:>10.0f}"
                      + (f"{change:>10.3g}{r['quadrature_tolerance']:>7.3g}"
                         if change is not None else ""))
                if r.get("warning"):
                    print(f"    warning: {r['warning']}")


if __name__ == "__main__":
    main()

"""A design-power study on the local process pool and on a local Dask cluster (SPEC §4.2):
wall time of each, and whether their numbers agree bit for bit.

The study: the bundled Crawford–Sobel design, level-k and trust each the truth in turn and
both fitted to every dataset, 16 subjects per role per treatment, the design's rounds;
``--replications`` per truth (default 100: 200 datasets, 400 fits). Backends: the local
pool of ``--workers`` processes (:class:`cheaptalk.runner.ProcessPool`) and a local Dask
cluster of as many worker processes (:class:`cheaptalk.runner.Dask`, started before the
clock runs, so that its start-up is reported apart). Needs ``cheaptalk[dask]``.

Run alone on an idle machine:
    python benchmarks/bench_cluster.py [--replications 100] [--workers 2]
    python benchmarks/bench_cluster.py --replications 2    # a quick check that it runs
"""

from __future__ import annotations

import argparse
import time

import pandas as pd

from cheaptalk.data import load_design
from cheaptalk.estimation.studies import power
from cheaptalk.models import get_model
from cheaptalk.runner import Dask, ProcessPool


def study(backend: object, replications: int, subjects: int) -> tuple[float, pd.DataFrame]:
    design = load_design("crawford_sobel")
    game = design.game(design.treatments[0])
    models = [get_model("levelk"), get_model("trust")]
    truths = {m.name: (m, m.default_params(game)) for m in models}
    t = time.perf_counter()
    _, draws = power(design, truths, models, subjects=subjects, replications=replications,
                     seed=0, backend=backend)
    return time.perf_counter() - t, draws


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=100, help="datasets per truth")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--subjects", type=int, default=16)
    args = parser.parse_args()
    n = 2 * args.replications
    print(f"power study: crawford_sobel, truths levelk and trust, {n} datasets "
          f"({2 * n} fits), {args.subjects} subjects per role per treatment")
    pool_s, pool = study(ProcessPool(args.workers), args.replications, args.subjects)
    print(f"local process pool, {args.workers} workers: {pool_s:8.1f} s "
          f"({1000 * pool_s / n:.0f} ms per dataset)")
    t = time.perf_counter()
    with Dask(workers=args.workers) as backend:
        backend.client.wait_for_workers(args.workers)
        started = time.perf_counter() - t
        dask_s, on_dask = study(backend, args.replications, args.subjects)
    print(f"local Dask cluster, {args.workers} workers: {dask_s:8.1f} s "
          f"({1000 * dask_s / n:.0f} ms per dataset; cluster start {started:.1f} s)")
    same = pool.equals(on_dask)
    print(f"same numbers bit for bit: {'yes' if same else 'NO'}")
    if not same:
        raise SystemExit(1)


if __name__ == "__main__":  # a local cluster starts processes: the guard is required
    main()

"""Studies on a Dask cluster (SPEC §4.2): a local cluster of two worker processes, started
here, gives bit for bit the numbers of the local process pool; a worker lost mid-study is
replaced and its work rerun; a task whose workers keep dying stops the study with one clear
message and no results."""

import os
import signal
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from cheaptalk.data import load_design
from cheaptalk.estimation.bootstrap import bootstrap
from cheaptalk.estimation.mle import MaximumLikelihood
from cheaptalk.estimation.studies import recover
from cheaptalk.models import get_model
from cheaptalk.runner import ClusterError, Dask, ProcessPool, batches_of, run_tasks
from cheaptalk.simulation import Simulation
from cluster_tasks import BlasThreads, KillsItsWorker, Square

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent
SRC = TESTS.parent / "src"


@pytest.fixture(scope="module")
def cluster():
    """A local Dask cluster of two worker processes (one thread each)."""
    before = os.environ.get("PYTHONPATH")
    os.environ["PYTHONPATH"] = os.pathsep.join([str(SRC), str(TESTS)])
    try:
        with Dask(workers=2) as backend:
            yield backend
    finally:
        if before is None:
            del os.environ["PYTHONPATH"]
        else:
            os.environ["PYTHONPATH"] = before


@pytest.fixture(scope="module")
def levelk():
    design = load_design("crawford_sobel")
    model = get_model("levelk")
    return design, model, model.default_params(design.game(design.treatments[0]))


def _recover(backend, levelk, progress=None):
    design, model, params = levelk
    return recover(design, model, params, subjects=4, rounds=5, replications=6, seed=3,
                   backend=backend, progress=progress)[1]


def test_recover_gives_the_local_pools_numbers(cluster, levelk):
    pd.testing.assert_frame_equal(_recover(cluster, levelk), _recover(ProcessPool(2), levelk),
                                  check_exact=True)


def test_bootstrap_gives_the_local_pools_numbers_through_client(cluster, levelk):
    design, model, params = levelk
    data = Simulation(design, model, params, subjects_per_role=4, rounds=5).run(seed=1)
    from cheaptalk.data import validate_table

    ds = validate_table(data, design)
    fit = MaximumLikelihood(model, ds).fit(n_starts=1, standard_errors=False)
    on_dask = bootstrap(fit, ds, replications=4, seed=5, client=cluster.client)
    local = bootstrap(fit, ds, replications=4, seed=5, backend=ProcessPool(2))
    pd.testing.assert_frame_equal(on_dask, local, check_exact=True)
    assert not on_dask.isna().any().any()


def test_results_in_task_order_with_one_progress_call_per_task(cluster):
    seen = []
    backend = Dask(cluster.client, batch=3)
    assert run_tasks([Square(i) for i in range(10)], backend, seen.append) == [
        i**2 for i in range(10)]
    assert sorted(seen) == sorted(f"square {i}" for i in range(10))
    assert [list(b) for b in batches_of(7, 3)] == [[0, 1, 2], [3, 4, 5], [6]]


def test_an_existing_cluster_by_its_schedulers_address(cluster):
    """``Dask(address=...)``: the scheduler answers the connection check, the tasks run, and
    closing the backend leaves the cluster running."""
    address = cluster.client.scheduler.address
    with Dask(address=address, connect_timeout=10) as backend:
        assert run_tasks([Square(i) for i in range(5)], backend) == [0, 1, 4, 9, 16]
    assert run_tasks([Square(4)], cluster) == [16]
    worker = next(iter(cluster.client.scheduler_info()["workers"]))
    with pytest.raises(ClusterError, match="not as a Dask scheduler"):
        _ = Dask(address=worker, connect_timeout=10).client


def test_workers_run_blas_and_kernels_on_one_thread(cluster):
    counts = run_tasks([BlasThreads()] * 4, Dask(cluster.client, batch=1))
    assert all(c and set(c) == {1} for c in counts)


def test_local_workers_run_without_the_statistical_profiler(cluster):
    import dask

    states = cluster.client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    assert len(states) == 2 and not any(states.values())
    assert dask.config.get("distributed.worker.profile.enabled")  # ours is left as it was


def test_a_worker_killed_mid_study_is_replaced_and_its_work_rerun(cluster, levelk):
    expected = _recover(ProcessPool(2), levelk)
    pids = list(cluster.client.run(os.getpid).values())
    killed = []

    def kill_one(_description):
        if not killed:  # after the first replication: the others are queued or running
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    got = _recover(Dask(cluster.client, batch=1), levelk, progress=kill_one)
    assert killed
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    cluster.client.wait_for_workers(2, timeout=60)
    assert pids[0] not in cluster.client.run(os.getpid).values()


def test_workers_dying_again_and_again_stop_the_study_with_one_message(cluster):
    seen = []
    with pytest.raises(ClusterError, match="died repeatedly; the study stopped and reports "
                       "no results"):
        run_tasks([Square(1), KillsItsWorker(), Square(2)], Dask(cluster.client, batch=1),
                  seen.append)
    assert len(seen) < 3  # never a full set
    cluster.client.wait_for_workers(2, timeout=60)
    assert np.array_equal(run_tasks([Square(3)], cluster), [9])  # the cluster still works


def test_the_same_command_on_a_local_dask_cluster(tmp_path):
    import json

    from typer.testing import CliRunner

    from cheaptalk.cli import app

    def study(*flags):
        out = tmp_path / f"rec{flags[0]}.json"
        r = CliRunner().invoke(app, ["recover", "-d", "crawford_sobel", "-m", "levelk",
                                     "--subjects", "4", "--rounds", "5", "--replications",
                                     "3", "--json", str(out), *flags])
        assert r.exit_code == 0, r.output
        return json.loads(out.read_text())

    assert study("--workers", "2") == study("--jobs", "1")

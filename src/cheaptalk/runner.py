"""One runner for sets of independent tasks (fits of compare's models and folds, bootstrap,
recovery and power replications).

A task is a picklable object with a ``run()`` method and a ``description`` (a frozen
dataclass per kind of work, defined beside the work). It carries everything it needs,
including its own seed, so that its result does not depend on where or in which order it
runs. :func:`run_tasks` hands a list of tasks to a backend and returns their results in task
order; ``progress``, when given, is called once per finished task with its description (the
command line turns these calls into a progress bar; nothing here prints).

Backends: :class:`InProcess` (one after the other, here), :class:`ProcessPool` (a local
pool of worker processes, the default) and :class:`Dask` (a Dask cluster: a local one or an
existing one by its scheduler's address; the optional extra ``cheaptalk[dask]``). A backend
is any object with ``map(tasks, progress) -> list`` that keeps these promises: results in
task order, one progress call per finished task, and, if anything goes wrong or the caller
is interrupted (an exception, ``KeyboardInterrupt``, :class:`Interrupted`), no worker left
running and the exception passed on, so that no result of a partial set is ever returned. A
backend for a cluster may group tasks into batches to keep per-task overhead small.

Workers run BLAS and the threaded kernels on one thread (:mod:`cheaptalk._threads`:
parallelism comes from the processes) and ignore Ctrl-C, which the parent handles for them.
"""

from __future__ import annotations

import itertools
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import contextmanager
from typing import Any, Protocol, TypeVar, runtime_checkable

__all__ = ["CONNECT_TIMEOUT_S", "Backend", "ClusterError", "Dask", "FollowUps", "InProcess",
           "Interrupted", "ProcessPool", "Progress", "Task", "choose_backend",
           "default_backend", "interrupt_on_signals", "run_tasks", "run_tasks_then"]

R = TypeVar("R")

#: Seconds :class:`Dask` waits by default for an existing cluster's scheduler to answer.
CONNECT_TIMEOUT_S = 20.0

#: Called once per finished task with the task's description.
Progress = Callable[[str], None]
#: The tasks that follow task ``i`` once it has ended with result ``r``: ``then(i, r)``.
FollowUps = Callable[[int, Any], Sequence["Task"]]


@runtime_checkable
class Task(Protocol):
    """An independent piece of work: ``run()`` computes its result."""

    @property
    def description(self) -> str: ...

    def run(self) -> Any: ...


class Backend(Protocol):
    """Runs tasks and returns their results in task order (see the module docstring)."""

    def map(self, tasks: Sequence[Task], progress: Progress | None) -> list[Any]: ...


class Interrupted(BaseException):
    """The process received SIGINT or SIGTERM while :func:`interrupt_on_signals` was active.

    A ``BaseException`` (like ``KeyboardInterrupt``) so that ``except Exception`` clauses
    in the work do not swallow it.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        super().__init__(signal.Signals(signum).name)


@contextmanager
def interrupt_on_signals() -> Iterator[None]:
    """Raise :class:`Interrupted` in the main thread on SIGINT or SIGTERM (restored after).

    SIGTERM's default action ends the process at once, without cleanup: the backend then
    cannot stop its workers. Raising instead lets it do so.
    """

    def handler(signum: int, _frame: Any) -> None:
        raise Interrupted(signum)

    before = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, h in before.items():
            signal.signal(s, h)


class InProcess:
    """Run the tasks one after the other in this process."""

    def map(self, tasks: Sequence[Task], progress: Progress | None) -> list[Any]:
        out = []
        for task in tasks:
            out.append(task.run())
            if progress is not None:
                progress(task.description)
        return out


_blas_limit: Any = None


def _start_worker() -> None:
    """Initialise a worker process: one BLAS thread, Ctrl-C left to the parent."""
    global _blas_limit
    import numpy  # noqa: F401  (loads BLAS: the limit reaches only loaded libraries)

    from cheaptalk._threads import serial_kernels_in_this_process, single_blas_thread

    # A Ctrl-C at the terminal reaches the whole process group: the parent stops the
    # workers, which must not each print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A forked worker inherits the parent's handlers; SIGTERM from the parent must end it.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    # Keep a reference: the limit holds until the object is used as a context manager exit.
    _blas_limit = single_blas_thread()
    serial_kernels_in_this_process()  # the pool's processes already use the cores


def _run_one(task: Task) -> Any:
    return task.run()


class ProcessPool:
    """A local pool of worker processes.

    Parameters
    ----------
    jobs : int, optional
        The most worker processes (default: the number of cores). Never more processes
        than tasks are started; with one job or one task everything runs in this process.

    Notes
    -----
    While the pool runs, SIGINT and SIGTERM are noted rather than acted on at once: an
    exception raised inside the executor's own code (between taking a lock and releasing
    it) could leave it locked, and the cleanup would then hang. On such a signal the workers
    are ended, the previous handler is restored and the signal sent again, so that it acts
    as it would have (:class:`Interrupted` under :func:`interrupt_on_signals`).

    Examples
    --------
    >>> ProcessPool(300).workers(2), ProcessPool(1).workers(10)
    (2, 1)
    """

    #: Seconds between checks for a signal while waiting for the workers.
    poll_s = 0.2

    def __init__(self, jobs: int | None = None) -> None:
        if jobs is not None and jobs < 1:
            raise ValueError(f"jobs must be at least 1, not {jobs}")
        self.jobs = jobs or os.cpu_count() or 1

    def workers(self, n_tasks: int) -> int:
        """Worker processes used for ``n_tasks`` tasks."""
        return max(1, min(self.jobs, n_tasks))

    def map(self, tasks: Sequence[Task], progress: Progress | None) -> list[Any]:
        return self.map_then(tasks, None, progress)[0]

    def map_then(self, tasks: Sequence[Task], then: FollowUps | None,
                 progress: Progress | None, total: int | None = None
                 ) -> tuple[list[Any], list[list[Any]]]:
        """:meth:`map`, and as each task ends its follow-ups (:func:`run_tasks_then`), queued
        behind the tasks not yet started; ``total`` (tasks and follow-ups, if known) sizes
        the pool."""
        n = self.workers(len(tasks) if then is None else total or self.jobs)
        if n == 1 or not tasks:
            return _in_stages(InProcess(), tasks, then, progress)
        out: list[Any] = [None] * len(tasks)
        follow: list[list[Any]] = [[] for _ in tasks]
        with _signals_noted() as received:
            pool = ProcessPoolExecutor(max_workers=n, initializer=_start_worker)
            try:
                # future -> (task, follow-up index or None)
                pending: dict[Any, tuple[int, int | None]] = {}
                described: dict[tuple[int, int | None], str] = {}
                for i, t in enumerate(tasks):
                    if received:
                        break
                    pending[pool.submit(_run_one, t)] = (i, None)
                    described[(i, None)] = t.description
                while pending and not received:
                    done, _ = wait(pending, timeout=self.poll_s, return_when=FIRST_COMPLETED)
                    for fut in done:
                        i, k = pending.pop(fut)
                        if k is None:
                            out[i] = fut.result()
                            extra = list(then(i, out[i])) if then is not None else []
                            follow[i] = [None] * len(extra)
                            for j, t in enumerate(extra):
                                pending[pool.submit(_run_one, t)] = (i, j)
                                described[(i, j)] = t.description
                        else:
                            follow[i][k] = fut.result()
                        if progress is not None:
                            progress(described.pop((i, k)))
            except BaseException:
                _stop(pool)
                raise
            if received:
                _stop(pool)
            else:
                pool.shutdown()
        if received:
            # The previous handler has acted on the signal sent again; if it did not stop
            # us, the results are still incomplete.
            raise Interrupted(received[0])
        return out, follow


@contextmanager
def _signals_noted() -> Iterator[list[int]]:
    """Note SIGINT and SIGTERM in the yielded list instead of acting on them; on leaving,
    restore the handlers and send the first noted signal again."""
    received: list[int] = []
    if threading.current_thread() is not threading.main_thread():
        yield received  # only the main thread handles signals
        return

    def note(signum: int, _frame: Any) -> None:
        received.append(signum)

    before = {}
    for s in (signal.SIGINT, signal.SIGTERM):
        if signal.getsignal(s) is not signal.SIG_IGN:
            before[s] = signal.signal(s, note)
    try:
        yield received
    finally:
        for s, h in before.items():
            signal.signal(s, h)
        if received:
            signal.raise_signal(received[0])


def _stop(pool: ProcessPoolExecutor) -> None:
    """End the workers now (no orphan processes), then let the executor wind down: with
    its workers gone it fails what is left and its threads end."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    for p in processes:
        if p.is_alive():
            p.terminate()
    for p in processes:
        p.join(timeout=5)
        if p.is_alive():
            p.kill()
            p.join()
    pool.shutdown(wait=True, cancel_futures=True)


def default_backend(jobs: int | None = None) -> Backend:
    """The local process pool with ``jobs`` workers (1: in this process)."""
    return InProcess() if jobs == 1 else ProcessPool(jobs)


class ClusterError(RuntimeError):
    """The cluster could not finish the tasks (e.g. the workers running one kept dying): no
    result of the set is returned."""


def _run_batch(batch: Sequence[Task]) -> list[Any]:
    """Run a batch of tasks on a Dask worker, BLAS and kernels on one thread (the cluster's
    workers and their threads already use the cores)."""
    from cheaptalk._threads import serial_kernels, single_blas_thread

    with single_blas_thread(), serial_kernels():
        return [task.run() for task in batch]


class Dask:
    """Run the tasks on a Dask cluster (``pip install 'cheaptalk[dask]'``).

    Parameters
    ----------
    client : distributed.Client, optional
        A client of a cluster the caller runs (it is left open).
    address : str, optional
        The scheduler of an existing cluster, e.g. ``"tcp://10.0.0.5:8786"``; its workers
        need cheaptalk installed.
    workers : int, optional
        Start a local cluster of this many worker processes (one thread each) on first use;
        :meth:`close` (or leaving a ``with`` block) stops it. A script that starts one needs
        the ``if __name__ == "__main__":`` guard of :mod:`multiprocessing`.
    batch : int, optional
        Tasks per Dask task (default: about four batches per worker thread, so that the
        per-task overhead of the scheduler stays small and the load stays even).
    retries : int
        Times a batch whose run raised is tried again (a worker lost while running it is
        handled by the scheduler, which reruns the batch elsewhere; if the workers running
        one batch die again and again, :class:`ClusterError`).
    connect_timeout : float, optional
        Seconds to wait for the scheduler at ``address`` to answer (default
        :data:`CONNECT_TIMEOUT_S`); :class:`ClusterError` if none does by then.

    Notes
    -----
    Each task carries its own seed, so the results are those of any other backend. Batches
    are submitted with ``pure=False``: Dask would otherwise merge identical calls. Progress
    is reported as each batch ends (once per task of the batch).
    """

    def __init__(self, client: Any = None, *, address: str | None = None,
                 workers: int | None = None, batch: int | None = None,
                 retries: int = 0, connect_timeout: float | None = None) -> None:
        if sum(x is not None for x in (client, address, workers)) > 1:
            raise ValueError("give one of client, address and workers")
        if workers is not None and workers < 1:
            raise ValueError(f"workers must be at least 1, not {workers}")
        if batch is not None and batch < 1:
            raise ValueError(f"batch must be at least 1, not {batch}")
        self.connect_timeout = float(CONNECT_TIMEOUT_S if connect_timeout is None
                                     else connect_timeout)
        if not self.connect_timeout > 0:
            raise ValueError(f"connect_timeout must be positive, not {connect_timeout}")
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ImportError("running on a Dask cluster needs Dask: pip install "
                              "'cheaptalk[dask]'") from None
        self._given = client
        self.address = address
        self.workers = workers
        self.batch = batch
        self.retries = retries
        self._client: Any = client
        self._cluster: Any = None

    @property
    def client(self) -> Any:
        """The Dask client (connecting, or starting the local cluster, on first use)."""
        if self._client is None:
            from distributed import Client, LocalCluster

            if self.address is not None:
                _reach_scheduler(self.address, self.connect_timeout)
                try:
                    self._client = Client(self.address, timeout=f"{self.connect_timeout}s")
                except (OSError, TimeoutError, ValueError) as e:
                    raise ClusterError(f"cannot reach the Dask scheduler at {self.address}: "
                                       f"{e}") from None
            else:
                import dask

                # Dask's statistical profiler samples every worker's stack every 10 ms: with
                # fits heavy in small Python calls it costs a fifth of the run (benchmarks/).
                with dask.config.set({"distributed.worker.profile.enabled": False}):
                    self._cluster = LocalCluster(
                        n_workers=self.workers or os.cpu_count() or 1, threads_per_worker=1,
                        processes=True, dashboard_address=":0", silence_logs=logging.ERROR)
                self._client = Client(self._cluster)
        return self._client

    def close(self) -> None:
        """Stop the local cluster this backend started (a given client is left open)."""
        if self._client is not None and self._client is not self._given:
            self._client.close()
        if self._cluster is not None:
            self._cluster.close()
        self._client = self._given
        self._cluster = None

    def __enter__(self) -> Dask:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def batches(self, n_tasks: int, threads: int) -> list[range]:
        """Consecutive batches of task indices: ``batch`` tasks each, or about four batches
        per worker thread."""
        size = self.batch or max(1, -(-n_tasks // (4 * max(threads, 1))))
        return batches_of(n_tasks, size)

    def map(self, tasks: Sequence[Task], progress: Progress | None) -> list[Any]:
        if not tasks:
            return []
        from distributed import as_completed
        from distributed.scheduler import KilledWorker

        client = self.client
        threads = sum(client.nthreads().values())
        groups = self.batches(len(tasks), threads)
        futures = client.map(_run_batch, [[tasks[i] for i in g] for g in groups],
                             pure=False, retries=self.retries)
        index = {f.key: g for f, g in zip(futures, groups, strict=True)}
        out: list[Any] = [None] * len(tasks)
        try:
            for fut in as_completed(futures):
                results = fut.result()
                for i, r in zip(index[fut.key], results, strict=True):
                    out[i] = r
                    if progress is not None:
                        progress(tasks[i].description)
        except KilledWorker as e:
            client.cancel(futures)
            first = tasks[_first_task(e, index)].description
            raise ClusterError(f"the Dask workers running {first!r} (and its batch) died "
                               "repeatedly; the study stopped and reports no results") from None
        except BaseException:
            client.cancel(futures)
            raise
        return out


def _reach_scheduler(address: str, timeout: float) -> None:
    """Ask ``address`` who it is, and wait at most ``timeout`` seconds for a Dask scheduler to
    answer; :class:`ClusterError` otherwise (a malformed address, nothing there, something
    else there). A ``Client`` is made only after this: its own connection can wait forever
    on a port that accepts connections but does not answer."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    from distributed.comm import connect
    from distributed.security import Security

    async def identity() -> Any:
        # The client's connection arguments (TLS from Dask's configuration), as a Client's.
        comm = await connect(address, timeout=timeout,
                             **Security().get_connection_args("client"))
        try:
            await comm.write({"op": "identity", "reply": True})
            return await comm.read()
        finally:
            comm.abort()

    async def within() -> Any:
        return await asyncio.wait_for(identity(), timeout)

    # An event loop of its own, in a thread: the caller may be running one (a notebook).
    with ThreadPoolExecutor(1) as pool:
        try:
            reply = pool.submit(asyncio.run, within()).result()
        except (OSError, TimeoutError, ValueError) as e:
            why = str(e) or f"no answer within {timeout:g} s"
            raise ClusterError(f"cannot reach the Dask scheduler at {address}: {why}") from None
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind != "Scheduler":
        raise ClusterError(f"{address} answers, but not as a Dask scheduler"
                           + (f" (it is a {kind})" if kind else ""))


def batches_of(n_tasks: int, size: int) -> list[range]:
    """Consecutive batches of ``size`` task indices (the last may be smaller).

    Examples
    --------
    >>> [list(b) for b in batches_of(5, 2)]
    [[0, 1], [2, 3], [4]]
    """
    return [range(i, min(i + size, n_tasks)) for i in range(0, n_tasks, size)]


def _first_task(error: Any, index: Mapping[Any, range]) -> int:
    """The first task of the batch a :class:`KilledWorker` error names (0 if unknown)."""
    key = getattr(error, "task", None) or (error.args[0] if error.args else None)
    return index[key][0] if key in index else 0


def choose_backend(backend: Backend | None = None, jobs: int | None = None,
                   client: Any = None) -> Backend:
    """``backend`` if given, else :class:`Dask` on ``client`` if given, else the local
    pool of ``jobs`` workers (:func:`default_backend`)."""
    if backend is not None:
        return backend
    return Dask(client) if client is not None else default_backend(jobs)


def _in_stages(backend: Backend, tasks: Sequence[Task], then: FollowUps | None,
               progress: Progress | None) -> tuple[list[Any], list[list[Any]]]:
    """:func:`run_tasks_then` on a backend without follow-ups: the tasks, then all their
    follow-ups."""
    out = backend.map(list(tasks), progress)
    if then is None:
        return out, [[] for _ in out]
    extra = [list(then(i, r)) for i, r in enumerate(out)]
    flat = backend.map([t for group in extra for t in group], progress)
    ends = list(itertools.accumulate((len(group) for group in extra), initial=0))
    return out, [flat[a:b] for a, b in itertools.pairwise(ends)]


def run_tasks_then(tasks: Sequence[Task], then: FollowUps, backend: Backend | None = None,
                   progress: Progress | None = None, total: int | None = None
                   ) -> tuple[list[Any], list[list[Any]]]:
    """Run independent tasks and, as task ``i`` ends with result ``r``, the tasks
    ``then(i, r)`` (e.g. the held-out fits started at a full-sample fit): ``(results,
    follow_ups)``, ``follow_ups[i]`` the results of ``then(i, ...)`` in their order.

    A backend with a ``map_then`` method (:class:`ProcessPool`) starts the follow-ups as
    workers free up, behind the tasks not yet started, so that no worker waits for the
    slowest task; on any other the follow-ups run after all the tasks. The results are the
    same either way. ``total``, the number of tasks and follow-ups if known, sizes a local
    pool.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Square:
    ...     x: int
    ...     @property
    ...     def description(self) -> str:
    ...         return f"squared {self.x}"
    ...     def run(self) -> int:
    ...         return self.x ** 2
    >>> run_tasks_then([Square(2), Square(3)], lambda i, r: [Square(r)] * i, InProcess())
    ([4, 9], [[], [81]])
    """
    backend = backend or ProcessPool()
    map_then = getattr(backend, "map_then", None)
    if map_then is not None:
        return map_then(list(tasks), then, progress, total)
    return _in_stages(backend, tasks, then, progress)


def run_tasks(tasks: Sequence[Task], backend: Backend | None = None,
              progress: Progress | None = None) -> list[Any]:
    """Run independent tasks; their results in task order.

    Parameters
    ----------
    tasks : sequence of Task
    backend : Backend, optional
        Default: :class:`ProcessPool` over all cores.
    progress : callable, optional
        Called once per finished task with its description.

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass(frozen=True)
    ... class Square:
    ...     x: int
    ...     @property
    ...     def description(self) -> str:
    ...         return f"squared {self.x}"
    ...     def run(self) -> int:
    ...         return self.x ** 2
    >>> run_tasks([Square(2), Square(3)], InProcess(), progress=print)
    squared 2
    squared 3
    [4, 9]
    """
    return (backend or ProcessPool()).map(list(tasks), progress)

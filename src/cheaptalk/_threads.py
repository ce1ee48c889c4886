"""Threads: BLAS on one thread, and the few large element-wise kernels split over the cores.

cheaptalk's matrix products are small (hundreds × hundreds). For these, a multi-threaded BLAS
only adds synchronisation cost and is many times slower on a busy machine (measurement in
benchmarks/README.md). Estimation and the command line therefore run with one BLAS thread and
get their parallelism from processes (:mod:`cheaptalk.runner`, whose workers also run BLAS on
one thread).

A few kernels are large and element-wise (the trust model's receiver logits: types × messages
× actions exponentials in one evaluation). NumPy releases the GIL in these, so
:func:`map_in_threads` splits such a kernel's independent chunks into one contiguous group per
core, each group run on a thread of its own: coarse work, no synchronisation inside a group,
and the same numbers as running the chunks in order. Where parallelism already comes from
processes (the runner's workers, :func:`serial_kernels`), the chunks run in order in the
calling thread.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from typing import TypeVar

import numpy as np
from threadpoolctl import threadpool_limits

__all__ = ["kernel_threads", "map_in_threads", "serial_kernels",
           "serial_kernels_in_this_process", "single_blas_thread"]

T = TypeVar("T")
R = TypeVar("R")


def single_blas_thread() -> threadpool_limits:
    """Context manager (and decorator) limiting BLAS to one thread."""
    return threadpool_limits(limits=1, user_api="blas")


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


_state = threading.local()
_serial_process = False
_pool: ThreadPoolExecutor | None = None
_pool_size = 0
_pool_lock = threading.Lock()


def kernel_threads() -> int:
    """Threads :func:`map_in_threads` uses here: the cores, or 1 inside :func:`serial_kernels`
    (and in the runner's worker processes)."""
    return 1 if getattr(_state, "serial", 0) or _serial_process else _cores()


def serial_kernels_in_this_process() -> None:
    """Run every kernel serially in this process from now on (the runner's workers)."""
    global _serial_process
    _serial_process = True


@contextmanager
def serial_kernels() -> Iterator[None]:
    """Within this block, :func:`map_in_threads` runs its chunks in order in this thread."""
    _state.serial = getattr(_state, "serial", 0) + 1
    try:
        yield
    finally:
        _state.serial -= 1


def _executor(n: int) -> ThreadPoolExecutor:
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < n:
            if _pool is not None:
                _pool.shutdown(wait=False)
            _pool = ThreadPoolExecutor(max_workers=n, thread_name_prefix="cheaptalk-kernel")
            _pool_size = n
        return _pool


def _forget_pool() -> None:
    # A forked child inherits the pool object but not its threads.
    global _pool, _pool_lock, _pool_size
    _pool, _pool_lock, _pool_size = None, threading.Lock(), 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def map_in_threads(function: Callable[[T], R], chunks: Sequence[T]) -> list[R]:
    """``[function(c) for c in chunks]``, the chunks split into :func:`kernel_threads`
    contiguous groups run on threads of their own (each group in order).

    ``function`` must be safe to run concurrently on different chunks (e.g. each writes its
    own slice of an output) and should spend its time in NumPy calls that release the GIL.

    Examples
    --------
    >>> map_in_threads(lambda k: k * k, range(5))
    [0, 1, 4, 9, 16]
    """
    chunks = list(chunks)
    n = min(kernel_threads(), len(chunks))
    if n <= 1:
        return [function(c) for c in chunks]
    bounds = [len(chunks) * g // n for g in range(n + 1)]
    groups = [chunks[bounds[g]:bounds[g + 1]] for g in range(n)]

    errors = np.geterr()  # the caller's np.errstate, which a new thread does not inherit

    def run(group: list[T]) -> list[R]:
        with serial_kernels(), np.errstate(**errors):  # no threads within threads
            return [function(c) for c in group]

    futures = [_executor(n).submit(run, g) for g in groups[1:]]
    try:
        first = run(groups[0])  # this thread takes a group too
        return first + [r for f in futures for r in f.result()]
    except BaseException:
        # Nothing of this call may run on after it: the other groups end (or never start)
        # before the exception reaches the caller.
        for f in futures:
            f.cancel()
        wait(futures)
        raise

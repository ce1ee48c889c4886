"""BLAS threading.

cheaptalk's matrix products are small (hundreds × hundreds). For these, a multi-threaded BLAS
only adds synchronisation cost and is many times slower on a busy machine (measurement in
benchmarks/README.md). Estimation and the command line therefore run with one BLAS thread and
get their parallelism from processes (:mod:`cheaptalk.runner`, whose workers also run BLAS on
one thread).
"""

from __future__ import annotations

from threadpoolctl import threadpool_limits

__all__ = ["single_blas_thread"]


def single_blas_thread() -> threadpool_limits:
    """Context manager (and decorator) limiting BLAS to one thread."""
    return threadpool_limits(limits=1, user_api="blas")

"""Runner tasks for the Dask tests, importable by the cluster's worker processes (which get
this folder on their ``PYTHONPATH``)."""

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class Square:
    value: int

    @property
    def description(self) -> str:
        return f"square {self.value}"

    def run(self) -> int:
        return self.value**2


@dataclass(frozen=True)
class KillsItsWorker:
    """Ends the worker process running it, every time it runs."""

    description: str = "a task that kills its worker"

    def run(self) -> None:
        os._exit(1)


@dataclass(frozen=True)
class BlasThreads:
    """The thread counts of the BLAS libraries loaded where it runs, and of the kernels
    (:func:`cheaptalk._threads.kernel_threads`)."""

    description: str = "blas threads"

    def run(self) -> list[int]:
        import numpy  # noqa: F401  (BLAS is loaded with numpy)
        from threadpoolctl import threadpool_info

        from cheaptalk._threads import kernel_threads

        return ([lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
                + [kernel_threads()])

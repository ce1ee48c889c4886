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

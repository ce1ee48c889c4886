"""The parallel runner: order, progress, worker count, BLAS threads, failures and signals."""

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from cheaptalk.runner import (
    InProcess,
    ProcessPool,
    default_backend,
    interrupt_on_signals,
    run_tasks,
    run_tasks_then,
)

SRC = Path(__file__).resolve().parents[1] / "src"


@dataclass(frozen=True)
class Sleep:
    """Returns ``(value, pid)`` after ``seconds``."""

    value: int
    seconds: float = 0.0

    @property
    def description(self) -> str:
        return f"task {self.value}"

    def run(self) -> tuple[int, int]:
        time.sleep(self.seconds)
        return self.value, os.getpid()


@dataclass(frozen=True)
class Stamp:
    """Returns the time it started."""

    description: str

    def run(self) -> float:
        return time.time()


@dataclass(frozen=True)
class Ends:
    """Sleeps ``seconds``, then returns the time."""

    seconds: float
    description: str = "sleeps"

    def run(self) -> float:
        time.sleep(self.seconds)
        return time.time()


@dataclass(frozen=True)
class Fail:
    description: str = "failing task"

    def run(self) -> None:
        raise RuntimeError("this task fails")


@dataclass(frozen=True)
class BlasThreads:
    description: str = "blas threads"

    def run(self) -> list[int]:
        import numpy  # noqa: F401  (BLAS is loaded with numpy)
        from threadpoolctl import threadpool_info

        from cheaptalk._threads import kernel_threads

        return ([lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"]
                + [kernel_threads()])


@dataclass(frozen=True)
class Handlers:
    description: str = "signal handlers"

    def run(self) -> tuple[bool, bool]:
        return (signal.getsignal(signal.SIGINT) == signal.SIG_IGN,
                signal.getsignal(signal.SIGTERM) == signal.SIG_DFL)


def _session_processes(sid: int) -> list[int]:
    """Live (not zombie) processes of a session, by scanning /proc."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            out.append(int(entry.name))
    return out


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                out.append(int(entry.name))
    return out


@pytest.mark.parametrize("backend", [InProcess(), ProcessPool(2)], ids=["in-process", "pool"])
def test_results_come_in_task_order_with_one_progress_call_each(backend):
    # The first task finishes last in a pool: order must come from the tasks, not the clock.
    tasks = [Sleep(0, 0.6), Sleep(1), Sleep(2), Sleep(3, 0.2)]
    said = []
    results = run_tasks(tasks, backend, progress=said.append)
    assert [v for v, _ in results] == [0, 1, 2, 3]
    assert sorted(said) == [f"task {i}" for i in range(4)]
    pids = {pid for _, pid in results}
    if isinstance(backend, InProcess):
        assert pids == {os.getpid()}
    else:
        assert os.getpid() not in pids and len(pids) <= 2
    assert run_tasks([], backend) == []


@pytest.mark.parametrize("backend", [InProcess(), ProcessPool(2)])
def test_follow_ups_come_back_grouped_by_the_task_they_follow(backend):
    said = []
    out, follow = run_tasks_then([Sleep(1), Sleep(2), Sleep(3)],
                                 lambda i, r: [Sleep(10 * r[0] + j) for j in range(i)],
                                 backend, progress=said.append, total=6)
    assert [v for v, _ in out] == [1, 2, 3]
    assert [[v for v, _ in group] for group in follow] == [[], [20], [30, 31]]
    assert sorted(said) == sorted(f"task {v}" for v in (1, 2, 3, 20, 30, 31))


def test_follow_ups_start_while_a_slow_task_runs():
    """A worker freed by a quick task takes its follow-up at once, not after the slow one."""
    out, follow = run_tasks_then([Ends(0.0), Ends(3.0)],
                                 lambda i, r: [Stamp(f"after {i}")] if i == 0 else [],
                                 ProcessPool(2))
    assert follow[0][0] < out[1] - 1.0  # well before the slow task ended


def test_a_failing_follow_up_stops_the_pool_and_raises():
    with pytest.raises(RuntimeError, match="this task fails"):
        run_tasks_then([Sleep(0), Sleep(1, 3.0)], lambda i, r: [Fail()] if i == 0 else [],
                       ProcessPool(2))


def test_backends_without_follow_ups_run_them_after_the_tasks():
    class Plain:  # only map: the follow-ups run in a second round
        def __init__(self):
            self.rounds = []

        def map(self, tasks, progress):
            self.rounds.append([t.description for t in tasks])
            return [t.run() for t in tasks]

    plain = Plain()
    _, follow = run_tasks_then([Sleep(1), Sleep(2)], lambda i, r: [Sleep(r[0] + 10)], plain)
    assert plain.rounds == [["task 1", "task 2"], ["task 11", "task 12"]]
    assert [[v for v, _ in g] for g in follow] == [[11], [12]]


def test_never_more_workers_than_tasks():
    assert ProcessPool(300).workers(2) == 2
    assert ProcessPool(2).workers(300) == 2
    assert ProcessPool(300).workers(0) == 1
    results = run_tasks([Sleep(0, 0.3), Sleep(1, 0.3)], ProcessPool(300))
    assert len({pid for _, pid in results}) <= 2
    # one task (or one job) runs here, without a pool
    assert run_tasks([Sleep(5)], ProcessPool(300))[0][1] == os.getpid()
    assert isinstance(default_backend(1), InProcess)
    with pytest.raises(ValueError, match="at least 1"):
        ProcessPool(0)


def test_workers_run_blas_and_kernels_on_one_thread():
    threads = run_tasks([BlasThreads(), BlasThreads()], ProcessPool(2))
    assert all(t and set(t) == {1} for t in threads), threads


def test_a_failing_task_stops_the_pool_and_raises():
    with pytest.raises(RuntimeError, match="this task fails"):
        run_tasks([Sleep(0, 5.0), Fail(), Sleep(2, 5.0)], ProcessPool(2))
    deadline = time.monotonic() + 5
    while _children(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _children(os.getpid()) == []


def test_workers_leave_ctrl_c_to_the_parent_and_end_on_sigterm():
    # Ctrl-C reaches the whole process group: an idle worker must not print a traceback;
    # a worker forked from a parent that catches SIGTERM (as the CLI does) must end on it.
    with interrupt_on_signals():
        assert run_tasks([Handlers(), Handlers()], ProcessPool(2)) == [(True, True)] * 2
    assert signal.getsignal(signal.SIGTERM) == signal.SIG_DFL  # restored


def test_an_interruption_ends_running_workers_at_once():
    class Stop(BaseException):
        pass

    def interrupt(_description):
        raise Stop

    started = time.monotonic()
    with pytest.raises(Stop):
        run_tasks([Sleep(0, 0.2), Sleep(1, 30.0)], ProcessPool(2), progress=interrupt)
    # the 30-second task was stopped, not waited for
    assert time.monotonic() - started < 4
    deadline = time.monotonic() + 5
    while _children(os.getpid()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _children(os.getpid()) == []


def _start_study(tmp_path: Path, command: list[str], settle_s: float
                 ) -> tuple[subprocess.Popen, Path]:
    out = tmp_path / "study.json"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.Popen([sys.executable, "-m", "cheaptalk", *command, "--json", str(out)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)
    # Wait until its two workers run, and then ``settle_s``.
    deadline = time.monotonic() + 120
    while len(_children(proc.pid)) < 2:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the workers did not start"
        time.sleep(0.01)
    time.sleep(settle_s)
    return proc, out


def _write_data(path: Path) -> None:
    from cheaptalk.data import load_design
    from cheaptalk.models import get_model
    from cheaptalk.simulation import Simulation

    design, model = load_design("crawford_sobel"), get_model("levelk")
    params = model.default_params(design.game(design.treatments[0]))
    Simulation(design, model, params, subjects_per_role=8, rounds=10).run(seed=1).to_csv(
        path, index=False)


STUDIES = {
    "compare --report": ["compare", "-d", "crawford_sobel", "--data", "data.csv", "--models",
                         "levelk,trust", "--report", "report"],
    "fit --bootstrap": ["fit", "-d", "crawford_sobel", "--data", "data.csv", "-m", "levelk",
                        "--starts", "1", "--bootstrap", "200"],
    "recover": ["recover", "-d", "crawford_sobel", "-m", "levelk", "--replications", "200",
                "--subjects", "8", "--rounds", "10", "--jobs", "2"],
    "power": ["power", "-d", "crawford_sobel", "--models", "levelk,trust", "--replications",
              "100", "--subjects", "8", "--rounds", "10", "--jobs", "2"],
}


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGTERM to the process", "Ctrl-C to the process group"])
@pytest.mark.parametrize("study", list(STUDIES))
def test_a_signal_stops_the_workers_with_one_line(tmp_path, study, how):
    if "data.csv" in STUDIES[study]:
        _write_data(tmp_path / "data.csv")
    # SIGTERM at once (the parent may still be handing out tasks), Ctrl-C once all run
    proc, out = _start_study(tmp_path, STUDIES[study], 0.0 if "SIGTERM" in how else 0.5)
    stderr, left = "(still running)", []
    try:
        if how.startswith("SIGTERM"):
            proc.send_signal(signal.SIGTERM)
            expected = 128 + signal.SIGTERM
        else:
            os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C
            expected = 128 + signal.SIGINT
        _, stderr = proc.communicate(timeout=60)
        deadline = time.monotonic() + 5
        while _session_processes(proc.pid) and time.monotonic() < deadline:
            time.sleep(0.05)
        left = _session_processes(proc.pid)
    finally:
        # whatever happened, leave no process behind
        for pid in _session_processes(proc.pid):
            os.kill(pid, signal.SIGKILL)
        proc.kill()
        proc.wait()
    assert left == [], left
    assert proc.returncode == expected, stderr
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: interrupted"), stderr
    assert "Traceback" not in stderr
    assert not out.exists()
    # no report written (the folder, prepared before the work, holds at most its marker)
    assert [p.name for p in (tmp_path / "report").rglob("[!.]*")] == []


def test_dask_connect_timeout_bounds_the_wait_for_a_scheduler():
    """A port that accepts connections but never answers: the ``connect_timeout`` given, not
    the Dask client's own wait (which has none there). In a process of its own, so that a
    wait without end fails the test."""
    pytest.importorskip("distributed")
    import socket

    from cheaptalk import runner
    from cheaptalk.runner import Dask

    assert Dask(address="tcp://127.0.0.1:1").connect_timeout == runner.CONNECT_TIMEOUT_S
    with pytest.raises(ValueError, match="connect_timeout"):
        Dask(address="tcp://127.0.0.1:1", connect_timeout=0)
    code = """
import sys, time
from cheaptalk.runner import ClusterError, Dask
for timeout in (0.5, 2.0):
    start = time.monotonic()
    try:
        Dask(address=sys.argv[1], connect_timeout=timeout).client
    except ClusterError as e:
        print(f"{time.monotonic() - start:.3f} {e}")
"""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        done = subprocess.run([sys.executable, "-c", code, address], capture_output=True,
                              text=True, timeout=60, env={**os.environ, "PYTHONPATH": str(SRC)})
    lines = done.stdout.splitlines()
    assert len(lines) == 2, done.stdout + done.stderr
    for timeout, line in zip((0.5, 2.0), lines, strict=True):
        elapsed, message = line.split(" ", 1)
        assert timeout <= float(elapsed) < timeout + 3
        assert message == f"cannot reach the Dask scheduler at {address}: no answer within " \
                          f"{timeout:g} s"


def test_ctrl_c_while_the_command_line_is_imported_is_one_error_line(monkeypatch, capsys):
    """The console script catches an interrupt that arrives before the command line (and
    its libraries) is imported, where the runner's handlers are not installed yet."""
    import importlib.abc
    import sys

    from cheaptalk import _console

    class Interrupting(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name == "cheaptalk.cli":
                raise KeyboardInterrupt
            return None

    monkeypatch.delitem(sys.modules, "cheaptalk.cli", raising=False)
    monkeypatch.setattr(sys, "meta_path", [Interrupting(), *sys.meta_path])
    with pytest.raises(SystemExit) as stop:
        _console.main()
    assert stop.value.code == 130
    err = capsys.readouterr().err
    assert err == "error: interrupted by SIGINT; nothing was done\n"

"""Kernels split over threads (:mod:`cheaptalk._threads`): the same results as in order, and
serial where the processes already use the cores."""

import os
import threading
import time

import numpy as np
import pytest

from cheaptalk._threads import kernel_threads, map_in_threads, serial_kernels
from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.models import get_model
from cheaptalk.simulation import Simulation


def test_results_in_order_from_every_group():
    assert map_in_threads(lambda k: k * k, range(11)) == [k * k for k in range(11)]
    assert map_in_threads(lambda k: k, []) == []


@pytest.mark.skipif(kernel_threads() < 2, reason="one core")
def test_groups_run_on_other_threads_and_serially_within():
    def note(_):
        time.sleep(0.01)  # long enough that one thread cannot take every group
        return threading.get_ident(), kernel_threads()

    seen = map_in_threads(note, range(8))
    assert 1 < len({ident for ident, _ in seen}) <= min(kernel_threads(), 8)
    assert seen[0][0] == threading.get_ident()  # the caller takes the first group
    assert {inner for _, inner in seen} == {1}  # no threads within threads
    with serial_kernels():
        assert kernel_threads() == 1
        assert {i for i, _ in map_in_threads(lambda _: (threading.get_ident(), 0),
                                             range(8))} == {threading.get_ident()}
    assert kernel_threads() > 1


def test_threads_see_the_callers_numpy_error_state():
    def divide(_):
        return np.float64(1.0) / np.float64(0.0)

    with np.errstate(divide="raise"), pytest.raises(FloatingPointError):
        map_in_threads(divide, range(4))
    with np.errstate(divide="ignore"):
        assert map_in_threads(divide, range(4)) == [np.inf] * 4


def test_an_exception_in_a_group_reaches_the_caller_after_the_others_end():
    ended = []

    def fail_first(k):
        if k == 0:
            raise ValueError("chunk 0")
        time.sleep(0.05)
        ended.append(k)
        return k

    with pytest.raises(ValueError, match="chunk 0"):
        map_in_threads(fail_first, range(8))
    done = list(ended)
    time.sleep(0.2)
    assert ended == done  # nothing ran on after the call


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_gets_a_pool_of_its_own():
    map_in_threads(lambda k: k, range(4))  # the parent's pool exists
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # child: the inherited pool has no threads; a new one must be made
        ok = map_in_threads(lambda k: k + 1, range(4)) == [1, 2, 3, 4]
        os.write(write, b"1" if ok else b"0")
        os._exit(0)
    os.close(write)
    assert os.read(read, 1) == b"1"
    os.waitpid(pid, 0)


@pytest.mark.parametrize("name", ["trust", "levelk"])
def test_a_likelihood_is_the_same_bit_for_bit_on_threads(name):
    """The treatments' predictions and pullbacks on threads: the same value and gradient
    as one after the other."""
    design = load_design("forecast_sharing")
    model = get_model(name)
    params = model.default_params(design.game(design.treatments[0]))
    ds = validate_table(Simulation(design, model, params, subjects_per_role=3,
                                   rounds=4).run(3), design)
    lik = Likelihood(model, ds)
    threaded = lik.evaluate(params, gradient=True)
    with serial_kernels():
        serial = lik.evaluate(params, gradient=True)
    assert len(lik.treatments) == 4
    assert threaded.loglik == serial.loglik
    assert threaded.gradient == serial.gradient

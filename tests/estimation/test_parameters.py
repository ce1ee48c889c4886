"""ParameterSpace: the free ↔ natural maps round-trip, and the Jacobian matches finite
differences of the map, for every kind of parameter (real, half-line, interval, simplex)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cheaptalk.estimation.parameters import ParameterSpace

KINDS = {
    "real": (-np.inf, np.inf),
    "positive": (0.0, np.inf),
    "above one half": (0.5, np.inf),
    "unit interval": (0.0, 1.0),
    "wide interval": (-2.0, 3.0),
}


@st.composite
def spaces(draw):
    """A space with scalars of random kinds, maybe a simplex group, maybe a fixed scalar."""
    kinds = draw(st.lists(st.sampled_from(sorted(KINDS)), min_size=1, max_size=4))
    names = [f"s{i}" for i in range(len(kinds))]
    bounds = {n: KINDS[k] for n, k in zip(names, kinds, strict=True)}
    groups = []
    size = draw(st.integers(0, 4))
    if size >= 2:
        group = tuple(f"p{i}" for i in range(size))
        groups.append(group)
        names += list(group)
        bounds.update({n: (0.0, 1.0) for n in group})
    order = draw(st.permutations(names))
    fixed = {}
    if len(kinds) > 1 and draw(st.booleans()):
        fixed = {"s0": 0.7}
    return ParameterSpace(list(order), bounds, groups, fixed)


def _free_vectors(space):
    return st.lists(st.floats(-3, 3), min_size=space.size, max_size=space.size).map(np.array)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_free_to_natural_to_free_round_trips(data):
    space = data.draw(spaces())
    x = data.draw(_free_vectors(space))
    theta = space.to_natural(x)
    assert list(theta) == space.names
    np.testing.assert_allclose(space.to_free(theta), x, atol=1e-8)
    for name, value in theta.items():
        lo, hi = space.bounds[name]
        assert lo <= value <= hi
    for name, value in space.fixed.items():
        assert theta[name] == value
    for group in space.simplex_groups:
        assert sum(theta[n] for n in group) == pytest.approx(1.0)


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_jacobian_matches_central_differences(data):
    space = data.draw(spaces())
    x = data.draw(_free_vectors(space))
    jac = space.jacobian(x)
    assert jac.shape == (len(space.names), space.size)
    h = 1e-6
    for i in range(space.size):
        e = np.zeros(space.size)
        e[i] = h
        up, down = space.to_natural(x + e), space.to_natural(x - e)
        numeric = np.array([(up[n] - down[n]) / (2 * h) for n in space.names])
        np.testing.assert_allclose(jac[:, i], numeric, rtol=1e-5, atol=1e-8)


def test_logistic_jacobian_by_hand():
    # theta = lo + (hi - lo) / (1 + e^-x): d theta / dx = (hi - lo) e^-x / (1 + e^-x)^2
    space = ParameterSpace(["a"], {"a": (-2.0, 3.0)})
    x = np.array([0.4])
    expected = 5.0 * np.exp(-0.4) / (1 + np.exp(-0.4)) ** 2
    assert space.jacobian(x)[0, 0] == pytest.approx(expected, rel=1e-12)
    assert space.to_natural(x)["a"] == pytest.approx(-2.0 + 5.0 / (1 + np.exp(-0.4)))


def test_natural_to_free_by_hand():
    space = ParameterSpace(["p0", "p1", "p2", "lam", "u", "mu"],
                           {"lam": (0.5, np.inf), "u": (0.0, 2.0)}, [("p0", "p1", "p2")])
    x = space.to_free({"p0": 0.2, "p1": 0.3, "p2": 0.5, "lam": 1.5, "u": 0.5, "mu": -4.0})
    np.testing.assert_allclose(x, [np.log(1.5), np.log(2.5), np.log(1.0), np.log(1 / 3), -4.0])
    assert space.free_names == ["p1/p0", "p2/p0", "log lam", "logit u", "mu"]
    assert space.estimated == space.names


def test_fixed_parameters_have_no_free_coordinate():
    space = ParameterSpace(["a", "b"], {"a": (0, np.inf), "b": (0, 1)}, fixed={"b": 0.25})
    assert space.size == 1 and space.estimated == ["a"]
    theta = space.to_natural(np.array([0.0]))
    assert theta == {"a": 1.0, "b": 0.25}
    np.testing.assert_array_equal(space.jacobian(np.array([0.0])), [[1.0], [0.0]])


def test_bad_spaces_are_refused():
    with pytest.raises(ValueError, match="unknown parameter"):
        ParameterSpace(["a"], {}, fixed={"b": 1.0})
    with pytest.raises(ValueError, match="as a whole"):
        ParameterSpace(["p0", "p1"], {}, [("p0", "p1")], fixed={"p0": 0.5})

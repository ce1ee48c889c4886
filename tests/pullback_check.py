"""Checking a model's exact pullback (vector–Jacobian product) against central differences.

For random seeded adjoints the scalar

    S(θ) = Σ_i w̄_i · weight_i + Σ_i ⟨σ̄_i, σ_i⟩ + Σ_i ⟨ρ̄_i, ρ_i⟩

is differentiated numerically in each parameter and compared with the pullback.
"""

import numpy as np


def random_adjoints(pred, seed):
    rng = np.random.default_rng(seed)
    w_bar = rng.normal(size=len(pred.types))
    s_bars = [None if t.sender is None else rng.normal(size=t.sender.shape)
              for t in pred.types]
    r_bars = [None if t.receiver is None else rng.normal(size=t.receiver.shape)
              for t in pred.types]
    return w_bar, s_bars, r_bars


def scalar(pred, w_bar, s_bars, r_bars):
    total = 0.0
    for ty, wb, sb, rb in zip(pred.types, w_bar, s_bars, r_bars, strict=True):
        total += wb * ty.weight
        if ty.sender is not None:
            total += float(np.sum(sb * ty.sender))
        if ty.receiver is not None:
            total += float(np.sum(rb * ty.receiver))
    return total


def assert_same_types(types, reference):
    """Same names, weights and strategies (exactly)."""
    assert [t.name for t in types] == [t.name for t in reference]
    for a, b in zip(types, reference, strict=True):
        assert a.weight == b.weight
        for role in ("sender", "receiver"):
            x, y = getattr(a, role), getattr(b, role)
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_array_equal(x, y)


def default_step(name, value):
    return 1e-5 * max(1.0, abs(value))


def assert_pullback_matches(model, game, params, seed=0, rtol=1e-6, atol=1e-8,
                            step=default_step):
    """The pullback's prediction equals ``predict`` and its gradient matches differences."""
    pred, pullback = model.predict_with_pullback(game, params)
    assert_same_types(pred.types, model.predict(game, params).types)
    adj = random_adjoints(pred, seed)
    grad = pullback(*adj)
    assert list(grad) == list(model.parameter_names())
    for name in model.parameter_names():
        h = step(name, params[name])
        up, down = dict(params), dict(params)
        up[name] += h
        down[name] -= h
        numeric = (scalar(model.predict(game, up), *adj)
                   - scalar(model.predict(game, down), *adj)) / (2 * h)
        assert abs(grad[name] - numeric) <= rtol * abs(numeric) + atol, (
            name, grad[name], numeric)
    return grad

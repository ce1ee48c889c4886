"""Time the behavioural models' predictions in one forecast-sharing treatment.

All types' strategies for treatment LL at step 1 (201 forecasts and reports, 271 capacities):

* level-k, K = 3 (target < 20 ms);
* cognitive hierarchy, K = 3 (same target);
* trust-embedded with the default quadrature (target < 50 ms);
* the combination (sum of the two targets).

For each model it also times the exact gradient: ``predict_with_pullback`` (the prediction
plus the closure) and one call of the pullback with random adjoints for every type
(what :meth:`cheaptalk.estimation.likelihood.Likelihood.evaluate` does with
``gradient=True``). The pullback's target is the model's prediction target (an exact
gradient should cost of the order of one prediction).

Run ``python benchmarks/bench_models.py [--repeat N]``; prints best-of-N wall time per model
and its ratio to the target (< 1 meets it). Exit code 1 if a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from cheaptalk.games import forecast_sharing
from cheaptalk.models.combination import Combination
from cheaptalk.models.levelk import CognitiveHierarchy, LevelK
from cheaptalk.models.trust import Trust


def best_time(fn, repeat: int) -> float:
    """Best wall time of ``repeat`` calls, in seconds (one warm-up call first)."""
    fn()
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)
    game = forecast_sharing()  # LL: xi 50..250 step 1, noise 20, c_k 0.25
    n_t, n_m, n_a = game.shape
    cases = [
        ("levelk K=3", LevelK(levels=3), 0.020),
        ("ch K=3", CognitiveHierarchy(levels=3), 0.020),
        (f"trust (n_alpha={Trust.n_alpha}, n_beta={Trust.n_beta})", Trust(), 0.050),
        ("combination", Combination(), 0.070),
    ]
    print(f"forecast sharing LL: {n_t} forecasts x {n_m} reports x {n_a} capacities, "
          f"best of {args.repeat}")
    print(f"{'model':<34}{'types':>7}{'predict':>10}{'+pullbk':>10}{'pullbk':>9}"
          f"{'target':>9}{'ratio':>8}   (ms)")
    ok = True
    rng = np.random.default_rng(0)
    for label, model, target in cases:
        params = model.default_params(game)
        pred, pullback = model.predict_with_pullback(game, params)
        n_types = len(pred.types)
        t = best_time(lambda m=model, p=params: m.predict(game, p), args.repeat)
        t_with = best_time(lambda m=model, p=params: m.predict_with_pullback(game, p),
                           args.repeat)
        w_bar = rng.normal(size=n_types)
        s_bars = [None if ty.sender is None else rng.normal(size=ty.sender.shape)
                  for ty in pred.types]
        r_bars = [None if ty.receiver is None else rng.normal(size=ty.receiver.shape)
                  for ty in pred.types]
        assert pullback is not None
        t_pb = best_time(lambda f=pullback, w=w_bar, s=s_bars, r=r_bars: f(w, s, r),
                         args.repeat)
        ok &= t < target and t_pb < target
        print(f"{label:<34}{n_types:>7}{1000 * t:>10.2f}{1000 * t_with:>10.2f}"
              f"{1000 * t_pb:>9.2f}{1000 * target:>9.0f}{max(t, t_pb) / target:>8.2f}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

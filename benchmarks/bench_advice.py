"""Time one piece of decision support: ``cheaptalk.advice.advise`` with 50 rounds of a
partner's record, in forecast-sharing treatment LL at step 1 (201 forecasts and reports, 271
capacities), for the trust-embedded model (target < 1 s) and level-k and the combination.

Each advice is the whole public call from parameters: the model's prediction (every type's
strategy), the posterior over the partner's type from its record, the advice and its
response curve for every report. The time of the prediction alone is printed beside it, so
that the share the advice itself adds is visible.

Run ``python benchmarks/bench_advice.py [--repeat N]``; prints best-of-N wall time and its
ratio to the target (< 1 meets it). Exit code 1 if the target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from cheaptalk.advice import advise, history_from_values
from cheaptalk.data import load_design
from cheaptalk.models import get_model

TARGET_S = 1.0
ROUNDS = 50


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
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    design = load_design("forecast_sharing")
    game = design.game("LL")
    rng = np.random.default_rng(0)
    forecasts = rng.choice(game.states, ROUNDS)
    reports = np.minimum(forecasts + rng.choice([0.0, 10.0, 30.0], ROUNDS), game.states[-1])
    demand = np.round(forecasts + rng.uniform(-20, 20, ROUNDS), 2)
    record = history_from_values(game, reports, demand, feedback_name="demand")
    print(f"one advice, {ROUNDS} rounds of record, treatment LL at step 1 "
          f"({game.n_states} x {game.n_messages} x {game.n_actions}); best of {args.repeat}")
    missed = False
    for name in ("trust", "levelk", "combination"):
        model = get_model(name)
        params = model.default_params(game)
        t_predict = best_time(lambda m=model, p=params: m.predict(game, p), args.repeat)
        t_advice = best_time(lambda m=model, p=params: advise(design, m, p, "LL", record,
                                                              180.0), args.repeat)
        ratio = t_advice / TARGET_S
        missed |= name == "trust" and ratio >= 1
        print(f"{name:<12} advice {t_advice:7.3f} s  (prediction alone {t_predict:7.3f} s)  "
              f"target {TARGET_S:g} s  ratio {ratio:5.2f}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())

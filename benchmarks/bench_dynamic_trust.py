"""Speed of moving trust (dynamic_trust) against static trust, and of the static likelihood.

1. A ``dynamic_trust`` fit and a ``trust`` fit on the same 1,600 decisions: the bundled
   forecast-sharing design's LL and HH treatments at step 1 (201 forecasts, 271 capacities),
   fixed partners, 20 pairs × 20 rounds per treatment, SYNTHETIC data simulated from
   ``dynamic_trust`` with ``eta = 0.35``; one start, no standard errors. Target: the
   dynamic fit within 3× the static one.
2. One log-likelihood-and-gradient evaluation of ``trust`` (static) on the bundled demo data
   (3,840 decisions): run this script at the commit before ``dynamic_trust`` and after to
   see that the static path did not slow down (the figures are in benchmarks/README.md).

Run: python benchmarks/bench_dynamic_trust.py
"""

from __future__ import annotations

import time

from cheaptalk._threads import single_blas_thread
from cheaptalk.data import load_data, load_design, validate_table
from cheaptalk.data.design import parse_design
from cheaptalk.demo import demo_data_path
from cheaptalk.estimation import MaximumLikelihood
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.models import available_models, get_model

TRUTH = {"alpha_a": 3.0, "alpha_b": 2.0, "beta_mu": -1.5, "beta_sigma": 0.8,
         "lambda_s": 0.5, "lambda_r": 0.2}


def _design():
    base = load_design("forecast_sharing")
    text = 'game = "forecast_sharing"\n'
    for name in ("LL", "HH"):
        text += f"[treatments.{name}]\n"
        for key, value in base.settings[name].items():
            if value is not None:
                text += f"{key} = {value!r}\n"
        text += 'matching = "fixed"\nrounds = 20\n'
    return parse_design(text)


def _best_of(n, f):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    from cheaptalk.simulation import Simulation

    with single_blas_thread():
        if "dynamic_trust" in available_models():
            design = _design()
            df = Simulation(design, get_model("dynamic_trust"), {**TRUTH, "eta": 0.35},
                            subjects_per_role=20).run(seed=1)
            data = validate_table(df, design)
            print(f"SYNTHETIC data: {data.n_decisions} decisions, fixed partners, step 1")
            seconds = {}
            for name in ("trust", "dynamic_trust"):
                est = MaximumLikelihood(get_model(name), data)
                t = time.perf_counter()
                res = est.fit(n_starts=1, standard_errors=False)
                seconds[name] = time.perf_counter() - t
                evals = res.convergence.get("evaluations", "?")
                print(f"{name:<14} fit {seconds[name]:6.1f} s  loglik {res.llf:10.2f}  "
                      f"evaluations {evals}")
            ratio = seconds["dynamic_trust"] / seconds["trust"]
            print(f"dynamic_trust / trust: {ratio:.2f} (target <= 3)")
        design = load_design("forecast_sharing")
        demo = load_data(demo_data_path(), design)
        lk = Likelihood(get_model("trust"), demo)
        params = get_model("trust").default_params(design.game("LL"))
        lk.evaluate(params, gradient=True)
        best = _best_of(5, lambda: lk.evaluate(params, gradient=True))
        print(f"static trust: one value and gradient on the demo data ({demo.n_decisions} "
              f"decisions): {best:.3f} s (best of 5)")


if __name__ == "__main__":
    main()

"""Estimation speed on the bundled 4-treatment forecast-sharing design at step 1.

Synthetic data: 16 subjects per role per treatment, 30 rounds = 3,840 decisions, simulated
from each model's true parameters below. Prints, for level-k and trust: the time of one
maximum-likelihood fit with exact gradients (one start, no standard errors; and with
standard errors), the time of a plain L-BFGS fit of the same likelihood with
finite-difference gradients, and their ratio; then the whole `compare` of all models with
5-fold cross-validation and leave-one-treatment-out, and the report drawn from it and
rebuilt from its saved JSON. Targets (issue #4): trust fit <= 4 s,
level-k fit <= 1 s, compare <= 120 s.

Run: python benchmarks/bench_estimation.py [--skip-compare]
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
from scipy import optimize

from cheaptalk._threads import single_blas_thread
from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation import MaximumLikelihood
from cheaptalk.estimation.compare import compare
from cheaptalk.models import available_models, get_model
from cheaptalk.simulation import Simulation

TRUTH = {
    "levelk": {"p0": 0.2, "p1": 0.4, "p2": 0.3, "p3": 0.1, "lambda_s": 0.4, "lambda_r": 0.2},
    "trust": {"alpha_a": 2.0, "alpha_b": 3.0, "beta_mu": -1.0, "beta_sigma": 0.7,
              "lambda_s": 0.4, "lambda_r": 0.2},
}
TARGET = {"levelk": 1.0, "trust": 4.0}


def finite_difference_fit(est: MaximumLikelihood) -> tuple[float, float, int]:
    """Plain L-BFGS on the same free parametrisation, gradients by finite differences:
    seconds, log-likelihood reached, likelihood evaluations."""
    x0 = est.start_values(1, 0)[0]

    def f(x: np.ndarray) -> float:
        try:
            return -est.likelihood.evaluate(est.space.to_natural(x)).loglik
        except Exception:
            return 1e12
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = optimize.minimize(f, x0, method="L-BFGS-B",
                                options={"maxiter": 500, "ftol": 1e-10, "gtol": 1e-5})
    return time.perf_counter() - t, -res.fun, int(res.nfev)


def main() -> None:
    design = load_design("forecast_sharing")
    print("forecast sharing, 4 treatments, step 1 (201 x 201 x 271/301), synthetic data: "
          "16 subjects per role per treatment x 30 rounds = 3,840 decisions")
    print(f"{'model':<8}{'fit (s)':>9}{'target':>8}{'ratio':>7}{'fit+SE (s)':>12}"
          f"{'FD L-BFGS (s)':>15}{'FD/exact':>10}{'llf exact':>12}{'llf FD':>12}")
    with single_blas_thread():
        for name, params in TRUTH.items():
            model = get_model(name)
            df = Simulation(design, model, params, subjects_per_role=16, rounds=30).run(1)
            ds = validate_table(df, design)
            est = MaximumLikelihood(model, ds)
            t = time.perf_counter()
            res = est.fit(n_starts=1, standard_errors=False)
            t_fit = time.perf_counter() - t
            t = time.perf_counter()
            MaximumLikelihood(model, ds).fit(n_starts=1)
            t_se = time.perf_counter() - t
            t_fd, ll_fd, _ = finite_difference_fit(MaximumLikelihood(model, ds))
            print(f"{name:<8}{t_fit:>9.2f}{TARGET[name]:>8.1f}{t_fit / TARGET[name]:>7.2f}"
                  f"{t_se:>12.2f}{t_fd:>15.2f}{t_fd / t_fit:>10.1f}{res.llf:>12.2f}"
                  f"{ll_fd:>12.2f}")
    if "--skip-compare" in sys.argv:
        return
    df = Simulation(design, get_model("trust"), TRUTH["trust"], subjects_per_role=16,
                    rounds=30).run(1)
    ds = validate_table(df, design)
    names = [n for n, cls in available_models().items() if not cls.history_roles]
    t = time.perf_counter()
    c = compare([get_model(n) for n in names], ds, folds=5, n_starts=1)
    t_cmp = time.perf_counter() - t
    print(f"compare of {len(names)} models ({', '.join(names)}), 5-fold CV + leave one "
          f"treatment out: {t_cmp:.1f} s (target 120 s, ratio {t_cmp / 120:.2f}); "
          f"best BIC: {c.best_bic}")
    # The report, drawn from the comparison, and rebuilt from its saved JSON (no refitting).
    import tempfile
    from pathlib import Path

    from cheaptalk.estimation.saved import read_comparison, rebuild_comparison
    from cheaptalk.report.folder import write_report

    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        write_report(c, ds, Path(tmp) / "first")
        t_draw = time.perf_counter() - t
        t = time.perf_counter()
        saved = Path(tmp) / "first" / "comparison.json"
        again = rebuild_comparison(read_comparison(saved), ds, source=str(saved))
        t_rebuild = time.perf_counter() - t
        write_report(again, ds, Path(tmp) / "again")
        t_total = time.perf_counter() - t
    print(f"report: drawing {t_draw:.1f} s; from the saved JSON: re-evaluating the fits "
          f"{t_rebuild:.1f} s, with drawing {t_total:.1f} s (compare / rebuild: "
          f"{t_cmp / t_total:.0f}x)")


if __name__ == "__main__":
    main()

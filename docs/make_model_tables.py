"""Print the markdown tables of docs/models.md (characteristic predictions, forecast game).

Run ``python docs/make_model_tables.py`` and paste the output into docs/models.md. All
numbers come from :mod:`cheaptalk.report.predictions` applied to each model's prediction at
its default parameters in treatment LL of the built-in design (forecasts 50..250, step 1,
noise 20, capacity cost 0.25).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cheaptalk.games import forecast_sharing
from cheaptalk.models.base import Prediction, Type
from cheaptalk.models.combination import Combination
from cheaptalk.models.levelk import CognitiveHierarchy, LevelK
from cheaptalk.models.trust import Trust, alpha_quadrature, trust_strategies
from cheaptalk.report.predictions import mean_action_by_message, mean_report_by_state

POINTS = [50, 100, 150, 200, 250]


def row(label: str, table: pd.DataFrame, key: str, column: str) -> dict[str, object]:
    values = table.set_index(key).loc[POINTS, column]
    return {"": label, **{str(p): f"{v:.1f}" for p, v in zip(POINTS, values, strict=True)}}


def markdown(rows: list[dict[str, object]]) -> str:
    cols = list(rows[0])
    lines = ["| " + " | ".join(cols) + " |", "|" + "|".join(["---"] + ["---:"] * (
        len(cols) - 1)) + "|"]
    lines += ["| " + " | ".join(str(r[c]) for c in cols) + " |" for r in rows]
    return "\n".join(lines)


def trust_examples(game, params) -> Prediction:
    """Trust types at chosen alpha and beta (senders face the default population)."""
    a, w = alpha_quadrature(params["alpha_a"], params["alpha_b"], Trust.n_alpha)
    median = float(np.exp(params["beta_mu"]))
    betas = np.array([0.0, median, 10 * median])
    s = trust_strategies(game, a, w, betas, np.ones(3) / 3, params["lambda_s"],
                         params["lambda_r"])
    alphas = np.array([0.0, 0.5, 1.0])
    r = trust_strategies(game, alphas, np.ones(3) / 3, betas[:1], np.ones(1),
                         params["lambda_s"], params["lambda_r"])
    types = [Type(f"trustworthy beta={b:.3g}", 1 / 3, sender=x)
             for b, x in zip(betas, s.sender, strict=True)]
    types += [Type(f"trust alpha={x:g}", 1 / 3, receiver=y)
              for x, y in zip(alphas, r.receiver, strict=True)]
    return Prediction(game, tuple(types))


def main() -> None:
    game = forecast_sharing()
    models = [LevelK(), CognitiveHierarchy(), Trust(), Combination()]
    preds = {m.name: m.predict(game, m.default_params(game)) for m in models}
    examples = trust_examples(game, Trust().default_params(game))

    print("Default parameters:\n")
    print("| model | parameters |\n|---|---|")
    for m in models:
        params = ", ".join(f"{k} = {v:.4g}" for k, v in m.default_params(game).items())
        print(f"| {m.name} | {params} |")

    reports = []
    for name, pred in preds.items():
        table = mean_report_by_state(pred, by_type=name in ("levelk", "ch"))
        reports.append(row(f"**{name}** (population)", table, "state", "mean_report"))
        if name == "levelk":
            reports += [row(f"levelk {k}", table, "state", k) for k in ("L0", "L1", "L2", "L3")]
    table = mean_report_by_state(examples, by_type=True)
    reports += [row(f"trust, {t.name.split()[1]}", table, "state", t.name)
                for t in examples.types if t.sender is not None]
    print("\nMean report E[report | forecast] at forecasts 50 … 250:\n")
    print(markdown(reports))

    caps = []
    for name, pred in preds.items():
        table = mean_action_by_message(pred, by_type=name == "levelk")
        caps.append(row(f"**{name}** (population)", table, "message", "mean_action"))
        if name == "levelk":
            caps += [row(f"levelk {k}", table, "message", k) for k in ("L0", "L1", "L2", "L3")]
    table = mean_action_by_message(examples, by_type=True)
    caps += [row(f"trust, {t.name.split()[1]}", table, "message", t.name)
             for t in examples.types if t.receiver is not None]
    print("\nMean capacity E[K | report] at reports 50 … 250:\n")
    print(markdown(caps))


if __name__ == "__main__":
    main()

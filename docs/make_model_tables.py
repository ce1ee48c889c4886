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
from cheaptalk.models.trust import Trust, trust_strategies
from cheaptalk.numerics.quadrature import alpha_quadrature
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

    for mean_by, by_type_models, key, column, role, title in (
        (mean_report_by_state, ("levelk", "ch"), "state", "mean_report", "sender",
         "Mean report E[report | forecast] at forecasts 50 … 250"),
        (mean_action_by_message, ("levelk",), "message", "mean_action", "receiver",
         "Mean capacity E[K | report] at reports 50 … 250"),
    ):
        rows = []
        for name, pred in preds.items():
            table = mean_by(pred, by_type=name in by_type_models)
            rows.append(row(f"**{name}** (population)", table, key, column))
            if name == "levelk":
                rows += [row(f"levelk {k}", table, key, k) for k in ("L0", "L1", "L2", "L3")]
        table = mean_by(examples, by_type=True)
        rows += [row(f"trust, {t.name.split()[1]}", table, key, t.name)
                 for t in examples.types if getattr(t, role) is not None]
        print(f"\n{title}:\n")
        print(markdown(rows))


if __name__ == "__main__":
    main()

"""Simulated experiments: per-subject strategies → a table in the SPEC §4 schema.

Protocol, for each treatment of a design: ``n`` senders and ``n`` receivers; in each round
the receivers are randomly re-matched to the senders (a fresh random permutation), each
sender's state is drawn from the prior, her message from her strategy ``sigma_i[t, :]`` and
her receiver's action from his strategy ``rho_j[m, :]``, both mixed with the tremble ε.
Subjects keep their type (strategy) for all rounds.

The output carries ``session = "synthetic"`` (and ``sender_type``/``receiver_type``, the true
types) so that simulated data can never pass for experiment data. The same seed gives the
same table.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cheaptalk.choice import DEFAULT_TREMBLE, tremble
from cheaptalk.data.design import Design
from cheaptalk.data.errors import InputError
from cheaptalk.models.base import Model, Prediction

__all__ = ["MAX_SIMULATED_ROWS", "SYNTHETIC_LABEL", "Simulation", "SubjectStrategies",
           "check_size", "simulate_experiment"]

#: Value of the ``session`` column in every simulated table.
SYNTHETIC_LABEL = "synthetic"


#: The most rows one simulated dataset may have (about 110 bytes each in memory).
MAX_SIMULATED_ROWS = 10_000_000


def check_size(design: Design, subjects_per_role: int, rounds: int) -> None:
    """Refuse a simulation larger than :data:`MAX_SIMULATED_ROWS`, before allocating it.

    Raises
    ------
    InputError
        Saying how many rows (and about how much memory) it would take.

    Examples
    --------
    >>> from cheaptalk.data import load_design
    >>> check_size(load_design("crawford_sobel"), 10_000_000, 30)
    Traceback (most recent call last):
    cheaptalk.data.errors.InputError: 10000000 subjects per role x 30 rounds x 3 treatments = ...
    """
    rows = subjects_per_role * rounds * len(design.treatments)
    if rows > MAX_SIMULATED_ROWS:
        raise InputError(f"{subjects_per_role} subjects per role x {rounds} rounds x "
                         f"{len(design.treatments)} treatments = {rows:.3g} rows (about "
                         f"{rows * 110 / 1e9:.3g} GB); the limit is {MAX_SIMULATED_ROWS:.0e} "
                         "rows: use fewer subjects or rounds")


@dataclass(frozen=True, eq=False)
class SubjectStrategies:
    """Strategies of the subjects of one treatment.

    Attributes
    ----------
    sender : ndarray, shape (n_senders, n_t, n_m)
    receiver : ndarray, shape (n_receivers, n_m, n_a)
    sender_types, receiver_types : sequence of str, optional
        Type labels written to the output (the truth, for recovery studies).
    """

    sender: NDArray[np.float64]
    receiver: NDArray[np.float64]
    sender_types: Sequence[str] | None = None
    receiver_types: Sequence[str] | None = None


def _draw(rng: np.random.Generator, probabilities: NDArray[np.float64]) -> NDArray[np.intp]:
    """One draw per row of ``probabilities`` (shape (n, k)) by inverse CDF."""
    cdf = np.cumsum(probabilities, axis=-1)
    u = rng.random(probabilities.shape[0]) * cdf[:, -1]
    return np.minimum((u[:, None] >= cdf).sum(axis=-1), probabilities.shape[-1] - 1)


def simulate_experiment(
    design: Design, strategies: Mapping[str, SubjectStrategies], rounds: int,
    seed: int | None = None, epsilon: float = DEFAULT_TREMBLE,
) -> pd.DataFrame:
    """Simulate an experiment from per-subject strategies.

    Parameters
    ----------
    design : Design
    strategies : mapping treatment → SubjectStrategies
        Equal numbers of senders and receivers per treatment.
    rounds : int
    seed : int, optional
    epsilon : float
        Tremble weight ε.

    Returns
    -------
    DataFrame
        Columns ``treatment, round, sender, receiver, state, message, action, session,
        sender_type, receiver_type``.

    Examples
    --------
    >>> from cheaptalk.data import load_design
    >>> d = load_design("binary_deception")
    >>> truthful, credulous = np.eye(2)[None], np.eye(2)[None]
    >>> df = simulate_experiment(d, {"G1": SubjectStrategies(truthful, credulous)}, rounds=3,
    ...                          seed=1, epsilon=0.0)
    >>> bool((df.state == df.message).all() and (df.message == df.action).all())
    True
    """
    if rounds < 1:
        raise ValueError("rounds must be >= 1")
    rng = np.random.default_rng(seed)
    parts = []
    for name in design.treatments:
        if name not in strategies:
            continue
        game = design.game(name)
        s = strategies[name]
        sender = np.asarray(game.check_sender(s.sender), dtype=float)
        receiver = np.asarray(game.check_receiver(s.receiver), dtype=float)
        if sender.ndim != 3 or receiver.ndim != 3 or sender.shape[0] != receiver.shape[0]:
            raise ValueError("need equal numbers of senders and receivers per treatment")
        n = sender.shape[0]
        sender = tremble(sender, epsilon)
        receiver = tremble(receiver, epsilon)
        width = max(2, len(str(n)))
        s_ids = np.array([f"{name}-S{i + 1:0{width}d}" for i in range(n)], dtype=object)
        r_ids = np.array([f"{name}-R{i + 1:0{width}d}" for i in range(n)], dtype=object)
        s_types = np.asarray(s.sender_types if s.sender_types is not None else [""] * n,
                             dtype=object)
        r_types = np.asarray(s.receiver_types if s.receiver_types is not None else [""] * n,
                             dtype=object)
        for r in range(1, rounds + 1):
            partner = rng.permutation(n)
            t = rng.choice(game.n_states, size=n, p=game.prior)
            m = _draw(rng, sender[np.arange(n), t])
            a = _draw(rng, receiver[partner, m])
            parts.append(pd.DataFrame({
                "treatment": name, "round": np.full(n, r, dtype=np.int64),
                "sender": s_ids, "receiver": r_ids[partner],
                "state": game.states[t], "message": (
                    game.messages[m] if game.message_labels is None
                    else np.asarray(game.message_labels, dtype=object)[m]),
                "action": game.actions[a], "session": SYNTHETIC_LABEL,
                "sender_type": s_types, "receiver_type": r_types[partner],
            }))
    if not parts:
        raise ValueError("no strategies for any treatment of the design")
    return pd.concat(parts, ignore_index=True)


class Simulation:
    """An experiment simulated from a model: types drawn per subject, then play.

    Parameters
    ----------
    design : Design
    model : Model
    params : mapping
        Model parameters (names as SPEC §3.5).
    subjects_per_role : int
        Senders (and receivers) per treatment.
    rounds : int
    epsilon : float
        Tremble weight.

    Examples
    --------
    >>> from cheaptalk.data import load_design
    >>> from cheaptalk.models import get_model
    >>> sim = Simulation(load_design("crawford_sobel"), get_model("levelk"),
    ...                  {"p0": 0.2, "p1": 0.4, "p2": 0.3, "p3": 0.1,
    ...                   "lambda_s": 1.0, "lambda_r": 1.0},
    ...                  subjects_per_role=4, rounds=5)
    >>> df = sim.run(seed=7)
    >>> len(df), df.equals(sim.run(seed=7))
    (60, True)
    """

    def __init__(
        self, design: Design, model: Model, params: Mapping[str, float],
        subjects_per_role: int = 16, rounds: int = 30, epsilon: float = DEFAULT_TREMBLE,
    ) -> None:
        if subjects_per_role < 1:
            raise ValueError("subjects_per_role must be >= 1")
        check_size(design, subjects_per_role, rounds)
        self.design = design
        self.model = model
        self.params = dict(params)
        self.subjects_per_role = subjects_per_role
        self.rounds = rounds
        self.epsilon = epsilon
        self.predictions: dict[str, Prediction] = {
            name: model.predict(design.game(name), self.params) for name in design.treatments
        }

    def draw_subjects(self, rng: np.random.Generator) -> dict[str, SubjectStrategies]:
        """Draw each subject's type from the model's population, per treatment."""
        out = {}
        n = self.subjects_per_role
        for name, pred in self.predictions.items():
            drawn: dict[str, Any] = {}
            for role in ("sender", "receiver"):
                weights, strategies, names = pred.role_types(role)
                k = rng.choice(len(weights), size=n, p=weights)
                drawn[role] = (strategies[k], [names[i] for i in k])
            out[name] = SubjectStrategies(drawn["sender"][0], drawn["receiver"][0],
                                          drawn["sender"][1], drawn["receiver"][1])
        return out

    def run(self, seed: int | None = None) -> pd.DataFrame:
        """Simulate one dataset; the same seed gives the same table."""
        rng = np.random.default_rng(seed)
        subjects = self.draw_subjects(rng)
        return simulate_experiment(self.design, subjects, self.rounds,
                                   seed=int(rng.integers(2**63 - 1)), epsilon=self.epsilon)

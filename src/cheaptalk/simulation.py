"""Simulated experiments: per-subject strategies → a table in the SPEC §4 schema.

Protocol, for each treatment of a design: ``n`` senders and ``n`` receivers, paired as the
treatment's :class:`~cheaptalk.data.design.Play` says (SPEC §2.4): with ``matching =
"random"`` a fresh random permutation every round (within matching groups of ``group_size``
subjects per role when given), with ``"fixed"`` one random pairing for all rounds. In each
round each sender's state is drawn from the prior, her message from her strategy
``sigma_i[t, :]`` and her receiver's action from his strategy ``rho_j[m, :]``, both mixed
with the tremble ε; then the feedback ``y = t + U[-e, e]`` is drawn
(:meth:`~cheaptalk.games.base.Game.draw_feedback`) and, where the game has a feedback column
other than ``state`` (forecast sharing: ``demand``), written with two decimals. Subjects keep
their type for all rounds. The feedback comes from its own random stream, so that the other
columns do not depend on whether a game has one.

The output carries ``session = "synthetic"`` (and ``sender_type``/``receiver_type``, the true
types) so that simulated data can never pass for experiment data. The same seed gives the
same table.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from cheaptalk.choice import DEFAULT_TREMBLE, tremble
from cheaptalk.data.design import Design
from cheaptalk.data.errors import InputError
from cheaptalk.data.interactions import SYNTHETIC_LABEL
from cheaptalk.games.base import Game
from cheaptalk.models.base import Model, Prediction
from cheaptalk.models.history import History, build_history

__all__ = ["DEFAULT_ROUNDS", "MAX_SIMULATED_ROWS", "SYNTHETIC_LABEL", "RoundRecord", "Simulation",
           "SubjectStrategies", "check_size", "draw", "pair", "rounds_by_treatment",
           "simulate_experiment", "simulated_parts"]



#: The most rows one simulated dataset may have (about 110 bytes each in memory).
MAX_SIMULATED_ROWS = 10_000_000

#: Rounds simulated where neither the caller nor the design says.
DEFAULT_ROUNDS = 30


def rounds_by_treatment(design: Design, rounds: int | None = None) -> dict[str, int]:
    """Rounds per treatment: ``rounds`` if given, else the design's, else
    :data:`DEFAULT_ROUNDS`."""
    if rounds is not None and rounds < 1:
        raise ValueError("rounds must be >= 1")
    return {name: rounds or design.play_of(name).rounds or DEFAULT_ROUNDS
            for name in design.treatments}


def pair(rng: np.random.Generator, n: int, group_size: int | None = None) -> NDArray[np.intp]:
    """A random pairing: ``partner[i]`` is the receiver matched with sender ``i``.

    Within consecutive matching groups of ``group_size`` subjects per role when given (the
    last group may be smaller).

    Examples
    --------
    >>> p = pair(np.random.default_rng(0), 6, group_size=3)
    >>> sorted(p[:3].tolist()), sorted(p[3:].tolist())   # nobody leaves their group
    ([0, 1, 2], [3, 4, 5])
    """
    if group_size is None or group_size >= n:
        return rng.permutation(n)
    out = np.empty(n, dtype=np.intp)
    for start in range(0, n, group_size):
        stop = min(start + group_size, n)
        out[start:stop] = start + rng.permutation(stop - start)
    return out


def check_size(design: Design, subjects_per_role: int, rounds: int | None) -> None:
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
    per_treatment = rounds_by_treatment(design, rounds)
    rows = subjects_per_role * sum(per_treatment.values())
    if rows > MAX_SIMULATED_ROWS:
        shown = (f"{rounds} rounds x {len(design.treatments)} treatments" if rounds else
                 f"{sum(per_treatment.values())} rounds over {len(design.treatments)} "
                 "treatments")
        raise InputError(f"{subjects_per_role} subjects per role x {shown} = {rows:.3g} rows "
                         "(about "
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
    sender_index, receiver_index : ndarray of int, optional
        Each subject's type, as an index into the prediction's types of that role; needed
        for a role whose play depends on history (the model computes its choices round by
        round from the type and what the subject saw).
    by_type : bool
        ``sender`` and ``receiver`` hold one strategy per type (shapes (n_types, n_t, n_m)
        and (n_types, n_m, n_a)) and ``sender_index``/``receiver_index`` give each subject's
        type: memory grows with the types, not the subjects.
    """

    sender: NDArray[np.float64]
    receiver: NDArray[np.float64]
    sender_types: Sequence[str] | None = None
    receiver_types: Sequence[str] | None = None
    sender_index: NDArray[np.intp] | None = None
    receiver_index: NDArray[np.intp] | None = None
    by_type: bool = False

    @property
    def n_subjects(self) -> int:
        """Subjects per role."""
        if self.by_type:
            assert self.sender_index is not None
            return int(np.asarray(self.sender_index).size)
        return int(np.asarray(self.sender).shape[0])


def draw(rng: np.random.Generator, probabilities: NDArray[np.float64]) -> NDArray[np.intp]:
    """One draw per row of ``probabilities`` (shape (n, k)) by inverse CDF."""
    cdf = np.cumsum(probabilities, axis=-1)
    u = rng.random(probabilities.shape[0]) * cdf[:, -1]
    return np.minimum((u[:, None] >= cdf).sum(axis=-1), probabilities.shape[-1] - 1)


class RoundRecord:
    """The decisions of one role so far, round by round, for a model whose play depends on
    history (the simulator's, and :func:`cheaptalk.advice.project_trust`'s)."""

    def __init__(self) -> None:
        self.unit: list[NDArray[np.intp]] = []
        self.credible: list[NDArray[np.float64]] = []

    def current(self, unit: NDArray[np.intp]) -> tuple[History, NDArray[np.intp]]:
        """The history including this round's decisions by ``unit`` (credibility not yet
        known) and those decisions' indices in it."""
        done = sum(u.size for u in self.unit)
        units = np.concatenate([*self.unit, unit])
        rounds = np.concatenate([np.full(u.size, r) for r, u in enumerate([*self.unit, unit])])
        credible = np.concatenate([*self.credible, np.full(unit.size, np.nan)])
        return build_history(units, rounds, credible), np.arange(done, done + unit.size)

    def rows(self, model: Model, game: Game, params: Mapping[str, float], role: str,
             unit: NDArray[np.intp], seen: NDArray[np.intp],
             type_index: NDArray[np.intp]) -> NDArray[np.float64]:
        """Choice probabilities for this round's decisions (``unit`` in this round)."""
        history, now = self.current(unit)
        return model.history_strategy_rows(game, params, role, history, now, seen, type_index)

    def add(self, unit: NDArray[np.intp], credible: NDArray[np.float64]) -> None:
        self.unit.append(unit)
        self.credible.append(credible)


def simulate_experiment(
    design: Design, strategies: Mapping[str, SubjectStrategies], rounds: int | None = None,
    seed: int | None = None, epsilon: float = DEFAULT_TREMBLE,
    model: Model | None = None, params: Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Simulate an experiment from per-subject strategies.

    Parameters
    ----------
    design : Design
        Its games, and how each treatment is played (matching, group size, rounds).
    strategies : mapping treatment → SubjectStrategies
        Equal numbers of senders and receivers per treatment.
    rounds : int, optional
        Rounds in every treatment (default: :func:`rounds_by_treatment`).
    seed : int, optional
    epsilon : float
        Tremble weight ε.
    model, params : optional
        A model whose play depends on history (:attr:`Model.history_roles`) and its
        parameters: the choices of those roles are computed round by round.

    Returns
    -------
    DataFrame
        Columns ``treatment, round, sender, receiver, state, message, action`` (and the
        feedback column where it is not ``state``), ``session, sender_type, receiver_type``.

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
    parts = list(simulated_parts(design, strategies, rounds, seed, epsilon, model, params))
    if not parts:
        raise ValueError("no strategies for any treatment of the design")
    return pd.concat(parts, ignore_index=True)


def simulated_parts(
    design: Design, strategies: Mapping[str, SubjectStrategies], rounds: int | None = None,
    seed: int | None = None, epsilon: float = DEFAULT_TREMBLE,
    model: Model | None = None, params: Mapping[str, float] | None = None,
) -> Iterator[pd.DataFrame]:
    """:func:`simulate_experiment` one treatment at a time: the tables it concatenates, in
    order (the same random stream), so that a large simulation can be written as it goes."""
    per_treatment = rounds_by_treatment(design, rounds)
    history_roles = model.history_roles if model is not None else ()
    if history_roles and params is None:
        raise ValueError("a model whose play depends on history needs its parameters")
    rng = np.random.default_rng(seed)
    # The feedback has its own stream: the other columns do not depend on it.
    feedback_rng = np.random.default_rng(np.random.SeedSequence(seed).spawn(1)[0])
    feedback_column = design.kind.feedback_column
    for name in design.treatments:
        if name not in strategies:
            continue
        game = design.game(name)
        play = design.play_of(name)
        s = strategies[name]
        sender = np.asarray(game.check_sender(s.sender), dtype=float)
        receiver = np.asarray(game.check_receiver(s.receiver), dtype=float)
        if s.by_type:  # one table per type: each subject plays its type's
            if s.sender_index is None or s.receiver_index is None:
                raise ValueError("strategies by type need each subject's type index")
            table_of = {"sender": np.asarray(s.sender_index, dtype=np.intp),
                        "receiver": np.asarray(s.receiver_index, dtype=np.intp)}
        else:
            table_of = {"sender": np.arange(sender.shape[0]),
                        "receiver": np.arange(receiver.shape[0])}
        if (sender.ndim != 3 or receiver.ndim != 3
                or table_of["sender"].size != table_of["receiver"].size):
            raise ValueError("need equal numbers of senders and receivers per treatment")
        n = table_of["sender"].size
        sender = tremble(sender, epsilon)
        receiver = tremble(receiver, epsilon)
        type_index = {"sender": s.sender_index, "receiver": s.receiver_index}
        for role in history_roles:
            if type_index[role] is None:
                raise ValueError(f"the {role}s' type indices are needed: their play depends "
                                 "on history")
        record = {role: RoundRecord() for role in history_roles}
        width = max(2, len(str(n)))
        s_ids = np.array([f"{name}-S{i + 1:0{width}d}" for i in range(n)], dtype=object)
        r_ids = np.array([f"{name}-R{i + 1:0{width}d}" for i in range(n)], dtype=object)
        s_types = np.asarray(s.sender_types if s.sender_types is not None else [""] * n,
                             dtype=object)
        r_types = np.asarray(s.receiver_types if s.receiver_types is not None else [""] * n,
                             dtype=object)
        fixed = pair(rng, n) if play.matching == "fixed" else None
        senders = np.arange(n)
        rounds_played = []
        for r in range(1, per_treatment[name] + 1):
            partner = fixed if fixed is not None else pair(rng, n, play.group_size)
            t = rng.choice(game.n_states, size=n, p=game.prior)
            if "sender" in record:
                rows = record["sender"].rows(model, game, params, "sender", senders, t,
                                             type_index["sender"])
                m = draw(rng, tremble(rows, epsilon))
            else:
                m = draw(rng, sender[table_of["sender"][senders], t])
            if "receiver" in record:
                rows = record["receiver"].rows(model, game, params, "receiver", partner, m,
                                               type_index["receiver"][partner])
                a = draw(rng, tremble(rows, epsilon))
            else:
                a = draw(rng, receiver[table_of["receiver"][partner], m])
            y = game.draw_feedback(feedback_rng, t)
            credible = game.credible(m, y)
            for role, units in (("sender", senders), ("receiver", partner)):
                if role in record:
                    record[role].add(units, credible)
            columns = {
                "treatment": name, "round": np.full(n, r, dtype=np.int64),
                "sender": s_ids, "receiver": r_ids[partner],
                "state": game.states[t], "message": (
                    game.messages[m] if game.message_labels is None
                    else np.asarray(game.message_labels, dtype=object)[m]),
                "action": game.actions[a],
            }
            if feedback_column != "state":
                columns[feedback_column] = y
            columns.update(session=SYNTHETIC_LABEL, sender_type=s_types,
                           receiver_type=r_types[partner])
            rounds_played.append(pd.DataFrame(columns))
        yield pd.concat(rounds_played, ignore_index=True)


class _OnDemand(Mapping[str, SubjectStrategies]):
    """Treatment → subjects' strategies, each built when asked for."""

    def __init__(self, drawn: dict[str, Any], build: Any) -> None:
        self._drawn, self._build = drawn, build

    def __getitem__(self, name: str) -> SubjectStrategies:
        return self._build(name, self._drawn[name])

    def __contains__(self, name: object) -> bool:
        return name in self._drawn

    def __iter__(self) -> Iterator[str]:
        return iter(self._drawn)

    def __len__(self) -> int:
        return len(self._drawn)


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
    rounds : int, optional
        Rounds in every treatment (default: the design's, else :data:`DEFAULT_ROUNDS`).
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
        subjects_per_role: int = 16, rounds: int | None = None,
        epsilon: float = DEFAULT_TREMBLE,
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
        drawn = self._draw_types(rng)
        return {name: self._subjects(name, drawn[name]) for name in drawn}

    def _draw_types(self, rng: np.random.Generator) -> dict[str, dict[str, NDArray[np.intp]]]:
        """Each subject's type index, per treatment and role (the random draws of
        :meth:`draw_subjects`, in its order)."""
        out: dict[str, dict[str, NDArray[np.intp]]] = {}
        for name, pred in self.predictions.items():
            out[name] = {}
            for role in ("sender", "receiver"):
                # The weights as Prediction.role_types normalises them, without stacking
                # the strategies.
                weights = np.array([ty.weight for ty in pred.types
                                    if getattr(ty, role) is not None], dtype=float)
                weights = weights / weights.sum()
                out[name][role] = rng.choice(len(weights), size=self.subjects_per_role,
                                             p=weights)
        return out

    def _subjects(self, name: str, drawn: Mapping[str, NDArray[np.intp]]) -> SubjectStrategies:
        """One table per type, indexed by each subject's type (a copy per subject would take
        subjects × states × messages)."""
        tables, labels = {}, {}
        for role in ("sender", "receiver"):
            _, tables[role], names = self.predictions[name].role_types(role)
            labels[role] = [names[i] for i in drawn[role]]
        return SubjectStrategies(tables["sender"], tables["receiver"], labels["sender"],
                                 labels["receiver"], drawn["sender"], drawn["receiver"],
                                 by_type=True)

    def run(self, seed: int | None = None) -> pd.DataFrame:
        """Simulate one dataset; the same seed gives the same table."""
        return pd.concat(list(self.parts(seed)), ignore_index=True)

    def parts(self, seed: int | None = None) -> Iterator[pd.DataFrame]:
        """:meth:`run`'s table one treatment at a time (:func:`simulated_parts`)."""
        rng = np.random.default_rng(seed)
        # Each treatment's type tables are stacked when its turn comes, not all at once.
        subjects = _OnDemand(self._draw_types(rng), self._subjects)
        return simulated_parts(self.design, subjects, self.rounds,
                               seed=int(rng.integers(2**63 - 1)), epsilon=self.epsilon,
                               model=self.model, params=self.params)

    def write_parquet(self, path: str | Path, seed: int | None = None) -> int:
        """Simulate one dataset into a Parquet file, one treatment at a time (memory holds
        one treatment's rows); the table is :meth:`run`'s. Returns the number of rows."""
        import pyarrow as pa
        import pyarrow.parquet as pq

        writer = None
        rows = 0
        try:
            for part in self.parts(seed):
                table = pa.Table.from_pandas(part, preserve_index=False)
                if writer is None:
                    writer = pq.ParquetWriter(str(path), table.schema)
                writer.write_table(table.cast(writer.schema))
                rows += len(part)
        finally:
            if writer is not None:
                writer.close()
        return rows

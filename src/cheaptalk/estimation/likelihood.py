r"""Subject-level mixture likelihood of cheap-talk data (SPEC §5).

A unit of type analysis is a (subject, role). For a unit :math:`i` with decisions
:math:`d \in D_i` and a model whose types :math:`k` in that role have weights
:math:`w_k(\theta)` and strategies :math:`s_k(\theta)` (``sigma[t, m]`` for senders,
``rho[m, a]`` for receivers),

.. math::

    L_i(\theta) = \sum_k w_k \prod_{d \in D_i} P_k(d), \qquad
    P_k(d) = (1 - \varepsilon)\, s_k[x_d, y_d] + \varepsilon / n_y,

where :math:`(x_d, y_d)` is the decision's (state, message) or (message, action),
:math:`\varepsilon` the tremble, and the weights :math:`w_k` those of the unit's treatment
(they may differ by game; a unit whose decisions span treatments takes the first one's).
The log-likelihood is :math:`\sum_i \log L_i`; it is also reported per role and per
treatment (a unit whose decisions span treatments is reported under the joined names, e.g.
``"LL+HH"``).

Gradient. With posterior type weights :math:`r_{ik} = w_k \prod_d P_k(d) / L_i`,

.. math::

    \frac{\partial \log L}{\partial s_k[x, y]} =
        \sum_i r_{ik} \sum_{d \in D_i: (x_d, y_d) = (x, y)} \frac{1 - \varepsilon}{P_k(d)},
    \qquad
    \frac{\partial \log L}{\partial w^g_k} = \sum_{i \text{ in } g} \frac{r_{ik}}{w^g_k},

and the model's pullback (:data:`cheaptalk.models.base.Pullback`) carries these to the
parameters exactly. Models without a pullback get central differences, and the result says
so.

History. For a model whose play in a role depends on what the unit saw in earlier rounds
(:attr:`~cheaptalk.models.base.Model.history_roles`, e.g. ``dynamic_trust``'s receivers),
:math:`s_k[x_d, y_d]` above becomes the model's
:meth:`~cheaptalk.models.base.Model.history_probabilities` of decision :math:`d` given the
unit's earlier decisions of that role (its own rows in round order,
:func:`~cheaptalk.models.history.build_history`) and their feedback; the adjoint
:math:`\sum_i r_{ik} (1-\varepsilon)/P_k(d)` goes to the pullback that method returns,
per decision instead of per cell. Static models take the path above unchanged.

Cells. In a static role the decisions that fall in one (seen, chosen) cell share
:math:`P_k`, so with :math:`n_{ic}` unit :math:`i`'s decisions in cell :math:`c`,
:math:`\sum_{d \in D_i} \log P_k(d) = \sum_c n_{ic} \log P_k(c)` and the strategy adjoint
is :math:`\sum_i r_{ik} n_{ic} (1 - \varepsilon) / P_k(c)`: one sparse product each way
with the counts :math:`n`, over types × distinct cells rather than types × decisions.

Scale (SPEC §5.1). Every quantity above is a sum over units of terms that need only the
unit's own decisions, so the units of each role are evaluated in chunks of about
``chunk_size`` decisions (a unit is never split; a history role's record is rebuilt per chunk
from the chunk's decisions, which hold each unit's whole record). Memory holds one chunk's
types × decisions (a history role) or types × (distinct cells + units) (a static role, which
the game's cells bound whatever the data: its chunks are larger by default); the cost is
linear in the decisions, and the sums are the same up to rounding whatever the chunk size.

Threads. The treatments' predictions, and then their pullbacks, are independent: they are
computed side by side on the cores (:func:`cheaptalk._threads.map_in_threads`; one after the
other in the runner's worker processes) and summed in treatment order, so the value and
gradient are the same bit for bit either way.

The tremble may be estimated (SPEC §1): pass it as the parameter ``"epsilon"`` (it overrides
the fixed value), and the gradient has

.. math::

    \frac{\partial \log L}{\partial \varepsilon} =
        \sum_i \sum_k r_{ik} \sum_{d \in D_i} \frac{1/n_y - s_k[x_d, y_d]}{P_k(d)}.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import sparse
from scipy.special import logsumexp

from cheaptalk._threads import map_in_threads
from cheaptalk.choice import DEFAULT_TREMBLE, TREMBLE
from cheaptalk.data.errors import InputError
from cheaptalk.data.interactions import Dataset
from cheaptalk.models.base import CellAdjoints, Model
from cheaptalk.models.history import History, build_history

__all__ = ["DEFAULT_CHUNK_SIZE", "DEFAULT_STATIC_CHUNK_SIZE", "ROLES", "Evaluation",
           "Likelihood"]

ROLES = ("sender", "receiver")

#: Decisions evaluated together by default where each has its own probability (a role whose
#: play has a history; expected choices): with 161 types, each types × decisions array of a
#: chunk takes about 26 MB.
DEFAULT_CHUNK_SIZE = 20_000
#: Decisions evaluated together by default in a static role, whose arrays are types ×
#: (distinct cells + units): fewer, larger chunks repeat fewer cells.
DEFAULT_STATIC_CHUNK_SIZE = 250_000


@dataclass
class _Block:
    """Decisions of one role in one treatment: all of them (:attr:`Likelihood.blocks`,
    ``rows`` into :attr:`Likelihood.histories`) or one chunk's (``unit`` and ``rows`` local
    to the chunk)."""

    treatment: str
    flat: NDArray[np.intp]  # x * n_y + y per decision
    unit: NDArray[np.intp]  # unit index per decision
    n_xy: int
    n_y: int
    x: NDArray[np.intp]  # what each decision saw (state or message index)
    y: NDArray[np.intp]  # what it chose (message or action index)
    rows: NDArray[np.intp]  # its index among the role's decisions (the History's order)


@dataclass
class _ChunkBlock:
    """A chunk's decisions in one treatment, with the sums the evaluation needs."""

    block: _Block
    # (n_dec, n_units of the chunk) one-hot, for a role whose play has a history
    to_units: sparse.csr_matrix | None
    cells: NDArray[np.intp]  # the distinct cells the decisions fall in
    # (n_cells, n_units of the chunk): how many of each unit's decisions fall in each cell
    counts: sparse.csr_matrix
    # where ``cells`` sit among all the observed cells of the role in the treatment
    observed: NDArray[np.intp] | None = None


@dataclass
class _Chunk:
    """Units ``start:stop`` of one role with all their decisions (a unit is never split)."""

    start: int
    stop: int
    blocks: list[_ChunkBlock]
    history: History | None  # the chunk's decisions, for a role whose play has a history
    decisions: NDArray[np.intp]  # their indices among the role's decisions (data order)


@dataclass
class Evaluation:
    """Log-likelihood at one parameter vector, with its pieces.

    Attributes
    ----------
    loglik : float
    unit_loglik : dict role → ndarray (n_units,)
    posterior : dict role → ndarray (n_types, n_units), P(type | unit's decisions)
    type_names : dict role → dict treatment → list of str
        The types' names in each treatment (they may differ by game, e.g. trust's β nodes).
    type_families : dict role → list of str
        The family (:attr:`~cheaptalk.models.base.Type.family`) of each of those types.
    gradient : dict name → float, or None
    by_treatment, by_role : dict label → float
        The log-likelihood split by treatment and by role (weighted like ``loglik``).
    """

    loglik: float
    unit_loglik: dict[str, NDArray[np.float64]]
    posterior: dict[str, NDArray[np.float64]]
    type_names: dict[str, dict[str, list[str]]]
    type_families: dict[str, list[str]] = field(default_factory=dict)
    gradient: dict[str, float] | None = None
    by_treatment: dict[str, float] = field(default_factory=dict)
    by_role: dict[str, float] = field(default_factory=dict)


class Likelihood:
    """The log-likelihood of a model on a dataset (or a subset of its rows).

    Parameters
    ----------
    model : Model
    dataset : Dataset
    rows : array of int, optional
        Rows of ``dataset.table`` to use (e.g. leave one treatment out); default all.
    epsilon : float
        Tremble weight.
    subjects : collection of str, optional
        Use only the decisions these subjects made (in either role): cross-validation by
        subject.
    chunk_size : int, optional
        Decisions evaluated together (default :data:`DEFAULT_CHUNK_SIZE` in a role whose
        play has a history, :data:`DEFAULT_STATIC_CHUNK_SIZE` in a static one). The units of
        each role are taken in chunks of about this many decisions (a unit is never split),
        so that the arrays the evaluation holds stay bounded whatever the size of the data;
        the results do not depend on it (up to rounding).
    """

    def __init__(
        self, model: Model, dataset: Dataset, rows: Sequence[int] | NDArray[np.intp] | None = None,
        epsilon: float = DEFAULT_TREMBLE, subjects: Collection[str] | None = None,
        chunk_size: int | None = None,
    ) -> None:
        self.model = model
        self.dataset = dataset
        self.epsilon = float(epsilon)
        #: Decisions per chunk where each has its own probability (module docstring).
        self.chunk_size = DEFAULT_CHUNK_SIZE if chunk_size is None else int(chunk_size)
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be at least 1, not {chunk_size}")
        static_size = DEFAULT_STATIC_CHUNK_SIZE if chunk_size is None else self.chunk_size
        table = dataset.table
        keep_rows = np.zeros(len(table), dtype=bool)
        keep_rows[np.arange(len(table)) if rows is None else np.asarray(rows, dtype=np.intp)] = 1
        # Decisions used, per role: the rows kept, and (for cross-validation by subject) only
        # those of the chosen subjects in that role.
        self.masks = {}
        for role in ROLES:
            m = keep_rows.copy()
            if subjects is not None:
                m &= table[role].isin(list(subjects)).to_numpy()
            self.masks[role] = m
        treatments_all = table["treatment"].to_numpy()
        self.units: dict[str, list[str]] = {}
        unit_of_row: dict[str, NDArray[np.intp]] = {}
        for role in ROLES:
            codes, uniques = pd.factorize(table[role].to_numpy()[self.masks[role]])
            unit_of_row[role] = codes.astype(np.intp)
            self.units[role] = [str(u) for u in uniques]
        used = self.masks["sender"] | self.masks["receiver"]
        self.treatments = [g for g in dataset.design.treatments
                           if np.any(treatments_all[used] == g)]
        if not self.treatments:
            raise ValueError("no decisions selected")
        self.games = {g: dataset.design.game(g) for g in self.treatments}
        self.blocks: dict[str, list[_Block]] = {r: [] for r in ROLES}
        #: Each role's units in chunks of about :attr:`chunk_size` decisions.
        self.chunks: dict[str, list[_Chunk]] = {}
        treatment_code: dict[str, NDArray[np.intp]] = {}
        for role in ROLES:
            mask = self.masks[role]
            code = np.full(int(mask.sum()), -1, dtype=np.intp)
            for t_i, g in enumerate(self.treatments):
                code[treatments_all[mask] == g] = t_i
            treatment_code[role] = code
            if role == "sender":
                xs, ys = dataset.state[mask], dataset.message[mask]
            else:
                xs, ys = dataset.message[mask], dataset.action[mask]
            for t_i, g in enumerate(self.treatments):
                sel = np.flatnonzero(code == t_i)
                n_y, n_xy = self._sizes(role, g)
                self.blocks[role].append(_Block(g, xs[sel] * n_y + ys[sel], unit_of_row[role][sel],
                                                n_xy, n_y, xs[sel], ys[sel], sel))
        # Treatment label of each unit (joined when a unit spans treatments).
        self.unit_treatment: dict[str, list[str]] = {}
        for role in ROLES:
            # The distinct (unit, treatment) pairs, in the design's order of treatments.
            n_t = len(self.treatments)
            pairs = np.unique(unit_of_row[role] * n_t + treatment_code[role])
            sets: list[list[str]] = [[] for _ in self.units[role]]
            for u, t_i in zip((pairs // n_t).tolist(), (pairs % n_t).tolist(), strict=True):
                sets[u].append(self.treatments[t_i])
            self.unit_treatment[role] = ["+".join(s) for s in sets]
        # The treatment whose type weights a unit's mixture uses: its own, or the first of
        # its treatments where it spans several (weights may differ by game, e.g. trust's
        # quadrature nodes follow the game's payoff scale).
        self.unit_home: dict[str, NDArray[np.intp]] = {
            role: np.array([self.treatments.index(label.split("+")[0])
                            for label in self.unit_treatment[role]], dtype=np.intp)
            for role in ROLES
        }
        #: Each history role's decisions in round order (:attr:`Model.history_roles`).
        self.histories: dict[str, History] = {}
        record: dict[str, tuple[NDArray[np.int64], NDArray[np.float64]]] = {}
        for role in model.history_roles:
            record[role] = self._record(role)
            self.histories[role] = build_history(unit_of_row[role], *record[role])
        for role in ROLES:
            size = self.chunk_size if role in model.history_roles else static_size
            self.chunks[role] = self._chunks(role, unit_of_row[role], treatment_code[role],
                                             record.get(role), size)
        # The (seen, chosen) cells each role's decisions fall in, per treatment: the
        # strategy adjoints of the gradient are zero elsewhere.
        self._observed_cells = {
            (role, g): np.unique(np.concatenate(
                [np.zeros(0, dtype=np.intp)]
                + [cb.cells for chunk in self.chunks[role] for cb in chunk.blocks
                   if cb.block.treatment == g]))
            for role in ROLES for g in self.treatments}
        for role in ROLES:
            for chunk in self.chunks[role]:
                for cb in chunk.blocks:
                    cb.observed = np.searchsorted(
                        self._observed_cells[(role, cb.block.treatment)], cb.cells)
        # Subjects (clusters): a subject id in both roles is one cluster.
        subjects = sorted(set(self.units["sender"]) | set(self.units["receiver"]))
        pos = {s: i for i, s in enumerate(subjects)}
        self.subjects = subjects
        self.cluster = {r: np.array([pos[u] for u in self.units[r]], dtype=np.intp)
                        for r in ROLES}
        #: Optional weight of each subject (bootstrap counts); ``None`` means all 1.
        self.subject_weights: NDArray[np.float64] | None = None

    def _sizes(self, role: str, treatment: str) -> tuple[int, int]:
        """Choices ``n_y`` and (seen, chosen) cells ``n_xy`` of a role in a treatment."""
        game = self.games[treatment]
        n_y = game.n_messages if role == "sender" else game.n_actions
        return n_y, (game.n_states if role == "sender" else game.n_messages) * n_y

    def _record(self, role: str) -> tuple[NDArray[np.int64], NDArray[np.float64]]:
        """Round and feedback verdict (credible or not) of each of the role's decisions."""
        ds, mask = self.dataset, self.masks[role]
        feedback = ds.require_feedback(f"model {self.model.name} (play that depends on "
                                       "history)")[mask]
        rounds = ds.table["round"].to_numpy()[mask]
        if np.unique(rounds).size < 2:
            raise InputError(f"model {self.model.name} needs data with more than one round "
                             "(play that depends on earlier rounds); these data have "
                             f"{np.unique(rounds).size}", file=ds.source, column="round")
        credible = np.zeros(mask.sum())
        treatments = ds.table["treatment"].to_numpy()[mask]
        message = ds.message[mask]
        for g in self.treatments:
            sel = treatments == g
            credible[sel] = self.games[g].credible(message[sel], feedback[sel])
        return rounds, credible

    def _chunks(self, role: str, unit: NDArray[np.intp], code: NDArray[np.intp],
                record: tuple[NDArray[np.int64], NDArray[np.float64]] | None, size: int
                ) -> list[_Chunk]:
        """The role's units in chunks of about ``size`` decisions: a unit goes to chunk
        ``c`` when the decisions of the units before it number from ``c * size`` to
        ``(c + 1) * size - 1``."""
        n_units = len(self.units[role])
        if n_units == 0:
            return []
        counts = np.bincount(unit, minlength=n_units)
        before = np.cumsum(counts) - counts
        chunk_of_unit = before // size
        starts = np.flatnonzero(np.r_[True, chunk_of_unit[1:] != chunk_of_unit[:-1]])
        bounds = np.r_[starts, n_units]
        by_unit = np.argsort(unit, kind="stable")  # decisions grouped by unit
        first = np.r_[0, np.cumsum(counts)]
        blocks = {b.treatment: b for b in self.blocks[role]}
        mask = self.masks[role]
        xs_all = (self.dataset.state if role == "sender" else self.dataset.message)[mask]
        ys_all = (self.dataset.message if role == "sender" else self.dataset.action)[mask]
        out = []
        for a, b in itertools.pairwise(bounds):
            idx = np.sort(by_unit[first[a]:first[b]])  # the chunk's decisions, in data order
            local = unit[idx] - a
            history = (None if record is None else
                       build_history(local, record[0][idx], record[1][idx]))
            chunk_blocks = []
            for t_i, g in enumerate(self.treatments):
                sel = np.flatnonzero(code[idx] == t_i)
                if sel.size == 0:
                    continue
                n_y, n_xy = blocks[g].n_y, blocks[g].n_xy
                dec = idx[sel]
                x, y = xs_all[dec], ys_all[dec]
                flat = x * n_y + y
                cells, cell_of = np.unique(flat, return_inverse=True)
                n_dec, ones = sel.size, np.ones(sel.size)
                counts = sparse.csr_matrix((ones, (cell_of.reshape(-1), local[sel])),
                                           shape=(cells.size, int(b - a)))
                counts.sum_duplicates()
                chunk_blocks.append(_ChunkBlock(
                    _Block(g, flat, local[sel], n_xy, n_y, x, y, sel),
                    None if history is None else sparse.csr_matrix(
                        (ones, (np.arange(n_dec), local[sel])), shape=(n_dec, int(b - a))),
                    cells, counts,
                ))
            out.append(_Chunk(int(a), int(b), chunk_blocks, history, idx))
        return out

    def _unit_weights(self, role: str) -> NDArray[np.float64]:
        if self.subject_weights is None:
            return np.ones(len(self.units[role]))
        return self.subject_weights[self.cluster[role]]

    # ------------------------------------------------------------------ sizes
    @property
    def n_decisions(self) -> int:
        return int(sum(m.sum() for m in self.masks.values()))

    @property
    def n_subjects(self) -> int:
        return len(self.subjects)

    @property
    def n_units(self) -> int:
        return sum(len(u) for u in self.units.values())

    def subject_loglik(self, ev: Evaluation) -> NDArray[np.float64]:
        """Per-subject (cluster) log-likelihood contributions."""
        out = np.zeros(self.n_subjects)
        for role in ROLES:
            np.add.at(out, self.cluster[role], ev.unit_loglik[role])
        return out

    # -------------------------------------------------------------- evaluate
    def evaluate(self, params: Mapping[str, float], gradient: bool = False) -> Evaluation:
        """Log-likelihood at ``params``; with ``gradient=True`` also its exact gradient.

        Evaluated chunk by chunk (:attr:`chunk_size`): a unit's posterior and contribution
        need only its own decisions, and the gradient's sums over units are accumulated.

        Raises ``ValueError`` if the model has no analytic pullback and a gradient is asked
        for (:class:`~cheaptalk.estimation.mle.MaximumLikelihood` then differences the
        log-likelihood instead).
        """
        eps = self.epsilon
        estimated = TREMBLE in params  # an estimated tremble: not one of the model's
        if estimated:
            params = dict(params)
            eps = float(params.pop(TREMBLE))
        model = self.model
        # The treatments' predictions are independent: computed side by side (threads).
        if gradient:
            done = map_in_threads(lambda g: model.predict_with_pullback(self.games[g], params),
                                  self.treatments)
            preds = {g: pred for g, (pred, _) in zip(self.treatments, done, strict=True)}
            pullbacks = {g: pb for g, (_, pb) in zip(self.treatments, done, strict=True)}
            if any(pb is None for pb in pullbacks.values()):
                raise ValueError(f"model {model.name} has no analytic gradient")
        else:
            preds = dict(zip(self.treatments, map_in_threads(
                lambda g: model.predict(self.games[g], params), self.treatments), strict=True))

        names: dict[str, dict[str, list[str]]] = {r: {} for r in ROLES}
        families: dict[str, list[str]] = {}
        log_w: dict[tuple[str, str], NDArray[np.float64]] = {}
        type_index: dict[tuple[str, str], list[int]] = {}
        for role in ROLES:
            for g in self.treatments:
                pred = preds[g]
                chosen = pred.role_indices(role)
                type_index[(role, g)] = chosen
                w = np.array([pred.types[i].weight for i in chosen], dtype=float)
                with np.errstate(divide="ignore"):
                    log_w[(role, g)] = np.log(w / w.sum())
                names[role][g] = [pred.types[i].name for i in chosen]
                families.setdefault(role, [pred.types[i].family for i in chosen])

        unit_ll: dict[str, NDArray[np.float64]] = {}
        posterior: dict[str, NDArray[np.float64]] = {}
        # Gradient pieces summed over chunks: adjoints of the observed cells of each type's
        # strategy, posterior weight of the units at home in each treatment, the tremble's.
        cell_bar: dict[tuple[str, str], NDArray[np.float64]] = {}
        home_weight: dict[tuple[str, str], NDArray[np.float64]] = {}
        grad: dict[str, float] = {}
        eps_bar = 0.0
        for role in ROLES:
            n_units = len(self.units[role])
            n_types = len(type_index[(role, self.treatments[0])])
            unit_log_w = np.stack([log_w[(role, g)] for g in self.treatments],
                                  axis=1)[:, self.unit_home[role]]  # (K, n_units)
            unit_ll[role] = np.zeros(n_units)
            posterior[role] = np.zeros((n_types, n_units))
            history = role in self.histories
            if gradient:
                for g in self.treatments:
                    home_weight[(role, g)] = np.zeros(n_types)
                    if not history:
                        cell_bar[(role, g)] = np.zeros(
                            (n_types, self._observed_cells[(role, g)].size))
            weights = self._unit_weights(role)
            for chunk in self.chunks[role]:
                a, b = chunk.start, chunk.stop
                total = np.zeros((n_types, b - a))
                pieces = []
                for cb in chunk.blocks:
                    block, g = cb.block, cb.block.treatment
                    history_pullback = None
                    if history:
                        # per decision: its probability depends on the unit's past
                        chosen_p, history_pullback = self.model.history_probabilities(
                            self.games[g], params, role, chunk.history, block.rows, block.x,
                            block.y)
                        p = (1.0 - eps) * chosen_p + eps / block.n_y
                        assert cb.to_units is not None
                        total += (cb.to_units.T @ np.log(p).T).T  # (K, units of the chunk)
                    else:
                        # per cell: the decisions in a cell share its probability
                        chosen_p = preds[g].at_cells(role, cb.cells)  # (K, cells)
                        p = (1.0 - eps) * chosen_p + eps / block.n_y
                        total += (cb.counts.T @ np.log(p).T).T
                    pieces.append((cb, chosen_p, p, history_pullback))
                joint = unit_log_w[:, a:b] + total
                ll = logsumexp(joint, axis=0)
                post = np.exp(joint - ll[None, :])
                unit_ll[role][a:b] = ll
                posterior[role][:, a:b] = post
                if not gradient:
                    continue
                r_w = post * weights[None, a:b]
                for cb, chosen_p, p, history_pullback in pieces:
                    block, g = cb.block, cb.block.treatment
                    # the posterior weight of the decisions, per decision or summed per cell
                    r_dec = (r_w[:, block.unit] if history_pullback is not None
                             else (cb.counts @ r_w.T).T)
                    coef = r_dec * ((1.0 - eps) / p)  # (K, decisions or cells)
                    if estimated:
                        eps_bar += float(np.sum(r_dec * ((1.0 / block.n_y - chosen_p) / p)))
                    if history_pullback is not None:
                        for name, value in history_pullback(coef).items():
                            grad[name] = grad.get(name, 0.0) + float(value)
                    else:
                        cell_bar[(role, g)][:, cb.observed] += coef
                home = self.unit_home[role][a:b]
                for t_i, g in enumerate(self.treatments):
                    home_weight[(role, g)] += r_w[:, home == t_i].sum(axis=1)

        # Per role and per treatment with the same (bootstrap) subject weights as the total.
        by_treatment: dict[str, float] = {}
        by_role: dict[str, float] = {}
        for role in ROLES:
            weighted = unit_ll[role] * self._unit_weights(role)
            by_role[role] = float(weighted.sum())
            for label, v in zip(self.unit_treatment[role], weighted, strict=True):
                by_treatment[label] = by_treatment.get(label, 0.0) + float(v)
        ev = Evaluation(
            loglik=sum(by_role.values()), unit_loglik=unit_ll, posterior=posterior,
            type_names=names, type_families=families, by_treatment=by_treatment, by_role=by_role,
        )
        if not gradient:
            return ev

        def treatment_gradient(g: str) -> dict[str, float]:
            pred, game = preds[g], self.games[g]
            n_types = len(pred.types)
            w_bar = np.zeros(n_types)
            bars: dict[str, Sequence[NDArray[np.float64] | None]] = {}
            for role in ROLES:
                chosen = type_index[(role, g)]
                cell = cell_bar.get((role, g))
                shape = ((game.n_states, game.n_messages) if role == "sender"
                         else (game.n_messages, game.n_actions))
                # Each type's adjoint, stored on the observed cells only (zero elsewhere).
                rows = np.full(n_types, -1, dtype=np.intp)
                if cell is not None:
                    rows[chosen] = np.arange(len(chosen))
                bars[role] = CellAdjoints(np.zeros((0, 0)) if cell is None else cell, rows,
                                          self._observed_cells[(role, g)], shape)
                # d logL / d w_k^g = sum over the units at home in g of r_ik / w_k^g
                w = np.exp(log_w[(role, g)])
                with np.errstate(divide="ignore", invalid="ignore"):
                    wb = np.where(w > 0, home_weight[(role, g)] / w, 0.0)
                w_bar[chosen] += wb
            return pullbacks[g](w_bar, bars["sender"], bars["receiver"])

        # The treatments' pullbacks are independent too; summed in treatment order.
        for part in map_in_threads(treatment_gradient, self.treatments):
            for name, value in part.items():
                grad[name] = grad.get(name, 0.0) + float(value)
        if estimated:
            grad[TREMBLE] = eps_bar
        ev.gradient = grad
        return ev

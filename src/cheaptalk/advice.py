r"""Decision support (SPEC §6): how far to trust this partner's report, and what honesty is
worth.

**Receiver side.** A fitted model gives the partner's possible *sender* types :math:`j`
(the types of :meth:`~cheaptalk.models.base.Prediction.role_types` ``("sender")``) with
population weights :math:`w_j` and strategies :math:`\sigma_j[t, m]`; with the tremble,
:math:`\tilde\sigma_j = (1 - \varepsilon)\sigma_j + \varepsilon / n_m`. The partner's record
:math:`h = ((m_r, y_r))_r` holds its earlier reports and the feedback seen after each round
(the receiver never sees the state), :math:`f(y \mid t)` being the feedback density
(:meth:`~cheaptalk.games.base.Game.feedback_density`). The posterior over the partner's type
is

.. math::

    P(j \mid h) \propto w_j \prod_r \sum_t p[t]\,\tilde\sigma_j[t, m_r]\,f(y_r \mid t),

the population weights when there is no record. After a new report :math:`m^*`,

.. math::

    P(t \mid m^*, h) \propto p[t]\,\bar\sigma_h[t, m^*], \qquad
    \bar\sigma_h = \sum_j P(j \mid h)\,\tilde\sigma_j

(the Bayes posterior under the partner's predictive strategy :math:`\bar\sigma_h`; the prior
where :math:`\bar\sigma_h` never sends :math:`m^*`, which needs :math:`\varepsilon = 0`).
The recommended action maximises :math:`V(a) = \sum_t P(t \mid m^*, h)\,u_R(t, a)`, ties
(values within :math:`10^{-10}(1 + |\max V|)`) going to the lower action. It is reported with
the value, under the same posterior, of taking the report at face value (the best response to
:math:`L[m^*]`) and of ignoring it (the best response to the prior).

*Effective trust.* The trust-embedded receiver of SPEC §3.3 with trust α values action
:math:`a` at :math:`\bar u_R[a] + \alpha\,(U_R(L)[m^*, a] - \bar u_R[a])`, linear in α, so
the trusts at which :math:`a` is a best response form an interval
:math:`[\alpha_{lo}, \alpha_{hi}] \subseteq [0, 1]`. The effective trust of the advice is the
middle of that interval for the recommended action; where no α leads to it, the interval of
the action nearest to it (in action value, ties: the lower) is used, and the result says that
it is not exact.

*Posterior summaries* are read from the types, never from model names: the posterior of each
type family (:attr:`~cheaptalk.models.base.Type.family`: level probabilities for level-k, the
share of trust-embedded types in a combination), and the posterior median of every scale a
model declares for its sender types (:meth:`~cheaptalk.models.base.Model.type_values`: the
lying cost β of trust-embedded senders), the median being taken among the types the scale
describes.

**Sender side.** A sender in state :math:`t` facing the fitted receiver population
:math:`\tilde\rho` (the type-weighted receiver strategy with the tremble) earns
:math:`U_S[t, m] = \sum_a \tilde\rho[m, a]\,u_S(t, a)` by report :math:`m`. The best report
maximises it (ties: the report nearest the truth, then the lower), and the *cost of truth* is
:math:`\max_m U_S[t, m] - U_S[t, m_L(t)]` with :math:`m_L(t)` the truthful report.

A model whose receivers learn (SPEC §3.6) is handled through its prediction: its senders are
static, and the receiver population the sender side faces is that of the first round.

**The value of being trusted** (:func:`project_trust`). With a model whose receivers' trust
moves (``dynamic_trust``), a sender facing one partner for the coming ``N`` rounds can
project where a reporting *policy* leads: ``truthful`` (the report asserting the state) or
``inflate:X`` (the report nearest ``t + X``). Each of ``R`` simulated partners starts with
trust drawn from the fitted population of round-1 trust; every round draws a state from the
prior, the policy's report, the partner's action from its logit response at its current trust
(with the tremble), and the feedback; the report's credibility then moves the partner's trust
by the model's own update (:meth:`~cheaptalk.models.dynamic_trust.DynamicTrust.trust_levels`).
Reported per round: the partner's mean trust with its 5%–95% band across partners, and the
sender's mean payoff :math:`u_S(t, a)` with a 95% interval; for a policy other than truthful,
the truthful policy on the same random draws (common random numbers) and the difference in
cumulative earnings.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike, NDArray

from cheaptalk.choice import DEFAULT_TREMBLE, tremble
from cheaptalk.data.design import Design, load_design
from cheaptalk.data.errors import InputError
from cheaptalk.data.files import read_text
from cheaptalk.data.interactions import listed_labels, match_labels
from cheaptalk.games.base import Game
from cheaptalk.models import get_model
from cheaptalk.models.base import Model, ParameterError, Prediction

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = [
    "Advice",
    "EffectiveTrust",
    "PartnerHistory",
    "Policy",
    "SenderAdvice",
    "StatePosterior",
    "TrustProjection",
    "TypePosterior",
    "advice_figure",
    "advise",
    "advise_game",
    "advise_sender",
    "advise_sender_game",
    "best_action",
    "effective_trust",
    "history_from_values",
    "parse_policy",
    "project_trust",
    "project_trust_game",
    "projection_figure",
    "read_history",
    "report_index",
    "response_figure",
    "sender_figure",
    "state_index",
    "trust_interval",
    "type_posterior",
]


# ------------------------------------------------------------------------------ history
@dataclass(frozen=True)
class PartnerHistory:
    """A partner's record: its earlier reports and the feedback after each round.

    Attributes
    ----------
    message : ndarray of int, shape (n_rounds,)
        Index of each report in the game's messages.
    feedback : ndarray of float, shape (n_rounds,)
        The feedback seen after each round (SPEC §2.4).
    source : str
        Where the record came from (for messages).
    """

    message: NDArray[np.intp]
    feedback: NDArray[np.float64]
    source: str = "<history>"

    @property
    def rounds(self) -> int:
        return int(self.message.size)


def _grid_index(grid: NDArray[np.float64], value: float) -> tuple[int, bool]:
    """Index of the grid point nearest ``value`` and whether ``value`` lies on it."""
    i = int(np.argmin(np.abs(grid - value)))
    tol = 1e-9 * max(1.0, float(np.max(np.abs(grid))))
    return i, abs(float(grid[i]) - value) <= tol


def report_index(game: Game, value: float | str, what: str = "report") -> int:
    """The index of report ``value`` among the game's messages; ``what`` names it in the
    error. In a game whose messages are labels (``Game.message_labels``) ``value`` is a
    label, as in the data; otherwise a value on the grid of reports.

    Raises
    ------
    InputError
        If ``value`` is no label of the game's, not a number, outside the range of reports
        or between grid points.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> report_index(crawford_sobel(), 7.0)
    3
    """
    labels = game.message_labels
    if labels is not None:
        text = str(value).strip()
        return int(match_labels(labels, np.array([text], dtype=object), lambda t, i: InputError(
            f"{what} {t!r} is not one of the messages ({listed_labels(labels)})"))[0])
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} {value!r} is not a number (a value on the grid of "
                         "reports)") from None
    lo, hi = float(game.messages.min()), float(game.messages.max())
    i, on_grid = _grid_index(game.messages, value)
    if value < lo - 1e-9 * max(1.0, abs(lo)) or value > hi + 1e-9 * max(1.0, abs(hi)):
        raise InputError(f"{what} {value:g} is outside the range of reports [{lo:g}, {hi:g}]")
    if not on_grid:
        raise InputError(f"{what} {value:g} is not on the grid of reports (nearest: "
                         f"{game.messages[i]:g})")
    return i


def written_message(game: Game, index: int) -> float | str:
    """Message ``index`` as the data write it: its label in a game whose messages are
    labels, else its value (what :func:`report_index` reads back).

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> written_message(crawford_sobel(), 3)
    7.0
    """
    labels = game.message_labels
    return labels[index] if labels is not None else float(game.messages[index])


def _shown(message: float | str) -> str:
    return message if isinstance(message, str) else f"{message:g}"


def _message_axis(ax: Any, messages: pd.Series) -> NDArray[np.float64]:
    """Positions of ``messages`` on a figure's x axis: their values, or for labels their
    order, with the labels as ticks."""
    if pd.api.types.is_numeric_dtype(messages):
        return messages.to_numpy(dtype=float)
    at = np.arange(len(messages), dtype=float)
    ax.set_xticks(at, list(messages))
    return at


def state_index(game: Game, value: float, what: str = "state") -> int:
    """The index of state ``value`` among the game's states (as :func:`report_index`)."""
    lo, hi = float(game.states.min()), float(game.states.max())
    i, on_grid = _grid_index(game.states, value)
    if value < lo - 1e-9 * max(1.0, abs(lo)) or value > hi + 1e-9 * max(1.0, abs(hi)):
        raise InputError(f"{what} {value:g} is outside the range of states [{lo:g}, {hi:g}]")
    if not on_grid:
        raise InputError(f"{what} {value:g} is not on the grid of states (nearest: "
                         f"{game.states[i]:g})")
    return i


def history_from_values(game: Game, messages: ArrayLike, feedback: ArrayLike,
                        source: str = "<history>", feedback_name: str = "feedback"
                        ) -> PartnerHistory:
    """A :class:`PartnerHistory` from reports (values, or labels where the game's messages
    are labels: :func:`report_index`) and feedback values.

    Raises
    ------
    InputError
        Naming the (1-based) round: a report off the grid or outside its range, a feedback
        value that no state could produce.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> h = history_from_values(crawford_sobel(), [3, 9], [3, 5])
    >>> h.message.tolist(), h.rounds
    ([1, 4], 2)
    >>> history_from_values(crawford_sobel(), [4], [3])
    Traceback (most recent call last):
    cheaptalk.data.errors.InputError: <history>: row 1, column 'message': message 4 is not \
on the grid of reports (nearest: 3)
    """
    m = np.atleast_1d(np.asarray(messages, dtype=object if game.message_labels is not None
                                        else float))
    y = np.atleast_1d(np.asarray(feedback, dtype=float))
    if m.shape != y.shape or m.ndim != 1:
        raise ValueError("messages and feedback must be 1-d and of equal length")
    index = np.empty(m.size, dtype=np.intp)
    for r, value in enumerate(m):
        try:
            index[r] = report_index(game, value, "message")
        except InputError as e:
            raise InputError(e.message, file=source, row=r + 1, column="message") from None
    possible = game.feedback_density(y).sum(axis=1) > 0 if y.size else np.ones(0, bool)
    if not possible.all():
        r = int(np.argmin(possible))
        e = game.feedback_noise
        states = (f"a state in [{game.states.min():g}, {game.states.max():g}] plus noise "
                  f"within {e:g}" if e > 0 else
                  f"a state ({', '.join(f'{s:g}' for s in game.states[:12])}"
                  f"{', …' if game.n_states > 12 else ''})")
        raise InputError(f"{feedback_name} {y[r]:g} cannot be feedback: it is not {states}",
                         file=source, row=r + 1, column=feedback_name)
    return PartnerHistory(index, y, source)


def read_history(path: str | Path, design: Design, treatment: str,
                 columns: Mapping[str, str] | None = None) -> PartnerHistory:
    """Read a partner's record: a CSV file with one row per earlier round and the columns
    ``message`` and the design's feedback column (``demand`` in forecast sharing, ``state``
    elsewhere, :attr:`~cheaptalk.games.registry.GameKind.feedback_column`), or the file's
    columns that ``columns`` maps them to (``{"message": "report"}``, as ``--columns``);
    other columns are ignored. A header without rows is a record of no rounds.

    Raises
    ------
    InputError
        Naming the file, row and column: a missing column, a missing or non-numeric value, a
        report off the grid or outside its range, impossible feedback.
    """
    game = design.game(treatment)
    column = design.kind.feedback_column
    text = read_text(path, "history")
    if not text.strip():
        raise InputError("the file is empty (a record of no rounds still needs its header "
                         f"line: message,{column})", file=path)
    try:
        cells = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False,
                            skipinitialspace=True, header=None)
    except pd.errors.ParserError as e:
        raise InputError(f"not a valid CSV table: {e}", file=path) from None
    names = [str(c).strip() for c in cells.iloc[0].fillna("")]
    table = cells.iloc[1:].reset_index(drop=True)
    table.columns = names
    in_file = {c: (columns or {}).get(c, c) for c in ("message", column)}
    for c, f in in_file.items():
        if f not in names:
            why = (" (the feedback seen after each round, SPEC §2.4)" if c == column
                   else " (the partner's report in each round)")
            mapped = f" (mapped from {c})" if f != c else ""
            raise InputError(f"missing column {f!r}{mapped}{why}; a history needs the "
                             f"columns message and {column} (or --columns naming yours)",
                             file=path, line=1, column=f)
        if names.count(f) > 1:
            raise InputError(f"column {f!r} appears more than once", file=path, line=1,
                             column=f)
    values: dict[str, np.ndarray] = {}
    for c in ("message", column):
        labelled = c == "message" and game.message_labels is not None
        out = np.empty(len(table), dtype=object if labelled else float)
        for i, cell in enumerate(table[in_file[c]].astype(str).str.strip()):
            where = {"file": path, "row": i + 1, "line": i + 2, "column": in_file[c]}
            if cell in ("", "nan", "NaN", "NA", "None"):
                raise InputError("missing value", **where)
            if labelled:        # a label, matched by report_index
                out[i] = cell
                continue
            try:
                out[i] = float(cell)
            except ValueError:
                raise InputError(f"not a number: {cell!r}", **where) from None
            if not np.isfinite(out[i]):
                raise InputError(f"not a finite number: {cell!r}", **where)
        values[c] = out
    try:
        return history_from_values(game, values["message"], values[column], str(path), column)
    except InputError as e:  # add the file's line to the row
        raise InputError(e.message, file=path, row=e.row,
                         line=None if e.row is None else e.row + 1,
                         column=in_file.get(e.column, e.column)) from None


def _as_history(history: Any, design: Design, treatment: str,
                columns: Mapping[str, str] | None = None) -> PartnerHistory:
    game = design.game(treatment)
    column = design.kind.feedback_column
    if history is None:
        return PartnerHistory(np.zeros(0, np.intp), np.zeros(0), "<no history>")
    if isinstance(history, PartnerHistory):
        return history
    if isinstance(history, str | Path):
        return read_history(history, design, treatment, columns)
    if isinstance(history, pd.DataFrame):
        for c in ("message", column):
            if c not in history.columns:
                raise InputError(f"missing column {c!r}", file="<history>", column=c)
        return history_from_values(game, history["message"].to_numpy(),
                                   history[column].to_numpy(float), feedback_name=column)
    pairs = [tuple(pair) for pair in history]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError("a history given as pairs needs (message, feedback) in each")
    return history_from_values(game, [p[0] for p in pairs], [p[1] for p in pairs],
                               feedback_name=column)


# ---------------------------------------------------------------------------- posterior
@dataclass(frozen=True)
class TypePosterior:
    """The posterior over the partner's sender type.

    Attributes
    ----------
    names, families : list of str
        Each sender type's name and family.
    prior, weights : ndarray
        Population weights and posterior probabilities (each sums to one).
    family_order : list of str
        Families in display order (the model's declared order, then any others).
    values : dict[str, ndarray]
        The model's scales of its sender types (:meth:`Model.type_values`).
    """

    names: list[str]
    families: list[str]
    prior: NDArray[np.float64]
    weights: NDArray[np.float64]
    family_order: list[str] = field(default_factory=list)
    values: dict[str, NDArray[np.float64]] = field(default_factory=dict)

    def family_weights(self, posterior: bool = True) -> dict[str, float]:
        """Probability of each family (posterior, or the population's with ``False``)."""
        w = self.weights if posterior else self.prior
        fam = np.asarray(self.families)
        return {f: float(w[fam == f].sum()) for f in self.family_order}

    def medians(self) -> dict[str, dict[str, float]]:
        """Posterior and population median of each scale, among the types it describes."""
        return {name: {"posterior": _weighted_median(v, self.weights),
                       "prior": _weighted_median(v, self.prior)}
                for name, v in self.values.items()}


def _weighted_median(values: NDArray[np.float64], weights: NDArray[np.float64]) -> float:
    """The smallest value whose cumulative weight reaches half (NaN values left out)."""
    keep = np.isfinite(values)
    v, w = values[keep], weights[keep]
    if v.size == 0 or w.sum() <= 0:
        return float("nan")
    order = np.argsort(v, kind="stable")
    cumulative = np.cumsum(w[order]) / w.sum()
    return float(v[order][np.searchsorted(cumulative, 0.5 - 1e-12)])


def type_posterior(game: Game, prediction: Prediction, history: PartnerHistory,
                   epsilon: float = DEFAULT_TREMBLE, model: Model | None = None
                   ) -> tuple[TypePosterior, NDArray[np.float64]]:
    """The posterior over the partner's sender type and its predictive strategy.

    Returns
    -------
    posterior : TypePosterior
    sigma : ndarray, shape (n_t, n_m)
        :math:`\\bar\\sigma_h`, the posterior-weighted sender strategy with the tremble.

    Raises
    ------
    InputError
        If the record has probability zero under every type (possible only without a
        tremble).

    Examples
    --------
    Two reports that the revealed states bore out make a level-k partner more likely to be
    the truthful level 0:

    >>> from cheaptalk.games import crawford_sobel
    >>> from cheaptalk.models import get_model
    >>> g, m = crawford_sobel(), get_model("levelk")
    >>> pred = m.predict(g, m.default_params(g))
    >>> post, _ = type_posterior(g, pred, history_from_values(g, [3, 7], [3, 7]), 0.01, m)
    >>> post.family_weights(posterior=False)["L0"] < post.family_weights()["L0"]
    True
    """
    chosen = [ty for ty in prediction.types if ty.plays("sender")]
    prior = np.array([ty.weight for ty in chosen], dtype=float)
    prior = prior / prior.sum()
    senders = np.stack([ty.sender for ty in chosen])                    # [j, t, m]
    log_w = np.log(np.where(prior > 0, prior, 1.0)) + np.where(prior > 0, 0.0, -np.inf)
    if history.rounds:
        # One product for the whole record: A[r, t] = p[t] f(y_r | t), then
        # like[j, r] = sum_t A[r, t] sigma~_j[t, m_r] (the tremble is affine in sigma).
        joint = game.prior[None, :] * game.feedback_density(history.feedback)   # [r, t]
        taken = senders[:, :, history.message]                                   # [j, t, r]
        like = ((1.0 - epsilon) * np.einsum("rt,jtr->jr", joint, taken)
                + epsilon / game.n_messages * joint.sum(axis=1)[None, :])
        with np.errstate(divide="ignore"):
            log_w = log_w + np.log(like).sum(axis=1)
    if not np.isfinite(log_w).any():
        impossible = int(np.argmin(like.max(axis=0) > 0))
        raise InputError(f"the record has probability 0 under every sender type of the "
                         f"model (first at round {impossible + 1}); fit with a tremble "
                         f"(epsilon > 0)", file=history.source, row=impossible + 1)
    weights = np.exp(log_w - log_w.max())
    weights /= weights.sum()
    sigma = tremble(np.tensordot(weights, senders, axes=1), epsilon)
    families = [ty.family for ty in chosen]
    declared = [] if model is None else [f.name for f in model.families()]
    order = [f for f in declared if f in families] + [f for f in dict.fromkeys(families)
                                                        if f not in declared]
    values: dict[str, NDArray[np.float64]] = {}
    if model is not None and prediction.params is not None:
        values = {k: np.asarray(v, dtype=float) for k, v in
                  model.type_values(game, prediction.params, "sender").items()
                  if np.size(v) == len(chosen)}
    return TypePosterior([ty.name for ty in chosen], families, prior, weights, order,
                         values), sigma


# ------------------------------------------------------------------------------ actions
def best_action(values: ArrayLike, actions: ArrayLike) -> NDArray[np.intp]:
    """Index of the best action in each row of ``values``; ties (within
    ``1e-10 (1 + |max|)``) go to the lower action *value*.

    Examples
    --------
    >>> best_action([[1.0, 3.0, 3.0], [2.0, 0.0, 1.0]], [0, 2, 1]).tolist()
    [2, 0]
    """
    v = np.atleast_2d(np.asarray(values, dtype=float))
    a = np.asarray(actions, dtype=float)
    top = v.max(axis=1, keepdims=True)
    tied = v >= top - 1e-10 * (1.0 + np.abs(top))
    return np.argmin(np.where(tied, a[None, :], np.inf), axis=1)


def trust_interval(game: Game, report: int, action: int) -> tuple[float, float] | None:
    """The trusts α ∈ [0, 1] at which ``action`` is a best response to the §3.3 belief
    ``α L[report] + (1 − α) p``, as ``(lo, hi)``; ``None`` if there are none.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> g = crawford_sobel()                 # report 9: face value 9, prior-optimal 5
    >>> trust_interval(g, 4, 4)[0], trust_interval(g, 4, 8)[1]    # actions 5 and 9
    (0.0, 1.0)
    >>> trust_interval(g, 4, 0) is None       # action 1: no trust leads there
    True
    """
    lo, hi = _trust_intervals(game, report)
    return None if lo[action] > hi[action] else (float(lo[action]), float(hi[action]))


def _trust_intervals(game: Game, report: int) -> tuple[NDArray[np.float64],
                                                        NDArray[np.float64]]:
    """For every action, the ends of its :func:`trust_interval` (``lo > hi``: none).

    Action ``a`` is a best response at α when ``α (G[a] - G[b]) >= P[b] - P[a]`` for every
    action ``b``, with ``P`` the prior values and ``G`` the gain of believing the report:
    one half-line per ``b``, intersected with [0, 1].
    """
    prior_values = game.prior_values()
    gain = game.literal[report] @ game.receiver_payoff - prior_values
    d = gain[:, None] - gain[None, :]                       # [a, b]
    c = prior_values[None, :] - prior_values[:, None]
    tol = 1e-10 * (1.0 + np.abs(prior_values).max() + np.abs(gain).max())
    with np.errstate(divide="ignore", invalid="ignore"):
        bound = (c - tol) / d
    lo = np.maximum(0.0, np.max(np.where(d > 0, bound, 0.0), axis=1))
    hi = np.minimum(1.0, np.min(np.where(d < 0, bound, 1.0), axis=1))
    never = np.any((d == 0) & (c > tol), axis=1)
    return lo, np.where(never, -1.0, hi)


@dataclass(frozen=True)
class EffectiveTrust:
    """The §3.3 trust that leads to an action (module docstring).

    Attributes
    ----------
    alpha : float
    range : (float, float)
        The trusts that lead to the action ``action`` (the recommended one when ``exact``).
    exact : bool
        Whether some trust leads to the recommended action.
    action : float
        The action the trust ``alpha`` leads to.
    reachable : (float, float)
        The lowest and highest action some trust in [0, 1] leads to.
    """

    alpha: float
    range: tuple[float, float]
    exact: bool
    action: float
    reachable: tuple[float, float]


def effective_trust(game: Game, report: int, action: int) -> EffectiveTrust:
    """The trust α ∈ [0, 1] whose §3.3 belief leads to ``action`` after ``report``: the
    middle of its :func:`trust_interval`. Where no α does, the α whose action is nearest
    (in action value; ties: the lower action): 1 or 0 when that is the face-value or the
    ignore action (the advice lies beyond the path trust can take), else the middle of the
    nearest action's interval.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> g = crawford_sobel()
    >>> e = effective_trust(g, 4, 0)          # report 9, action 1: beyond any trust
    >>> e.exact, e.alpha, e.action, e.reachable
    (False, 0.0, 5.0, (5.0, 9.0))
    """
    lo, hi = _trust_intervals(game, report)
    reached = np.flatnonzero(lo <= hi)
    values = game.actions[reached]
    reachable = (float(values.min()), float(values.max()))
    if lo[action] <= hi[action]:
        interval = (float(lo[action]), float(hi[action]))
        return EffectiveTrust(0.5 * sum(interval), interval, True,
                              float(game.actions[action]), reachable)
    distance = np.abs(values - game.actions[action])
    nearest = reached[distance == distance.min()]
    pick = int(nearest[np.argmin(game.actions[nearest])])
    interval = (float(lo[pick]), float(hi[pick]))
    alpha = 1.0 if interval[1] == 1.0 else 0.0 if interval[0] == 0.0 else 0.5 * sum(interval)
    return EffectiveTrust(alpha, interval, False, float(game.actions[pick]), reachable)


# ------------------------------------------------------------------------------ results
@dataclass(frozen=True)
class StatePosterior:
    """The posterior over the state after the report: probabilities, mean and quantiles
    (the smallest state whose cumulative probability reaches the level)."""

    states: NDArray[np.float64]
    probabilities: NDArray[np.float64]

    @property
    def mean(self) -> float:
        return float(self.probabilities @ self.states)

    def quantile(self, level: float) -> float:
        cumulative = np.cumsum(self.probabilities)
        return float(self.states[min(np.searchsorted(cumulative, level - 1e-12),
                                     self.states.size - 1)])

    def to_dict(self) -> dict[str, Any]:
        return {"mean": self.mean, "q05": self.quantile(0.05), "q50": self.quantile(0.5),
                "q95": self.quantile(0.95), "states": self.states.tolist(),
                "probabilities": self.probabilities.tolist()}


@dataclass(frozen=True, eq=False)
class Advice:
    """What a receiver should do after a partner's report (module docstring).

    Attributes
    ----------
    action, expected_payoff : float
        The recommended action (its value) and its expected payoff under the posterior.
    face_value_action, face_value_payoff, ignore_action, ignore_payoff : float
        The best responses to the report taken as true and to the prior, and their expected
        payoffs under the same posterior.
    effective_trust : float
        The §3.3 trust α that leads to the recommended action, or the nearest
        (:func:`effective_trust`; details in ``trust``).
    trust : EffectiveTrust
    posterior : TypePosterior
    state_posterior : StatePosterior
    response : DataFrame
        For every possible report: ``report``, ``action`` (recommended), ``expected_payoff``,
        ``face_value_action``, ``ignore_action``.

    Reports are written as in the data (:func:`written_message`): labels in a game whose
    messages are labels, else values.
    """

    game: Game
    report: float | str
    rounds: int
    action: float
    expected_payoff: float
    face_value_action: float
    face_value_payoff: float
    ignore_action: float
    ignore_payoff: float
    effective_trust: float
    trust: EffectiveTrust
    posterior: TypePosterior
    state_posterior: StatePosterior
    response: pd.DataFrame
    epsilon: float
    model: str = ""
    treatment: str = ""
    names: tuple[str, str, str] = ("state", "message", "action")
    roles: tuple[str, str] = ("sender", "receiver")

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cheaptalk advise --json``."""
        post = self.posterior
        return {
            "role": "receiver", "model": self.model, "treatment": self.treatment,
            "report": self.report, "rounds": self.rounds, "epsilon": self.epsilon,
            "action": self.action, "expected_payoff": self.expected_payoff,
            "face_value_action": self.face_value_action,
            "face_value_payoff": self.face_value_payoff,
            "ignore_action": self.ignore_action, "ignore_payoff": self.ignore_payoff,
            "effective_trust": self.effective_trust,
            "effective_trust_range": list(self.trust.range),
            "effective_trust_exact": self.trust.exact,
            "effective_trust_action": self.trust.action,
            "trust_reachable_actions": list(self.trust.reachable),
            "posterior": {
                "families": post.family_weights(),
                "population_families": post.family_weights(posterior=False),
                "medians": {k: {w: _finite_or_none(x) for w, x in v.items()}
                            for k, v in post.medians().items()},
                "types": [{"name": n, "family": f, "population": float(p),
                           "posterior": float(w),
                           **{k: _finite_or_none(v[j]) for k, v in post.values.items()}}
                          for j, (n, f, p, w) in enumerate(zip(
                              post.names, post.families, post.prior, post.weights,
                              strict=True))],
            },
            "state_posterior": self.state_posterior.to_dict(),
            "response": {c: self.response[c].tolist() for c in self.response.columns},
        }

    def summary(self) -> str:
        """The advice in plain words."""
        state, message, action = self.names
        sender, receiver = self.roles
        fmt = _number_format(self.game.actions)
        record = (f"after {self.rounds} round{'s' if self.rounds != 1 else ''} of this "
                  f"{sender}'s record" if self.rounds else "with no record of this "
                  f"{sender} (the population of {sender}s)")
        lines = [f"Advice to the {receiver} ({self.model}, treatment {self.treatment}): "
                 f"{message} {_shown(self.report)}, {record}.",
                 f"  Recommended {action}: {fmt(self.action)}, expected payoff "
                 f"{self.expected_payoff:.2f}."]
        for label, a, v in (("Taking the report at face value", self.face_value_action,
                             self.face_value_payoff),
                            ("Ignoring the report", self.ignore_action, self.ignore_payoff)):
            lines.append(f"  {label} ({action} {fmt(a)}) would earn {v:.2f} "
                         f"({v - self.expected_payoff:+.2f}).")
        lo, hi = self.trust.range
        low, high = self.trust.reachable
        if self.trust.exact:
            lines.append(f"  Effective trust {self.effective_trust:.2f}: the advice acts as if "
                         f"the report were true with weight {self.effective_trust:.2f} (any "
                         f"weight in [{lo:.2f}, {hi:.2f}] gives this {action}).")
        else:
            lines.append(f"  Effective trust {self.effective_trust:.2f}, nearest: no weight "
                         f"on the report leads to {action} {fmt(self.action)} (trust gives "
                         f"{fmt(low)} to {fmt(high)}); weight {self.effective_trust:.2f} "
                         f"gives {fmt(self.trust.action)}.")
        sp = self.state_posterior
        lines.append(f"  {state.capitalize()} after the report: mean {sp.mean:.4g}, median "
                     f"{sp.quantile(0.5):g}, 90% interval [{sp.quantile(0.05):g}, "
                     f"{sp.quantile(0.95):g}].")
        post = self.posterior
        families = post.family_weights()
        if len(families) > 1:
            prior = post.family_weights(posterior=False)
            shown = ", ".join(f"{f} {w:.2f} ({prior[f]:.2f})" for f, w in families.items())
            lines.append(f"  This {sender}'s type (population in brackets): {shown}.")
        for name, m in post.medians().items():
            if not np.isfinite(m["posterior"]):
                continue
            lines.append(f"  Median {name.replace('_', ' ')} of this {sender}: "
                         f"{m['posterior']:.3g} (population {m['prior']:.3g}).")
        return "\n".join(lines)


def _finite_or_none(x: float) -> float | None:
    """JSON has no NaN: a median of a scale no type carries is written as null."""
    return float(x) if np.isfinite(x) else None


def _number_format(values: NDArray[np.float64]) -> Any:
    whole = bool(np.all(np.abs(values - np.round(values)) < 1e-9))
    return (lambda x: f"{x:.0f}") if whole else (lambda x: f"{x:g}")


def advise_game(game: Game, prediction: Prediction, report: int,
                history: PartnerHistory | None = None, epsilon: float = DEFAULT_TREMBLE,
                model: Model | None = None) -> Advice:
    """The advice in one game, from a model's prediction (module docstring).

    Parameters
    ----------
    game : Game
    prediction : Prediction
        The model's types in ``game`` (their sender strategies are the partner's types).
    report : int
        Index of the new report among ``game.messages``.
    history : PartnerHistory, optional
        The partner's record (none: the population weights).
    epsilon : float
        The tremble.
    model : Model, optional
        Where the type families' order and the sender scales come from.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> from cheaptalk.models import get_model
    >>> g = crawford_sobel(bias=0.5)
    >>> m = get_model("levelk")
    >>> advice = advise_game(g, m.predict(g, m.default_params(g)), report=4, model=m)
    >>> advice.face_value_action, advice.ignore_action
    (9.0, 5.0)
    """
    history = history or PartnerHistory(np.zeros(0, np.intp), np.zeros(0))
    posterior, sigma = type_posterior(game, prediction, history, epsilon, model)
    beliefs = game.posterior(sigma)                                  # [m, t]
    values = game.receiver_values(beliefs)                            # [m, a]
    chosen = best_action(values, game.actions)
    face = best_action(game.receiver_values(game.literal), game.actions)
    ignore = int(best_action(game.prior_values()[None, :], game.actions)[0])
    v = values[report]
    a = int(chosen[report])
    trust = effective_trust(game, report, a)
    rows = np.arange(game.n_messages)
    response = pd.DataFrame({
        "report": [written_message(game, i) for i in rows], "action": game.actions[chosen],
        "expected_payoff": values[rows, chosen],
        "face_value_action": game.actions[face],
        "ignore_action": np.full(game.n_messages, game.actions[ignore]),
    })
    return Advice(
        game=game, report=written_message(game, report), rounds=history.rounds,
        action=float(game.actions[a]), expected_payoff=float(v[a]),
        face_value_action=float(game.actions[face[report]]),
        face_value_payoff=float(v[face[report]]),
        ignore_action=float(game.actions[ignore]), ignore_payoff=float(v[ignore]),
        effective_trust=trust.alpha, trust=trust,
        posterior=posterior, state_posterior=StatePosterior(game.states, beliefs[report]),
        response=response, epsilon=epsilon,
        model=prediction.model if model is None else model.label)


def _resolve(design: Design | str | Path, model: Model | str,
             params: Mapping[str, float] | str | Path | None, treatment: str | None,
             epsilon: float | None) -> tuple[Design, str, Model, dict[str, float], float]:
    """The design, treatment, model, checked parameters and tremble of the public calls."""
    from cheaptalk.models.spec import model_from, read_params

    d = design if isinstance(design, Design) else load_design(design)
    name = d.treatments[0] if treatment is None else treatment
    game = d.game(name)
    found_epsilon = None
    if isinstance(params, str | Path):
        given = read_params(params)
        found_epsilon = given.epsilon
        if isinstance(model, str):
            m = model_from(model, given)
        else:
            m = model
            if given.model is not None and given.model != m.name:
                raise InputError(f"is a fit of model {given.model!r}, not of {m.name!r}",
                                 file=given.path, key="name")
        try:
            values = m.check_params(given.params)
        except ParameterError as e:
            raise InputError(str(e), file=given.path) from None
    else:
        m = get_model(model) if isinstance(model, str) else model
        values = (m.default_params(game) if params is None
                  else m.check_params(dict(params)))
    if epsilon is None:
        epsilon = DEFAULT_TREMBLE if found_epsilon is None else found_epsilon
    if not 0.0 <= epsilon <= 1.0:
        raise ValueError(f"epsilon must lie in [0, 1], got {epsilon}")
    return d, name, m, values, float(epsilon)


def advise(design: Design | str | Path, model: Model | str,
           params: Mapping[str, float] | str | Path | None, treatment: str | None,
           history: PartnerHistory | pd.DataFrame | str | Path | Sequence[Sequence[float]]
           | None, report: float | str, *, epsilon: float | None = None,
           columns: Mapping[str, str] | None = None) -> Advice:
    """What a receiver should do after ``report`` from a partner with record ``history``.

    Parameters
    ----------
    design : Design, path or bundled design name
    model : Model or model spec (``"trust"``, ``"levelk[levels=2]"``)
    params : mapping, path of a parameter file or fit JSON, or None
        The model's parameters (None: its defaults). A fit JSON's tremble is used.
    treatment : str or None
        The treatment (None: the design's first).
    history : PartnerHistory, DataFrame, path of a CSV file, (message, feedback) pairs, or None
        The partner's earlier reports and the feedback after each (columns ``message`` and
        the design's feedback column).
    report : float or str
        The new report: a value on the grid of reports, or a label in a game whose messages
        are labels.
    epsilon : float, optional
        The tremble (default: the parameter file's, else 0.001).
    columns : mapping, optional
        The history file's names for ``message`` and the feedback column (as ``--columns``).

    Returns
    -------
    Advice

    Examples
    --------
    >>> a = advise("crawford_sobel", "levelk", None, "d05", [(9, 1), (9, 3)], 9)
    >>> a.rounds, a.face_value_action
    (2, 9.0)
    >>> a.action <= advise("crawford_sobel", "levelk", None, "d05", None, 9).action
    True
    """
    d, name, m, values, eps = _resolve(design, model, params, treatment, epsilon)
    game = d.game(name)
    record = _as_history(history, d, name, columns)
    index = report_index(game, report, d.kind.variables[1])
    advice = advise_game(game, m.predict(game, values), index, record, eps, m)
    return _named(advice, d, name)


def _named(result: Any, design: Design, treatment: str) -> Any:
    object.__setattr__(result, "treatment", treatment)
    object.__setattr__(result, "names", tuple(design.kind.variables))
    object.__setattr__(result, "roles", tuple(design.kind.roles))
    return result


# ------------------------------------------------------------------------------ sender
@dataclass(frozen=True, eq=False)
class SenderAdvice:
    """What each report earns a sender in one state against the fitted receivers.

    Attributes
    ----------
    state : float
    reports : DataFrame
        For every report: ``report``, ``expected_payoff``, ``mean_action``.
    best_report, truthful_report : float or str
        As the data write them (:func:`written_message`).
    best_payoff, truthful_payoff : float
    cost_of_truth : float
        ``best_payoff - truthful_payoff`` (≥ 0).
    """

    state: float
    reports: pd.DataFrame
    best_report: float | str
    best_payoff: float
    truthful_report: float | str
    truthful_payoff: float
    epsilon: float
    model: str = ""
    treatment: str = ""
    names: tuple[str, str, str] = ("state", "message", "action")
    roles: tuple[str, str] = ("sender", "receiver")

    @property
    def cost_of_truth(self) -> float:
        return self.best_payoff - self.truthful_payoff

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cheaptalk advise --role sender --json``."""
        return {"role": "sender", "model": self.model, "treatment": self.treatment,
                "state": self.state, "epsilon": self.epsilon,
                "best_report": self.best_report, "best_payoff": self.best_payoff,
                "truthful_report": self.truthful_report,
                "truthful_payoff": self.truthful_payoff, "cost_of_truth": self.cost_of_truth,
                "reports": {c: self.reports[c].tolist() for c in self.reports.columns}}

    def summary(self) -> str:
        """The advice in plain words."""
        state, message, action = self.names
        sender, receiver = self.roles
        row = self.reports.set_index("report")
        lines = [f"Advice to the {sender} ({self.model}, treatment {self.treatment}): "
                 f"{state} {self.state:g}, against the population of {receiver}s.",
                 f"  Best {message}: {_shown(self.best_report)}, expected payoff "
                 f"{self.best_payoff:.2f} (mean {action} "
                 f"{row.loc[self.best_report, 'mean_action']:.4g}).",
                 f"  Truthful {message} {_shown(self.truthful_report)}: expected payoff "
                 f"{self.truthful_payoff:.2f} (mean {action} "
                 f"{row.loc[self.truthful_report, 'mean_action']:.4g}).",
                 f"  Cost of telling the truth: {self.cost_of_truth:.2f}."]
        return "\n".join(lines)


def advise_sender_game(game: Game, prediction: Prediction, state: int,
                       epsilon: float = DEFAULT_TREMBLE, model: Model | None = None
                       ) -> SenderAdvice:
    """The sender's side in one game (module docstring); ``state`` is a state index.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> from cheaptalk.models import get_model
    >>> g = crawford_sobel(bias=2.0)
    >>> m = get_model("levelk")
    >>> s = advise_sender_game(g, m.predict(g, m.default_params(g)), state=2, model=m)
    >>> s.truthful_report, s.best_report >= s.truthful_report, s.cost_of_truth >= 0
    (5.0, True, True)
    """
    rho = tremble(prediction.receiver, epsilon)                       # [m, a]
    earned = game.sender_values(rho)[state]                           # [m]
    truthful = int(game.truthful_message[state])
    top = earned.max()
    tied = np.flatnonzero(earned >= top - 1e-10 * (1.0 + abs(top)))
    distance = np.abs(game.messages[tied] - game.states[state])
    best = int(tied[np.lexsort((game.messages[tied], distance))[0]])
    reports = pd.DataFrame({"report": [written_message(game, i)
                                       for i in range(game.n_messages)],
                            "expected_payoff": earned, "mean_action": rho @ game.actions})
    return SenderAdvice(
        state=float(game.states[state]), reports=reports,
        best_report=written_message(game, best), best_payoff=float(earned[best]),
        truthful_report=written_message(game, truthful),
        truthful_payoff=float(earned[truthful]), epsilon=epsilon,
        model=prediction.model if model is None else model.label)


def advise_sender(design: Design | str | Path, model: Model | str,
                  params: Mapping[str, float] | str | Path | None, treatment: str | None,
                  state: float, *, epsilon: float | None = None) -> SenderAdvice:
    """The expected payoff of each report for a sender in ``state`` against the fitted
    receiver population, the best report and the cost of telling the truth (arguments as
    :func:`advise`).

    Examples
    --------
    >>> s = advise_sender("crawford_sobel", "trust", None, "d20", 5)
    >>> s.truthful_report, round(s.cost_of_truth, 6) >= 0
    (5.0, True)
    """
    d, name, m, values, eps = _resolve(design, model, params, treatment, epsilon)
    game = d.game(name)
    i = state_index(game, float(state), d.kind.variables[0])
    return _named(advise_sender_game(game, m.predict(game, values), i, eps, m), d, name)


# ---------------------------------------------------------------------- trust dynamics
@dataclass(frozen=True)
class Policy:
    """A sender's reporting policy: truthful (``inflation = 0``) or inflating by a fixed
    amount (the report nearest ``t + inflation``)."""

    inflation: float = 0.0

    @property
    def name(self) -> str:
        return "truthful" if self.inflation == 0 else f"inflate:{self.inflation:g}"

    def reports(self, game: Game) -> NDArray[np.intp]:
        """The report (message index) for every state."""
        if self.inflation == 0:
            return np.asarray(game.truthful_message, dtype=np.intp)
        target = game.states + self.inflation
        return np.argmin(np.abs(game.messages[None, :] - target[:, None]), axis=1)


def parse_policy(text: str) -> Policy:
    """``"truthful"`` or ``"inflate:X"`` (X a number).

    Examples
    --------
    >>> parse_policy("inflate:20").name, parse_policy("truthful").inflation
    ('inflate:20', 0.0)
    """
    t = text.strip().lower()
    if t == "truthful":
        return Policy()
    if t.startswith("inflate:"):
        try:
            x = float(t.split(":", 1)[1])
        except ValueError:
            x = float("nan")
        if np.isfinite(x):
            return Policy(x)
    raise InputError(f"--policy {text!r}: expected truthful or inflate:X (X a number, e.g. "
                     "inflate:20)")


@dataclass(frozen=True, eq=False)
class TrustProjection:
    """A reporting policy's projected trust path and earnings (module docstring).

    Attributes
    ----------
    policy : str
    paths : DataFrame
        One row per round and policy: ``policy, round, mean_trust, trust_05, trust_95,
        mean_payoff, payoff_lo, payoff_hi, cumulative_payoff`` (the policy asked for, and the
        truthful one on the same draws when they differ).
    replications, seed : int
    """

    policy: str
    paths: pd.DataFrame
    replications: int
    seed: int
    epsilon: float
    model: str = ""
    treatment: str = ""
    names: tuple[str, str, str] = ("state", "message", "action")
    roles: tuple[str, str] = ("sender", "receiver")

    @property
    def rounds(self) -> int:
        return int(self.paths["round"].max())

    def total(self, policy: str | None = None) -> float:
        """Mean cumulative earnings over all rounds under ``policy`` (default: the one
        asked for)."""
        part = self.paths[self.paths["policy"] == (policy or self.policy)]
        return float(part["cumulative_payoff"].iloc[-1])

    def to_dict(self) -> dict[str, Any]:
        """The JSON of ``cheaptalk advise --policy``."""
        return {"role": "sender", "model": self.model, "treatment": self.treatment,
                "policy": self.policy, "rounds": self.rounds,
                "replications": self.replications, "seed": self.seed,
                "epsilon": self.epsilon,
                "paths": {c: self.paths[c].tolist() for c in self.paths.columns}}

    def summary(self) -> str:
        """The projection in plain words."""
        sender, receiver = self.roles
        lines = [f"Projection for a {sender} facing one {receiver} for {self.rounds} rounds "
                 f"({self.model}, treatment {self.treatment}; {self.replications} simulated "
                 f"partners, seed {self.seed}):"]
        for policy, part in self.paths.groupby("policy", sort=False):
            first, last = part.iloc[0], part.iloc[-1]
            lines.append(f"  {policy}: the {receiver}'s mean trust goes from "
                         f"{first['mean_trust']:.2f} to {last['mean_trust']:.2f} (5%–95%: "
                         f"{last['trust_05']:.2f}–{last['trust_95']:.2f}); earnings "
                         f"{first['mean_payoff']:.2f} in round 1, {last['mean_payoff']:.2f} in "
                         f"round {self.rounds}, {last['cumulative_payoff']:.1f} in all.")
        if self.policy != "truthful":
            gain = self.total() - self.total("truthful")
            lines.append(f"  {self.policy} earns {gain:+.1f} over {self.rounds} rounds "
                         "against truthful reporting (same draws).")
        return "\n".join(lines)


def project_trust_game(game: Game, model: Model, params: Mapping[str, float], policy: Policy,
                       rounds: int, *, seed: int = 0, replications: int = 1000,
                       epsilon: float = DEFAULT_TREMBLE) -> pd.DataFrame:
    """The rows of :attr:`TrustProjection.paths` in one game (module docstring)."""
    from cheaptalk.estimation.intervals import Z_95
    from cheaptalk.simulation import RoundRecord, draw

    if not model.trust_moves:
        raise InputError(f"--policy projects how the partner's trust moves: it needs a model "
                         f"whose receivers learn (e.g. dynamic_trust), not {model.label}")
    if rounds < 1 or replications < 2:
        raise ValueError("rounds must be >= 1 and replications >= 2")
    weights = model.predict(game, params).role_types("receiver")[0]
    policies = [policy] if policy.inflation == 0 else [policy, Policy()]
    out = []
    for pol in policies:
        rng = np.random.default_rng(seed)   # the same draws for every policy
        start = rng.choice(weights.size, size=replications, p=weights)
        report_of = pol.reports(game)
        record = RoundRecord()
        cumulative = np.zeros(replications)
        everyone = np.arange(replications)
        for r in range(1, rounds + 1):
            t = rng.choice(game.n_states, size=replications, p=game.prior)
            m = report_of[t]
            history, now = record.current(everyone)
            alpha = model.trust_levels(game, params, history, now, start)
            rows = model.history_strategy_rows(game, params, "receiver", history, now, m,
                                               start)
            a = draw(rng, tremble(rows, epsilon))
            payoff = game.sender_payoff[t, a]
            cumulative += payoff
            y = game.draw_feedback(rng, t)
            record.add(everyone, game.credible(m, y))
            half = Z_95 * payoff.std(ddof=1) / np.sqrt(replications)
            out.append({"policy": pol.name, "round": r, "mean_trust": float(alpha.mean()),
                        "trust_05": float(np.quantile(alpha, 0.05)),
                        "trust_95": float(np.quantile(alpha, 0.95)),
                        "mean_payoff": float(payoff.mean()),
                        "payoff_lo": float(payoff.mean() - half),
                        "payoff_hi": float(payoff.mean() + half),
                        "cumulative_payoff": float(cumulative.mean())})
    return pd.DataFrame(out)


def project_trust(design: Design | str | Path, model: Model | str,
                  params: Mapping[str, float] | str | Path | None, treatment: str | None,
                  policy: str | Policy, rounds: int, *, seed: int = 0,
                  replications: int = 1000, epsilon: float | None = None) -> TrustProjection:
    """Project a partner's trust and the sender's earnings under a reporting policy over the
    coming ``rounds`` (module docstring; other arguments as :func:`advise`).

    Examples
    --------
    >>> p = project_trust("crawford_sobel", "dynamic_trust", None, "d05", "truthful", 5,
    ...                   replications=200)
    >>> p.paths["mean_trust"].is_monotonic_increasing   # honest reports earn trust
    True
    """
    d, name, m, values, eps = _resolve(design, model, params, treatment, epsilon)
    pol = parse_policy(policy) if isinstance(policy, str) else policy
    paths = project_trust_game(d.game(name), m, values, pol, rounds, seed=seed,
                               replications=replications, epsilon=eps)
    result = TrustProjection(policy=pol.name, paths=paths, replications=replications,
                             seed=seed, epsilon=eps, model=m.label)
    return _named(result, d, name)


# ------------------------------------------------------------------------------ figure
def projection_figure(projection: TrustProjection) -> Figure:
    """The partner's mean trust (with its 5%–95% band) and the sender's cumulative earnings,
    round by round, for each policy projected."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9.0, 4.0), layout="constrained")
    FigureCanvasAgg(fig)
    ax_trust, ax_money = fig.subplots(1, 2)
    colours = {"truthful": "#0072B2"}
    for policy, part in projection.paths.groupby("policy", sort=False):
        colour = colours.get(policy, "#D55E00")
        ax_trust.plot(part["round"], part["mean_trust"], color=colour, label=policy)
        ax_trust.fill_between(part["round"], part["trust_05"], part["trust_95"],
                              color=colour, alpha=0.15)
        ax_money.plot(part["round"], part["cumulative_payoff"], color=colour, label=policy)
    ax_trust.set_ylim(0, 1)
    ax_trust.set_xlabel("round")
    ax_trust.set_ylabel(f"{projection.roles[1]}'s trust (mean, 5%–95%)")
    ax_money.set_xlabel("round")
    ax_money.set_ylabel(f"{projection.roles[0]}'s cumulative earnings (mean)")
    ax_money.legend(fontsize=8)
    for ax in (ax_trust, ax_money):
        ax.grid(alpha=0.3)
    fig.suptitle(f"The value of being trusted ({projection.model}, "
                 f"{projection.replications} simulated partners)", fontsize=10)
    return fig


def response_figure(advice: Advice) -> Figure:
    """The recommended action for every report, with the face-value and ignore lines and
    the current report marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    _, message, action = advice.names
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    r = advice.response
    x = _message_axis(ax, r["report"])
    ax.step(x, r["face_value_action"], where="mid", color="#0072B2",
            linestyle="--", label=f"face value (best response to the {message})")
    ax.step(x, r["ignore_action"], where="mid", color="#999999", linestyle=":",
            label="ignore (best response to the prior)")
    ax.step(x, r["action"], where="mid", color="#D55E00", linewidth=2,
            label="recommended")
    at = float(x[list(r["report"]).index(advice.report)])
    ax.plot([at], [advice.action], "o", color="#D55E00", markersize=7)
    ax.annotate(f"{message} {_shown(advice.report)} → {action} {advice.action:g}",
                (at, advice.action), textcoords="offset points", xytext=(6, -14),
                fontsize=9)
    ax.set_xlabel(message)
    ax.set_ylabel(action)
    record = f"{advice.rounds} rounds of record" if advice.rounds else "no record"
    ax.set_title(f"Recommended {action} by {message} ({advice.model}, {record})",
                 fontsize=10)
    ax.legend(fontsize=8, loc="upper left")
    ax.grid(alpha=0.3)
    return fig


def sender_figure(advice: SenderAdvice) -> Figure:
    """The sender's expected payoff of every report, the truthful and the best report
    marked."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    state, message, _ = advice.names
    fig = Figure(figsize=(6.4, 4.2), layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    r = advice.reports
    x = _message_axis(ax, r["report"])
    position = dict(zip(r["report"], x, strict=True))
    ax.plot(x, r["expected_payoff"], color="#E69F00", linewidth=2,
            marker="o" if len(r) <= 30 else None, label="expected payoff")
    ax.axvline(position[advice.truthful_report], color="#0072B2", linestyle="--",
               label=f"truthful {message} {_shown(advice.truthful_report)}")
    ax.plot([position[advice.best_report]], [advice.best_payoff], "o", color="#D55E00",
            markersize=8, label=f"best {message} {_shown(advice.best_report)}")
    ax.set_xlabel(message)
    ax.set_ylabel("expected payoff")
    ax.set_title(f"Payoff of each {message} in {state} {advice.state:g} ({advice.model}); "
                 f"cost of truth {advice.cost_of_truth:.2f}", fontsize=10)
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)
    return fig


def advice_figure(advice: Advice | SenderAdvice | TrustProjection) -> Figure:
    """:func:`response_figure` of a receiver's advice, :func:`sender_figure` of a
    sender's, :func:`projection_figure` of a projection."""
    if isinstance(advice, TrustProjection):
        return projection_figure(advice)
    if isinstance(advice, SenderAdvice):
        return sender_figure(advice)
    return response_figure(advice)

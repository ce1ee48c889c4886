r"""Standard theory: the most informative partition equilibrium, with logit noise (SPEC §3.1).

**Partition equilibria.** Order the states :math:`t_1 < \dots < t_n`. A partition of them
into consecutive intervals :math:`I_1, \dots, I_k` is played as follows. Each message
:math:`m` belongs to the interval that contains its literal state (the state nearest
:math:`v(m)`, ``Game.literal``); write :math:`M(I)` for the messages of interval :math:`I`.

* Sender :math:`\sigma^*`: a state in :math:`I` sends a message of :math:`M(I)`, uniformly at
  random ("my state is somewhere in :math:`I`", said in any of the words that mean it).
* Beliefs :math:`q^*`: after any message of :math:`M(I)` the receiver's Bayes posterior is
  the prior restricted to :math:`I`. Every message belongs to some interval, so no message is
  off the equilibrium path. (An interval with zero prior mass gets the uniform belief on its
  states.)
* Receiver :math:`\rho^*`: the best response to :math:`q^*`, ties split evenly (the
  :math:`\lambda_R \to \infty` limit of logit choice, :func:`cheaptalk.choice.best_response`).
  The action distribution :math:`\rho_I` depends only on the interval.
* Incentive compatibility: every state :math:`t \in I_j` weakly prefers
  :math:`\rho_{I_j}` to :math:`\rho_{I_l}` for every other interval of the partition,
  :math:`\sum_a \rho_{I_j}(a) u_S(t, a) \ge \sum_a \rho_{I_l}(a) u_S(t, a)` (tolerance
  :math:`10^{-9}(1 + |u|)`). Sender payoffs against a receiver who splits ties are expected
  payoffs; other tie-breaking rules could support further equilibria, which we do not search.

A partition that satisfies incentive compatibility (and gives every interval at least one
message) is a perfect Bayesian equilibrium. The one-interval partition is the babbling
equilibrium and always exists. The **most informative** equilibrium has the most intervals;
ties go to the highest ex-ante receiver payoff :math:`\sum_t p_t \sum_a \rho_{I(t)}(a)
u_R(t, a)`, then to the first found (shortest leading intervals). The search is an exact
depth-first enumeration over consecutive intervals with pairwise incentive-compatibility
pruning and the bound "at most one interval per remaining state"; it is instant for
Crawford–Sobel and binary games and for the forecast-sharing game (where no two-interval
prefix is incentive compatible, so the result is babbling: a manufacturer always wants more
capacity). The equilibrium depends only on the game, so it is cached per game object.

**Logit noise ("noisy equilibrium").** As in the level-k model (SPEC §3.2), each role makes
logit errors around its best response to the *noiseless* equilibrium strategy of the other
role:

.. math::

    \sigma = \operatorname{logit}\big(U_S(\rho^*), \lambda_S\big), \qquad
    \rho = \operatorname{logit}\big(U_R(q^*), \lambda_R\big).

On-path messages keep their equilibrium meaning: all messages of one interval induce the
same :math:`\rho^*`, so the sender mixes evenly among them, and across intervals puts more
weight on the intervals whose action she likes more. As :math:`\lambda_S, \lambda_R \to
\infty` the strategies converge to :math:`(\sigma^*, \rho^*)`; at :math:`\lambda = 0` they are
uniform. In a babbling equilibrium every message induces the same action, so
:math:`\sigma` is uniform for every :math:`\lambda_S`, and :math:`\rho[m] =
\operatorname{logit}(U_R(p), \lambda_R)` for every message: the parameter ``lambda_s`` is
still part of the model (SPEC §3.5) but *inert* in that game
(:meth:`Equilibrium.inert_parameters`), and a fit on babbling treatments only reports it as
not identified.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
from numpy.typing import NDArray

from cheaptalk.choice import best_response, logit, logit_vjp
from cheaptalk.games.base import Game

from ._common import check_size, indifferent
from .aqre import FinitePrecisions
from .base import Family, Model, Prediction, Pullback, Type

__all__ = ["Equilibrium", "PartitionEquilibrium", "most_informative_equilibrium",
           "partition_profile"]

#: Depth-first search budget (visited nodes) before the search stops with a warning.
SEARCH_BUDGET = 1_000_000

#: Searched equilibria by :attr:`Game.fingerprint` (the search depends on the game alone and
#: takes about a second in the forecast game; a game sent to a worker process arrives as a
#: copy), the latest :data:`_CACHE_ENTRIES`.
_CACHE: dict[bytes, PartitionEquilibrium] = {}
_CACHE_ENTRIES = 32
#: Held while searching: treatments evaluated on threads (:mod:`cheaptalk._threads`) may ask
#: for equal games at once, and the search is pure Python (the GIL): nothing is lost.
_CACHE_LOCK = threading.Lock()


@dataclass(frozen=True, eq=False)
class PartitionEquilibrium:
    """A partition equilibrium of a finite cheap-talk game (noiseless).

    Attributes
    ----------
    intervals : tuple of (int, int)
        ``(first, last)`` state indices of each interval, in increasing order.
    sender : ndarray, shape (n_t, n_m)
        ``sigma*[t, m]``: uniform over the messages of the state's interval.
    belief : ndarray, shape (n_m, n_t)
        ``q*[m, t]``: the prior restricted to the message's interval.
    receiver : ndarray, shape (n_m, n_a)
        ``rho*[m, a]``: best response to ``q*``, ties split evenly.
    receiver_payoff : float
        Ex-ante expected receiver payoff.
    """

    intervals: tuple[tuple[int, int], ...]
    sender: NDArray[np.float64]
    belief: NDArray[np.float64]
    receiver: NDArray[np.float64]
    receiver_payoff: float

    @property
    def n_intervals(self) -> int:
        """Number of intervals (1 = babbling)."""
        return len(self.intervals)

    @property
    def is_babbling(self) -> bool:
        """Whether the equilibrium pools all states."""
        return len(self.intervals) == 1


def _literal_state(game: Game) -> NDArray[np.intp]:
    """Index of the literal state of each message (nearest state, ties lower)."""
    return np.argmax(game.literal, axis=1)


def _interval_beliefs(game: Game, first: NDArray[np.intp], last: NDArray[np.intp]
                      ) -> NDArray[np.float64]:
    """Posterior ``[k, t]`` of the intervals ``[first[k], last[k]]`` (prior restricted)."""
    idx = np.arange(game.n_states)
    inside = (idx[None, :] >= first[:, None]) & (idx[None, :] <= last[:, None])
    mass = inside * game.prior[None, :]
    total = mass.sum(axis=1, keepdims=True)
    uniform = inside / inside.sum(axis=1, keepdims=True)
    return np.where(total > 0, mass / np.where(total > 0, total, 1.0), uniform)


def partition_profile(game: Game, intervals: tuple[tuple[int, int], ...]
                      ) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Noiseless strategies and beliefs of a partition (not checked for equilibrium).

    Parameters
    ----------
    game : Game
    intervals : tuple of (int, int)
        Consecutive ``(first, last)`` state indices covering all states.

    Returns
    -------
    sender : ndarray, shape (n_t, n_m)
    belief : ndarray, shape (n_m, n_t)
    receiver : ndarray, shape (n_m, n_a)

    Raises
    ------
    ValueError
        If the intervals do not cover the states consecutively or one has no message.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> s, q, r = partition_profile(crawford_sobel(bias=1.2), ((0, 0), (1, 4)))
    >>> s[2].tolist()
    [0.0, 0.25, 0.25, 0.25, 0.25]
    >>> np.argmax(r, axis=1).tolist()     # actions 1 and 6 (index 0 and 5)
    [0, 5, 5, 5, 5]
    """
    first = np.array([i for i, _ in intervals], dtype=np.intp)
    last = np.array([j for _, j in intervals], dtype=np.intp)
    if (first.size == 0 or first[0] != 0 or last[-1] != game.n_states - 1
            or np.any(first[1:] != last[:-1] + 1) or np.any(last < first)):
        raise ValueError("intervals must cover the states consecutively")
    state_interval = np.repeat(np.arange(first.size), last - first + 1)
    message_interval = state_interval[_literal_state(game)]
    counts = np.bincount(message_interval, minlength=first.size)
    if np.any(counts == 0):
        raise ValueError("every interval needs a message whose literal state lies in it")
    same = state_interval[:, None] == message_interval[None, :]
    sender = same / counts[state_interval][:, None]
    belief = _interval_beliefs(game, first, last)[message_interval]
    receiver = best_response(game.receiver_values(belief))
    return sender.astype(float), belief, receiver


def check_search_size(game: Game) -> None:
    """Refuse a game whose partition search would hold too many numbers, before any is
    allocated: every interval ``[i, j]`` of the ``n_t`` states (``n_t (n_t + 1) / 2`` of
    them) has a belief and an indicator over the states, a response over the actions and
    the sender's and receiver's values of it in every state, plus an entry in the index.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> check_search_size(crawford_sobel(bias=1.2))
    >>> check_search_size(crawford_sobel(states=range(2000), actions=range(2000)))
    Traceback (most recent call last):
    ...
    cheaptalk.models.base.ParameterError: equilibrium: the partition search over 2001000 ...
    """
    n_t, n_m, n_a = game.shape
    intervals = n_t * (n_t + 1) // 2
    check_size("equilibrium", f"the partition search over {intervals} intervals of a "
               f"{n_t}x{n_m}x{n_a} game", intervals * (4 * n_t + 2 * n_a + 16))


def _search(game: Game) -> PartitionEquilibrium:
    check_search_size(game)
    n = game.n_states
    # every interval [i, j], i <= j: its receiver response and the sender's value of it.
    first, last = np.triu_indices(n)
    beliefs = _interval_beliefs(game, first, last)               # [k, t]
    responses = best_response(game.receiver_values(beliefs))     # [k, a]
    sender_value = responses @ game.sender_payoff.T               # [k, t]
    receiver_value = (responses @ game.receiver_payoff.T)         # [k, t]
    tol = 1e-9 * (1.0 + np.abs(sender_value))
    index = {(int(i), int(j)): k for k, (i, j) in enumerate(zip(first, last, strict=True))}
    per_state = np.bincount(_literal_state(game), minlength=n)       # messages per state
    cum = np.concatenate([[0], np.cumsum(per_state)])
    has_message = cum[last + 1] - cum[first] > 0
    idx = np.arange(n)
    inside = (idx[None, :] >= first[:, None]) & (idx[None, :] <= last[:, None])
    contribution = (receiver_value * inside) @ game.prior

    compat_cache: dict[tuple[int, int], bool] = {}

    def compatible(a: int, b: int) -> bool:
        key = (a, b)
        if key not in compat_cache:
            ia, ja, ib, jb = first[a], last[a], first[b], last[b]
            ok_a = np.all(sender_value[a, ia:ja + 1] >= sender_value[b, ia:ja + 1]
                          - tol[b, ia:ja + 1])
            ok_b = np.all(sender_value[b, ib:jb + 1] >= sender_value[a, ib:jb + 1]
                          - tol[a, ib:jb + 1])
            compat_cache[key] = bool(ok_a and ok_b)
        return compat_cache[key]

    best: list = [0, -np.inf, ()]   # count, receiver payoff, interval keys
    visited = 0
    exhausted = False

    def dfs(prefix: list[int], start: int, payoff: float) -> None:
        nonlocal visited, exhausted
        if start == n:
            count = len(prefix)
            if count > best[0] or (count == best[0] and payoff > best[1] + 1e-12):
                best[:] = [count, payoff, tuple(prefix)]
            return
        if len(prefix) + (n - start) < best[0]:
            return
        for end in range(start, n):
            visited += 1
            if visited > SEARCH_BUDGET:
                exhausted = True
                return
            k = index[(start, end)]
            if not has_message[k]:
                continue
            if all(compatible(p, k) for p in prefix):
                prefix.append(k)
                dfs(prefix, end + 1, payoff + contribution[k])
                prefix.pop()
                if exhausted:
                    return
            if len(prefix) + 1 + (n - end - 1) < best[0]:
                return

    dfs([], 0, 0.0)
    if exhausted:
        warnings.warn(f"partition search stopped after {SEARCH_BUDGET} nodes in {game!r}; "
                      "the equilibrium found may not be the most informative one",
                      RuntimeWarning, stacklevel=3)
    if not best[2]:   # cannot happen: babbling always qualifies
        best[2] = (index[(0, n - 1)],)
    intervals = tuple((int(first[k]), int(last[k])) for k in best[2])
    sender, belief, receiver = partition_profile(game, intervals)
    return PartitionEquilibrium(intervals=intervals, sender=sender, belief=belief,
                                receiver=receiver, receiver_payoff=float(best[1]))


def most_informative_equilibrium(game: Game) -> PartitionEquilibrium:
    """The partition equilibrium with the most intervals (cached per game).

    Examples
    --------
    >>> from cheaptalk.games import binary_deception, crawford_sobel
    >>> most_informative_equilibrium(crawford_sobel(bias=1.2)).intervals   # {1, 3}, {5, 7, 9}
    ((0, 1), (2, 4))
    >>> most_informative_equilibrium(binary_deception()).is_babbling
    True
    """
    key = game.fingerprint
    with _CACHE_LOCK:
        eq = _CACHE.get(key)
        if eq is None:
            eq = _search(game)
            for arr in (eq.sender, eq.belief, eq.receiver):
                arr.setflags(write=False)
            _CACHE[key] = eq
            while len(_CACHE) > _CACHE_ENTRIES:  # the oldest out
                _CACHE.pop(next(iter(_CACHE)))
    return eq


class Equilibrium(FinitePrecisions, Model):
    """Most informative (or babbling) equilibrium with logit noise.

    Parameters
    ----------
    selection : {"most_informative", "babbling"}
        Which equilibrium: the partition equilibrium with the most intervals (default) or
        always the babbling one.

    Notes
    -----
    Parameters (SPEC §3.5): ``lambda_s`` and ``lambda_r`` (logit precisions per currency
    unit, ≥ 0, finite); ``lambda_s`` is inert where the equilibrium babbles.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel, forecast_sharing
    >>> model = Equilibrium()
    >>> model.parameter_names()
    ('lambda_s', 'lambda_r')
    >>> model.inert_parameters(crawford_sobel(bias=0.5)), model.inert_parameters(
    ...     forecast_sharing(step=10))
    (frozenset(), frozenset({'lambda_s'}))
    >>> pred = model.predict(crawford_sobel(bias=1.2), {"lambda_s": 1.0, "lambda_r": 1.0})
    >>> pred.types[0].name
    'equilibrium (2 intervals)'
    """

    name: ClassVar[str] = "equilibrium"
    order: ClassVar[int] = 10
    colour: ClassVar[str] = "#E69F00"  # Okabe–Ito orange
    description: ClassVar[str] = ("Most informative partition equilibrium (babbling where that "
                                  "is the only one) with logit noise")

    def families(self) -> tuple[Family, ...]:
        """``babbling`` and ``equilibrium`` (informative), in greys: standard theory."""
        return (Family("babbling", "#999999"), Family("equilibrium", "#666666", "white"))

    def __init__(self, selection: str = "most_informative") -> None:
        if selection not in ("most_informative", "babbling"):
            raise ValueError("selection must be 'most_informative' or 'babbling'")
        self.selection = selection

    def equilibrium(self, game: Game) -> PartitionEquilibrium:
        """The noiseless equilibrium the model is built on."""
        if self.selection == "babbling":
            return _babbling(game)
        return most_informative_equilibrium(game)

    def parameter_names(self) -> tuple[str, ...]:
        return ("lambda_s", "lambda_r")

    def inert_parameters(self, game: Game) -> frozenset[str]:
        """``lambda_s`` where the equilibrium babbles (the sender is uniform), and
        ``lambda_r`` where the receiver is indifferent between all actions after every
        message under the equilibrium's beliefs (the receiver is uniform)."""
        eq = self.equilibrium(game)
        inert = {"lambda_s"} if eq.is_babbling else set()
        if indifferent(game.receiver_values(eq.belief), game):
            inert.add("lambda_r")
        return frozenset(inert)

    def predict(self, game: Game, params: Mapping[str, float]) -> Prediction:
        return self._compute(game, params)[0]

    def _compute(self, game: Game, params: Mapping[str, float]
                 ) -> tuple[Prediction, NDArray[np.float64], NDArray[np.float64] | None]:
        """The prediction and the values the logit choices were taken over."""
        theta = self.check_params(params)
        eq = self.equilibrium(game)
        ur = game.receiver_values(eq.belief)
        receiver = logit(ur, theta["lambda_r"])
        us = None
        if eq.is_babbling:
            sender = np.full((game.n_states, game.n_messages), 1.0 / game.n_messages)
            name = family = "babbling"
        else:
            us = game.sender_values(eq.receiver)
            sender = logit(us, theta["lambda_s"])
            name, family = f"equilibrium ({eq.n_intervals} intervals)", "equilibrium"
        pred = Prediction(game=game, types=(Type(name, 1.0, sender, receiver, family),),
                          model=self.name, params=theta)
        return pred, ur, us

    def predict_with_pullback(self, game: Game, params: Mapping[str, float]
                              ) -> tuple[Prediction, Pullback]:
        """The prediction and its exact pullback.

        Each role logit-responds to a fixed (noiseless) equilibrium strategy, so only the
        precisions move the strategies, through the logit choice
        (:func:`cheaptalk.choice.logit_vjp`). The weight of the single type is constant.
        """
        pred, ur, us = self._compute(game, params)
        theta = dict(pred.params or {})
        ty = pred.types[0]

        def pullback(w_bar: NDArray[np.float64], sender_bars: list[NDArray[np.float64] | None],
                     receiver_bars: list[NDArray[np.float64] | None]) -> dict[str, float]:
            sb = sender_bars[0]
            out = {"lambda_s": 0.0 if us is None or sb is None else
                   logit_vjp(ty.sender, us, sb, theta["lambda_s"])[0]}
            rb = receiver_bars[0]
            out["lambda_r"] = (0.0 if rb is None else
                               logit_vjp(ty.receiver, ur, rb, theta["lambda_r"])[0])
            return out

        return pred, pullback

    def __repr__(self) -> str:
        return f"Equilibrium(selection={self.selection!r})"


def _babbling(game: Game) -> PartitionEquilibrium:
    intervals = ((0, game.n_states - 1),)
    sender, belief, receiver = partition_profile(game, intervals)
    payoff = float(game.prior @ (receiver[0] @ game.receiver_payoff.T))
    return PartitionEquilibrium(intervals, sender, belief, receiver, payoff)

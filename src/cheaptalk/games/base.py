r"""The finite sender–receiver game every cheap-talk game is reduced to (SPEC §1).

Index conventions (used throughout the package):

* ``t`` indexes states (``n_t``), ``m`` messages (``n_m``), ``a`` actions (``n_a``).
* ``prior[t]``; ``sender_payoff[t, a]`` = :math:`u_S(t, a)`,
  ``receiver_payoff[t, a]`` = :math:`u_R(t, a)` (expected material payoffs).
* A sender strategy is ``sigma[t, m]`` = :math:`P(m \mid t)`; a receiver strategy is
  ``rho[m, a]`` = :math:`P(a \mid m)`; a belief is ``q[m, t]``. Rows sum to one.

Derived objects:

* literal reading ``L[m, t] = 1`` for the state nearest the message's literal value
  :math:`v(m)` (ties: the lower state);
* lie size ``D[t, m]`` = :math:`|v(m) - t|`;
* sender values :math:`U_S[t, m] = \sum_a \rho[m, a]\,u_S(t, a)`;
* receiver values :math:`U_R[m, a] = \sum_t q[m, t]\,u_R(t, a)`;
* Bayes posterior :math:`q[m, t] \propto p[t]\,\sigma[t, m]`, the prior for a message that
  σ never sends.

Feedback (SPEC §2.4). After each round both sides see :math:`y = t + \varepsilon`,
:math:`\varepsilon \sim U[-e, e]` with ``e = feedback_noise`` (forecast sharing: realised
demand; ``e = 0``: the state itself). A report is *credible* in the light of the feedback when
the feedback could have followed a truthful report: :math:`|y - s_L(m)| \le e`, with
:math:`s_L(m)` the state the message asserts.

Messages do not enter payoffs: that is what makes the talk cheap.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

__all__ = ["MAX_TABLE_CELLS", "Game", "check_grid_size"]

#: The most cells one payoff or strategy table may have (8 bytes each): a grid larger than
#: this is refused before anything is allocated.
MAX_TABLE_CELLS = 10_000_000


def check_grid_size(key: str, sizes: dict[str, int]) -> None:
    """Refuse grids whose tables would exceed :data:`MAX_TABLE_CELLS`, before allocating.

    ``sizes`` maps each grid's name to its number of points; ``key`` names what made them
    (it starts the message, so a design reports it at that key).

    Examples
    --------
    >>> check_grid_size("step", {"states": 201, "actions": 271})
    >>> check_grid_size("step", {"states": 2_000_001, "actions": 2_700_001})
    Traceback (most recent call last):
    ValueError: step gives 2000001 states x 2700001 actions = 5.4e+12 cells per table (43.2 TB);...
    """
    cells = 1
    for n in sizes.values():
        cells *= n
    if cells > MAX_TABLE_CELLS:
        grids = " x ".join(f"{n} {name}" for name, n in sizes.items())
        size = cells * 8
        unit = next((u, s) for u, s in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6))
                    if size >= s)
        raise ValueError(f"{key} gives {grids} = {cells:.2g} cells per table "
                         f"({size / unit[1]:.3g} {unit[0]}); the limit is "
                         f"{MAX_TABLE_CELLS:.0e} cells")


def _as_vector(x: ArrayLike, name: str) -> NDArray[np.float64]:
    v = np.asarray(x, dtype=float)
    if v.ndim != 1 or v.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-d array")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{name} must be finite")
    return v


@dataclass(frozen=True, eq=False)
class Game:
    """A finite cheap-talk game.

    Parameters
    ----------
    states : array_like, shape (n_t,)
        State values (the sender's private information), increasing.
    prior : array_like, shape (n_t,)
        Prior probability of each state.
    messages : array_like, shape (n_m,)
        Literal value :math:`v(m)` of each message, on the state scale.
    actions : array_like, shape (n_a,)
        Action values (the receiver's choices).
    sender_payoff, receiver_payoff : array_like, shape (n_t, n_a)
        Expected material payoffs.
    name : str
        Human-readable name.
    parameters : dict
        The parameters the game was built from (for reports).
    feedback_noise : float
        Half-width ``e`` of the uniform noise on the feedback ``y = t + eps`` seen after each
        round (0: the state itself is revealed).
    message_labels : tuple of str, optional
        How each message appears in data, where that is not its literal value (labels such
        as ``"A"``, or several messages asserting one state); ``None``: a message is its
        literal value. See :meth:`from_tables`.

    Examples
    --------
    >>> g = Game(states=[0, 1], prior=[0.5, 0.5], messages=[0, 1], actions=[0, 1],
    ...          sender_payoff=[[0, 1], [0, 1]], receiver_payoff=[[1, 0], [0, 1]])
    >>> g.shape
    (2, 2, 2)
    >>> g.receiver_values(g.posterior(np.eye(2))).tolist()   # truthful sender
    [[1.0, 0.0], [0.0, 1.0]]
    """

    states: NDArray[np.float64]
    prior: NDArray[np.float64]
    messages: NDArray[np.float64]
    actions: NDArray[np.float64]
    sender_payoff: NDArray[np.float64]
    receiver_payoff: NDArray[np.float64]
    name: str = "game"
    parameters: dict[str, Any] = field(default_factory=dict)
    feedback_noise: float = 0.0
    message_labels: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.feedback_noise) or self.feedback_noise < 0:
            raise ValueError(f"feedback_noise must be >= 0, got {self.feedback_noise!r}")
        states = _as_vector(self.states, "states")
        messages = _as_vector(self.messages, "messages")
        actions = _as_vector(self.actions, "actions")
        prior = _as_vector(self.prior, "prior")
        if prior.shape != states.shape:
            raise ValueError("prior must have one entry per state")
        if np.any(prior < 0) or not np.isclose(prior.sum(), 1.0):
            raise ValueError("prior must be non-negative and sum to 1")
        if np.any(np.diff(states) <= 0):
            raise ValueError("states must be strictly increasing")
        values, counts = np.unique(actions, return_counts=True)
        if np.any(counts > 1):  # data could not be mapped to one of two equal actions
            raise ValueError(f"actions must be distinct values: {values[counts > 1][0]:g} "
                             "appears more than once")
        shape = (states.size, actions.size)
        payoffs = {}
        for key in ("sender_payoff", "receiver_payoff"):
            u = np.asarray(getattr(self, key), dtype=float)
            if u.shape != shape:
                raise ValueError(f"{key} must have shape (n_states, n_actions) = {shape}")
            if not np.all(np.isfinite(u)):
                raise ValueError(f"{key} must be finite")
            payoffs[key] = u
        self._check_message_labels(messages.size)
        for key, value in dict(
            states=states, messages=messages, actions=actions, prior=prior / prior.sum(),
            **payoffs,
        ).items():
            value.setflags(write=False)
            object.__setattr__(self, key, value)

    def _check_message_labels(self, n_messages: int) -> None:
        labels = self.message_labels
        if labels is None:
            return
        labels = tuple(str(x) for x in labels)
        if len(labels) != n_messages:
            raise ValueError("message_labels must have one label per message")
        seen = [x for i, x in enumerate(labels) if x in labels[:i]]
        if seen:
            raise ValueError(f"messages must be distinct: {seen[0]!r} appears more than once")
        object.__setattr__(self, "message_labels", labels)

    # ------------------------------------------------------------------ sizes
    @property
    def n_states(self) -> int:
        return self.states.size

    @property
    def n_messages(self) -> int:
        return self.messages.size

    @property
    def n_actions(self) -> int:
        return self.actions.size

    @property
    def shape(self) -> tuple[int, int, int]:
        """``(n_t, n_m, n_a)``."""
        return self.n_states, self.n_messages, self.n_actions

    # --------------------------------------------------------- derived arrays
    @cached_property
    def fingerprint(self) -> bytes:
        """A digest of everything a model computes from: states, prior, messages, actions,
        payoffs and feedback noise. Equal games have equal fingerprints, so caches of work
        that depends on the game alone keep across copies of it (a game sent to another
        process arrives as a copy).

        Examples
        --------
        >>> from cheaptalk.games import crawford_sobel
        >>> import pickle
        >>> g = crawford_sobel()
        >>> pickle.loads(pickle.dumps(g)).fingerprint == g.fingerprint
        True
        >>> crawford_sobel(bias=2.0).fingerprint == g.fingerprint
        False
        """
        digest = hashlib.blake2b(digest_size=20)
        for array in (self.states, self.prior, self.messages, self.actions,
                      self.sender_payoff, self.receiver_payoff):
            a = np.ascontiguousarray(array, dtype=float)
            digest.update(repr(a.shape).encode())
            digest.update(a.tobytes())
        digest.update(repr(float(self.feedback_noise)).encode())
        return digest.digest()

    @cached_property
    def literal(self) -> NDArray[np.float64]:
        """``L[m, t]``: 1 for the state nearest v(m), ties to the lower state."""
        dist = np.abs(self.messages[:, None] - self.states[None, :])
        # argmin returns the first minimiser, i.e. the lower state on ties.
        nearest = np.argmin(dist, axis=1)
        out = np.zeros((self.n_messages, self.n_states))
        out[np.arange(self.n_messages), nearest] = 1.0
        out.setflags(write=False)
        return out

    @cached_property
    def truthful_message(self) -> NDArray[np.intp]:
        """Index of the message whose literal value is nearest each state (ties: lower)."""
        dist = np.abs(self.states[:, None] - self.messages[None, :])
        return np.argmin(dist, axis=1)

    # ------------------------------------------------------------- values
    def sender_values(self, rho: ArrayLike) -> NDArray[np.float64]:
        """``US[t, m] = sum_a rho[m, a] uS[t, a]`` for receiver strategy ``rho[m, a]``.

        ``rho`` may carry leading axes (e.g. one strategy per type): shape (..., n_m, n_a)
        gives (..., n_t, n_m).
        """
        return np.swapaxes(np.asarray(rho, dtype=float) @ self.sender_payoff.T, -1, -2)

    def receiver_values(self, belief: ArrayLike) -> NDArray[np.float64]:
        """``UR[m, a] = sum_t q[m, t] uR[t, a]`` for belief ``q[m, t]`` (leading axes allowed)."""
        return np.asarray(belief, dtype=float) @ self.receiver_payoff

    def posterior(self, sigma: ArrayLike) -> NDArray[np.float64]:
        """Bayes posterior ``q[m, t]`` under sender strategy ``sigma[t, m]``.

        A message that σ never sends gets the prior.
        """
        joint = self.prior[:, None] * np.asarray(sigma, dtype=float)  # [t, m]
        total = joint.sum(axis=0)  # [m]
        q = np.where(total[:, None] > 0, joint.T / np.where(total > 0, total, 1.0)[:, None],
                     self.prior[None, :])
        return q

    def prior_values(self) -> NDArray[np.float64]:
        """Receiver's expected payoff of each action under the prior, shape (n_a,)."""
        return self.prior @ self.receiver_payoff

    # ------------------------------------------------------------- feedback
    @cached_property
    def literal_state(self) -> NDArray[np.float64]:
        """``s_L(m)``: the value of the state each message asserts, shape (n_m,)."""
        out = self.states[np.argmax(self.literal, axis=1)]
        out.setflags(write=False)
        return out

    def _feedback_tolerance(self) -> float:
        # Feedback is written with two decimals (SPEC §2.4); half a cent absorbs the rounding.
        return 0.005 + 1e-9 * float(np.max(np.abs(self.states)))

    def feedback_in_band(self, state: ArrayLike, feedback: ArrayLike) -> NDArray[np.bool_]:
        """Whether each feedback value could follow its state: ``|y - t| <= e``.

        Examples
        --------
        >>> g = Game(states=[0, 10], prior=[0.5, 0.5], messages=[0, 10], actions=[0, 1],
        ...          sender_payoff=[[0, 1], [0, 1]], receiver_payoff=[[1, 0], [0, 1]],
        ...          feedback_noise=2.0)
        >>> g.feedback_in_band([0, 10, 10], [1.5, 7.0, 12.0]).tolist()
        [True, False, True]
        """
        diff = np.abs(np.asarray(feedback, dtype=float) - np.asarray(state, dtype=float))
        return diff <= self.feedback_noise + self._feedback_tolerance()

    def credible(self, message: ArrayLike, feedback: ArrayLike) -> NDArray[np.float64]:
        """Credibility ``c`` (1.0 or 0.0) of message indices ``message`` given feedback.

        ``c = 1`` when the feedback is consistent with a truthful report,
        ``|y - s_L(m)| <= e`` (module docstring).

        Examples
        --------
        >>> g = Game(states=[0, 10], prior=[0.5, 0.5], messages=[0, 10], actions=[0, 1],
        ...          sender_payoff=[[0, 1], [0, 1]], receiver_payoff=[[1, 0], [0, 1]],
        ...          feedback_noise=2.0)
        >>> g.credible([0, 1, 1], [1.5, 7.0, 12.0]).tolist()
        [1.0, 0.0, 1.0]
        """
        claimed = self.literal_state[np.asarray(message, dtype=np.intp)]
        return self.feedback_in_band(claimed, feedback).astype(float)

    def feedback_density(self, feedback: ArrayLike) -> NDArray[np.float64]:
        """``f(y | t)`` for each feedback value and state, shape (n, n_t).

        Uniform density ``1 / (2e)`` on ``[t - e, t + e]``; with ``e = 0`` the indicator of
        ``y = t``.
        """
        y = np.atleast_1d(np.asarray(feedback, dtype=float))
        inside = self.feedback_in_band(self.states[None, :], y[:, None])
        if self.feedback_noise == 0:
            return inside.astype(float)
        return inside / (2.0 * self.feedback_noise)

    def draw_feedback(self, rng: np.random.Generator, state: ArrayLike) -> NDArray[np.float64]:
        """Feedback for state indices ``state``: ``t + U[-e, e]``, two decimals."""
        t = self.states[np.asarray(state, dtype=np.intp)]
        if self.feedback_noise == 0:
            return t.astype(float)
        noise = rng.uniform(-self.feedback_noise, self.feedback_noise, size=t.shape)
        return np.round(t + noise, 2)

    # ------------------------------------------------------------- checks
    def check_sender(self, sigma: ArrayLike) -> NDArray[np.float64]:
        """Validate a sender strategy (shape (n_t, n_m), rows on the simplex)."""
        return _check_strategy(sigma, (self.n_states, self.n_messages), "sender strategy")

    def check_receiver(self, rho: ArrayLike) -> NDArray[np.float64]:
        """Validate a receiver strategy (shape (n_m, n_a), rows on the simplex)."""
        return _check_strategy(rho, (self.n_messages, self.n_actions), "receiver strategy")

    def message_label(self, m: int) -> str:
        """How message ``m`` is written in data: its label, or its literal value."""
        if self.message_labels is not None:
            return self.message_labels[m]
        return _number_text(self.messages[m])

    # ----------------------------------------------------------- constructors
    @classmethod
    def from_tables(
        cls, states: Sequence[float], actions: Sequence[float],
        sender_payoffs: ArrayLike, receiver_payoffs: ArrayLike,
        prior: Sequence[float] | None = None, messages: Sequence[Any] | None = None,
        literal: Sequence[float] | None = None, name: str = "game",
    ) -> Game:
        """A game given by its tables (SPEC §2.5, the ``matrix`` game kind).

        Parameters
        ----------
        states, actions : sequence of float
            Distinct values (states may come in any order; they are sorted, and the prior and
            payoff rows with them).
        sender_payoffs, receiver_payoffs : array_like, shape (n_states, n_actions)
            ``[t][a]``, in the order ``states`` and ``actions`` are given.
        prior : sequence of float, optional
            One non-negative probability per state, summing to one (default uniform).
        messages : sequence of str or float, optional
            The messages as they appear in data (labels or numbers; default: the states).
        literal : sequence of float, optional
            The state each message asserts (default: the message's own value, which must
            then be a state). More or fewer messages than states are allowed; several
            messages may assert the same state.
        name : str

        Every error is a ``ValueError`` whose message starts with the argument at fault.

        Examples
        --------
        >>> g = Game.from_tables(states=[0, 1], actions=[0, 1],
        ...                      sender_payoffs=[[5, 6], [6, 5]],
        ...                      receiver_payoffs=[[6, 5], [5, 6]],
        ...                      messages=["A", "B", "either"], literal=[0, 1, 0])
        >>> g.shape, g.message_labels
        ((2, 3, 2), ('A', 'B', 'either'))
        >>> g.literal.tolist()
        [[1.0, 0.0], [0.0, 1.0], [1.0, 0.0]]
        >>> Game.from_tables([1, 2], [1, 2], [[0, 0], [0, 0]], [[0, 0], [0, 0]], prior=[0.5, 0.6])
        Traceback (most recent call last):
        ValueError: prior must sum to 1 (it sums to 1.1)
        """
        t = _values("states", states)
        a = _values("actions", actions)
        check_grid_size("states", {"states": t.size, "actions": a.size})
        if messages is None or (hasattr(messages, "__len__") and not isinstance(messages, str)):
            check_grid_size("states" if messages is None else "messages",
                            {"states": t.size,
                             "messages": t.size if messages is None else len(messages)})
        order = np.argsort(t, kind="stable")
        if prior is None:
            p = np.full(t.size, 1.0 / t.size)
        else:
            p = _numbers("prior", prior)
            if p.size != t.size:
                raise ValueError(f"prior has {p.size} entries but there are {t.size} states")
            if np.any(p < 0):
                raise ValueError(f"prior has a negative entry ({p[np.argmax(p < 0)]:g})")
            if not np.isclose(p.sum(), 1.0, rtol=0, atol=1e-9):
                raise ValueError(f"prior must sum to 1 (it sums to {p.sum():.12g})")
        tables = {}
        for key, table in (("sender_payoffs", sender_payoffs),
                           ("receiver_payoffs", receiver_payoffs)):
            try:
                u = np.asarray(table, dtype=float)
            except (TypeError, ValueError):
                raise ValueError(f"{key} must be a table of numbers, one row per state and "
                                 "one column per action") from None
            if u.shape != (t.size, a.size):
                raise ValueError(f"{key} must have one row per state ({t.size}) and one "
                                 f"column per action ({a.size}); got shape "
                                 f"{' x '.join(map(str, u.shape)) or 'a single number'}")
            if not np.all(np.isfinite(u)):
                raise ValueError(f"{key} must be finite numbers")
            tables[key] = u[order]
        if messages is None:
            if literal is not None:
                raise ValueError("literal needs messages (the messages it belongs to)")
            labels, values = None, t[order]
        else:
            labels = tuple(_label(x) for x in messages)
            if not labels:
                raise ValueError("messages must be a non-empty list")
            if literal is None:
                try:
                    values = np.array([float(x) for x in messages])
                except (TypeError, ValueError):
                    raise ValueError("messages are labels, so literal is required: the "
                                     "state each message asserts") from None
            else:
                values = _numbers("literal", literal)
                if values.size != len(labels):
                    raise ValueError(f"literal has {values.size} entries but there are "
                                     f"{len(labels)} messages")
            states_set = set(t.tolist())
            for x in values:
                if x not in states_set:
                    key = "literal" if literal is not None else "messages"
                    raise ValueError(f"{key}: {x:g} is not a state (states: "
                                     f"{', '.join(f'{s:g}' for s in t)})")
            if labels == tuple(_number_text(s) for s in t[order]):
                labels = None  # the messages are the states: data map as in a built-in game
        parameters = dict(states=t.tolist(), actions=a.tolist(), prior=p.tolist(),
                          messages=None if messages is None else list(labels or values),
                          literal=values.tolist())
        return cls(states=t[order], prior=p[order], messages=values, actions=a,
                   sender_payoff=tables["sender_payoffs"],
                   receiver_payoff=tables["receiver_payoffs"], name=name,
                   parameters=parameters, message_labels=labels)

    @classmethod
    def from_functions(
        cls, states: Sequence[float], actions: Sequence[float],
        sender: Callable[[float, float], float], receiver: Callable[[float, float], float],
        **tables: Any,
    ) -> Game:
        """A game whose payoffs are functions ``u(t, a)`` of a state and an action.

        Other arguments (``prior``, ``messages``, ``literal``, ``name``) are as in
        :meth:`from_tables`.

        Examples
        --------
        >>> g = Game.from_functions([1, 2, 3], [1, 2, 3],
        ...                         sender=lambda t, a: 10 - (t + 1 - a) ** 2,
        ...                         receiver=lambda t, a: 10 - (t - a) ** 2)
        >>> g.sender_payoff[0].tolist(), g.receiver_payoff[0].tolist()
        ([9.0, 10.0, 9.0], [10.0, 9.0, 6.0])
        """
        t, a = _values("states", states), _values("actions", actions)
        check_grid_size("states", {"states": t.size, "actions": a.size})
        u_s = [[float(sender(x, y)) for y in a] for x in t]
        u_r = [[float(receiver(x, y)) for y in a] for x in t]
        return cls.from_tables(t, a, u_s, u_r, **tables)

    def __repr__(self) -> str:
        n_t, n_m, n_a = self.shape
        return f"Game({self.name!r}, n_states={n_t}, n_messages={n_m}, n_actions={n_a})"


def _numbers(key: str, values: Any) -> NDArray[np.float64]:
    """A non-empty 1-d array of finite numbers; errors start with ``key``."""
    if isinstance(values, str) or not isinstance(values, Sequence | np.ndarray):
        raise ValueError(f"{key} must be a list of numbers")
    out = []
    for x in values:
        if isinstance(x, bool) or not isinstance(x, int | float | np.number):
            raise ValueError(f"{key} must be a list of numbers: {x!r} is not a number")
        out.append(float(x))
    v = np.array(out, dtype=float)
    if v.size == 0:
        raise ValueError(f"{key} must be a non-empty list")
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{key} must be finite numbers")
    return v


def _values(key: str, values: Any) -> NDArray[np.float64]:
    """:func:`_numbers`, each value once."""
    v = _numbers(key, values)
    unique, counts = np.unique(v, return_counts=True)
    if np.any(counts > 1):
        raise ValueError(f"{key}: {unique[counts > 1][0]:g} appears more than once (the "
                         "values must be distinct)")
    return v


def _label(x: Any) -> str:
    """A message as data write it: a label as given, a number as ``%g``."""
    if isinstance(x, str):
        if not x.strip() or x != x.strip() or not x.isprintable():
            raise ValueError(f"messages: {x!r} is not a usable label (non-empty, printable, "
                             "no leading or trailing spaces)")
        return x
    if isinstance(x, bool) or not isinstance(x, int | float | np.number) or not np.isfinite(x):
        raise ValueError(f"messages: {x!r} is neither a label nor a number")
    return _number_text(x)


def _number_text(x: float) -> str:
    """A number as short text that reads back exactly (``3.0`` → ``"3"``)."""
    text = repr(float(x))
    return text[:-2] if text.endswith(".0") else text


def _check_strategy(x: ArrayLike, shape: tuple[int, ...], what: str) -> NDArray[np.float64]:
    s = np.asarray(x, dtype=float)
    if s.shape[-2:] != shape:
        raise ValueError(f"{what} must have shape {shape}, got {s.shape}")
    if np.any(s < -1e-12) or not np.allclose(s.sum(axis=-1), 1.0, atol=1e-9):
        raise ValueError(f"{what} rows must be probability distributions")
    return s

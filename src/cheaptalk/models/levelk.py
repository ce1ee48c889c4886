r"""Level-k and cognitive-hierarchy models of cheap talk (SPEC §3.2).

Both models build a hierarchy of types :math:`L_0, L_1, \dots, L_K`. Each type has a sender
strategy :math:`\sigma_k[t, m]` and a receiver strategy :math:`\rho_k[m, a]`.

**Level 0.** The L0 sender tells the truth: :math:`\sigma_0[t, m] = 1` for the message whose
literal value is nearest :math:`t` (ties: the lower message), option ``l0_sender="uniform"``
for a uniformly random sender. The L0 receiver is credulous: it acts as if the message were
true,

.. math::

    \rho_0 = \operatorname{logit}\big(U_R(L),\ \lambda_R\big),

with the literal reading :math:`L[m, t]` as belief (option ``l0_receiver="uniform"``).

**Noiseless strategies.** Higher levels reason about the *noiseless* strategies of lower
levels, written with a tilde: :math:`\tilde\sigma_k, \tilde\rho_k` are the exact best
responses (ties split evenly) to the same values that :math:`\sigma_k, \rho_k` respond to
with logit noise. For level 0, :math:`\tilde\sigma_0 = \sigma_0` and
:math:`\tilde\rho_0 = \operatorname{BR}(U_R(L))`.

**Level-k.** For :math:`k \ge 1`,

.. math::

    \sigma_k = \operatorname{logit}\big(U_S(\tilde\rho_{k-1}),\ \lambda_S\big), \qquad
    \rho_k = \operatorname{logit}\big(U_R(q(\tilde\sigma_{k-1})),\ \lambda_R\big),

where :math:`q(\sigma)` is the Bayes posterior (the prior after a message that σ never
sends). Population shares :math:`p_0, \dots, p_K` are parameters, common to both roles by
default (``shares="per_role"``: parameters ``p0_s … pK_s`` for senders and
``p0_r … pK_r`` for receivers).

**Cognitive hierarchy** (Camerer, Ho & Chong 2004). Level :math:`k \ge 1` responds to the
normalised Poisson(:math:`\tau`) mixture of the noiseless strategies of levels
:math:`0, \dots, k-1`,

.. math::

    g_{kj} = \frac{f_\tau(j)}{\sum_{i<k} f_\tau(i)}, \qquad
    \sigma_k = \operatorname{logit}\Big(U_S\big(\textstyle\sum_{j<k} g_{kj}\tilde\rho_j\big),
        \lambda_S\Big), \qquad
    \rho_k = \operatorname{logit}\Big(U_R\big(q(\textstyle\sum_{j<k} g_{kj}
        \tilde\sigma_j)\big), \lambda_R\Big),

with :math:`f_\tau(j) = e^{-\tau}\tau^j / j!`. The population shares of levels
:math:`0, \dots, K` are the Poisson(:math:`\tau`) probabilities truncated at :math:`K` and
renormalised, :math:`f_\tau(k) / \sum_{j \le K} f_\tau(j)` (the mass above :math:`K` is
spread proportionally rather than lumped on level :math:`K`).

Precisions :math:`\lambda_S, \lambda_R \ge 0` are per currency unit; ``inf`` gives exact best
responses. Trembles are not part of the prediction (SPEC §1).

**Exact derivatives** (``predict_with_pullback``, :func:`hierarchy_vjp`). For a logit
strategy :math:`P = \operatorname{logit}(U, \lambda)` and an adjoint :math:`\bar P`, let
:math:`g = P \odot (\bar P - \sum_y \bar P_y P_y)` row by row; then
:math:`\bar\lambda = \langle g, U\rangle` and :math:`\bar U = \lambda g`. The noiseless
strategies are exact best responses, piecewise constant in every parameter: their
derivative is zero except on the measure-zero set where a best response switches between
tied choices (a kink of the likelihood, where the returned derivative is the one-sided
value of the current branch). Hence

* level-k: the values :math:`U` of every level do not depend on parameters, so only
  :math:`\bar\lambda_S = \sum_{k\ge1}\langle g^S_k, U_S\rangle` and
  :math:`\bar\lambda_R` (levels :math:`k \ge 1` and the credulous L0 receiver) are
  non-zero, and the shares enter only the weights: :math:`\bar p_k = \bar w_k`;
* cognitive hierarchy: τ moves the population shares,
  :math:`\partial w_k/\partial\tau = w_k (k - \sum_j j w_j)/\tau`, *and* the belief
  weights :math:`g_{kj}`, :math:`\dot g_{kj} = g_{kj}(j - \sum_{i<k} i\,g_{ki})/\tau`, which
  move the values of levels :math:`k \ge 2` smoothly (the mixtures are smooth in τ even
  though their components are not): :math:`\dot U_S = U_S(\sum_j \dot g_{kj}\tilde\rho_j)`
  and :math:`\dot U_R = U_R(\dot q)`, :math:`\dot q` the derivative of the Bayes posterior
  along :math:`\sum_j \dot g_{kj}\tilde\sigma_j` (zero off path). With a precision of
  ``inf`` the corresponding strategies are best responses and carry no derivative.
"""

from __future__ import annotations

import threading
import weakref
from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import gammaln

from cheaptalk.choice import best_response, logit
from cheaptalk.games.base import Game

from ._common import check_positive, check_precision, check_shares, check_size
from .base import Family, Model, Prediction, Pullback, Type

__all__ = ["CognitiveHierarchy", "Hierarchy", "LevelK", "hierarchy", "hierarchy_vjp",
           "poisson_shares"]

_L0_SENDERS = ("truthful", "uniform")
_L0_RECEIVERS = ("credulous", "uniform")
_SHARES = ("common", "per_role")

#: Default precisions (per currency unit) for games with payoffs of order 10–250.
DEFAULT_LAMBDA_S = 0.5
DEFAULT_LAMBDA_R = 0.2
#: Default cognitive-hierarchy τ (Camerer, Ho & Chong's typical estimate is 1–2).
DEFAULT_TAU = 1.5


@dataclass(frozen=True)
class Hierarchy:
    """Strategies of levels 0…K.

    Attributes
    ----------
    sender, receiver : tuple of ndarray
        ``sigma_k[t, m]`` and ``rho_k[m, a]`` with logit noise (what each level plays).
    sender_noiseless, receiver_noiseless : tuple of ndarray
        The tilde strategies: exact best responses, ties split evenly (what higher levels
        believe lower levels play).
    sender_values, receiver_values : tuple of (ndarray or None)
        The values each level's strategy responds to, ``US[t, m]`` and ``UR[m, a]``
        (``None`` for a level-0 strategy that is not a logit response); used by the
        pullbacks.
    derived : dict
        Quantities the pullbacks compute from the noiseless part alone, kept with it (every
        hierarchy built from the same noiseless part shares them).
    """

    sender: tuple[NDArray[np.float64], ...]
    receiver: tuple[NDArray[np.float64], ...]
    sender_noiseless: tuple[NDArray[np.float64], ...]
    receiver_noiseless: tuple[NDArray[np.float64], ...]
    sender_values: tuple[NDArray[np.float64] | None, ...] = ()
    receiver_values: tuple[NDArray[np.float64] | None, ...] = ()
    derived: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)


def poisson_shares(tau: float, levels: int) -> NDArray[np.float64]:
    """Poisson(τ) probabilities of 0…``levels``, truncated and renormalised.

    Examples
    --------
    >>> poisson_shares(1.0, 2).round(4).tolist()     # (1, 1, 1/2) / 2.5
    [0.4, 0.4, 0.2]
    """
    k = np.arange(levels + 1)
    log_f = k * np.log(tau) - gammaln(k + 1)
    f = np.exp(log_f - log_f.max())
    return f / f.sum()


def _mix(weights: NDArray[np.float64], strategies: list[NDArray[np.float64]]
         ) -> NDArray[np.float64]:
    if weights.size == 1:
        return strategies[0]
    return np.tensordot(weights, np.stack(strategies), axes=1)


def hierarchy(
    game: Game, levels: int, lambda_s: float, lambda_r: float,
    l0_sender: str = "truthful", l0_receiver: str = "credulous",
    beliefs: NDArray[np.float64] | None = None,
) -> Hierarchy:
    """Strategies of levels 0…``levels`` of a level-k or cognitive hierarchy.

    Parameters
    ----------
    game : Game
    levels : int
        Highest level K.
    lambda_s, lambda_r : float
        Logit precisions (``np.inf``: best response).
    l0_sender : {"truthful", "uniform"}
    l0_receiver : {"credulous", "uniform"}
    beliefs : ndarray, shape (K + 1, K + 1), optional
        Row k gives the weights level k puts on levels 0…k−1 (only the first k entries are
        read; they must sum to one). Default: level k believes everyone is level k − 1
        (level-k). Cognitive hierarchy passes normalised Poisson weights.

    Returns
    -------
    Hierarchy

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> h = hierarchy(crawford_sobel(bias=1.2), 2, np.inf, np.inf)
    >>> h.sender[1].argmax(axis=1).tolist()     # L1 sender: say one state higher
    [1, 2, 3, 4, 4]
    >>> (h.receiver[2].argmax(axis=1) + 1).tolist()   # L2 receiver discounts (action values)
    [5, 1, 3, 5, 8]
    """
    n_t, n_m, n_a = game.shape
    # four tables per level and role (strategies, noiseless ones, values), plus the beliefs
    check_size("hierarchy", f"levels={levels} in a {n_t}x{n_m}x{n_a} game",
               4 * (levels + 1) * (n_t * n_m + n_m * n_a) + (levels + 1) ** 2)
    sigma_t, rho_t, sigma_v, rho_v, derived = _noiseless(game, levels, l0_sender, l0_receiver,
                                                         beliefs)
    rho0 = rho_t[0] if rho_v[0] is None else logit(rho_v[0], lambda_r)
    sigma = [sigma_t[0]] + [s_tilde if np.isinf(lambda_s) else logit(vs, lambda_s)
                            for s_tilde, vs in zip(sigma_t[1:], sigma_v[1:], strict=True)]
    rho = [rho0] + [r_tilde if np.isinf(lambda_r) else logit(vr, lambda_r)
                    for r_tilde, vr in zip(rho_t[1:], rho_v[1:], strict=True)]
    return Hierarchy(tuple(sigma), tuple(rho), sigma_t, rho_t, sigma_v, rho_v, derived)


#: The noiseless part of each game's hierarchy, by (levels, level-0 options, beliefs): the
#: values and best responses do not depend on the precisions, so every evaluation of a fit
#: reuses them (for the cognitive hierarchy, every evaluation at one τ: the inner fits of its
#: profile search over τ). Held per game and dropped with it; the arrays are read-only.
_NOISELESS: weakref.WeakKeyDictionary[
    Game, dict[tuple[int, str, str, bytes | None], tuple[Any, ...]]] = (
    weakref.WeakKeyDictionary())
#: Belief matrices (values of τ) whose hierarchies are kept per game, the latest used.
_BELIEF_ENTRIES = 4
#: Guards :data:`_NOISELESS` (treatments are evaluated on threads, :mod:`cheaptalk._threads`,
#: and two treatments may share a game); the hierarchies are computed outside it.
_NOISELESS_LOCK = threading.Lock()


def _noiseless(game: Game, levels: int, l0_sender: str, l0_receiver: str,
               beliefs: NDArray[np.float64] | None) -> tuple[Any, ...]:
    """Noiseless strategies and values of levels 0…K: ``(sigma_tilde, rho_tilde,
    sender_values, receiver_values)``, each a tuple over the levels, and the dict of
    quantities derived from them (:attr:`Hierarchy.derived`); cached, see
    :data:`_NOISELESS`."""
    key = (levels, l0_sender, l0_receiver,
           None if beliefs is None else np.asarray(beliefs, dtype=float).tobytes())
    with _NOISELESS_LOCK:
        cache = _NOISELESS.get(game, {})
        if key in cache:
            cache[key] = cache.pop(key)  # the most recently used last
            return cache[key]
    n_t, n_m, n_a = game.shape
    if l0_sender == "truthful":
        sigma0 = np.zeros((n_t, n_m))
        sigma0[np.arange(n_t), game.truthful_message] = 1.0
    elif l0_sender == "uniform":
        sigma0 = np.full((n_t, n_m), 1.0 / n_m)
    else:
        raise ValueError(f"l0_sender must be one of {_L0_SENDERS}, got {l0_sender!r}")
    values: NDArray[np.float64] | None = None
    if l0_receiver == "credulous":
        values = game.receiver_values(game.literal)
        rho0_tilde = best_response(values)
    elif l0_receiver == "uniform":
        rho0_tilde = np.full((n_m, n_a), 1.0 / n_a)
    else:
        raise ValueError(f"l0_receiver must be one of {_L0_RECEIVERS}, got {l0_receiver!r}")
    sigma_t, rho_t = [sigma0], [rho0_tilde]
    sigma_v: list[NDArray[np.float64] | None] = [None]
    rho_v: list[NDArray[np.float64] | None] = [values]
    for k in range(1, levels + 1):
        if beliefs is None:
            w = np.ones(1)
            lower = slice(k - 1, k)
        else:
            w = np.asarray(beliefs[k, :k], dtype=float)
            lower = slice(0, k)
        # Sender: values against the (mixture of) noiseless lower-level receivers.
        vs = game.sender_values(_mix(w, rho_t[lower]))
        sigma_t.append(best_response(vs))
        sigma_v.append(vs)
        # Receiver: Bayes posterior under the (mixture of) noiseless lower-level senders.
        vr = game.receiver_values(game.posterior(_mix(w, sigma_t[lower])))
        rho_t.append(best_response(vr))
        rho_v.append(vr)
    out = (tuple(sigma_t), tuple(rho_t), tuple(sigma_v), tuple(rho_v), {})
    for part in out[:4]:
        for array in part:
            if array is not None:
                array.setflags(write=False)
    with _NOISELESS_LOCK:
        cache = _NOISELESS.setdefault(game, {})
        cache[key] = out
        with_beliefs = [k for k in cache if k[3] is not None]
        for old in with_beliefs[:-_BELIEF_ENTRIES]:
            del cache[old]
    return out


def _logit_adjoint(p: NDArray[np.float64], bar: NDArray[np.float64]) -> NDArray[np.float64]:
    """``g = P * (bar - sum(bar * P))`` row by row: the logit VJP divided by the precision."""
    return p * (bar - np.sum(bar * p, axis=-1, keepdims=True))


def hierarchy_vjp(
    game: Game, h: Hierarchy, lambda_s: float, lambda_r: float,
    sender_bars: list[NDArray[np.float64] | None],
    receiver_bars: list[NDArray[np.float64] | None],
    beliefs: NDArray[np.float64] | None = None,
    beliefs_dot: NDArray[np.float64] | None = None,
) -> tuple[float, float, float]:
    r"""Vector–Jacobian product of :func:`hierarchy` with respect to its parameters.

    The noiseless strategies are treated as constants (module docstring, "Exact
    derivatives").

    Parameters
    ----------
    game : Game
    h : Hierarchy
        The result of :func:`hierarchy` with the same precisions and ``beliefs``.
    lambda_s, lambda_r : float
    sender_bars, receiver_bars : list of (ndarray or None), length K + 1
        Adjoints of ``h.sender[k]`` and ``h.receiver[k]`` (``None``: zero).
    beliefs : ndarray, shape (K + 1, K + 1), optional
        The mixture weights passed to :func:`hierarchy` (``None``: level-k).
    beliefs_dot : ndarray, shape (K + 1, K + 1), optional
        Derivative of ``beliefs`` with respect to a scalar parameter (cognitive hierarchy's
        τ); its contribution is the third result.

    Returns
    -------
    (float, float, float)
        Adjoints of ``lambda_s``, ``lambda_r`` and of the scalar behind ``beliefs_dot``
        (0 when ``beliefs_dot`` is ``None``).

    Notes
    -----
    The derivation is in the module docstring ("Exact derivatives").
    """
    lam_s_bar = lam_r_bar = tau_bar = 0.0
    dots = (None if beliefs_dot is None or beliefs is None
            else _values_dot(game, h, beliefs, beliefs_dot))
    for k, (sigma, bar) in enumerate(zip(h.sender, sender_bars, strict=True)):
        values = h.sender_values[k]
        if bar is None or values is None or np.isinf(lambda_s):
            continue
        g = _logit_adjoint(sigma, bar)
        lam_s_bar += float(np.sum(g * values))
        if dots is not None and k >= 2 and lambda_s > 0:
            tau_bar += lambda_s * float(np.sum(g * dots[0][k]))
    for k, (rho, bar) in enumerate(zip(h.receiver, receiver_bars, strict=True)):
        values = h.receiver_values[k]
        if bar is None or values is None or np.isinf(lambda_r):
            continue
        g = _logit_adjoint(rho, bar)
        lam_r_bar += float(np.sum(g * values))
        if dots is not None and k >= 2 and lambda_r > 0:
            tau_bar += lambda_r * float(np.sum(g * dots[1][k]))
    return lam_s_bar, lam_r_bar, tau_bar


def _values_dot(game: Game, h: Hierarchy, beliefs: NDArray[np.float64],
                beliefs_dot: NDArray[np.float64]) -> tuple[dict[int, Any], dict[int, Any]]:
    """Derivatives of the values of levels k ≥ 2 along ``beliefs_dot``: ``U_S(sum_j
    beliefs_dot[k, j] rho_tilde_j)`` and ``U_R(q_dot)`` (module docstring). They depend on
    the noiseless hierarchy and the beliefs only, so they are kept with it
    (:attr:`Hierarchy.derived`) and the evaluations at one τ share them."""
    key = ("values_dot", beliefs.tobytes(), beliefs_dot.tobytes())
    if key in h.derived:
        return h.derived[key]
    prior = game.prior
    sender_dot, receiver_dot = {}, {}
    for k in range(2, len(h.sender)):
        rho_dot = np.tensordot(beliefs_dot[k, :k], np.stack(h.receiver_noiseless[:k]), axes=1)
        sender_dot[k] = game.sender_values(rho_dot)
        lower = np.stack(h.sender_noiseless[:k])
        joint = prior[:, None] * np.tensordot(beliefs[k, :k], lower, axes=1)  # [t, m]
        joint_dot = prior[:, None] * np.tensordot(beliefs_dot[k, :k], lower, axes=1)
        total, total_dot = joint.sum(axis=0), joint_dot.sum(axis=0)
        on_path = total > 0
        safe = np.where(on_path, total, 1.0)
        q = joint.T / safe[:, None]
        q_dot = (joint_dot.T - q * total_dot[:, None]) / safe[:, None]  # [m, t]
        q_dot[~on_path] = 0.0  # off path: the prior, whatever the weights
        receiver_dot[k] = game.receiver_values(q_dot)
    h.derived[key] = (sender_dot, receiver_dot)
    return sender_dot, receiver_dot


#: The highest level a model may have (the share parameters grow with it).
MAX_LEVELS = 100

#: Colours of levels 0, 1, 2, … (repeating past the end) and the levels written in white.
_LEVEL_COLOURS = ("#56B4E9", "#0072B2", "#009E73", "#CC79A7", "#000000", "#F0E442")
_LEVEL_WHITE_TEXT = ("#0072B2", "#CC79A7", "#000000")


class _HierarchyModel(Model):
    """Common parts of level-k and cognitive hierarchy."""

    def families(self) -> tuple[Family, ...]:
        """One family per level, ``L0 … LK``."""
        colours = [_LEVEL_COLOURS[k % len(_LEVEL_COLOURS)] for k in range(self.levels + 1)]
        return tuple(Family(n, c, "white" if c in _LEVEL_WHITE_TEXT else "black")
                     for n, c in zip(self.level_names, colours, strict=True))

    def __init__(self, levels: int = 3, l0_sender: str = "truthful",
                 l0_receiver: str = "credulous") -> None:
        if isinstance(levels, bool) or not isinstance(levels, int | np.integer) or levels < 1:
            raise ValueError(f"levels must be an integer >= 1, got {levels!r}")
        if levels > MAX_LEVELS:
            n = int(levels) + 1
            raise ValueError(
                f"levels={levels} is too large: {n} types per role, {n + 2} parameters to "
                f"estimate and a Hessian of {(n + 2) ** 2:.2g} entries; at most {MAX_LEVELS}")
        if l0_sender not in _L0_SENDERS:
            raise ValueError(f"l0_sender must be one of {_L0_SENDERS}, got {l0_sender!r}")
        if l0_receiver not in _L0_RECEIVERS:
            raise ValueError(
                f"l0_receiver must be one of {_L0_RECEIVERS}, got {l0_receiver!r}")
        self.levels = int(levels)
        self.l0_sender = l0_sender
        self.l0_receiver = l0_receiver

    @property
    def level_names(self) -> tuple[str, ...]:
        """Type names ``("L0", …, "LK")``."""
        return tuple(f"L{k}" for k in range(self.levels + 1))

    def _precisions(self, p: Mapping[str, float]) -> tuple[float, float]:
        return (check_precision(self.name, "lambda_s", p["lambda_s"]),
                check_precision(self.name, "lambda_r", p["lambda_r"]))

    @staticmethod
    def _types(h: Hierarchy, names: tuple[str, ...], shares_s: NDArray[np.float64],
               shares_r: NDArray[np.float64], common: bool) -> tuple[Type, ...]:
        if common:
            return tuple(Type(n, float(w), sender=s, receiver=r, family=n)
                         for n, w, s, r in zip(names, shares_s, h.sender, h.receiver,
                                               strict=True))
        senders = [Type(n, float(w), sender=s, family=n)
                   for n, w, s in zip(names, shares_s, h.sender, strict=True)]
        receivers = [Type(n, float(w), receiver=r, family=n)
                     for n, w, r in zip(names, shares_r, h.receiver, strict=True)]
        return tuple(senders + receivers)

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        return f"{type(self).__name__}({opts})"

    @abstractmethod
    def _compute(self, game: Game, params: Mapping[str, float]) -> tuple[Any, ...]:
        """The prediction first, then what its pullback needs."""

    def predict(self, game: Game, params: Mapping[str, float]) -> Prediction:
        return self._compute(game, params)[0]


class LevelK(_HierarchyModel):
    """Level-k model: level k best-responds to noiseless level k − 1 (SPEC §3.2).

    Parameters
    ----------
    levels : int, default 3
        Highest level K; types are ``"L0"``…``"LK"``.
    l0_sender : {"truthful", "uniform"}
        Level-0 sender: tells the truth, or picks a message uniformly.
    l0_receiver : {"credulous", "uniform"}
        Level-0 receiver: logit response to the literal reading, or uniform.
    shares : {"common", "per_role"}
        ``"common"``: parameters ``p0…pK`` shared by both roles (each type carries a sender
        and a receiver strategy). ``"per_role"``: ``p0_s…pK_s`` (senders) and
        ``p0_r…pK_r`` (receivers); each type then carries one role's strategy.

    Notes
    -----
    Parameters: the shares (each in [0, 1], summing to 1 within 1e-6 per role), then
    ``lambda_s`` and ``lambda_r`` (≥ 0, ``inf`` allowed).

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> model = LevelK()
    >>> game = crawford_sobel(bias=1.2)
    >>> model.parameter_names()
    ('p0', 'p1', 'p2', 'p3', 'lambda_s', 'lambda_r')
    >>> pred = model.predict(game, model.default_params(game))
    >>> [ty.name for ty in pred.types]
    ['L0', 'L1', 'L2', 'L3']
    >>> LevelK(levels=1, shares="per_role").parameter_names()
    ('p0_s', 'p1_s', 'p0_r', 'p1_r', 'lambda_s', 'lambda_r')
    """

    name = "levelk"
    order = 30
    colour = "#0072B2"  # Okabe–Ito blue
    description = ("Level-k: truthful L0 sender, credulous L0 receiver; level k best-responds "
                   "to level k-1 with logit noise")

    def __init__(self, levels: int = 3, l0_sender: str = "truthful",
                 l0_receiver: str = "credulous", shares: str = "common") -> None:
        super().__init__(levels, l0_sender, l0_receiver)
        if shares not in _SHARES:
            raise ValueError(f"shares must be one of {_SHARES}, got {shares!r}")
        self.shares = shares

    def share_names(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """Names of the sender shares and of the receiver shares (equal if common)."""
        ks = range(self.levels + 1)
        if self.shares == "common":
            names = tuple(f"p{k}" for k in ks)
            return names, names
        return tuple(f"p{k}_s" for k in ks), tuple(f"p{k}_r" for k in ks)

    def parameter_names(self) -> tuple[str, ...]:
        s, r = self.share_names()
        shares = s if self.shares == "common" else s + r
        return (*shares, "lambda_s", "lambda_r")

    def inert_parameters(self, game: Game) -> frozenset[str]:
        """A precision whose every logit strategy responds to values that do not vary across
        the choices (up to rounding): e.g. ``lambda_s`` with ``l0_receiver="uniform"`` and one
        level, or with uniform level-0 senders and receivers. The noiseless hierarchy the
        levels respond to does not depend on any parameter, so this is a fact of the game.

        Examples
        --------
        >>> from cheaptalk.games import crawford_sobel
        >>> g = crawford_sobel()
        >>> LevelK().inert_parameters(g)
        frozenset()
        >>> LevelK(levels=1, l0_receiver="uniform").inert_parameters(g)
        frozenset({'lambda_s'})
        """
        h = hierarchy(game, self.levels, 1.0, 1.0, self.l0_sender, self.l0_receiver)

        def flat(values: tuple[NDArray[np.float64] | None, ...]) -> bool:
            return all(np.ptp(v, axis=-1).max() <= 1e-9 * (1.0 + np.abs(v).max())
                       for v in values if v is not None)

        return frozenset(name for name, values in (("lambda_s", h.sender_values),
                                                   ("lambda_r", h.receiver_values))
                         if flat(values))

    def default_params(self, game: Game) -> dict[str, float]:
        """Shares: Poisson(1.5) truncated at K; ``lambda_s = 0.5``, ``lambda_r = 0.2``."""
        shares = poisson_shares(DEFAULT_TAU, self.levels)
        s, r = self.share_names()
        out = {n: float(v) for n, v in zip(s, shares, strict=True)}
        out.update({n: float(v) for n, v in zip(r, shares, strict=True)})
        out.update(lambda_s=DEFAULT_LAMBDA_S, lambda_r=DEFAULT_LAMBDA_R)
        return out

    def check_values(self, params: Mapping[str, float]) -> dict[str, float]:
        """Names, numbers, shares (in [0, 1], summing to one) and precisions."""
        return self.check(params)[0]

    def check(self, params: Mapping[str, float]
              ) -> tuple[dict[str, float], NDArray[np.float64], NDArray[np.float64]]:
        """Validated parameters, sender shares and receiver shares."""
        p = self.check_params(params)
        s, r = self.share_names()
        shares_s = check_shares(self.name, s, [p[n] for n in s])
        shares_r = shares_s if r == s else check_shares(self.name, r, [p[n] for n in r])
        self._precisions(p)
        return p, shares_s, shares_r

    def _compute(self, game: Game, params: Mapping[str, float]
                 ) -> tuple[Prediction, Hierarchy, float, float]:
        p, shares_s, shares_r = self.check(params)
        lam_s, lam_r = self._precisions(p)
        h = hierarchy(game, self.levels, lam_s, lam_r, self.l0_sender, self.l0_receiver)
        types = self._types(h, self.level_names, shares_s, shares_r, self.shares == "common")
        return Prediction(game, types, model=self.name, params=p), h, lam_s, lam_r

    def predict_with_pullback(self, game: Game, params: Mapping[str, float]
                              ) -> tuple[Prediction, Pullback]:
        """The prediction and its exact vector–Jacobian product (module docstring); with
        ``shares="per_role"`` the sender types come first, then the receiver types."""
        pred, h, lam_s, lam_r = self._compute(game, params)
        n = self.levels + 1
        s_names, r_names = self.share_names()
        common = self.shares == "common"

        def pullback(w_bar: NDArray[np.float64], sender_bars: list[NDArray[np.float64] | None],
                     receiver_bars: list[NDArray[np.float64] | None]) -> dict[str, float]:
            w_bar = np.asarray(w_bar, dtype=float)
            out = {name: float(w_bar[k]) for k, name in enumerate(s_names)}
            if common:
                s_bars, r_bars = list(sender_bars[:n]), list(receiver_bars[:n])
            else:
                out.update({name: float(w_bar[n + k]) for k, name in enumerate(r_names)})
                s_bars, r_bars = list(sender_bars[:n]), list(receiver_bars[n:])
            out["lambda_s"], out["lambda_r"], _ = hierarchy_vjp(game, h, lam_s, lam_r,
                                                                s_bars, r_bars)
            return out

        return pred, pullback


class CognitiveHierarchy(_HierarchyModel):
    """Cognitive hierarchy: level k responds to the Poisson(τ) mixture of levels below.

    Parameters
    ----------
    levels : int, default 3
        Highest level K; population shares are Poisson(τ) truncated at K, renormalised.
    l0_sender : {"truthful", "uniform"}
    l0_receiver : {"credulous", "uniform"}

    Notes
    -----
    Parameters ``tau`` (> 0, finite), ``lambda_s``, ``lambda_r`` (≥ 0, ``inf`` allowed).

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> model = CognitiveHierarchy(levels=2)
    >>> game = crawford_sobel()
    >>> pred = model.predict(game, {"tau": 1.0, "lambda_s": 1.0, "lambda_r": 1.0})
    >>> [round(ty.weight, 3) for ty in pred.types]
    [0.4, 0.4, 0.2]
    """

    name = "ch"
    order = 40
    colour = "#56B4E9"  # Okabe–Ito sky blue
    description = ("Cognitive hierarchy: level k best-responds to the Poisson(tau) mixture of "
                   "levels 0..k-1")

    def nonsmooth_parameters(self) -> tuple[str, ...]:
        """``tau``: best responses to the Poisson(τ) mixture switch as τ moves."""
        return ("tau",)

    def parameter_names(self) -> tuple[str, ...]:
        return ("tau", "lambda_s", "lambda_r")

    def default_params(self, game: Game) -> dict[str, float]:
        """``tau = 1.5``, ``lambda_s = 0.5``, ``lambda_r = 0.2``."""
        return {"tau": DEFAULT_TAU, "lambda_s": DEFAULT_LAMBDA_S,
                "lambda_r": DEFAULT_LAMBDA_R}

    def beliefs(self, tau: float) -> NDArray[np.float64]:
        """``g[k, j]``: weight level k puts on level j < k (rows normalised over j < k)."""
        f = poisson_shares(tau, self.levels)
        g = np.tril(np.broadcast_to(f, (self.levels + 1, self.levels + 1)), k=-1)
        total = g.sum(axis=1, keepdims=True)
        return np.divide(g, total, out=np.zeros_like(g), where=total > 0)

    def check_values(self, params: Mapping[str, float]) -> dict[str, float]:
        """Names, numbers, a positive τ and the precisions."""
        return self.check(params)

    def check(self, params: Mapping[str, float]) -> dict[str, float]:
        """Validated parameters."""
        p = self.check_params(params)
        check_positive(self.name, "tau", p["tau"])
        self._precisions(p)
        return p

    def beliefs_derivative(self, tau: float) -> NDArray[np.float64]:
        """Derivative of :meth:`beliefs` with respect to τ (module docstring)."""
        g = self.beliefs(tau)
        j = np.arange(self.levels + 1, dtype=float)
        return g * (j[None, :] - (g @ j)[:, None]) / tau

    def _compute(self, game: Game, params: Mapping[str, float]
                 ) -> tuple[Prediction, Hierarchy, NDArray[np.float64], dict[str, float]]:
        p = self.check(params)
        lam_s, lam_r = self._precisions(p)
        beliefs = self.beliefs(p["tau"])
        h = hierarchy(game, self.levels, lam_s, lam_r, self.l0_sender, self.l0_receiver,
                      beliefs=beliefs)
        shares = poisson_shares(p["tau"], self.levels)
        types = self._types(h, self.level_names, shares, shares, True)
        return Prediction(game, types, model=self.name, params=p), h, beliefs, p

    def predict_with_pullback(self, game: Game, params: Mapping[str, float]
                              ) -> tuple[Prediction, Pullback]:
        """The prediction and its exact vector–Jacobian product (module docstring)."""
        pred, h, beliefs, p = self._compute(game, params)
        lam_s, lam_r, tau = p["lambda_s"], p["lambda_r"], p["tau"]
        shares = np.array([ty.weight for ty in pred.types])
        k = np.arange(self.levels + 1, dtype=float)
        shares_dot = shares * (k - shares @ k) / tau
        beliefs_dot = self.beliefs_derivative(tau)

        def pullback(w_bar: NDArray[np.float64], sender_bars: list[NDArray[np.float64] | None],
                     receiver_bars: list[NDArray[np.float64] | None]) -> dict[str, float]:
            ls, lr, tb = hierarchy_vjp(game, h, lam_s, lam_r, list(sender_bars),
                                       list(receiver_bars), beliefs, beliefs_dot)
            tb += float(np.asarray(w_bar, dtype=float) @ shares_dot)
            return {"tau": tb, "lambda_s": ls, "lambda_r": lr}

        return pred, pullback

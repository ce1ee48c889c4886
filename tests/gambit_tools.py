"""Build a cheaptalk :class:`~cheaptalk.games.Game` as a Gambit extensive game (tests only).

Tree: chance picks the state (prior), the sender moves at one information set per state
(actions = messages), the receiver at one information set per message (its nodes are the
message after every state; actions = receiver actions). Outcomes carry the raw payoffs, so
Gambit's logit λ is the same per-currency-unit λ as cheaptalk's.

Behaviour profiles are flat vectors in Gambit's order: the sender's information sets (states
in order), each over messages, then the receiver's (messages in order), each over actions.

pygambit is optional: tests that use it carry :data:`needs_gambit` and are skipped without it.
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np
import pytest

from cheaptalk.games import Game

try:
    import pygambit as gbt
except ImportError:  # an optional test dependency: the tests that need it are skipped
    gbt = None

#: Mark a test that needs pygambit: skipped, not failed, where it is not installed.
needs_gambit = pytest.mark.skipif(gbt is None, reason="pygambit is not installed")


def to_gambit(game: Game) -> gbt.Game:
    n_t, n_m, n_a = game.shape
    g = gbt.Game.new_tree(players=["sender", "receiver"], title=game.name)
    g.append_move(g.root, g.players.chance, [f"t{i}" for i in range(n_t)])
    probs = [Fraction(float(x)).limit_denominator(10**9) for x in game.prior[:-1]]
    probs.append(1 - sum(probs))
    g.set_chance_probs(g.root.infoset, [gbt.Rational(p.numerator, p.denominator) for p in probs])
    states = [g.root.children[f"t{i}"] for i in range(n_t)]
    for node in states:
        g.append_move(node, g.players["sender"], [f"m{m}" for m in range(n_m)])
    for m in range(n_m):
        nodes = [node.children[f"m{m}"] for node in states]
        g.append_move(nodes, g.players["receiver"], [f"a{a}" for a in range(n_a)])
    k = 0
    for i, node in enumerate(states):
        for m in range(n_m):
            for a in range(n_a):
                outcome = g.add_outcome(f"o{k}", [float(game.sender_payoff[i, a]),
                                                  float(game.receiver_payoff[i, a])])
                k += 1
                g.set_outcome(node.children[f"m{m}"].children[f"a{a}"], outcome)
    return g


def split(game: Game, vector) -> tuple[np.ndarray, np.ndarray]:
    """Flat Gambit behaviour vector -> (sigma[t, m], rho[m, a])."""
    n_t, n_m, n_a = game.shape
    v = np.asarray([float(x) for x in vector])
    return v[: n_t * n_m].reshape(n_t, n_m), v[n_t * n_m:].reshape(n_m, n_a)


def qre_vector(result) -> list[float]:
    """Probabilities of a ``LogitQREMixedBehaviorProfile`` (its ``.profile`` is unusable in
    pygambit 16.7, but it is indexable)."""
    return [result[i] for i in range(len(result))]


def profile_vector(profile) -> list[float]:
    """Probabilities of a ``MixedBehaviorProfile`` in Gambit's order."""
    return [float(profile[action]) for player in profile.game.players
            for infoset in player.infosets for action in infoset.actions]


def behavior_profile(g: gbt.Game, sigma: np.ndarray, rho: np.ndarray):
    """A Gambit ``MixedBehaviorProfile`` holding (sigma, rho)."""
    return g.mixed_behavior_profile(data=[[list(map(float, row)) for row in sigma],
                                          [list(map(float, row)) for row in rho]])

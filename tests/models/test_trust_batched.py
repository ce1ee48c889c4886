"""The trust model's batched strategies and pullback against a plain type-by-type reference.

The reference below is the textbook computation, one logit per type
(``rho_i = logit(prior + alpha_i * gain)``, ``sigma_j = logit(U_S(rho_bar) - beta_j C)``)
and one adjoint per type (``g = P * (bar - rowsum(bar * P))``), written here independently
of :mod:`cheaptalk.models.trust`; the model must agree with it to rounding.
"""

import numpy as np
import pytest

from cheaptalk.choice import logit
from cheaptalk.data import load_design, validate_table
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.games import crawford_sobel, forecast_sharing
from cheaptalk.models.base import CellAdjoints
from cheaptalk.models.trust import Trust, _mirror_pairs, _trust_parts, lie_cost_matrix
from cheaptalk.numerics.quadrature import alpha_quadrature, lognormal_weights, tanh_sinh01
from cheaptalk.simulation import Simulation
from pullback_check import random_adjoints

PARAMS = {"alpha_a": 1.7, "alpha_b": 2.6, "beta_mu": -1.1, "beta_sigma": 0.7,
          "lambda_s": 0.35, "lambda_r": 0.25}
MASSES = {"alpha_p0": 0.15, "alpha_p1": 0.2, "beta_p0": 0.1}
GAMES = {"crawford_sobel": crawford_sobel(), "forecast10": forecast_sharing(step=10)}


def reference(model, game, p, w_bar, s_bars, r_bars):
    """Strategies and gradient, type by type."""
    alpha, wa, beta, _, _, _ = model.nodes(p, game)
    lam_s, lam_r = p["lambda_s"], p["lambda_r"]
    prior = game.prior @ game.receiver_payoff
    gain = game.literal @ game.receiver_payoff - prior
    rho = [logit(prior + a * gain, lam_r) for a in alpha]
    rho_bar = sum(w * r for w, r in zip(wa, rho, strict=True))
    values = (rho_bar @ game.sender_payoff.T).T
    cost = lie_cost_matrix(game, model.lie_cost)
    sigma = [logit(values - b * cost, lam_s) for b in beta]
    n_a = alpha.size
    wa_bar, wb_bar = np.array(w_bar[:n_a], dtype=float), np.array(w_bar[n_a:], dtype=float)

    def adjoint(prob, bar):
        g = prob * bar
        return g - prob * g.sum(axis=1, keepdims=True)

    g_s = [adjoint(s, b) for s, b in zip(sigma, s_bars[n_a:], strict=True)]
    lam_s_bar = sum(np.sum(g * (values - b * cost)) for g, b in zip(g_s, beta, strict=True))
    rho_pop_bar = lam_s * (sum(g_s).T @ game.sender_payoff)
    lam_r_bar = 0.0
    for i, (r, b) in enumerate(zip(rho, r_bars[:n_a], strict=True)):
        wa_bar[i] += np.sum(r * rho_pop_bar)
        g = adjoint(r, b + wa[i] * rho_pop_bar)
        lam_r_bar += np.sum(g * (prior + alpha[i] * gain))
    # weights: the quadrature's derivatives, point masses linear
    out = {"lambda_s": lam_s_bar, "lambda_r": lam_r_bar}
    _, wa_c = alpha_quadrature(p["alpha_a"], p["alpha_b"], model.n_alpha)
    wb_c, d_mu, d_s = lognormal_weights(p["beta_mu"], p["beta_sigma"], model._log_nodes(game))
    _, log_x, log_1mx, _ = tanh_sinh01(model.n_alpha)
    cont_a, cont_b = wa_bar, wb_bar
    if model.point_masses:
        scale = 1.0 - p["alpha_p0"] - p["alpha_p1"]
        out["alpha_p0"] = out["alpha_p1"] = 0.0
        out["alpha_p0"] += wa_bar[0] - wa_bar[2:] @ wa_c
        out["alpha_p1"] += wa_bar[1] - wa_bar[2:] @ wa_c
        out["beta_p0"] = wb_bar[0] - wb_bar[1:] @ wb_c
        cont_a, cont_b = scale * wa_bar[2:], (1.0 - p["beta_p0"]) * wb_bar[1:]
    out["alpha_a"] = (cont_a * wa_c) @ (log_x - wa_c @ log_x)
    out["alpha_b"] = (cont_a * wa_c) @ (log_1mx - wa_c @ log_1mx)
    out["beta_mu"], out["beta_sigma"] = cont_b @ d_mu, cont_b @ d_s
    return rho, sigma, out


def reference_for(model, game, p, pred, adj):
    """:func:`reference` for the random adjoints ``adj`` of ``pred`` (a type's missing
    adjoint is zero)."""
    dense = ([np.zeros(t.receiver.shape) for t in pred.types if t.receiver is not None]
             + [np.zeros(t.sender.shape) for t in pred.types if t.sender is not None])
    s_bars = [b if b is not None else d for b, d in zip(adj[1], dense, strict=True)]
    r_bars = [b if b is not None else d for b, d in zip(adj[2], dense, strict=True)]
    return reference(model, game, p, adj[0], s_bars, r_bars)


def assert_close(grad, expected):
    scale = max(abs(v) for v in expected.values())
    for name, value in expected.items():
        assert abs(grad[name] - value) <= 1e-10 * scale, (name, grad[name], value)


@pytest.mark.parametrize("game_name", list(GAMES))
@pytest.mark.parametrize("masses", [False, True])
@pytest.mark.parametrize("lie_cost", ["linear", "inflation"])
# lambda_s = 500 and lambda_r = 100: some rows are recomputed directly
@pytest.mark.parametrize(("lambda_s", "lambda_r"), [(0.35, 0.25), (500.0, 0.25), (0.35, 100.0)])
def test_batched_trust_matches_type_by_type(game_name, masses, lie_cost, lambda_s, lambda_r):
    game = GAMES[game_name]
    model = Trust(lie_cost=lie_cost, point_masses=masses, n_alpha=12, n_beta=31)
    p = {**PARAMS, "lambda_s": lambda_s, "lambda_r": lambda_r, **(MASSES if masses else {})}
    pred, pullback = model.predict_with_pullback(game, p)
    adj = random_adjoints(pred, seed=3)
    rho, sigma, expected = reference_for(model, game, p, pred, adj)
    n_a = len(rho)
    for k, r in enumerate(rho):
        np.testing.assert_allclose(pred.types[k].receiver, r, rtol=1e-10, atol=1e-100)
    # Probabilities below about 1e-100 may lose digits to the shared shift (module
    # docstring of trust, "Computation"); beside the tremble they do not count.
    for k, s in enumerate(sigma):
        np.testing.assert_allclose(pred.types[n_a + k].sender, s, rtol=1e-10, atol=1e-100)
    assert_close(pullback(*adj), expected)


def test_fallback_rows_are_exercised():
    """At lambda_s = 500 some senders' normalisers underflow the common shift; at
    lambda_r = 100 some receivers' rows underflow the bound on their maximum."""
    game = GAMES["forecast10"]
    model = Trust(n_alpha=12, n_beta=31)
    alpha, wa, beta, wb, _, _ = model.nodes({**PARAMS, "lambda_s": 500.0}, game)
    assert _trust_parts(game, alpha, wa, beta, wb, 500.0, 0.25)[0].senders.bad.any()
    prior = game.prior @ game.receiver_payoff
    literal = game.literal @ game.receiver_payoff
    smallest = min(
        np.exp(100.0 * ((1 - a) * prior + a * literal
                        - ((1 - a) * prior.max() + a * literal.max(axis=1))[:, None])
               ).sum(axis=1).min()
        for a in alpha)
    assert smallest < 1e-200


@pytest.mark.parametrize("masses", [False, True])
def test_observed_cell_adjoints_give_the_dense_result(masses):
    """A pullback fed CellAdjoints (the likelihood's form) equals one fed dense arrays."""
    game = GAMES["forecast10"]
    model = Trust(point_masses=masses, n_alpha=12, n_beta=31)
    p = {**PARAMS, **(MASSES if masses else {})}
    pred, pullback = model.predict_with_pullback(game, p)
    rng = np.random.default_rng(5)
    n_a = sum(t.receiver is not None for t in pred.types)
    n = len(pred.types)
    args = []
    for role, shape in (("sender", (game.n_states, game.n_messages)),
                        ("receiver", (game.n_messages, game.n_actions))):
        cells = np.sort(rng.choice(shape[0] * shape[1], size=17, replace=False))
        has = [i for i, t in enumerate(pred.types) if getattr(t, role) is not None]
        values = rng.normal(size=(len(has), cells.size))
        rows = np.full(n, -1)
        rows[has] = np.arange(len(has))
        args.append(CellAdjoints(values, rows, cells, shape))
    w_bar = rng.normal(size=n)
    dense = [[b for b in bars] for bars in args]
    assert dense[0][0] is None and dense[1][n_a] is None
    assert_close(pullback(w_bar, *args), pullback(w_bar, *dense))


def test_likelihood_gradient_matches_the_reference():
    """The likelihood's value and gradient with the model equal those with a trust model
    whose pullback is the reference (same prediction): the whole path, cells included."""
    design = load_design("forecast_sharing")
    game = design.game(design.treatments[0])
    model = Trust(n_alpha=12, n_beta=31)
    sim = Simulation(design, model, PARAMS, subjects_per_role=3, rounds=4)
    ds = validate_table(sim.run(2), design)

    class Reference(Trust):
        def predict_with_pullback(self, game, params):
            pred = self.predict(game, params)

            def pullback(w_bar, s_bars, r_bars):
                zero_s = np.zeros((game.n_states, game.n_messages))
                zero_r = np.zeros((game.n_messages, game.n_actions))
                s = [zero_s if b is None else b for b in s_bars]
                r = [zero_r if b is None else b for b in r_bars]
                out = reference(self, game, self.check(params), w_bar, s, r)[2]
                return {n: out[n] for n in self.parameter_names()}
            return pred, pullback

    new = Likelihood(model, ds).evaluate(PARAMS, gradient=True)
    ref = Likelihood(Reference(n_alpha=12, n_beta=31), ds).evaluate(PARAMS, gradient=True)
    assert new.loglik == pytest.approx(ref.loglik, rel=1e-12)
    assert_close(new.gradient, ref.gradient)
    assert game.n_states == 201 and model.n_alpha == 12


@pytest.mark.parametrize("masses", [False, True])
# 0.25: every mirror a division; 100: exponents too small for it, and some rows recomputed
# directly
@pytest.mark.parametrize("lambda_r", [0.25, 100.0])
def test_mirror_nodes_in_a_large_game_match_type_by_type(masses, lambda_r):
    """In a large game (one type per batch) the receivers at 1 - alpha come from those at
    alpha by a division (module docstring, "Computation"): the same strategies and gradient
    as the type-by-type reference."""
    game = forecast_sharing(step=1)
    model = Trust(point_masses=masses, n_alpha=12, n_beta=31)
    p = {**PARAMS, "lambda_r": lambda_r, **(MASSES if masses else {})}
    alpha = model.nodes(p, game)[0]
    pairs = _mirror_pairs(alpha)
    assert sum(j is not None for _, j in pairs) == alpha.size // 2  # every node paired
    pred, pullback = model.predict_with_pullback(game, p)
    adj = random_adjoints(pred, seed=4)
    rho, _, expected = reference_for(model, game, p, pred, adj)
    for k, r in enumerate(rho):
        np.testing.assert_allclose(pred.types[k].receiver, r, rtol=1e-10, atol=1e-100)
    assert_close(pullback(*adj), expected)


def test_mirror_pairs():
    x = tanh_sinh01(9)[0]
    assert _mirror_pairs(x) == [(0, 8), (1, 7), (2, 6), (3, 5), (4, None)]
    assert _mirror_pairs(np.array([0.3, 0.1, 0.9])) == [(0, None), (1, 2)]
    assert _mirror_pairs(np.array([0.6, 0.7])) == [(0, None), (1, None)]

import numpy as np
import pytest

from cheaptalk.games import Game, crawford_sobel


def small_game(**kw):
    base = dict(states=[1.0, 2.0, 3.0], prior=[0.2, 0.3, 0.5], messages=[1.0, 1.5, 3.0, 5.0],
                actions=[0.0, 1.0], sender_payoff=[[1, 2], [3, 4], [5, 6]],
                receiver_payoff=[[1, 0], [0, 1], [2, 2]])
    base.update(kw)
    return Game(**base)


def test_literal_reading_nearest_state_ties_to_lower():
    g = small_game()
    # message 1.5 is equidistant from states 1 and 2 -> lower; 5.0 -> nearest is 3
    np.testing.assert_array_equal(g.literal, [[1, 0, 0], [1, 0, 0], [0, 0, 1], [0, 0, 1]])
    np.testing.assert_array_equal(g.truthful_message, [0, 1, 2])  # 2 -> 1.5


def test_sender_and_receiver_values_by_hand():
    g = small_game()
    rho = np.array([[1, 0], [0.5, 0.5], [0, 1], [0.25, 0.75]])
    us = g.sender_values(rho)
    # US[t=1, m=3] = 0.25 * uS[1,0] + 0.75 * uS[1,1] = 0.25*3 + 0.75*4
    assert us[1, 3] == pytest.approx(3.75)
    assert us.shape == (3, 4)
    q = np.array([[1, 0, 0], [0, 0.5, 0.5], [0, 0, 1], [1 / 3, 1 / 3, 1 / 3]])
    ur = g.receiver_values(q)
    np.testing.assert_allclose(ur[1], [1.0, 1.5])
    # leading axes: one receiver strategy per type
    stacked = g.sender_values(np.stack([rho, rho]))
    np.testing.assert_allclose(stacked[1], us)


def test_posterior_bayes_and_prior_off_path():
    g = small_game()
    sigma = np.array([[1, 0, 0, 0], [0.5, 0.5, 0, 0], [0, 1, 0, 0]])
    q = g.posterior(sigma)
    # message 0: p(1)*1 = 0.2, p(2)*0.5 = 0.15 -> (0.2, 0.15, 0)/0.35
    np.testing.assert_allclose(q[0], [0.2 / 0.35, 0.15 / 0.35, 0])
    np.testing.assert_allclose(q[1], [0, 0.15 / 0.65, 0.5 / 0.65])
    np.testing.assert_allclose(q[2], g.prior)  # never sent
    np.testing.assert_allclose(q[3], g.prior)


@pytest.mark.parametrize("kw,match", [
    (dict(prior=[0.5, 0.5, 0.5]), "prior"),
    (dict(prior=[0.5, 0.5]), "prior"),
    (dict(states=[3.0, 2.0, 1.0]), "increasing"),
    (dict(sender_payoff=[[1, 2]]), "sender_payoff"),
    (dict(receiver_payoff=[[1, np.nan], [0, 1], [2, 2]]), "finite"),
])
def test_invalid_games_rejected(kw, match):
    with pytest.raises(ValueError, match=match):
        small_game(**kw)


def test_strategy_checks():
    g = crawford_sobel()
    g.check_sender(np.full((5, 5), 0.2))
    with pytest.raises(ValueError, match="shape"):
        g.check_receiver(np.full((5, 5), 0.2))
    with pytest.raises(ValueError, match="probability"):
        g.check_sender(np.full((5, 5), 0.3))


def test_arrays_are_read_only():
    g = crawford_sobel()
    with pytest.raises(ValueError):
        g.sender_payoff[0, 0] = 1.0

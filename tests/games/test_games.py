import numpy as np
import pytest
from scipy import integrate

from cheaptalk.games import (
    binary_deception,
    crawford_sobel,
    expected_sales,
    forecast_sharing,
    game_kinds,
    newsvendor_capacity,
)


@pytest.mark.parametrize("noise", [20.0, 50.0, 7.5])
@pytest.mark.parametrize("xi,k", [(100, 50), (100, 85), (100, 100), (100, 117.3), (100, 160),
                                  (50, 0), (250, 270)])
def test_expected_sales_closed_form_matches_numerical_integration(xi, k, noise):
    numeric, _ = integrate.quad(lambda e: min(xi + e, k) / (2 * noise), -noise, noise,
                                points=[k - xi] if -noise < k - xi < noise else None)
    assert expected_sales(xi, k, noise) == pytest.approx(numeric, abs=1e-9)


def test_expected_sales_without_noise_is_min():
    assert float(expected_sales(100, 80, 0)) == 80.0


def test_forecast_game_grids_and_payoffs():
    g = forecast_sharing(forecast_low=50, forecast_high=250, step=1, noise=20,
                         capacity_cost=0.75)
    assert g.shape == (201, 201, 271)
    np.testing.assert_array_equal(g.messages, g.states)
    assert g.actions[0] == 0 and g.actions[-1] == 270
    np.testing.assert_allclose(g.prior, 1 / 201)
    t, a = 30, 90  # xi = 80, K = 90
    s = expected_sales(80, 90, 20)
    assert g.sender_payoff[t, a] == pytest.approx(1.0 * s)
    assert g.receiver_payoff[t, a] == pytest.approx(1.0 * s - 0.75 * 90)


def test_forecast_game_coarse_step_and_capacity_max():
    g = forecast_sharing(step=10, noise=25)
    assert g.n_states == 21
    assert g.actions[-1] == 270  # 275 rounded down to the step grid
    g2 = forecast_sharing(step=10, capacity_max=400)
    assert g2.actions[-1] == 400
    with pytest.raises(ValueError, match="multiple of step"):
        forecast_sharing(step=7)


def test_babbling_capacity_is_the_newsvendor_fractile():
    """The receiver's best response to the prior is the critical-fractile capacity."""
    for cost in (0.25, 0.75):
        g = forecast_sharing(step=1, noise=20, capacity_cost=cost)
        best = g.actions[np.argmax(g.prior_values())]
        k_star = newsvendor_capacity(50, 250, 20, 1.0, cost)
        assert abs(best - k_star) <= 1.0
    # closed form for noise -> 0: fractile of U[50, 250]
    assert newsvendor_capacity(50, 250, 1e-9, 1.0, 0.25) == pytest.approx(200, abs=0.1)


def test_crawford_sobel_payoffs():
    g = crawford_sobel(bias=0.5)
    assert g.shape == (5, 5, 9)
    t, a = 2, 3  # state 5, action 4
    assert g.receiver_payoff[t, a] == pytest.approx(110 - 10 * 1 ** 1.4)
    assert g.sender_payoff[t, a] == pytest.approx(110 - 10 * 1.5 ** 1.4)
    g2 = crawford_sobel(bias=2, states=[0, 1], actions=[0, 1, 2, 3], scale=1, exponent=2)
    assert g2.sender_payoff[1, 0] == pytest.approx(110 - 9)


def test_binary_deception_default_is_gneezy():
    g = binary_deception()
    # state 0: option A better for the receiver; sender gains from B
    assert g.receiver_payoff[0].tolist() == [6, 5] and g.sender_payoff[0].tolist() == [5, 6]
    with pytest.raises(ValueError, match="2x2"):
        binary_deception(sender_payoffs=[[1, 2, 3], [1, 2, 3]])


def test_every_game_kind_is_discovered():
    assert set(game_kinds()) >= {"forecast_sharing", "crawford_sobel", "binary_deception"}


# ---- sizes are checked before memory is allocated (MAX_TABLE_CELLS)
@pytest.mark.parametrize(("kwargs", "words"), [
    ({"states": range(5000), "actions": range(5000)},
     "states gives 5000 states x 5000 actions = 2.5e+07 cells"),
    # few actions, but 4000 messages (the states) per state: the strategy tables
    ({"states": range(4000), "actions": [0, 1]},
     "states gives 4000 states x 4000 messages = 1.6e+07 cells"),
])
def test_crawford_sobel_grid_too_large_is_refused_before_allocating(kwargs, words):
    from helpers import peak_allocation

    error, peak = peak_allocation(crawford_sobel, bias=0.5, **kwargs)
    assert isinstance(error, ValueError) and str(error).startswith(words), error
    assert peak < 20e6  # one 5000 x 5000 table alone is 200 MB


def test_crawford_sobel_design_too_large_is_refused_at_its_key():
    from cheaptalk.data import InputError, parse_design

    grid = list(range(1, 5001))
    text = (f'game = "crawford_sobel"\n[treatments.T]\nstates = {grid}\nactions = {grid}\n'
            "bias = 0.5\n")
    with pytest.raises(InputError) as info:
        parse_design(text, "big.toml")
    assert info.value.key == "treatments.T.states" and info.value.line == 3
    assert "5000 states x 5000 actions" in str(info.value) and "1e+07" in str(info.value)
    # just under the limit: builds
    ok = list(range(1, 3001))
    g = parse_design(text.replace(str(grid), str(ok)), "ok.toml").game("T")
    assert g.shape == (3000, 3000, 3000)

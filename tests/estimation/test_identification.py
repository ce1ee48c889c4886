"""Parameter names per model (SPEC §3.5): mixed designs, parameters no treatment identifies,
and clustered standard errors that one cluster cannot give.

Crawford–Sobel with states 1…9: the most informative equilibrium separates every state at
bias 1 and babbles at bias 3 (checked below), so ``lambda_s`` of ``equilibrium`` matters in
the first treatment only.
"""

import numpy as np
import pytest
from scipy import optimize

from cheaptalk.choice import logit
from cheaptalk.data import parse_design, validate_table
from cheaptalk.estimation import MaximumLikelihood
from cheaptalk.estimation.likelihood import Likelihood
from cheaptalk.models import get_model
from cheaptalk.models.aqre import default_precision
from cheaptalk.models.equilibrium import most_informative_equilibrium
from cheaptalk.simulation import Simulation

TREATMENT = """
[treatments.{name}]
states = [1, 3, 5, 7, 9]
actions = [1, 2, 3, 4, 5, 6, 7, 8, 9]
bias = {bias}
"""
TRUE = {"lambda_s": 0.05, "lambda_r": 0.4}   # lambda_s small enough to matter


def design(**biases):
    return parse_design('game = "crawford_sobel"\n' + "".join(
        TREATMENT.format(name=n, bias=b) for n, b in biases.items()))


def simulate(d, subjects=6, rounds=15, seed=3, params=TRUE):
    df = Simulation(d, get_model("equilibrium"), params, subjects_per_role=subjects,
                    rounds=rounds).run(seed=seed)
    return validate_table(df, d)


@pytest.fixture(scope="module")
def mixed():
    d = design(sep=1, babble=3)
    return d, simulate(d)


@pytest.fixture(scope="module")
def babbling_fit():
    d = design(babble=3, more=4)
    data = simulate(d)
    return data, MaximumLikelihood(get_model("equilibrium"), data).fit(n_starts=1)


def test_biases_1_and_3_separate_and_babble():
    d = design(sep=1, babble=3)
    assert most_informative_equilibrium(d.game("sep")).n_intervals == 5
    assert most_informative_equilibrium(d.game("babble")).is_babbling
    model = get_model("equilibrium")
    assert model.inert_parameters(d.game("sep")) == frozenset()
    assert model.inert_parameters(d.game("babble")) == {"lambda_s"}


def test_mixed_design_predicts_simulates_and_fits(mixed):
    d, data = mixed
    model = get_model("equilibrium")
    for g in d.treatments:   # one parameter vector serves both treatments
        model.predict(d.game(g), TRUE)
    fit = MaximumLikelihood(model, data).fit(n_starts=1)
    assert fit.not_identified == [] and fit.df_model == 2
    assert np.all(np.isfinite(fit.bse_sandwich)) and np.all(np.isfinite(fit.bse))
    assert fit.aic == pytest.approx(2 * 2 - 2 * fit.llf)
    # lambda_s is learnt from the separating treatment alone: the likelihood moves with it
    lik = Likelihood(model, data)
    moved = lik.evaluate({**fit.model_params, "lambda_s": 2 * fit.params["lambda_s"]})
    assert moved.loglik < fit.llf - 1.0


def test_not_identified_on_babbling_data(babbling_fit):
    data, fit = babbling_fit
    game = data.design.game("babble")
    assert fit.not_identified == ["lambda_s"]
    assert fit.df_model == 1
    assert fit.aic == pytest.approx(2 * 1 - 2 * fit.llf)
    assert fit.bic == pytest.approx(np.log(fit.nobs) - 2 * fit.llf)
    # held at its start value (the default precision), with no standard error
    assert fit.params["lambda_s"] == default_precision(game)
    assert np.isnan(fit.bse["lambda_s"]) and np.isnan(fit.bse_sandwich["lambda_s"])
    assert np.isfinite(fit.bse["lambda_r"]) and np.isfinite(fit.bse_sandwich["lambda_r"])
    ci = fit.conf_int()
    assert ci.loc["lambda_s"].isna().all()
    text = fit.summary()
    assert "lambda_s" in text and "not identified" in text
    assert "Free parameters: 1" in text
    doc = fit.to_dict()
    assert doc["not_identified"] == ["lambda_s"] and doc["n_params"] == 1
    assert doc["se"]["lambda_s"] is None


def test_babbling_estimate_of_lambda_r_by_hand(babbling_fit):
    """Babbling: every sender decision has probability 1/5 and every receiver plays
    logit(U_R(prior), lambda_r) after every message; maximise that by hand."""
    data, fit = babbling_fit
    eps = fit.epsilon
    table = data.table

    def loglik(lam):
        total = 0.0
        for g in data.design.treatments:
            game = data.design.game(g)
            rho = logit(game.prior_values(), lam)
            actions = data.action[(table["treatment"] == g).to_numpy()]
            total += np.sum(np.log((1 - eps) * rho[actions] + eps / game.n_actions))
        return total + len(table) * np.log(1 / 5)

    best = optimize.minimize_scalar(lambda x: -loglik(np.exp(x)), bounds=(-8, 4),
                                    method="bounded", options={"xatol": 1e-10})
    assert fit.params["lambda_r"] == pytest.approx(np.exp(best.x), rel=1e-4)
    assert fit.llf == pytest.approx(-best.fun, abs=1e-6)


def test_not_identified_parameter_held_at_a_given_start(babbling_fit):
    data, _ = babbling_fit
    fit = MaximumLikelihood(get_model("equilibrium"), data).fit(
        start={"lambda_s": 7.0, "lambda_r": 0.2}, n_starts=1, standard_errors=False)
    assert fit.params["lambda_s"] == 7.0 and fit.not_identified == ["lambda_s"]


def test_fixed_by_the_user_stays_fixed(mixed):
    _, data = mixed
    fit = MaximumLikelihood(get_model("equilibrium"), data, fixed={"lambda_s": 0.25}).fit(
        n_starts=1, standard_errors=False)
    assert fit.params["lambda_s"] == 0.25 and fit.not_identified == [] and fit.df_model == 1


def test_aqre_principal_per_role_lambda_s_not_identified():
    """The principal AQRE branch babbles in every cheap-talk game: lambda_s never matters."""
    d = design(sep=1)
    data = simulate(d, subjects=4, rounds=8)
    model = get_model("aqre", roles="per_role")
    game = d.game("sep")
    a = model.predict(game, {"lambda_s": 0.1, "lambda_r": 0.5})
    b = model.predict(game, {"lambda_s": 5.0, "lambda_r": 0.5})
    np.testing.assert_array_equal(a.sender, b.sender)
    np.testing.assert_array_equal(a.receiver, b.receiver)
    fit = MaximumLikelihood(model, data).fit(n_starts=1)
    assert fit.not_identified == ["lambda_s"] and fit.df_model == 1
    # babbling whatever lambda_s: the same likelihood as one common precision lambda_r
    assert fit.llf == pytest.approx(Likelihood(get_model("aqre"), data).evaluate(
        {"lambda": fit.params["lambda_r"]}).loglik, abs=1e-9)


@pytest.mark.parametrize(("spec", "inert"), [
    ("equilibrium", {"lambda_s", "lambda_r"}), ("aqre", {"lambda"}),
    ("aqre[roles=per_role]", {"lambda_s", "lambda_r"})])
def test_an_indifferent_receiver_identifies_no_precision(spec, inert):
    """In the binary deception game the receiver is indifferent between the options under
    the prior, so at the babbling solution no precision moves the prediction: each is
    declared inert, and a fit holds it fixed and counts no free parameter."""
    from cheaptalk.data import load_design
    from cheaptalk.models.spec import model_from

    d = load_design("binary_deception")
    game = d.game(d.treatments[0])
    model = model_from(spec)
    assert model.inert_parameters(game) == inert
    low = model.predict(game, dict.fromkeys(model.parameter_names(), 0.1))
    high = model.predict(game, dict.fromkeys(model.parameter_names(), 5.0))
    np.testing.assert_allclose(low.sender, high.sender, atol=1e-15)
    np.testing.assert_allclose(low.receiver, high.receiver, atol=1e-15)
    data = validate_table(Simulation(d, get_model("levelk"),
                                     get_model("levelk").default_params(game),
                                     subjects_per_role=4, rounds=4).run(seed=1), d)
    fit = MaximumLikelihood(model, data).fit(n_starts=1)
    assert set(fit.not_identified) == inert and fit.df_model == 0
    # where the receiver is not indifferent, its precision does matter
    cs = design(sep=1).game("sep")
    assert "lambda_r" not in get_model("equilibrium").inert_parameters(cs)


def test_mixed_bounds_take_the_tightest_floor():
    """Trust's beta_sigma floor depends on the game: the fit keeps the largest one."""
    d_wide = parse_design(
        'game = "crawford_sobel"\n' + TREATMENT.format(name="low", bias=0.5)
        + '[treatments.wide]\nstates = [1, 3, 5, 7, 9, 11, 13, 15, 17]\n'
          'actions = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]\nbias = 1.0\n')
    model = get_model("trust")
    floors = [model.bounds(d_wide.game(g))["beta_sigma"][0] for g in d_wide.treatments]
    assert floors[0] != pytest.approx(floors[1])
    params = model.default_params(d_wide.game("low"))
    df = Simulation(d_wide, model, params, subjects_per_role=2, rounds=2).run(seed=0)
    est = MaximumLikelihood(model, validate_table(df, d_wide))
    assert est.space.bounds["beta_sigma"][0] == pytest.approx(max(floors))


# ------------------------------------------------------------- one cluster, no sandwich
def test_one_subject_per_role_has_no_sandwich_errors():
    d = design(sep=1)
    data = simulate(d, subjects=1, rounds=40, seed=5)
    assert data.table["sender"].nunique() == 1 and data.table["receiver"].nunique() == 1
    fit = MaximumLikelihood(get_model("equilibrium"), data).fit(n_starts=1)
    # each precision is informed by one subject only: the sandwich cannot be estimated
    assert np.isnan(fit.bse_sandwich).all()
    assert np.isfinite(fit.bse).all() and (fit.bse > 1e-4).all()
    assert fit.conf_int().isna().all().all()
    assert fit.convergence["sandwich_unavailable"] == ["lambda_s", "lambda_r"]
    assert "at least two subjects" in fit.convergence["warning"]
    text = fit.summary()
    assert "n/a" in text and "at least two subjects" in text
    assert fit.to_dict()["se"] == {"lambda_s": None, "lambda_r": None}


def test_one_sender_many_receivers():
    """Only lambda_s loses its sandwich: four receivers inform lambda_r."""
    d = design(sep=1)
    full = simulate(d, subjects=4, rounds=30, seed=2)
    table = full.table
    one = table[table["sender"] == table["sender"].iloc[0]].reset_index(drop=True)
    data = validate_table(one, d)
    assert one["sender"].nunique() == 1 and one["receiver"].nunique() >= 2
    fit = MaximumLikelihood(get_model("equilibrium"), data).fit(n_starts=1)
    assert np.isnan(fit.bse_sandwich["lambda_s"]) and np.isfinite(fit.bse["lambda_s"])
    assert np.isfinite(fit.bse_sandwich["lambda_r"]) and fit.bse_sandwich["lambda_r"] > 1e-4
    assert fit.convergence["sandwich_unavailable"] == ["lambda_s"]


def test_two_subjects_per_role_keep_their_sandwich():
    d = design(sep=1)
    fit = MaximumLikelihood(get_model("equilibrium"),
                            simulate(d, subjects=2, rounds=20, seed=5)).fit(n_starts=1)
    assert np.isfinite(fit.bse_sandwich).all() and (fit.bse_sandwich > 1e-6).all()
    assert "sandwich_unavailable" not in fit.convergence

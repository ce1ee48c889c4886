"""A two-type model with a hand-written pullback, used to test the estimation machinery
independently of the real models.

Type "honest" (share q): sigma = logit(-D, lambda_s), rho = logit(UR(L), lambda_r).
Type "babbler" (share 1 - q): sigma uniform, rho = logit(prior values, lambda_r) everywhere.
"""

import numpy as np

from cheaptalk.choice import logit, logit_vjp
from cheaptalk.models.base import Model, Prediction, Type

#: The toy parameters that generate the test data of tests/estimation (conftest.cs_data).
TRUE = {"q": 0.6, "lambda_s": 0.8, "lambda_r": 0.3}


class Toy(Model):
    name = ""  # not registered
    description = "two-type test model"

    def parameter_names(self):
        return ("q", "lambda_s", "lambda_r")

    def default_params(self, game):
        return {"q": 0.5, "lambda_s": 0.5, "lambda_r": 0.5}

    def _parts(self, game, params):
        p = self.check_params(params)
        v_sender = -np.abs(game.messages[None, :] - game.states[:, None])  # lie size
        v_honest = game.receiver_values(game.literal)
        v_babble = np.broadcast_to(game.prior_values(), v_honest.shape)
        s_h = logit(v_sender, p["lambda_s"])
        r_h = logit(v_honest, p["lambda_r"])
        r_b = logit(v_babble, p["lambda_r"])
        s_b = np.full((game.n_states, game.n_messages), 1 / game.n_messages)
        types = (Type("honest", p["q"], s_h, r_h), Type("babbler", 1 - p["q"], s_b, r_b))
        return p, types, (v_sender, v_honest, v_babble)

    def predict(self, game, params):
        return Prediction(game, self._parts(game, params)[1], "toy", params)

    def predict_with_pullback(self, game, params):
        p, types, (v_s, v_h, v_b) = self._parts(game, params)

        def pullback(w_bar, s_bar, r_bar):
            d_ls, _ = logit_vjp(types[0].sender, v_s, s_bar[0], p["lambda_s"])
            d_lr1, _ = logit_vjp(types[0].receiver, v_h, r_bar[0], p["lambda_r"])
            d_lr2, _ = logit_vjp(types[1].receiver, v_b, r_bar[1], p["lambda_r"])
            return {"q": w_bar[0] - w_bar[1], "lambda_s": d_ls, "lambda_r": d_lr1 + d_lr2}

        return Prediction(game, types, "toy", params), pullback

    def bounds(self, game):
        return {"q": (0.0, 1.0), "lambda_s": (0.0, np.inf), "lambda_r": (0.0, np.inf)}


class Honest(Toy):
    """Toy restricted to q = 1 (nested; fewer parameters)."""

    def parameter_names(self):
        return ("lambda_s", "lambda_r")

    def default_params(self, game):
        return {"lambda_s": 0.5, "lambda_r": 0.5}

    def _parts(self, game, params):
        return Toy._parts(self, game, {**params, "q": 1.0 - 1e-12})

    def check_params(self, params):
        return dict(params)

    def predict_with_pullback(self, game, params):
        pred, pb = Toy.predict_with_pullback(self, game, {**params, "q": 1.0 - 1e-12})
        return pred, lambda *a: {k: v for k, v in pb(*a).items() if k != "q"}


r"""Homotopy continuation for the logit AQRE of a cheap-talk game (the solver of
:mod:`cheaptalk.models.aqre`, where the equilibrium and its branches are defined).

The receiver strategy is an explicit function of :math:`\sigma`, so the unknowns are the
sender's log-odds :math:`y[t, m] = \log\sigma[t, m] - \log\sigma[t, 0]` (:math:`m \ge 1`),
and an AQRE solves

.. math::

    F(y) = y - \lambda_S\,\big(U_S[t, m] - U_S[t, 0]\big)\big|_{\rho(\sigma(y))} = 0 .

Posteriors and choice probabilities are computed in log space, so probabilities as small as
:math:`10^{-300}` stay exact. The Jacobian is analytic (chain rule through posterior,
receiver logit and sender values). Newton systems are solved exactly with the game's
structure: with :math:`v` the change of :math:`\log\sigma`, the system is
:math:`v - \lambda_S C_\sigma B v = S r`, where :math:`B` is block diagonal by message
(:math:`n_m` blocks :math:`B_m[t, s] = \partial U_S[t, m] / \partial\log\sigma[s, m]`,
through posterior, receiver logit and sender values) and :math:`C_\sigma` centres each
state's row on :math:`\sigma`. Each block :math:`K_m = I - \lambda_S B_m` is inverted; the
centring is a rank-:math:`n_t` correction solved through the :math:`n_t \times n_t`
capacitance matrix :math:`\sum_m \operatorname{diag}(\sigma[:, m]) K_m^{-1}` (Woodbury).

Solutions are traced along a homotopy :math:`H(y, s) = 0`, :math:`s \in [0, 1]`, by
pseudo-arclength continuation (predictor along the tangent, Newton corrector on the bordered
system with one factorisation per step, reused for the rest of the corrector and, refined
by Jacobian-vector products, for the next tangent; arclength measured in an approximate
Fisher metric of :math:`\sigma`, adaptive steps, and guards against jumping between parts
of the path), which follows the path through its turning points. A final Newton polish
at :math:`s = 1` brings the residual
:math:`\max|\sigma - \operatorname{logit}(U_S(\rho), \lambda_S)|` below :math:`10^{-10}`
(:attr:`AQRESolution.residual`).

In degenerate games (the forecast-sharing game, whose sender payoffs are flat in capacity
above :math:`\xi + e`, has bifurcations) the path can occasionally not be followed: it
returns to its start or the step limit is reached. The solver then continues monotonically
in :math:`s` from the furthest point reached, re-solving by Newton at each :math:`s` (at a
fold Newton converges to a nearby solution: the "delay convention"), and reports it
(``AQRESolution.path_followed = False``).

**Homotopies** (:class:`_System`). ``branch="principal"`` scales both precisions,
:math:`(s\lambda_S, s\lambda_R)` with the Bayes belief, from the uniform profile at
:math:`s = 0`; the symmetric (babbling) point solves every equation of this path exactly, so
the tracer stays on it. ``branch="literal"`` keeps the precisions and mixes the receiver's
belief, :math:`h\,L + (1 - h)\,q(\sigma)` with :math:`h = 1 - s`, from the credulous
profile at :math:`s = 0` (a unique solution) to the game at :math:`s = 1`.

**Derivatives** (:func:`aqre_vjp`). With :math:`F(y, \lambda) = 0`, :math:`\bar x =
\partial S/\partial y` (through :math:`\sigma(y)` and :math:`\rho(\sigma(y), \lambda_R)`)
and :math:`J_y^T z = \bar x`, :math:`dS/d\lambda = \partial S/\partial\lambda - z^T
\partial F/\partial\lambda` (adjoint method, implicit function theorem); the transposed
system is solved with the same structured factorisation as the Newton steps. At the
babbling solution :math:`F(0, \lambda) = 0` for every :math:`\lambda`, so σ does not move
and ρ moves only through :math:`\lambda_R` at the prior belief: no factorisation needed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.special import logsumexp

from cheaptalk._threads import single_blas_thread
from cheaptalk.games.base import Game

__all__ = ["TOLERANCE", "AQRESolution", "ConvergenceError", "aqre_vjp", "check_aqre_size",
           "solve_aqre", "solve_aqre_state"]

#: Residual target (probability scale) of a returned solution.
TOLERANCE = 1e-10


class ConvergenceError(RuntimeError):
    """The AQRE path could not be followed to its end."""


@dataclass(frozen=True)
class _Point:
    """Everything the map and its Jacobian need at one (y, s)."""

    sig: NDArray[np.float64]     # sender sigma[t, m]
    ls: NDArray[np.float64]      # log sigma
    q: NDArray[np.float64]       # receiver belief q[m, t]
    qw: NDArray[np.float64]      # dq[m] = qw[m] * dls[:, m] - qq[m] (qw[m] . dls[:, m])
    qq: NDArray[np.float64]
    dq_ds: NDArray[np.float64]   # derivative of q along the homotopy (lam fixed)
    ur: NDArray[np.float64]      # receiver values [m, a]
    rho: NDArray[np.float64]     # receiver strategy [m, a]
    us: NDArray[np.float64]      # sender values [t, m]
    lam_s: float
    lam_r: float
    h: float                     # credulity weight (1 at the start of the literal branch)
    f: NDArray[np.float64]       # residual [t * (m - 1)]


def _softmax_rows(z: NDArray[np.float64]) -> NDArray[np.float64]:
    with np.errstate(invalid="ignore"):
        out = np.exp(z - logsumexp(z, axis=1, keepdims=True))
    return out


class _System:
    """The AQRE equations along a homotopy in ``s``, 0 (start) to 1 (the game).

    ``principal``: precisions ``s * lam``, Bayes belief. ``literal`` (credulity homotopy):
    precisions fixed, belief ``h L + (1 - h) q(sigma)`` with ``h = 1 - s``.
    """

    def __init__(self, game: Game, lam_s: float, lam_r: float, branch: str) -> None:
        self.game = game
        self.lam_s, self.lam_r, self.branch = lam_s, lam_r, branch
        self.us_pay = np.ascontiguousarray(game.sender_payoff.T)      # [a, t]
        self.ur_pay = game.receiver_payoff                            # [t, a]
        self.literal = np.asarray(game.literal)                        # [m, t]
        with np.errstate(divide="ignore"):
            self.log_prior = np.log(game.prior)
        self.n_t, self.n_m = game.n_states, game.n_messages
        self.size = self.n_t * (self.n_m - 1)
        self.factorisations = 0     # Jacobian factorisations so far (the cost that matters)

    def params(self, s: float) -> tuple[float, float, float]:
        """``(lam_s, lam_r, h)`` at path parameter ``s``."""
        if self.branch == "principal":
            return s * self.lam_s, s * self.lam_r, 0.0
        return self.lam_s, self.lam_r, max(0.0, 1.0 - s)

    def evaluate(self, y: NDArray[np.float64], s: float) -> _Point:
        lam_s, lam_r, h = self.params(s)
        yy = np.concatenate([np.zeros((self.n_t, 1)), y.reshape(self.n_t, self.n_m - 1)], axis=1)
        ls = yy - logsumexp(yy, axis=1, keepdims=True)
        sig = np.exp(ls)
        qb = _softmax_rows(self.log_prior[None, :] + ls.T)              # Bayes under sigma
        if self.branch == "principal":
            q, qw, qq = qb, qb, qb
            dq_ds = np.zeros_like(q)
        else:
            q = h * self.literal + (1.0 - h) * qb
            qw, qq = (1.0 - h) * qb, qb
            dq_ds = qb - self.literal
        ur = q @ self.ur_pay
        x = lam_r * ur
        x -= x.max(axis=1, keepdims=True)
        rho = np.exp(x)
        rho /= rho.sum(axis=1, keepdims=True)
        us = (rho @ self.us_pay).T                                        # [t, m]
        f = y.reshape(self.n_t, self.n_m - 1) - lam_s * (us[:, 1:] - us[:, :1])
        return _Point(sig, ls, q, qw, qq, dq_ds, ur, rho, us, lam_s, lam_r, h, f.ravel())

    def jvp(self, p: _Point, dy: NDArray[np.float64] | None, ds: float = 0.0
            ) -> NDArray[np.float64]:
        """Directional derivative of F: ``dF = J_y dy + F_s ds``; ``dy`` shape (B, N) or None."""
        n_t, n_m = self.n_t, self.n_m
        if dy is None:
            dy = np.zeros((1, self.size))
        dy = np.atleast_2d(dy)
        b = dy.shape[0]
        principal = self.branch == "principal"
        d_lam_s, d_lam_r = (ds * self.lam_s, ds * self.lam_r) if principal else (0.0, 0.0)
        dyy = np.concatenate([np.zeros((b, n_t, 1)), dy.reshape(b, n_t, n_m - 1)], axis=2)
        dls = np.swapaxes(dyy - np.einsum("tm,btm->bt", p.sig, dyy)[:, :, None], 1, 2)
        dq = p.qw[None] * dls - p.qq[None] * np.einsum("mt,bmt->bm", p.qw, dls)[:, :, None]
        if ds != 0.0 and not principal:
            dq = dq + ds * p.dq_ds[None]
        dur = dq @ self.ur_pay                                                # [b, m, a]
        drho = p.lam_r * p.rho[None] * (dur - np.einsum("ma,bma->bm", p.rho, dur)[:, :, None])
        if d_lam_r != 0.0:
            drho = drho + d_lam_r * (p.rho * (p.ur - (p.rho * p.ur).sum(1, keepdims=True)))[None]
        dus = np.swapaxes(drho @ self.us_pay, 1, 2)                           # [b, t, m]
        dphi = p.lam_s * (dus[:, :, 1:] - dus[:, :, :1])
        if d_lam_s != 0.0:
            dphi = dphi + d_lam_s * (p.us[:, 1:] - p.us[:, :1])[None]
        return dy - dphi.reshape(b, self.size)

    def jacobian(self, p: _Point) -> NDArray[np.float64]:
        """Dense ``J_y`` (rows: equations), shape (N, N)."""
        return self.jvp(p, np.eye(self.size)).T

    def start(self) -> NDArray[np.float64]:
        """The unique solution at s = 0."""
        if self.branch == "principal":
            return np.zeros(self.size)
        game = self.game
        ur = game.receiver_values(self.literal)
        x = self.lam_r * (ur - ur.max(axis=1, keepdims=True))
        rho = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
        us = game.sender_values(rho)
        return (self.lam_s * (us[:, 1:] - us[:, :1])).ravel()


class _Factor:
    """Direct solver for ``J_y dy = r`` at one point (block inverses per message and the
    Woodbury correction of the module docstring), built lazily on the first solve."""

    def __init__(self, system: _System, point: _Point) -> None:
        self.system, self.point = system, point
        self._k_inv: NDArray[np.float64] | None = None
        self._cap: NDArray[np.float64] | None = None

    def _build(self) -> None:
        sy, p = self.system, self.point
        sy.factorisations += 1
        n_t, n_m = sy.n_t, sy.n_m
        us, ur = sy.game.sender_payoff, sy.game.receiver_payoff          # [t, a]
        qw, qq = p.qw, p.qq
        k_inv = np.empty((n_m, n_t, n_t))
        chunk = max(1, int(4_000_000 // max(1, n_t * sy.game.n_actions)))
        eye = np.eye(n_t)
        for lo in range(0, n_m, chunk):
            rho = p.rho[lo:lo + chunk]                                     # [c, a]
            a_mat = (us[None] * rho[:, None, :]) @ ur.T                    # [c, t, s]
            a_mat -= (rho @ us.T)[:, :, None] * (rho @ ur.T)[:, None, :]
            aq = a_mat @ qq[lo:lo + chunk, :, None]                        # [c, t, 1]
            b_mat = p.lam_r * (a_mat - aq) * qw[lo:lo + chunk, None, :]
            k_inv[lo:lo + chunk] = np.linalg.inv(eye[None] - p.lam_s * b_mat)
        self._k_inv = k_inv
        self._cap = np.linalg.inv(np.einsum("tm,mts->ts", p.sig, k_inv))

    def _trivial(self, r: NDArray[np.float64]) -> bool:
        """Whether ``J_y`` acts as the identity on ``r`` (no sender precision, or r = 0);
        otherwise build the factorisation if not yet built."""
        if self.point.lam_s == 0.0 or not np.any(r):
            return True
        if self._k_inv is None:
            self._build()
        return False

    def solve(self, r: NDArray[np.float64]) -> NDArray[np.float64]:
        """``J_y^{-1} r`` for ``r`` of shape (N,) or (k, N) (k right-hand sides at once: the
        blocks are read once, which is what a solve costs)."""
        r = np.asarray(r, dtype=float)
        if self._trivial(r):
            return r.copy()
        sy, p = self.system, self.point
        assert self._k_inv is not None and self._cap is not None
        rk = np.atleast_2d(r)
        n_rhs = rk.shape[0]
        rr = np.concatenate([np.zeros((n_rhs, sy.n_t, 1)),
                             rk.reshape(n_rhs, sy.n_t, sy.n_m - 1)], axis=2)   # [k, t, m]
        b = rr - (p.sig[None] * rr).sum(axis=2, keepdims=True)
        c = self._k_inv @ np.transpose(b, (2, 1, 0))                        # [m, t, k]
        g = ((p.sig.T[:, :, None] * c).sum(axis=0).T / p.lam_s) @ self._cap.T  # [k, t]
        v = c - p.lam_s * (self._k_inv @ g.T[None])                          # [m, t, k]
        out = (v[1:] - v[:1]).transpose(2, 1, 0).reshape(n_rhs, sy.size)
        return out if r.ndim == 2 else out[0]

    def solve_transpose(self, r: NDArray[np.float64]) -> NDArray[np.float64]:
        """``J_y^{-T} r`` for ``r`` of shape (N,): the transpose of :meth:`solve`, step by step."""
        if self._trivial(r):
            return r.copy()
        sy, p = self.system, self.point
        assert self._k_inv is not None and self._cap is not None
        n_t, n_m = sy.n_t, sy.n_m
        # v -> (v[:, 1:] - v[:, :1]), transposed
        rr = r.reshape(n_t, n_m - 1)
        v_bar = np.concatenate([-rr.sum(axis=1, keepdims=True), rr], axis=1)   # [t, m]
        # v = c - lam_s K_m^{-1} g, g = cap (sum_m sigma c) / lam_s, c = K_m^{-1} b
        g_bar = -p.lam_s * np.einsum("mts,tm->s", self._k_inv, v_bar)
        u_bar = self._cap.T @ g_bar
        c_bar = v_bar + p.sig * (u_bar / p.lam_s)[:, None]
        b_bar = np.einsum("mts,tm->sm", self._k_inv, c_bar)
        # b = rr - (sigma . rr) per row, rr = (0, r)
        rr_bar = b_bar - p.sig * b_bar.sum(axis=1, keepdims=True)
        return rr_bar[:, 1:].ravel()

    def solve_bordered(self, col: NDArray[np.float64], row: NDArray[np.float64], corner: float,
                       rhs: NDArray[np.float64], rhs_last: float
                       ) -> tuple[NDArray[np.float64], float]:
        """Solve ``[[J, col], [row, corner]] (x, xi) = (rhs, rhs_last)`` by bordering."""
        z1, z2 = self.solve(np.stack([rhs, col]))
        xi = (rhs_last - row @ z1) / (corner - row @ z2)
        return z1 - z2 * xi, float(xi)


@dataclass(frozen=True, eq=False)
class AQRESolution:
    """A logit AQRE.

    Attributes
    ----------
    sender : ndarray, shape (n_t, n_m)
    receiver : ndarray, shape (n_m, n_a)
    residual : float
        ``max |sigma - logit(US(rho), lambda_s)|`` with ``rho = logit(UR(q(sigma)),
        lambda_r)`` (the receiver equation holds exactly by construction).
    steps : int
        Continuation steps taken.
    path_followed : bool
        True when the pseudo-arclength path was followed to its end; False when it had to
        hand over to monotone continuation (see :func:`solve_aqre`).
    factorisations : int
        Factorisations of the Jacobian (block inverses) the solve needed: its main cost on
        large games.
    """

    sender: NDArray[np.float64]
    receiver: NDArray[np.float64]
    residual: float
    steps: int
    path_followed: bool = True
    factorisations: int = 0


def _max_abs(x: NDArray[np.float64]) -> float:
    return float(np.max(np.abs(x))) if x.size else 0.0


def _newton(system: _System, y: NDArray[np.float64], s: float, tol: float,
            max_iter: int = 20) -> tuple[NDArray[np.float64], _Point, bool]:
    """Newton at fixed ``s`` with step halving on the residual; ``(y, point, converged)``."""
    p = system.evaluate(y, s)
    err = _max_abs(p.f)
    for _ in range(max_iter):
        if err < tol:
            return y, p, True
        step = _Factor(system, p).solve(-p.f)
        for _ in range(40):
            trial = system.evaluate(y + step, s)
            trial_err = _max_abs(trial.f)
            if trial_err < err:
                break
            step = step / 2
        else:
            break
        y, p, err = y + step, trial, trial_err
    return y, p, bool(err < tol)


_CORRECTOR_TOL = 1e-9
#: Most refinement sweeps of a tangent computed with an old factorisation.
_TANGENT_REFINE = 8
_TANGENT_TOL = 1e-8


def _arclength(system: _System, max_steps: int
               ) -> tuple[NDArray[np.float64], float, int, bool]:
    """Pseudo-arclength continuation from s = 0 to s = 1.

    Returns ``(y, s, steps, finished)``; when the path cannot be followed (it returns to its
    start, which only a jump between path pieces at a degenerate bifurcation can cause, the
    step size underflows, or the step limit is reached) it returns the point with the
    largest ``s`` reached and ``finished = False``.

    One factorisation per step: the corrector's first iteration uses the last point's, the
    second factorises at the first corrected point and later iterations keep it (a
    Shamanskii-type Newton method: near the solution the Jacobian hardly changes); the
    tangent at the new point is solved with it and refined against exact Jacobian-vector
    products, with a fresh factorisation only if the refinement does not contract.
    """
    n_t = system.n_t

    def weights(p: _Point) -> NDArray[np.float64]:
        # arclength metric on the sender's log-odds: about the Fisher information of
        # sigma (tiny probabilities count little), averaged over states, plus ds^2
        sig = p.sig[:, 1:]
        return ((sig * (1.0 - sig) + 1e-3) / n_t).ravel()

    def tangent(fac: _Factor, p: _Point, fs: NDArray[np.float64], ty0: NDArray[np.float64],
                ts0: float, w: NDArray[np.float64]
                ) -> tuple[NDArray[np.float64], float] | None:
        """Unit tangent at ``p``, or None if ``fac`` (of another point) is too far off."""
        if _max_abs(fs) < 1e-12:    # rounding noise (e.g. the exactly symmetric babbling
            fs = np.zeros_like(fs)  # path): the tangent is (0, 1), no factorization needed
        row = w * ty0
        ty, ts = fac.solve_bordered(fs, row, ts0, np.zeros(system.size), 1.0)
        if fac.point is not p:      # iterative refinement against the exact J at p
            prev = np.inf
            for _ in range(_TANGENT_REFINE):
                res = -(system.jvp(p, ty)[0] + fs * ts)
                res_last = 1.0 - row @ ty - ts0 * ts
                size = max(_max_abs(res), abs(res_last))
                if size < _TANGENT_TOL:
                    break
                if size > 0.5 * prev:
                    return None
                prev = size
                dy, ds = fac.solve_bordered(fs, row, ts0, res, res_last)
                ty, ts = ty + dy, ts + ds
            else:
                return None
        norm = np.sqrt(w @ (ty * ty) + ts * ts)
        return ty / norm, ts / norm

    y, s = system.start(), 0.0
    p = system.evaluate(y, s)
    fac = _Factor(system, p)
    fs = system.jvp(p, None, ds=1.0)[0]
    omega = weights(p)
    first = tangent(fac, p, fs, np.zeros(system.size), 1.0, omega)
    assert first is not None
    ty, ts = first
    best = (y, s)
    step, steps = 0.5, 0
    while True:
        steps += 1
        if steps > max_steps or (best[1] > 0.05 and s < 0.01):
            return best[0], best[1], steps, False
        land = ts > 0 and s + step * ts >= 1.0
        if land:
            y_new, s_new = y + (1.0 - s) / ts * ty, 1.0
        else:
            y_new, s_new = y + step * ty, s + step * ts
            if s_new < 0.0:
                step /= 2
                continue
        y_pred, s_pred = y_new, s_new
        ok, err_prev, iters = False, np.inf, 0
        fac_c = fac                 # first iteration: the factorisation of the last point
        for iters in range(1, 13):
            p_new = system.evaluate(y_new, s_new)
            err = _max_abs(p_new.f)
            if not np.isfinite(err) or (iters > 2 and err > 0.5 * err_prev):
                break
            if err < _CORRECTOR_TOL:
                ok = True
                break
            err_prev = err
            if iters == 2:          # then one factorisation near the solution, kept
                fac_c = _Factor(system, p_new)
            if land:
                y_new = y_new + fac_c.solve(-p_new.f)
            else:                   # Newton on the bordered (pseudo-arclength) system
                fs_c = system.jvp(p_new, None, ds=1.0)[0]
                arc = (omega * ty) @ (y_new - y_pred) + ts * (s_new - s_pred)
                dy, ds = fac_c.solve_bordered(fs_c, omega * ty, ts, -p_new.f, -arc)
                y_new, s_new = y_new + dy, s_new + ds
                if s_new < 0.0:
                    break
        if ok and not land:
            # guard against jumping to another part of the path: the corrector must stay
            # near the predictor and the direction must turn by less than ~35 degrees
            w_new = weights(p_new)
            dist = np.sqrt(w_new @ (y_new - y_pred) ** 2 + (s_new - s_pred) ** 2)
            fs_t = system.jvp(p_new, None, ds=1.0)[0]
            found = tangent(fac_c, p_new, fs_t, ty * omega / w_new, ts, w_new)
            if found is None:
                fac_c = _Factor(system, p_new)
                found = tangent(fac_c, p_new, fs_t, ty * omega / w_new, ts, w_new)
                assert found is not None
            ty_t, ts_t = found
            ok = dist <= 0.5 * step and (w_new * ty) @ ty_t + ts * ts_t >= 0.8
        if not ok:
            step /= 2
            if step < 1e-10:
                return best[0], best[1], steps, False
            continue
        y, s, p = y_new, s_new, p_new
        if land:
            return y, 1.0, steps, True
        if s > best[1]:
            best = (y, s)
        fac, fs, omega, ty, ts = fac_c, fs_t, w_new, ty_t, ts_t
        if iters <= 3:
            step *= 2.0
        elif iters <= 5:
            step *= 1.25


def _monotone(system: _System, y: NDArray[np.float64], s: float
              ) -> tuple[NDArray[np.float64], int]:
    """Natural-parameter continuation in s from a solution at ``s`` to s = 1.

    Newton (with step halving) at increasing ``s``; where the solution followed ceases to
    exist (a fold), Newton from the last solution converges to another one: the jump of the
    "delay convention".
    """
    ds, steps = 0.05, 0
    while s < 1.0:
        steps += 1
        s_new = min(1.0, s + ds)
        y_new, _, ok = _newton(system, y, s_new, _CORRECTOR_TOL, max_iter=12)
        if not ok and ds > 1e-4:
            ds /= 2
            continue
        if not ok:
            y_new, _, ok = _newton(system, y, s_new, _CORRECTOR_TOL, max_iter=200)
            if not ok:
                raise ConvergenceError(f"AQRE ({system.branch}): no solution found at "
                                       f"s = {s_new:.6g}")
        y, s = y_new, s_new
        ds = min(0.25, ds * 1.5)
    return y, steps


def check_aqre_size(game: Game, lam_s: float) -> None:
    """Refuse a game whose Newton factorisation would not fit in memory, before anything is
    allocated (:class:`~cheaptalk.models.base.ParameterError`): one inverse
    :math:`K_m^{-1}` of :math:`n_t \\times n_t` per message, the capacitance matrix and the
    unknowns' working arrays. With ``lam_s = 0`` nothing is factorised.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> check_aqre_size(crawford_sobel(bias=1.2), 0.3)
    >>> check_aqre_size(crawford_sobel(states=range(1000), actions=range(9)), 0.3)
    Traceback (most recent call last):
    ...
    cheaptalk.models.base.ParameterError: aqre: the Newton blocks of a 1000x1000x9 game ...
    """
    from cheaptalk.models._common import check_size  # models import this module

    n_t, n_m, n_a = game.shape
    if lam_s > 0 and n_m > 1:
        check_size("aqre", f"the Newton blocks of a {n_t}x{n_m}x{n_a} game ({n_m} inverses "
                   f"of {n_t}x{n_t})", (n_m + 1) * n_t * n_t + 8 * n_t * n_m)


def solve_aqre(game: Game, lam_s: float, lam_r: float, branch: str = "principal",
               max_steps: int = 2000) -> AQRESolution:
    """Compute a logit AQRE of ``game`` by homotopy continuation.

    Parameters
    ----------
    game : Game
    lam_s, lam_r : float
        Logit precisions (≥ 0, finite) of sender and receiver.
    branch : {"principal", "literal"}
        The homotopy (:mod:`cheaptalk.models.aqre` and the module docstring).
    max_steps : int
        Step limit of the pseudo-arclength continuation before it hands over to monotone
        continuation.

    Returns
    -------
    AQRESolution

    Raises
    ------
    ConvergenceError
        If no solution is found or the final residual exceeds ``TOLERANCE``.

    Examples
    --------
    >>> from cheaptalk.games import crawford_sobel
    >>> sol = solve_aqre(crawford_sobel(bias=1.2), 0.3, 0.3)
    >>> bool(np.allclose(sol.sender, 0.2)), sol.residual < 1e-10
    (True, True)
    >>> lit = solve_aqre(crawford_sobel(bias=0.5), 0.5, 0.5, branch="literal")
    >>> bool(lit.sender[0, 0] > 0.5), lit.residual < 1e-10
    (True, True)
    """
    return solve_aqre_state(game, lam_s, lam_r, branch, max_steps)[0]


def solve_aqre_state(game: Game, lam_s: float, lam_r: float, branch: str, max_steps: int = 2000
           ) -> tuple[AQRESolution, _System, NDArray[np.float64], _Point]:
    """:func:`solve_aqre`, also returning the system, the unknowns and the final point."""
    with single_blas_thread():
        return _solve_aqre_state(game, lam_s, lam_r, branch, max_steps)


def _solve_aqre_state(game: Game, lam_s: float, lam_r: float, branch: str, max_steps: int
                      ) -> tuple[AQRESolution, _System, NDArray[np.float64], _Point]:
    if branch not in ("principal", "literal"):
        raise ValueError("branch must be 'principal' or 'literal'")
    if not (0.0 <= lam_s < np.inf and 0.0 <= lam_r < np.inf):
        raise ValueError("precisions must be finite and >= 0")
    check_aqre_size(game, lam_s)
    system = _System(game, lam_s, lam_r, branch)
    if system.size == 0:    # one message: the sender has nothing to choose
        y = np.zeros(0)
        p = system.evaluate(y, 1.0)
        return AQRESolution(p.sig, p.rho, 0.0, 0, True), system, y, p
    y, s, steps, finished = _arclength(system, max_steps)
    if not finished:
        y, more = _monotone(system, y, s)
        steps += more
    y, p, _ = _newton(system, y, 1.0, 1e-12)
    residual = _residual(game, p.sig, p.rho, lam_s)
    if not residual <= TOLERANCE:
        raise ConvergenceError(f"AQRE ({branch}): residual {residual:.2e} above {TOLERANCE}")
    return (AQRESolution(p.sig, p.rho, residual, steps, finished, system.factorisations),
            system, y, p)


#: Largest sender log-odds (in absolute value) that counts as the babbling solution.
_BABBLING_TOL = 1e-9


def aqre_vjp(system: _System, y: NDArray[np.float64], p: _Point,
             sender_bar: NDArray[np.float64] | None, receiver_bar: NDArray[np.float64] | None,
             babbling_shortcut: bool = True) -> tuple[float, float]:
    """Derivatives ``(dS/dlam_s, dS/dlam_r)`` of ``S = <sender_bar, sigma> + <receiver_bar,
    rho>`` at an AQRE (adjoint method, module docstring); ``babbling_shortcut`` skips the
    factorisation at the babbling solution, where σ does not move."""
    lam_s, lam_r = p.lam_s, p.lam_r
    n_t, n_m = system.n_t, system.n_m
    s_bar = np.zeros((n_t, n_m)) if sender_bar is None else np.asarray(sender_bar, float)
    r_bar = np.zeros_like(p.rho) if receiver_bar is None else np.asarray(receiver_bar, float)
    # explicit dependence on lam_r (sigma, hence q, fixed)
    g = p.rho * (r_bar - (r_bar * p.rho).sum(axis=1, keepdims=True))
    d_lam_r = float(np.sum(g * p.ur))
    if system.size == 0 or (babbling_shortcut and _max_abs(y) <= _BABBLING_TOL):
        return 0.0, d_lam_r
    # x_bar = dS/dy at fixed lambda
    q_bar = (lam_r * g) @ system.ur_pay.T                                    # [m, t]
    ls_bar = (p.q * (q_bar - (q_bar * p.q).sum(axis=1, keepdims=True))).T    # [t, m]
    ls_bar = ls_bar + s_bar * p.sig
    yy_bar = ls_bar - p.sig * ls_bar.sum(axis=1, keepdims=True)
    x_bar = yy_bar[:, 1:].ravel()
    if not np.any(x_bar):
        return 0.0, d_lam_r
    with single_blas_thread():
        z = _Factor(system, p).solve_transpose(x_bar).reshape(n_t, n_m - 1)
    # dF/dlam_s = -(US[:, 1:] - US[:, :1])
    d_lam_s = float(np.sum(z * (p.us[:, 1:] - p.us[:, :1])))
    # z^T dF/dlam_r: F = y - lam_s (US[:, 1:] - US[:, :1]), US through rho(lam_r)
    us_bar = np.concatenate([lam_s * z.sum(axis=1, keepdims=True), -lam_s * z], axis=1)
    rho_bar = us_bar.T @ system.game.sender_payoff                          # [m, a]
    g2 = p.rho * (rho_bar - (rho_bar * p.rho).sum(axis=1, keepdims=True))
    d_lam_r -= float(np.sum(g2 * p.ur))
    return d_lam_s, d_lam_r


def _residual(game: Game, sigma: NDArray[np.float64], rho: NDArray[np.float64],
              lam_s: float) -> float:
    us = game.sender_values(rho)
    x = lam_s * (us - us.max(axis=1, keepdims=True))
    best = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    return float(np.max(np.abs(sigma - best)))

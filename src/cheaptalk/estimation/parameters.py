r"""Unconstrained parametrisation of a model's parameters.

Maximum likelihood runs on a free vector :math:`x \in \mathbb{R}^k`; each natural parameter
:math:`\theta` is a smooth function of it:

* :math:`\theta \in (0, \infty)`: :math:`\theta = e^{x}`;
* :math:`\theta \in (0, 1)` (or any finite interval): scaled logistic;
* :math:`\theta \in \mathbb{R}`: identity;
* a simplex group :math:`(p_0, \dots, p_K)`: :math:`p = \operatorname{softmax}(0, x_1, \dots,
  x_K)` (``p0`` is the reference).

Fixed parameters are held at given values and not estimated. :meth:`ParameterSpace.jacobian`
gives :math:`\partial\theta/\partial x`, used for the chain rule in the gradient and for the
delta method in standard errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit, logit

__all__ = ["ParameterSpace"]


@dataclass
class ParameterSpace:
    """Map between natural parameters (a dict) and a free vector.

    Parameters
    ----------
    names : sequence of str
        All parameter names, in the model's order.
    bounds : mapping name → (low, high)
    simplex_groups : list of tuples of names
    fixed : mapping name → value
        Parameters held fixed.

    Examples
    --------
    >>> sp = ParameterSpace(["p0", "p1", "lam"], {"lam": (0, np.inf)}, [("p0", "p1")])
    >>> x = sp.to_free({"p0": 0.25, "p1": 0.75, "lam": 2.0})
    >>> {k: round(v, 6) for k, v in sp.to_natural(x).items()}
    {'p0': 0.25, 'p1': 0.75, 'lam': 2.0}
    >>> sp.free_names
    ['p1/p0', 'log lam']
    """

    names: list[str]
    bounds: Mapping[str, tuple[float, float]]
    simplex_groups: list[tuple[str, ...]] = field(default_factory=list)
    fixed: Mapping[str, float] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.names = list(self.names)
        unknown = set(self.fixed) - set(self.names)
        if unknown:
            raise ValueError(f"cannot fix unknown parameter(s): {', '.join(sorted(unknown))}")
        in_group = {n for g in self.simplex_groups for n in g}
        for g in self.simplex_groups:
            if any(n in self.fixed for n in g):
                raise ValueError("a simplex group is fixed as a whole or not at all")
        # blocks: ("scalar", name) or ("simplex", names)
        self._blocks: list[tuple[str, tuple[str, ...]]] = []
        seen: set[str] = set()
        for n in self.names:
            if n in self.fixed or n in seen:
                continue
            if n in in_group:
                group = next(g for g in self.simplex_groups if n in g)
                self._blocks.append(("simplex", group))
                seen.update(group)
            else:
                self._blocks.append(("scalar", (n,)))
                seen.add(n)

    # ---------------------------------------------------------------- naming
    @property
    def free_names(self) -> list[str]:
        out = []
        for kind, names in self._blocks:
            if kind == "simplex":
                out += [f"{n}/{names[0]}" for n in names[1:]]
            else:
                lo, hi = self.bounds.get(names[0], (-np.inf, np.inf))
                prefix = ("" if np.isinf(lo) and np.isinf(hi) else
                          "log " if np.isinf(hi) else "logit ")
                out.append(prefix + names[0])
        return out

    @property
    def size(self) -> int:
        return len(self.free_names)

    @property
    def estimated(self) -> list[str]:
        """Natural parameters that are estimated (not fixed)."""
        return [n for n in self.names if n not in self.fixed]

    def at_bounds(self, params: Mapping[str, float], tol: float = 1e-4) -> list[str]:
        """Estimated box-bounded parameters within ``tol`` (relative to ``max(1, |bound|)``)
        of a finite bound: estimates the transform can only approach, so that their
        standard errors (through a vanishing Jacobian) mean nothing. Simplex shares are
        not reported (a share near zero is an ordinary estimate).

        Examples
        --------
        >>> sp = ParameterSpace(["lam", "mu"], {"lam": (0.5, np.inf), "mu": (-np.inf, np.inf)})
        >>> sp.at_bounds({"lam": 0.500001, "mu": -3.0}), sp.at_bounds({"lam": 0.6, "mu": 0.0})
        (['lam'], [])
        """
        out = []
        for kind, names in self._blocks:
            if kind != "scalar":
                continue
            n = names[0]
            v = params[n]
            for b in self.bounds.get(n, (-np.inf, np.inf)):
                if np.isfinite(b) and abs(v - b) <= tol * max(1.0, abs(b)):
                    out.append(n)
                    break
        return out

    # ---------------------------------------------------------------- maps
    def to_free(self, params: Mapping[str, float]) -> NDArray[np.float64]:
        x: list[float] = []
        for kind, names in self._blocks:
            if kind == "simplex":
                p = np.clip(np.array([params[n] for n in names], dtype=float), 1e-8, None)
                x += list(np.log(p[1:] / p[0]))
            else:
                n = names[0]
                lo, hi = self.bounds.get(n, (-np.inf, np.inf))
                v = float(params[n])
                if np.isinf(lo) and np.isinf(hi):
                    x.append(v)
                elif np.isinf(hi):
                    x.append(np.log(max(v - lo, 1e-12)))
                else:
                    u = np.clip((v - lo) / (hi - lo), 1e-9, 1 - 1e-9)
                    x.append(float(logit(u)))
        return np.array(x, dtype=float)

    def to_natural(self, x: NDArray[np.float64]) -> dict[str, float]:
        values: dict[str, float] = dict(self.fixed)
        i = 0
        for kind, names in self._blocks:
            if kind == "simplex":
                z = np.concatenate([[0.0], x[i:i + len(names) - 1]])
                p = np.exp(z - z.max())
                p /= p.sum()
                values.update(zip(names, p.tolist(), strict=True))
                i += len(names) - 1
            else:
                n = names[0]
                lo, hi = self.bounds.get(n, (-np.inf, np.inf))
                if np.isinf(lo) and np.isinf(hi):
                    values[n] = float(x[i])
                elif np.isinf(hi):
                    values[n] = float(lo + np.exp(x[i]))
                else:
                    values[n] = float(lo + (hi - lo) * expit(x[i]))
                i += 1
        return {n: values[n] for n in self.names}

    def jacobian(self, x: NDArray[np.float64]) -> NDArray[np.float64]:
        """``J[j, i] = d theta_j / d x_i`` for the natural parameters in ``names`` order."""
        theta = self.to_natural(x)
        row = {n: j for j, n in enumerate(self.names)}
        jac = np.zeros((len(self.names), self.size))
        i = 0
        for kind, names in self._blocks:
            if kind == "simplex":
                p = np.array([theta[n] for n in names])
                k = len(names) - 1
                # d p_j / d z_l = p_j (delta_jl - p_l), free z_l = x for l >= 1
                full = np.diag(p) - np.outer(p, p)
                for a, n in enumerate(names):
                    jac[row[n], i:i + k] = full[a, 1:]
                i += k
            else:
                n = names[0]
                lo, hi = self.bounds.get(n, (-np.inf, np.inf))
                if np.isinf(lo) and np.isinf(hi):
                    jac[row[n], i] = 1.0
                elif np.isinf(hi):
                    jac[row[n], i] = theta[n] - lo
                else:
                    u = (theta[n] - lo) / (hi - lo)
                    jac[row[n], i] = (hi - lo) * u * (1 - u)
                i += 1
        return jac

r"""Reading a saved comparison back: the JSON of ``cheaptalk compare --json`` (also written
as ``comparison.json`` in every report folder).

The JSON holds each model's estimates, standard errors and covariance, its out-of-sample
scores, and where the design and data came from. It does not hold what depends on every
decision: posterior types, per-subject log-likelihood contributions and fit diagnostics.
:func:`rebuild_comparison` recovers them by evaluating each model's likelihood **once** at
its saved estimates (no optimisation), then recomputes the Vuong tests from the per-subject
contributions. The data file's SHA-256, recorded by ``compare``, must equal that of the file
read now, and the re-evaluated log-likelihood must equal the saved one (to a relative
``1e-6``; this alone is checked for a JSON written before the SHA-256 was recorded): a report
is never drawn from a comparison and a dataset that do not belong together.

:func:`read_comparison` checks the file's structure first, so that bad input is reported as
one :class:`~cheaptalk.data.errors.InputError` naming the file and the key (for example
``models[2].params.pi``), never as a traceback.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from cheaptalk._threads import single_blas_thread
from cheaptalk.choice import DEFAULT_TREMBLE, TREMBLE
from cheaptalk.data.errors import InputError
from cheaptalk.data.files import read_json
from cheaptalk.data.interactions import Dataset
from cheaptalk.models import ParameterError, available_models
from cheaptalk.models.spec import build_model, spec_from_json

from .compare import Comparison, diagnostics, is_synthetic, vuong_test
from .intervals import Z_95
from .likelihood import Likelihood
from .mle import FitResults, _common_bounds, posterior_table

__all__ = ["LOGLIK_TOLERANCE", "read_comparison", "rebuild_comparison"]

#: Relative tolerance between the saved and the re-evaluated log-likelihood.
LOGLIK_TOLERANCE = 1e-6


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


class _Checker:
    """Structural checks of the parsed JSON, each failure located by its key path."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, key: str, message: str) -> InputError:
        return InputError(message, file=self.source, key=key or None)

    def lookup(self, obj: dict[str, Any], key: str, path: str, required: bool
               ) -> tuple[bool, Any, str]:
        """(present, value, key path); a missing required key is an error."""
        if key not in obj:
            if required:
                raise self.fail(path, f"missing key {key!r}")
            return False, None, ""
        return True, obj[key], f"{path}.{key}" if path else key

    def kind(self, obj: dict[str, Any], key: str, path: str, want: type,
             what: str, required: bool = True) -> Any:
        present, value, where = self.lookup(obj, key, path, required)
        if not present:
            return None
        ok = (isinstance(value, bool) if want is bool
              else isinstance(value, want) and not isinstance(value, bool))
        if ok:
            return value
        raise self.fail(where, f"expected {what}, found {json.dumps(value)[:40]}")

    def number(self, obj: dict[str, Any], key: str, path: str, required: bool = True,
               nullable: bool = False) -> float | None:
        present, value, where = self.lookup(obj, key, path, required)
        if not present or (value is None and nullable):
            return None
        if not _is_number(value):
            raise self.fail(where, f"expected a finite number, found {json.dumps(value)[:40]}")
        return float(value)

    def numbers(self, obj: dict[str, Any], key: str, path: str, required: bool = False,
                nullable: bool = True, non_negative: bool = False) -> dict[str, float | None]:
        d = self.kind(obj, key, path, dict, "an object of numbers", required)
        if d is None:
            return {}
        where = f"{path}.{key}" if path else key
        for k in d:
            x = self.number(d, k, where, nullable=nullable)
            if non_negative and x is not None and x < 0:
                raise self.fail(f"{where}.{k}", f"a standard error cannot be negative, found "
                                f"{json.dumps(d[k])}")
        return {k: (None if v is None else float(v)) for k, v in d.items()}

    def matrix(self, obj: dict[str, Any], key: str, path: str, size: int) -> list[list[Any]]:
        m = self.kind(obj, key, path, list, "a list of rows")
        where = f"{path}.{key}"
        if len(m) != size or not all(isinstance(r, list) and len(r) == size for r in m):
            raise self.fail(where, f"expected a {size}x{size} matrix")
        for i, r in enumerate(m):
            for j, v in enumerate(r):
                if v is not None and not _is_number(v):
                    raise self.fail(f"{where}[{i}][{j}]", "expected a finite number or null")
        return m


def _check_intervals(chk: _Checker, entry: dict[str, Any], path: str) -> None:
    """The optional ``intervals`` object of a fit (:meth:`FitResults.intervals_dict`)."""
    from .intervals import INTERVAL_LABELS

    iv = chk.kind(entry, "intervals", path, dict, "an object of intervals", required=False)
    if iv is None:
        return
    where = f"{path}.intervals"
    for kind in iv:
        if kind in ("level", "se", "methods"):
            continue
        table = chk.kind(iv, kind, where, dict, "an object: name -> interval")
        for name in table:
            row = chk.kind(table, name, f"{where}.{kind}", dict,
                           "an object with lower, upper and method")
            at = f"{where}.{kind}.{name}"
            chk.number(row, "lower", at, nullable=True)
            chk.number(row, "upper", at, nullable=True)
            if (kind == "reported" and row.get("method", "") is None
                    and row["lower"] is None and row["upper"] is None):
                continue  # a fixed or not identified parameter has no interval
            method = chk.kind(row, "method", at, str, "an interval method")
            if method not in INTERVAL_LABELS:
                raise chk.fail(f"{at}.method", f"unknown interval method {method!r}; known: "
                               f"{', '.join(INTERVAL_LABELS)}")


def _intervals(entry: dict[str, Any], params: pd.Series, derived: pd.Series,
               se: pd.Series, derived_se: pd.Series, at_bound: list[str]
               ) -> dict[str, pd.DataFrame]:
    """The interval tables of a saved fit; for a JSON written before intervals were saved,
    the natural-scale Wald interval of its ``se`` (labelled so)."""
    saved = entry.get("intervals")
    if saved is None:
        est = pd.concat([params, derived])
        s = pd.concat([se, derived_se.reindex(derived.index)])
        table = pd.DataFrame({"lower": est - Z_95 * s, "upper": est + Z_95 * s})
        table.loc[[n for n in at_bound if n in table.index]] = np.nan
        table["method"] = "wald-natural"
        return {"wald": table}
    out = {}
    for kind, rows in saved.items():
        if kind in ("level", "se", "methods", "reported"):
            continue
        frame = {}
        for name, r in rows.items():
            lower = (-np.inf if r.get("lower_open") else np.nan) if r["lower"] is None \
                else float(r["lower"])
            upper = (np.inf if r.get("upper_open") else np.nan) if r["upper"] is None \
                else float(r["upper"])
            frame[name] = {"lower": lower, "upper": upper, "method": r["method"],
                           **{k: bool(r[k]) for k in ("lower_open", "upper_open") if k in r}}
        out[kind] = pd.DataFrame.from_dict(frame, orient="index",
                                           columns=list(next(iter(frame.values()), {})) or
                                           ["lower", "upper", "method"])
    return out


def _check_model(chk: _Checker, entry: Any, path: str, known: set[str]) -> None:
    if not isinstance(entry, dict):
        raise chk.fail(path, "expected an object (one fitted model)")
    name = chk.kind(entry, "name", path, str, "a model name")
    if name not in known:
        raise chk.fail(f"{path}.name", f"unknown model {name!r}; known models: "
                       f"{', '.join(sorted(known))}")
    chk.kind(entry, "options", path, dict, "an object of model options", required=False)
    chk.numbers(entry, "params", path, required=True, nullable=False)
    chk.number(entry, "loglik", path)
    k = chk.kind(entry, "n_params", path, int, "a whole number")
    if k < 0:
        raise chk.fail(f"{path}.n_params", "must be >= 0")
    eps = chk.number(entry, "epsilon", path, required=False)
    if eps is not None and not 0.0 <= eps <= 1.0:
        raise chk.fail(f"{path}.epsilon", "the tremble must lie in [0, 1]")
    for key in ("se", "se_hessian", "se_bootstrap", "derived_se"):
        chk.numbers(entry, key, path, non_negative=True)
    for key in ("derived", "loto_loglik_per_decision"):
        chk.numbers(entry, key, path)
    chk.number(entry, "cv_loglik_per_decision", path, required=False, nullable=True)
    _check_intervals(chk, entry, path)
    chk.kind(entry, "converged", path, bool, "true or false", required=False)
    conv = chk.kind(entry, "convergence", path, dict, "an object", required=False)
    if conv is not None and "quadrature" in conv:
        quad = chk.kind(conv, "quadrature", f"{path}.convergence", dict, "an object")
        chk.number(quad, "loglik_change_when_doubled", f"{path}.convergence.quadrature")
    cov = chk.kind(entry, "covariance", path, dict, "an object", required=False)
    if cov is not None:
        where = f"{path}.covariance"
        names = chk.kind(cov, "parameters", where, list, "a list of parameter names")
        if not all(isinstance(n, str) for n in names) or len(set(names)) != len(names):
            raise chk.fail(f"{where}.parameters", "expected distinct parameter names")
        for key in ("sandwich", "hessian"):
            chk.matrix(cov, key, where, len(names))


def read_comparison(path: str | Path) -> dict[str, Any]:
    """Read and check a saved comparison JSON; return the parsed object.

    Raises
    ------
    InputError
        Missing or unreadable file, invalid JSON, or a missing / ill-typed key (named by
        its path, e.g. ``models[0].params.pi``).
    """
    raw = read_json(path, "comparison")
    chk = _Checker(str(path))
    if not isinstance(raw, dict):
        raise chk.fail("", "expected a JSON object written by `cheaptalk compare --json`")
    if "models" not in raw and {"name", "params"} <= set(raw):
        raise chk.fail("", "this is the JSON of one fit (`cheaptalk fit`); a report needs the "
                       "comparison JSON written by `cheaptalk compare --json`")
    models = chk.kind(raw, "models", "", list, "a list of fitted models")
    if not models:
        raise chk.fail("models", "no models in the comparison")
    known = set(available_models())
    for i, entry in enumerate(models):
        _check_model(chk, entry, f"models[{i}]", known)
    names = [(m["name"], json.dumps(m.get("options", {}), sort_keys=True)) for m in models]
    for i, n in enumerate(names):
        if n in names[:i]:
            raise chk.fail(f"models[{i}].name", f"model {n[0]!r} appears twice (with the "
                           "same options)")
    folds = chk.kind(raw, "folds", "", int, "a whole number", required=False)
    if folds is not None and folds < 0:
        raise chk.fail("folds", "must be >= 0")
    for key in ("n_decisions", "n_subjects"):
        chk.kind(raw, key, "", int, "a whole number", required=False)
    for key in ("design", "data"):
        chk.kind(raw, key, "", str, "a file path", required=False)
    digest = chk.kind(raw, "data_sha256", "", str, "a SHA-256 digest", required=False)
    if digest is not None and not re.fullmatch(r"[0-9a-f]{64}", digest):
        raise chk.fail("data_sha256", "expected 64 hexadecimal digits (a SHA-256 digest)")
    columns = chk.kind(raw, "columns", "", dict, "a column map {name: column}", required=False)
    if columns is not None and not all(isinstance(v, str) for v in columns.values()):
        raise chk.fail("columns", "expected a column map {name: column} of strings")
    notes = chk.kind(raw, "notes", "", list, "a list of notes", required=False)
    if notes is not None and not all(isinstance(n, str) for n in notes):
        raise chk.fail("notes", "expected a list of strings")
    return raw


def _series(values: dict[str, float | None], names: list[str]) -> pd.Series:
    return pd.Series([np.nan if values.get(n) is None else values[n] for n in names],
                     index=names, dtype=float)


def _covariance(entry: dict[str, Any], names: list[str], key: str, se: pd.Series
                ) -> pd.DataFrame:
    cov = entry.get("covariance")
    if cov is None:  # an older or hand-written JSON: standard errors only
        return pd.DataFrame(np.diag(se.to_numpy() ** 2), index=names, columns=names)
    m = np.array([[np.nan if v is None else v for v in row] for row in cov[key]], dtype=float)
    df = pd.DataFrame(m, index=cov["parameters"], columns=cov["parameters"])
    return df.reindex(index=names, columns=names)


def _rebuild_fit(chk: _Checker, entry: dict[str, Any], path: str, dataset: Dataset
                 ) -> FitResults:
    spec = spec_from_json(entry["name"], entry.get("options", {}), chk.source,
                          f"{path}.options")
    try:
        model = build_model(spec)
    except InputError as e:
        raise chk.fail(f"{path}.options", e.message) from None
    epsilon = float(entry.get("epsilon", DEFAULT_TREMBLE))
    lik = Likelihood(model, dataset, epsilon=epsilon)
    names = list(model.parameter_names())
    params = entry["params"]
    if TREMBLE in params:  # the tremble was estimated with the model
        names.append(TREMBLE)
        if not 0.0 <= params[TREMBLE] <= 1.0:
            raise chk.fail(f"{path}.params.{TREMBLE}", "the tremble must lie in [0, 1]")
        epsilon = float(params[TREMBLE])
    for n in names:
        if n not in params:
            raise chk.fail(f"{path}.params", f"missing parameter {n!r} of model "
                           f"{model.name}")
    for n in params:
        if n not in names:
            raise chk.fail(f"{path}.params.{n}", f"model {model.name} has no parameter "
                           f"{n!r} (it has: {', '.join(names)})")
    theta = {n: float(params[n]) for n in names}
    not_identified = entry.get("not_identified", [])
    if not (isinstance(not_identified, list)
            and all(isinstance(n, str) and n in names for n in not_identified)):
        raise chk.fail(f"{path}.not_identified", "must be a list of the model's parameter "
                       "names")
    try:
        with single_blas_thread():
            ev = lik.evaluate(theta)
    except ParameterError as e:
        raise chk.fail(f"{path}.params", str(e)) from None
    saved = float(entry["loglik"])
    if not abs(ev.loglik - saved) <= LOGLIK_TOLERANCE * max(1.0, abs(saved)):
        raise chk.fail(f"{path}.loglik", (
            f"saved log-likelihood {saved:.6f} of {model.name} differs from "
            f"{ev.loglik:.6f} on this data: the comparison was not fitted on this design "
            "and data"))
    bse_s = _series(entry.get("se", {}), names)
    bse = _series(entry.get("se_hessian", {}), names)
    boot = entry.get("se_bootstrap") or None
    derived = entry.get("derived", {})
    derived_series = pd.Series({k: np.nan if v is None else v for k, v in derived.items()},
                               dtype=float)
    derived_se = _series(entry.get("derived_se", {}), list(derived))
    convergence = dict(entry.get("convergence", {}))
    params = pd.Series(theta, dtype=float)[names]
    return FitResults(
        model=model, params=params, bse=bse,
        bse_sandwich=bse_s, cov=_covariance(entry, names, "hessian", bse),
        cov_sandwich=_covariance(entry, names, "sandwich", bse_s), llf=ev.loglik,
        nobs=lik.n_decisions, n_subjects=lik.n_subjects, n_units=lik.n_units,
        df_model=int(entry["n_params"]), llf_by_role=ev.by_role,
        llf_by_treatment=ev.by_treatment, converged=bool(entry.get("converged", True)),
        convergence=convergence, posterior=posterior_table(lik, ev),
        subject_llf=lik.subject_loglik(ev),
        derived=derived_series, derived_se=derived_se,
        epsilon=epsilon, bse_bootstrap=None if boot is None else _series(boot, names),
        not_identified=[n for n in names if n in not_identified],
        intervals=_intervals(entry, params, derived_series, bse_s, derived_se,
                             list(convergence.get("at_bound", []))),
        bounds={n: b for n, b in _common_bounds(
            [model.bounds(lik.games[g]) for g in lik.treatments]).items()
                if n in names and n not in not_identified},
    )


def rebuild_comparison(raw: dict[str, Any], dataset: Dataset, source: str = "<comparison>"
                       ) -> Comparison:
    """The :class:`~cheaptalk.estimation.compare.Comparison` of a saved JSON, on its data.

    Parameters
    ----------
    raw : dict
        As returned by :func:`read_comparison`.
    dataset : Dataset
        The data the comparison was fitted on.
    source : str
        The JSON's path, for messages.

    Raises
    ------
    InputError
        If a model, its options or parameters do not fit the design, or if the data are not
        the data the comparison was fitted on (different size or log-likelihood).
    """
    chk = _Checker(source)
    recorded = raw.get("data_sha256")
    if recorded and dataset.sha256 and recorded != dataset.sha256:
        raise chk.fail("data_sha256", f"the data file {dataset.source} has changed since the "
                       "comparison was fitted (its SHA-256 differs from the one recorded); "
                       "refit with `cheaptalk compare`, or pass the data it was fitted on")
    fits: dict[str, FitResults] = {}
    for i, entry in enumerate(raw["models"]):
        fit = _rebuild_fit(chk, entry, f"models[{i}]", dataset)
        if i == 0:
            for key, have in (("n_decisions", fit.nobs), ("n_subjects", fit.n_subjects)):
                if key in raw and raw[key] != have:
                    raise chk.fail(key, f"the comparison was fitted on {raw[key]} "
                                   f"{key.split('_')[1]}; this data has {have}")
        fits[fit.model.label] = fit
    names = list(fits)
    vuong = [vuong_test(fits[a], fits[b]) for i, a in enumerate(names) for b in names[i + 1:]]
    labels = list(fits)  # in the JSON's order
    cv = {label: float(m["cv_loglik_per_decision"])
          for label, m in zip(labels, raw["models"], strict=True)
          if m.get("cv_loglik_per_decision") is not None}
    loto = {label: {g: float(v) for g, v in m["loto_loglik_per_decision"].items()
                    if v is not None}
            for label, m in zip(labels, raw["models"], strict=True)
            if m.get("loto_loglik_per_decision")}
    first = next(iter(fits.values()))
    return Comparison(
        fits=fits, vuong=vuong, cv=cv, loto=loto,
        diagnostics=diagnostics(dataset, fits), n_decisions=first.nobs,
        n_subjects=first.n_subjects, folds=int(raw.get("folds", 0)),
        dataset_source=dataset.source, design_source=dataset.design.source,
        data_sha256=dataset.sha256, synthetic=is_synthetic(dataset),
        notes=list(raw.get("notes", [])), columns=dict(dataset.columns),
    )

"""The model-spec language: naming models, their options and their parameters in text.

One parser serves the command line, Python (:func:`~cheaptalk.models.get_model` accepts a
spec) and saved comparisons:

* a **model spec** is ``NAME`` or ``NAME[OPTION=VALUE,...]``; a list separates specs by
  commas outside brackets: ``"levelk,trust[lie_cost=quadratic,point_masses=true]"``;
* ``--option [MODEL.]NAME=VALUE`` sets an option of every listed model of that name, or,
  without ``MODEL.``, of every listed model that has the option; bracketed options win;
* a **parameter file** is a JSON object ``{name: value}``, or the JSON of a fit
  (``{"name": …, "options": {…}, "params": {…}}``, written by ``cheaptalk fit --json``); the
  tremble ``epsilon`` may be among the parameters.

Options are the model constructor's keyword arguments, and each is typed by its default
value: a ``bool`` option takes only ``true``/``false``, an ``int`` option only whole numbers,
a ``str`` option text (the constructor checks the allowed words). Anything else is an
:class:`~cheaptalk.data.errors.InputError` naming the flag, or the file and key.
"""

from __future__ import annotations

import inspect
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cheaptalk.choice import TREMBLE
from cheaptalk.data.errors import InputError

from . import available_models
from .base import Model

__all__ = ["ModelSpec", "ParameterFile", "apply_options", "build_model", "model_from",
           "option_defaults", "parse_spec", "parse_specs", "read_params",
           "read_params_by_model", "spec_from_json"]


@dataclass(frozen=True)
class ModelSpec:
    """A model name and options (typed, see :func:`option_defaults`).

    Examples
    --------
    >>> spec = parse_spec("trust[lie_cost=quadratic]")
    >>> spec
    ModelSpec(name='trust', options={'lie_cost': 'quadratic'})
    >>> str(spec), build_model(spec).label
    ('trust[lie_cost=quadratic]', 'trust[lie_cost=quadratic]')
    """

    name: str
    options: dict[str, Any] = field(default_factory=dict)

    def with_options(self, options: Mapping[str, Any]) -> ModelSpec:
        """The same spec with ``options`` added (they win over the spec's own)."""
        return ModelSpec(self.name, {**self.options, **options})

    def __str__(self) -> str:
        if not self.options:
            return self.name
        items = ",".join(f"{k}={_text(v)}" for k, v in self.options.items())
        return f"{self.name}[{items}]"


def _text(value: Any) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


def option_defaults(cls: type[Model]) -> dict[str, Any]:
    """The options of a model class and their defaults (the constructor's keyword
    arguments).

    Examples
    --------
    >>> from cheaptalk.models import available_models
    >>> option_defaults(available_models()["trust"])
    {'lie_cost': 'linear', 'point_masses': False, 'n_alpha': 64, 'n_beta': 161}
    """
    out = {}
    for name, p in inspect.signature(cls.__init__).parameters.items():
        if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
            out[name] = None if p.default is p.empty else p.default
    return out


def _options_text(cls: type[Model]) -> str:
    defaults = option_defaults(cls)
    if not defaults:
        return f"{cls.name} has no options"
    return f"options of {cls.name}: " + ", ".join(f"{k} (default {_text(v)})"
                                                  for k, v in defaults.items())


def _typed(cls: type[Model], option: str, value: Any, from_text: bool) -> Any:
    """``value`` as the type of the option's default; ``from_text``: ``value`` is what the
    user typed (a string), else a JSON value. Raises ValueError with the reason."""
    default = option_defaults(cls)[option]
    given = repr(value)
    if isinstance(default, bool):
        if from_text and value in ("true", "false"):
            return value == "true"
        if not from_text and isinstance(value, bool):
            return value
        raise ValueError(f"option {option} of {cls.name} is true or false, got {given}")
    if isinstance(default, int):
        if from_text and re.fullmatch(r"[+-]?[0-9]+", value.strip()):
            return int(value)
        if not from_text and isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ValueError(f"option {option} of {cls.name} is a whole number, got {given}")
    if isinstance(default, float):
        if from_text:
            try:
                number = float(value)
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                return number
        elif isinstance(value, int | float) and not isinstance(value, bool) \
                and math.isfinite(value):
            return float(value)
        raise ValueError(f"option {option} of {cls.name} is a number, got {given}")
    if isinstance(default, str):
        if from_text and value.strip():
            return value.strip()
        if not from_text and isinstance(value, str):
            return value
        raise ValueError(f"option {option} of {cls.name} is a word, got {given}")
    return value


def _model_class(name: str, where: str) -> type[Model]:
    models = available_models()
    if name not in models:
        raise InputError(f"{where}unknown model {name!r}; known models: {', '.join(models)}")
    return models[name]


def _split_top(text: str) -> list[str]:
    """Split at commas outside brackets."""
    parts, depth, current = [], 0, ""
    for ch in text:
        depth += (ch == "[") - (ch == "]")
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return parts


def _parse_one(part: str, flag: str) -> ModelSpec:
    where = f"{flag} {part!r}: " if flag else f"model {part!r}: "
    name, bracket, rest = part.partition("[")
    name = name.strip()
    if not name or "]" in name or "=" in name:
        raise InputError(f"{where}expected NAME or NAME[OPTION=VALUE,...]")
    cls = _model_class(name, where)
    options: dict[str, Any] = {}
    if bracket:
        if not rest.endswith("]") or "[" in rest or "]" in rest[:-1]:
            raise InputError(f"{where}expected NAME[OPTION=VALUE,...]")
        for item in filter(None, (x.strip() for x in rest[:-1].split(","))):
            key, sep, raw = item.partition("=")
            key = key.strip()
            if not sep or not key:
                raise InputError(f"{where}expected OPTION=VALUE, got {item!r}")
            if key not in option_defaults(cls):
                raise InputError(f"{where}no option {key!r}; {_options_text(cls)}")
            if key in options:
                raise InputError(f"{where}option {key!r} is given twice")
            try:
                options[key] = _typed(cls, key, raw, from_text=True)
            except ValueError as e:
                raise InputError(f"{where}{e}") from None
    return ModelSpec(name, options)


def parse_specs(text: str | None, flag: str = "--models") -> list[ModelSpec]:
    """Model specs from ``"a,b[opt=v,...],..."``; every model (default options, in display
    order) when ``text`` is empty or ``None``.

    Parameters
    ----------
    text : str or None
    flag : str
        How the user gave the text, for messages (e.g. ``"--models"``).

    Raises
    ------
    InputError
        Unknown model or option, malformed brackets, a value of the wrong type.

    Examples
    --------
    >>> [str(s) for s in parse_specs("levelk, trust[point_masses=true,lie_cost=quadratic]")]
    ['levelk', 'trust[point_masses=true,lie_cost=quadratic]']
    >>> parse_specs("trust[point_masses=maybe]")
    Traceback (most recent call last):
    ...
    cheaptalk.data.errors.InputError: --models 'trust[point_masses=maybe]': option \
point_masses of trust is true or false, got 'maybe'
    """
    if not text or not text.strip():
        return [ModelSpec(n) for n in available_models()]
    specs = [_parse_one(p.strip(), flag) for p in _split_top(text) if p.strip()]
    if not specs:
        raise InputError(f"{flag} {text!r}: no model named")
    return specs


def parse_spec(text: str, flag: str = "--model") -> ModelSpec:
    """Exactly one model spec (see :func:`parse_specs`).

    Examples
    --------
    >>> parse_spec("levelk[levels=2]")
    ModelSpec(name='levelk', options={'levels': 2})
    """
    specs = parse_specs(text, flag) if text and text.strip() else []
    if len(specs) != 1:
        raise InputError(f"{flag} {text!r}: name one model")
    return specs[0]


def apply_options(specs: list[ModelSpec], items: Iterable[str] | None,
                  flag: str = "--option") -> list[ModelSpec]:
    """Apply ``[MODEL.]NAME=VALUE`` items: with ``MODEL.`` to every spec of that model,
    without it to every spec whose model has the option. Options written in a spec itself
    win; a later item wins over an earlier one.

    Examples
    --------
    >>> specs = apply_options(parse_specs("levelk,ch,trust[n_beta=81]"),
    ...                       ["levels=2", "trust.n_beta=41", "levelk.shares=per_role"])
    >>> [str(s) for s in specs]
    ['levelk[levels=2,shares=per_role]', 'ch[levels=2]', 'trust[n_beta=81]']
    """
    classes = available_models()
    names = [s.name for s in specs]
    extra: list[dict[str, Any]] = [{} for _ in specs]
    for item in items or []:
        where = f"{flag} {item!r}: "
        key, sep, raw = item.partition("=")
        target, _, name = key.strip().rpartition(".")
        if not sep or not name:
            raise InputError(f"{where}expected NAME=VALUE or MODEL.NAME=VALUE")
        if target and target not in names:
            raise InputError(f"{where}model {target!r} is not among "
                             f"{', '.join(dict.fromkeys(names))}")
        if target and name not in option_defaults(classes[target]):
            raise InputError(f"{where}no option {name!r}; {_options_text(classes[target])}")
        takers = [i for i, n in enumerate(names)
                  if n == target or (not target and name in option_defaults(classes[n]))]
        if not takers:
            known = "; ".join(_options_text(classes[n]) for n in dict.fromkeys(names))
            raise InputError(f"{where}no model here takes option {name!r} ({known})")
        for i in takers:
            try:
                extra[i][name] = _typed(classes[names[i]], name, raw, from_text=True)
            except ValueError as e:
                raise InputError(f"{where}{e}") from None
    return [ModelSpec(s.name, {**e, **s.options}) for s, e in zip(specs, extra, strict=True)]


def build_model(spec: ModelSpec, file: str | Path | None = None) -> Model:
    """The model of a spec; ``file`` (where the options came from) is named in messages.

    Examples
    --------
    >>> build_model(ModelSpec("levelk", {"levels": 2})).level_names
    ('L0', 'L1', 'L2')

    Raises
    ------
    InputError
        An unknown option (the message lists the model's options) or a value the model
        refuses.
    """
    cls = _model_class(spec.name, "")
    for key in spec.options:
        if key not in option_defaults(cls):
            raise InputError(f"no option {key!r}; {_options_text(cls)}", file=file)
    try:
        return cls(**spec.options)
    except (TypeError, ValueError) as e:
        raise InputError(f"invalid model options for {spec.name}: {e}", file=file) from None


@dataclass(frozen=True)
class ParameterFile:
    """A parameter file, read and checked (see :func:`read_params`).

    Attributes
    ----------
    path : Path
    params : dict
        Parameter values (floats), without the tremble.
    options : dict
        Model options recorded in a fit JSON (as written; typed by :func:`model_from`).
    epsilon : float or None
        The tremble, where the file gives one.
    model : str or None
        The model a fit JSON records.
    """

    path: Path
    params: dict[str, float]
    options: dict[str, Any] = field(default_factory=dict)
    epsilon: float | None = None
    model: str | None = None


def _number(value: Any, path: str | Path, key: str) -> float:
    """A JSON number (``true``/``false`` are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InputError(f"must be a number, got {value!r}", file=path, key=key)
    return float(value)


def _values(doc: Any, path: str | Path, prefix: str) -> tuple[dict[str, float], float | None]:
    if not isinstance(doc, dict):
        raise InputError("must be a JSON object of parameter values", file=path,
                         key=prefix.rstrip(".") or None)
    values = {str(k): _number(v, path, f"{prefix}{k}") for k, v in doc.items()}
    epsilon = values.pop(TREMBLE, None)
    if epsilon is not None and not 0.0 <= epsilon <= 1.0:
        raise InputError(f"{TREMBLE} must be a number in [0, 1], got {epsilon!r}", file=path,
                         key=f"{prefix}{TREMBLE}")
    return values, epsilon


def read_params(path: str | Path) -> ParameterFile:
    """Read a parameter file: ``{name: value}``, or the JSON of a fit.

    Raises
    ------
    InputError
        Naming the file (and key): not a JSON object, a value that is not a number
        (``true`` is not one), a tremble outside [0, 1], ill-typed ``options``.

    Examples
    --------
    >>> import json, tempfile, os
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     p = os.path.join(tmp, "p.json")
    ...     _ = open(p, "w").write(json.dumps({"name": "trust", "options": {"n_beta": 81},
    ...                                       "params": {"pi": 0.5, "epsilon": 0.01}}))
    ...     f = read_params(p)
    >>> f.params, f.options, f.epsilon, f.model
    ({'pi': 0.5}, {'n_beta': 81}, 0.01, 'trust')
    """
    from cheaptalk.data.files import read_json

    doc = read_json(path, "parameter")
    if not isinstance(doc, dict):
        raise InputError("must be a JSON object of parameter values", file=path)
    if "params" not in doc:
        values, epsilon = _values(doc, path, "")
        return ParameterFile(Path(path), values, {}, epsilon, None)
    options = doc.get("options") or {}
    if not isinstance(options, dict):
        raise InputError("must be a JSON object of model options", file=path, key="options")
    model = doc.get("name")
    if model is not None and not isinstance(model, str):
        raise InputError(f"must be a model name, got {model!r}", file=path, key="name")
    values, epsilon = _values(doc["params"], path, "params.")
    return ParameterFile(Path(path), values, dict(options), epsilon, model)


def model_from(text: str, params: ParameterFile | None = None,
               option_items: Iterable[str] | None = None, flag: str = "--model") -> Model:
    """The model of ``--model NAME[OPTION=VALUE,...]``: the options a fit JSON records
    (``params``), under those of ``--option`` (``option_items``), under the bracketed ones.

    Examples
    --------
    >>> model_from("levelk[levels=2]", None, ["shares=per_role", "levels=4"]).label
    'levelk[levels=2,shares=per_role]'

    Raises
    ------
    InputError
        Besides the errors of :func:`parse_spec` and :func:`apply_options`: the parameter
        file is a fit of another model, or records options the model does not have or of
        the wrong type.
    """
    spec = apply_options([parse_spec(text, flag)], option_items)[0]
    recorded: dict[str, Any] = {}
    if params is not None:
        if params.model is not None and params.model != spec.name:
            raise InputError(f"is a fit of model {params.model!r}, not of {spec.name!r}: "
                             f"pass {flag} {params.model}, or parameters of {spec.name}",
                             file=params.path, key="name")
        recorded = spec_from_json(spec.name, params.options, params.path).options
    return build_model(ModelSpec(spec.name, {**recorded, **spec.options}),
                       file=None if params is None or not recorded else params.path)


def spec_from_json(name: str, options: Mapping[str, Any], file: str | Path | None = None,
                   key: str = "options") -> ModelSpec:
    """The spec of a model recorded in a JSON file (a fit or a comparison): ``options`` are
    JSON values, typed like the model's defaults; ``file`` and ``key`` (the path of the
    options in the file) locate errors.

    Examples
    --------
    >>> spec_from_json("levelk", {"levels": 2, "shares": "per_role"})
    ModelSpec(name='levelk', options={'levels': 2, 'shares': 'per_role'})
    >>> spec_from_json("trust", {"point_masses": "false"}, "fit.json")
    Traceback (most recent call last):
    ...
    cheaptalk.data.errors.InputError: fit.json: key 'options.point_masses': option \
point_masses of trust is true or false, got 'false'
    """
    cls = _model_class(name, "")
    typed: dict[str, Any] = {}
    for option, value in options.items():
        if option not in option_defaults(cls):
            raise InputError(f"no option {option!r}; {_options_text(cls)}", file=file,
                             key=f"{key}.{option}")
        try:
            typed[option] = _typed(cls, option, value, from_text=False)
        except ValueError as e:
            raise InputError(str(e), file=file, key=f"{key}.{option}") from None
    return ModelSpec(name, typed)


def read_params_by_model(path: str | Path, models: Iterable[str]
                         ) -> dict[str, dict[str, float]]:
    """Read ``{model: {parameter: value}}`` (true parameters of several models, as
    ``cheaptalk power --params`` takes them); every key must be one of ``models``.

    Raises
    ------
    InputError
        Naming the file and key: not that shape, a model not among ``models``, a value that
        is not a number.
    """
    from cheaptalk.data.files import read_json

    names = list(models)
    doc = read_json(path, "parameter")
    if not isinstance(doc, dict):
        raise InputError("must be a JSON object {model: {parameter: value}}", file=path)
    out = {}
    for name, values in doc.items():
        if name not in names:
            raise InputError(f"not a model compared here ({', '.join(names)}); the file "
                             "must be a JSON object {model: {parameter: value}}",
                             file=path, key=str(name))
        if not isinstance(values, dict):
            raise InputError("must be a JSON object {parameter: value}", file=path,
                             key=str(name))
        out[name] = {str(k): _number(v, path, f"{name}.{k}") for k, v in values.items()}
    return out

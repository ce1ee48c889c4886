"""Behavioural models of cheap talk (SPEC §3).

Every :class:`~cheaptalk.models.base.Model` subclass with a ``name`` *defined* in a module of
this package is found by :func:`available_models`; a model defined elsewhere (a user's own
module, a notebook) joins them through :func:`register_model`. :func:`get_model` builds one
by name or by model spec (``"trust[lie_cost=quadratic]"``, see :mod:`cheaptalk.models.spec`).

Discovery reads the package's modules, not ``Model.__subclasses__()``: a subclass defined in
a test or a document must not join every later "all models" list unasked.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from typing import Any

from .base import Family, Model, ParameterError, Prediction, Type

__all__ = ["Family", "Model", "ParameterError", "Prediction", "Type", "available_models",
           "get_model", "register_model", "unregister_model"]

#: Models registered by :func:`register_model` (defined outside this package).
_REGISTERED: dict[str, type[Model]] = {}


@functools.cache
def _package_models() -> dict[str, type[Model]]:
    """The named Model classes defined (not merely imported) in this package's modules
    (found once: the package's files do not change while it runs)."""
    found: dict[str, type[Model]] = {}
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for obj in vars(module).values():
            if (inspect.isclass(obj) and issubclass(obj, Model) and obj.name
                    and obj.__module__ == module.__name__ and not inspect.isabstract(obj)):
                found[obj.name] = obj
    return found


def available_models() -> dict[str, type[Model]]:
    """All model classes, by name, in display order (:attr:`Model.order`, then name).

    Examples
    --------
    >>> list(available_models())
    ['equilibrium', 'aqre', 'levelk', 'ch', 'trust', 'dynamic_trust', 'combination']
    """
    models = {**_package_models(), **_REGISTERED}
    return dict(sorted(models.items(), key=lambda item: (item[1].order, item[0])))


def register_model(cls: type[Model]) -> type[Model]:
    """Make a model defined outside :mod:`cheaptalk.models` known by its ``name`` (to
    :func:`get_model`, the command line's model lists and comparisons of all models).

    Usable as a class decorator; registering the same class again does nothing. Undo with
    :func:`unregister_model`. See docs/extending.md.

    Raises
    ------
    ValueError
        If ``cls`` has no ``name`` or another model already has it.
    """
    if not (inspect.isclass(cls) and issubclass(cls, Model)):
        raise TypeError(f"register_model takes a Model subclass, got {cls!r}")
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name to register it by")
    known = available_models()
    if cls.name in known and known[cls.name] is not cls:
        raise ValueError(f"a model named {cls.name!r} exists already "
                         f"({known[cls.name].__module__}.{known[cls.name].__qualname__})")
    _REGISTERED[cls.name] = cls
    return cls


def unregister_model(name: str) -> None:
    """Forget a model added by :func:`register_model` (the package's own models stay).

    Raises
    ------
    KeyError
        If no model of that name was registered.
    """
    if name not in _REGISTERED:
        raise KeyError(f"no model {name!r} was registered with register_model")
    del _REGISTERED[name]


def get_model(name: str, **options: Any) -> Model:
    """Build a model by name, or by model spec ``NAME[OPTION=VALUE,...]``, with its options
    (keyword options win over bracketed ones).

    Examples
    --------
    >>> get_model("trust[lie_cost=quadratic]", n_beta=81).options["n_beta"]
    81

    Raises
    ------
    KeyError
        If no model has that name (the message lists the known ones).
    cheaptalk.data.InputError
        If a bracketed spec is malformed or an option is unknown or ill-typed.
    """
    if "[" in name:
        from .spec import build_model, parse_spec

        spec = parse_spec(name)
        return build_model(spec.with_options(options))
    models = available_models()
    if name not in models:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(models)}")
    return models[name](**options)

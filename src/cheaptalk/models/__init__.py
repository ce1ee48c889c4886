"""Behavioural models of cheap talk (SPEC §3).

Every :class:`~cheaptalk.models.base.Model` subclass with a ``name`` defined in a module of
this package is found by :func:`available_models`; :func:`get_model` builds one by name.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from .base import Model, ParameterError, Prediction, Type

__all__ = ["Model", "ParameterError", "Prediction", "Type", "available_models", "get_model"]


def _subclasses(cls: type) -> list[type]:
    out = []
    for sub in cls.__subclasses__():
        out.append(sub)
        out.extend(_subclasses(sub))
    return out


def available_models() -> dict[str, type[Model]]:
    """All registered model classes, by name."""
    package = importlib.import_module(__name__)
    for info in pkgutil.iter_modules(package.__path__):
        importlib.import_module(f"{__name__}.{info.name}")
    return {m.name: m for m in _subclasses(Model) if m.name}


def get_model(name: str, **options: Any) -> Model:
    """Build the model called ``name`` with its options.

    Raises
    ------
    KeyError
        If no model has that name (the message lists the known ones).
    """
    models = available_models()
    if name not in models:
        raise KeyError(f"unknown model {name!r}; known models: {', '.join(sorted(models))}")
    return models[name](**options)

"""Estimation and comparison: subject-level mixture likelihood, maximum likelihood with exact
gradients, standard errors, model comparison (SPEC §5)."""

from .likelihood import Evaluation, Likelihood
from .mle import FitResults, MaximumLikelihood
from .parameters import ParameterSpace

__all__ = ["Evaluation", "FitResults", "Likelihood", "MaximumLikelihood", "ParameterSpace"]

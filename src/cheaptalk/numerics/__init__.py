"""Numerical machinery the models are computed with, kept apart from the model statements
in :mod:`cheaptalk.models`: the AQRE continuation solver (:mod:`.continuation`) and the
quadrature of the trust-embedded model's type distributions (:mod:`.quadrature`)."""

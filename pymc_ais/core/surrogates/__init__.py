"""Surrogate control variates: a cheap model of each output whose mean is known.

A surrogate ``s`` fitted on a pilot (a sparse polynomial chaos, or a polynomial)
turns each output ``phi`` into ``phi - beta s`` plus ``beta E[s]``: unbiased whatever
the fit, and far less variable when the fit is good. Every kind is fitted through
``fit(pilot) -> SurrogateControl`` and chosen by one policy
(:mod:`~pymc_ais.core.surrogates.choice`), for :func:`pymc_ais.estimate` (the outputs
themselves) and :func:`pymc_ais.sobol` (the pick-freeze integrands, through an adapter).
"""

"""Surrogate control variates: a cheap model of each output whose mean is known.

A surrogate ``s`` fitted on a pilot (a sparse polynomial chaos, or a polynomial)
turns each output ``phi`` into ``phi - beta s`` plus ``beta E[s]``: unbiased whatever
the fit, and far less variable when the fit is good. One interface serves
:func:`pymc_ais.estimate` (the outputs themselves) and :func:`pymc_ais.sobol` (the
pick-freeze integrands).
"""

"""The adaptive engine: aISCV as an ask/tell kernel over a plain state.

The state holds the pooled draws and the proposals used so far; the kernel proposes
the next block of points, takes their evaluations (log-densities, outputs and event
scores) and refits the auxiliary densities, the mixture weights and the
control-variate coefficients; the final phase draws the rest of the budget fresh and
forms unbiased estimates with their error bars and tail diagnostics. Nothing here
evaluates a model: the driver that feeds the kernel lives in :mod:`..execution`.
"""

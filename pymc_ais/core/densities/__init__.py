"""Densities and how to draw from them: Gaussians and their mixtures, Student-t starts.

Log-densities (always in log space, float64), weighted cross-entropy fits, samplers of
mixtures (i.i.d. or as randomized quasi-Monte Carlo replicates), the heavy-tailed
starting laws of posteriors and the Laplace search that places them, and the law
widened in its tails that a chaos's residual is sampled from.
"""

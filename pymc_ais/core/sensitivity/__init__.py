"""Sobol' sensitivity analysis as expectations: the pick-freeze product law and its indices.

The variance and every pick-freeze numerator are expectations under the product law
of two independent copies of the inputs, so one shared sample estimates them all; the
indices are ratios of them, with delta-method errors from their joint covariance.
"""

"""A starting law widened in the tails of its unbounded inputs, for a chaos's residual.

A polynomial chaos in Hermite germs fits the bulk of the input law to rounding and
extrapolates wildly beyond the pilot, where the law puts a mass of about one over the
pilot's size. The residual ``phi - s`` is then tiny where the draws fall and large where
they almost never do: the error bars miss the tails. On ``exp(x + 0.75 u)`` (x normal,
u uniform; 200 seeds, 512 pilot and 512 residual points) the 95 % intervals covered
72 % of the time with an rms z-score of 5. Drawing the pilot and the residual from a
law whose Hermite germs are scaled by ``tau`` (``g -> tau g``, weights
``f / h0 = tau exp(-g^2 (1 - 1/tau^2) / 2)`` bounded by ``tau`` per germ) puts the
pilot and the draws where the chaos would extrapolate: with ``tau = 1.5`` the intervals
covered 92 % (rms z 1.4) and the standard error fell 3,000-fold, the fit now reaching
the tails.

The variance of an integrand without tails grows by ``rho(tau) = tau / sqrt(2 - 1/tau^2)``
per germ (1.2 at 1.5), so ``tau`` shrinks with the number of Hermite germs to keep the
product at most :data:`MAX_INFLATION`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
from scipy.optimize import brentq
from scipy.special import ndtr, ndtri

from ..problem import Problem
from .gaussian_mixture import logsumexp

MAX_TAU = 1.5  # germ scale with one unbounded input
MAX_INFLATION = 2.0  # bound on the variance inflation of a tail-free integrand, all germs together
CDF_FLOOR = 1e-16


def inflation(tau: float) -> float:
    """Variance inflation ``E_f[f / h0]`` of one germ scaled by ``tau``."""
    return tau / np.sqrt(2.0 - 1.0 / tau**2)


def germ_scale(n_hermite: int) -> float:
    """The scale ``tau`` of each Hermite germ, for ``n_hermite`` of them (1.0 for none).

    >>> [round(germ_scale(k), 3) for k in (0, 1, 2, 6, 12)]
    [1.0, 1.5, 1.5, 1.354, 1.222]
    """
    if n_hermite == 0:
        return 1.0
    per_germ = MAX_INFLATION ** (1.0 / n_hermite)
    if inflation(MAX_TAU) <= per_germ:
        return MAX_TAU
    return float(brentq(lambda t: inflation(t) - per_germ, 1.0, MAX_TAU))


def widened_problem(
    problem: Problem, germ_map: tuple[Callable[[np.ndarray], np.ndarray], tuple[str, ...]]
) -> tuple[Problem, float]:
    """``problem`` with its starting law's Hermite germs scaled; returns it and ``tau``.

    Only a one-law problem with a quantile map is widened; otherwise (or without any
    Hermite germ) the problem comes back unchanged with ``tau = 1``.
    """
    to_germs, germs = germ_map
    hermite = np.array([g == "hermite" for g in germs])
    quantile = problem.initial_quantile
    if quantile is None or problem.n_laws != 1 or not hermite.any():
        return problem, 1.0
    tau = germ_scale(int(hermite.sum()))
    base_log_initial = problem.log_initial

    def widened_quantile(v: np.ndarray) -> np.ndarray:
        u = np.array(v, dtype=np.float64)
        u[:, hermite] = np.clip(ndtr(tau * ndtri(u[:, hermite])), CDF_FLOOR, 1.0 - CDF_FLOOR)
        return quantile(u)

    def sample(rng: np.random.Generator, n: int) -> np.ndarray:
        return widened_quantile(rng.random((n, problem.dim)))

    def log_initial(x: np.ndarray, log_f: np.ndarray) -> np.ndarray:
        base = base_log_initial(x, log_f) if base_log_initial is not None else logsumexp(log_f, axis=1)
        g = to_germs(x)[:, hermite]
        return base + np.sum(0.5 * g**2 * (1.0 - 1.0 / tau**2) - np.log(tau), axis=1)

    widened = dataclasses.replace(
        problem, sample_initial=sample, initial_quantile=widened_quantile, log_initial=log_initial
    )
    return widened, tau

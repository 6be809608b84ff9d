"""Rare events sampled in standard normal space: inputs mapped through their inverse CDFs.

The proposals are Gaussian mixtures in the coordinates the sampler works in. In PyMC's
unconstrained space a Gumbel load, a Weibull strength's lower tail or a uniform's
log-odds have exponential tails, and a Gaussian fitted to the draws beyond a level has
lighter tails than the law there: the weights of the far draws grow without bound, the
variance is infinite, and estimates of failure probabilities come out low with error
bars that do not show it (a Gumbel tail at 1e-4: 55 % low, seven error bars off). The
reliability literature samples in standard normal space for this reason (Hasofer-Lind,
Rackwitz-Fiessler; Ditlevsen and Madsen 1996, ch. 7; the Rosenblatt transform).

Here the sampler works on ``u ~ N(0, I)``: each point is carried to the law's flat
coordinates by ``z = Q(Phi(u))``, ``Q`` the ancestral inverse-CDF map of the input law
(:func:`pymc_ais.laws.compile.compile_quantile_map`, conditional on the parents for
dependent inputs). The law of ``u`` is the standard normal exactly, so its log-density
is known in closed form and every output is evaluated at ``z``. Runs whose inputs are
all normal or lognormal, with no free parent, are Gaussian in the flat coordinates
already and are left as they were.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pytensor.graph.traversal import ancestors
from pytensor.tensor.random.basic import LogNormalRV, MvNormalRV, NormalRV
from scipy.special import ndtr, ndtri

from ..laws.lawset import LawSet

TINY = np.finfo(np.float64).tiny
CDF_TOP = 1.0 - np.finfo(np.float64).epsneg  # the largest double below 1


def standard_space_map(laws: LawSet) -> Callable[[np.ndarray], np.ndarray] | None:
    """``u -> z``, from standard normal coordinates to the law's flat ones, or None.

    None where sampling in standard space is not available or not needed: several
    laws or a grid, a posterior, an input without an inverse CDF, or every input
    normal or lognormal with no free parent (Gaussian in the flat coordinates).
    """
    if laws.posterior or laws.n_laws != 1 or laws.grid is not None or _gaussian_already(laws):
        return None
    quantile = laws.law_quantile()
    if quantile is None:
        return None

    def to_flat(u: np.ndarray) -> np.ndarray:
        p = np.clip(ndtr(np.asarray(u, dtype=np.float64)), TINY, CDF_TOP)
        return np.asarray(quantile(0, p), dtype=np.float64)

    return to_flat


def in_standard_space(evaluate: Callable, to_flat: Callable[[np.ndarray], np.ndarray]) -> Callable:
    """``evaluate`` at standard normal points: the outputs at ``z = to_flat(u)``, the law's density of ``u``."""

    def evaluate_u(u: np.ndarray, **kwargs):
        u = np.asarray(u, dtype=np.float64)
        _, *rest = evaluate(to_flat(u), **kwargs)
        return (standard_normal_logpdf(u)[:, None], *rest)

    return evaluate_u


def standard_normal_logpdf(u: np.ndarray) -> np.ndarray:
    """Log-density of the standard normal law at points ``u`` (n, d).

    >>> bool(standard_normal_logpdf(np.zeros((1, 2)))[0] == -np.log(2 * np.pi))
    True
    """
    return -0.5 * np.sum(u * u, axis=1) - 0.5 * u.shape[1] * np.log(2.0 * np.pi)


def sample_standard_normal(rng: np.random.Generator, n: int, dim: int) -> np.ndarray:
    """``n`` standard normal points in ``dim`` dimensions."""
    return rng.standard_normal((n, dim))


def standard_normal_quantile(v: np.ndarray) -> np.ndarray:
    """Uniform points of the unit cube to standard normal ones (for the quasi-random sampler)."""
    return ndtri(np.clip(v, TINY, CDF_TOP))


def _gaussian_already(laws: LawSet) -> bool:
    model = laws.work
    free = set(model.free_RVs)
    for rv in model.free_RVs:
        if not isinstance(rv.owner.op, (NormalRV, LogNormalRV, MvNormalRV)):
            return False
        if any(p in free for p in ancestors([rv]) if p is not rv):
            return False
    return True

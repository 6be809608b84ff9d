"""Rare events sampled in standard normal space: inputs mapped through their inverse CDFs.

The proposals are Gaussian mixtures in the coordinates the sampler works in. In PyMC's
unconstrained space a Gumbel load, a Weibull strength's lower tail or a uniform's
log-odds have exponential tails, and a Gaussian fitted to the draws beyond a level has
lighter tails than the law there: the weights of the far draws grow without bound, and
estimates of failure probabilities come out low with error bars that do not show it
(figures on the Benchmarks page). The reliability literature samples in standard
normal space for this reason (Hasofer-Lind, Rackwitz-Fiessler; Ditlevsen and Madsen
1996, ch. 7; the Rosenblatt transform).

Here the sampler works on ``u ~ N(0, I)``: each point is carried to the law's flat
coordinates by ``z = Q(Phi(u))``, ``Q`` the ancestral inverse-CDF map of the input law
(:func:`pymc_ais.laws.compile.compile_quantile_map`, conditional on the parents for
dependent inputs). The law of ``u`` is the standard normal exactly (up to the
rounding of ``Phi(u)`` near 1: upper-tail probabilities below about 1e-12 lose
digits), so its log-density is known in closed form and every output is evaluated at
``z``. Runs whose inputs are all normal or lognormal, with no free parent, are
Gaussian in the flat coordinates already and are left as they were.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from pymc.distributions.transforms import Interval, LogOddsTransform, LogTransform
from pytensor.graph.traversal import ancestors
from pytensor.tensor.random.basic import LogNormalRV, MvNormalRV, NormalRV
from scipy.special import ndtr, ndtri

from ..laws.lawset import LawSet

MARGINAL_TRANSFORMS = (type(None), LogTransform, Interval, LogOddsTransform)
"""Value transforms of one coordinate at a time (or none), under which the inverse-CDF map is a bijection."""

TINY = np.finfo(np.float64).tiny
CDF_TOP = 1.0 - np.finfo(np.float64).epsneg  # the largest double below 1
U_BOUND = 8.2  # |u| beyond which ndtr(u) is within a few ulps of 1 (or its inverse CDF may overflow)


def standard_space_map(laws: LawSet) -> Callable[[np.ndarray], np.ndarray] | None:
    """``u -> z``, from standard normal coordinates to the law's flat ones, or None.

    None where sampling in standard space is not available or not needed: several
    laws or a grid, a posterior, an input without an inverse CDF (or a batched
    multivariate normal) or with a value transform that mixes coordinates (ordered,
    simplex), or every input normal or lognormal with no free parent
    (Gaussian in the flat coordinates). Coordinates beyond ``U_BOUND`` are mapped as if
    at it: past it an upper tail's CDF rounds to 1, and some inverse CDFs return
    infinities or NaN (a mass of about 1e-16 per coordinate).
    """
    if laws.posterior or laws.n_laws != 1 or laws.grid is not None or _gaussian_already(laws):
        return None
    model = laws.law_models[0]
    if any(not isinstance(model.rvs_to_transforms.get(rv), MARGINAL_TRANSFORMS) for rv in model.free_RVs):
        return None  # an ordered or simplex value is not the inverse CDF's image coordinate by coordinate
    quantile = laws.law_quantile()
    if quantile is None:
        return None

    def to_flat(u: np.ndarray) -> np.ndarray:
        p = ndtr(np.clip(np.asarray(u, dtype=np.float64), -U_BOUND, U_BOUND))
        return np.asarray(quantile(0, p), dtype=np.float64)

    return to_flat


class StandardSpace:
    """A model's ``evaluate`` at standard normal points, keeping the flat points it evaluated.

    The law of ``u`` is the standard normal, whose log-density is returned wherever the
    law's own density at ``z = to_flat(u)`` is positive and finite; where it is NaN the
    NaN is passed on (the run stops, naming the law), and where it is zero (outside the
    support) so is ``u``'s. :meth:`flat` gives back the very ``z`` each evaluated point
    was run at, so that draws, dropped points and checkpoints agree to the last bit.
    """

    def __init__(self, evaluate: Callable, to_flat: Callable[[np.ndarray], np.ndarray]) -> None:
        self._evaluate = evaluate
        self._to_flat = to_flat
        self._seen: list[tuple[np.ndarray, np.ndarray]] = []
        self._known: dict[bytes, np.ndarray] = {}
        self._indexed = 0

    def __call__(self, u: np.ndarray):
        """``(log-density of u, outputs...)`` at standard normal points ``u`` (n, d)."""
        u = np.ascontiguousarray(u, dtype=np.float64)
        z = self._to_flat(u)
        log_f, *rest = self._evaluate(z)
        self._seen.append((u, z))
        log_f = np.asarray(log_f, dtype=np.float64).reshape(u.shape[0], -1)
        log_u = standard_normal_logpdf(u)[:, None]
        log_u = np.where(np.isnan(log_f), np.nan, np.where(np.isneginf(log_f), -np.inf, log_u))
        return (log_u, *rest)

    def flat(self, u: np.ndarray) -> np.ndarray:
        """The flat points of standard normal points ``u``: as evaluated, or mapped anew."""
        u = np.ascontiguousarray(u, dtype=np.float64)
        for us, zs in self._seen[self._indexed :]:  # index the batches evaluated since the last call
            self._known.update((row.tobytes(), z_row) for row, z_row in zip(us, zs))
        self._indexed = len(self._seen)
        known = self._known
        rows = [known.get(row.tobytes()) for row in u]
        missing = [i for i, r in enumerate(rows) if r is None]
        if missing:
            for i, z_row in zip(missing, self._to_flat(u[missing])):
                rows[i] = z_row
        return np.array(rows, dtype=np.float64).reshape(u.shape)


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
    model = laws.law_models[0]
    free = set(model.free_RVs)
    for rv in model.free_RVs:
        if not isinstance(rv.owner.op, (NormalRV, LogNormalRV, MvNormalRV)):
            return False
        if any(p in free for p in ancestors([rv]) if p is not rv):
            return False
    return True

"""Mixtures of multivariate Student-t densities: the starting law of a posterior run.

A posterior with informative data sits where draws of its prior rarely go, so its run
starts from Student-t densities centred on approximations of the posterior (its modes
with the inverse Hessian as scale, or the mean and covariance of given draws). The
polynomial tails keep covering the posterior's tails when the approximation is too
narrow or skewed, which a Gaussian would not; the mixture stays the defensive
component of every later proposal.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.special import gammaln

from .gaussian_mixture import logsumexp


class StudentTMixture(NamedTuple):
    """Mixture of K multivariate Student-t densities; equal weights by default.

    ``df`` is shared, or one per component (K,).
    """

    means: np.ndarray  # (K, d)
    chols: np.ndarray  # (K, d, d) lower Cholesky factors of the scale matrices
    df: float | np.ndarray
    log_weights: np.ndarray | None = None  # (K,) normalised; None: equal

    @property
    def weights(self) -> np.ndarray:
        """The components' weights (K,)."""
        if self.log_weights is None:
            return np.full(self.size, 1.0 / self.size)
        return np.exp(self.log_weights)

    @property
    def size(self) -> int:
        """Number of components K."""
        return self.means.shape[0]


def student_t_mixture(
    means: np.ndarray, scales: np.ndarray, df: float | np.ndarray, weights: np.ndarray | None = None
) -> StudentTMixture:
    """A mixture from locations (K, d) and scale matrices (K, d, d), made positive definite.

    ``df``: one for all components, or one each (K,). ``weights`` (K,), positive, are
    normalised; equal weights when None.

    Examples
    --------
    >>> import numpy as np
    >>> mix = student_t_mixture(np.zeros((1, 2)), np.eye(2)[None], df=4.0)
    >>> x = sample(mix, np.random.default_rng(0), 5)
    >>> logpdf(mix, x).shape
    (5,)
    """
    means = np.atleast_2d(np.asarray(means, dtype=np.float64))
    scales = np.asarray(scales, dtype=np.float64).reshape(means.shape[0], means.shape[1], means.shape[1])
    if not np.all(np.asarray(df) > 0) or np.ndim(df) > 1 or np.size(df) not in (1, means.shape[0]):
        raise ValueError(f"df must be positive, one number or one per component, got {df!r}")
    df = float(df) if np.ndim(df) == 0 else np.asarray(df, dtype=np.float64)
    chols = np.stack([np.linalg.cholesky(positive_definite(s)) for s in scales])
    if weights is None:
        return StudentTMixture(means, chols, df)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (means.shape[0],) or not np.all(weights > 0) or not np.all(np.isfinite(weights)):
        raise ValueError(f"weights must be {means.shape[0]} positive finite numbers, got {weights!r}")
    return StudentTMixture(means, chols, df, np.log(weights / weights.sum()))


def positive_definite(matrix: np.ndarray, floor: float = 1e-10) -> np.ndarray:
    """The symmetric part of ``matrix`` with eigenvalues raised to ``floor`` times the largest."""
    sym = 0.5 * (matrix + matrix.T)
    values, vectors = np.linalg.eigh(sym)
    top = max(float(values.max()), 1e-300)
    values = np.maximum(values, floor * top)
    return (vectors * values) @ vectors.T


def component_logpdf(mix: StudentTMixture, x: np.ndarray) -> np.ndarray:
    """Log density of every component at ``x`` (n, d): (n, K)."""
    x = np.atleast_2d(np.asarray(x, dtype=np.float64))
    d = x.shape[1]
    out = np.empty((x.shape[0], mix.size))
    for k in range(mix.size):
        nu = mix.df if np.ndim(mix.df) == 0 else float(np.asarray(mix.df)[k])
        const = gammaln((nu + d) / 2.0) - gammaln(nu / 2.0) - 0.5 * d * np.log(nu * np.pi)
        chol = mix.chols[k]
        white = np.linalg.solve(chol, (x - mix.means[k]).T)
        maha = np.sum(white * white, axis=0)
        log_det = np.sum(np.log(np.diag(chol)))
        out[:, k] = const - log_det - 0.5 * (nu + d) * np.log1p(maha / nu)
    return out


def logpdf(mix: StudentTMixture, x: np.ndarray) -> np.ndarray:
    """Log density of the mixture at ``x`` (n, d): (n,)."""
    if mix.log_weights is None:
        return logsumexp(component_logpdf(mix, x), axis=1) - np.log(mix.size)
    return logsumexp(component_logpdf(mix, x) + mix.log_weights, axis=1)


def sample(mix: StudentTMixture, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws (n, d): a component per draw, chosen by the weights."""
    d = mix.means.shape[1]
    which = rng.integers(mix.size, size=n) if mix.log_weights is None else rng.choice(mix.size, size=n, p=mix.weights)
    normal = rng.standard_normal((n, d))
    df = mix.df if np.ndim(mix.df) == 0 else np.asarray(mix.df)[which]
    scale = np.sqrt(df / rng.chisquare(df, size=n))
    out = np.empty((n, d))
    for k in range(mix.size):
        rows = which == k
        out[rows] = mix.means[k] + scale[rows, None] * (normal[rows] @ mix.chols[k].T)
    return out

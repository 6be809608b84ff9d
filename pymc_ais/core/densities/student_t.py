"""Equal mixtures of multivariate Student-t densities: the starting law of a posterior run.

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
    """Equal mixture of K multivariate Student-t densities with one shared ``df``."""

    means: np.ndarray  # (K, d)
    chols: np.ndarray  # (K, d, d) lower Cholesky factors of the scale matrices
    df: float

    @property
    def size(self) -> int:
        """Number of components K."""
        return self.means.shape[0]


def student_t_mixture(means: np.ndarray, scales: np.ndarray, df: float) -> StudentTMixture:
    """A mixture from locations (K, d) and scale matrices (K, d, d), made positive definite.

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
    if not df > 0:
        raise ValueError(f"df must be positive, got {df!r}")
    chols = np.stack([np.linalg.cholesky(positive_definite(s)) for s in scales])
    return StudentTMixture(means, chols, float(df))


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
    d, nu = x.shape[1], mix.df
    out = np.empty((x.shape[0], mix.size))
    const = gammaln((nu + d) / 2.0) - gammaln(nu / 2.0) - 0.5 * d * np.log(nu * np.pi)
    for k in range(mix.size):
        chol = mix.chols[k]
        white = np.linalg.solve(chol, (x - mix.means[k]).T)
        maha = np.sum(white * white, axis=0)
        log_det = np.sum(np.log(np.diag(chol)))
        out[:, k] = const - log_det - 0.5 * (nu + d) * np.log1p(maha / nu)
    return out


def logpdf(mix: StudentTMixture, x: np.ndarray) -> np.ndarray:
    """Log density of the equal mixture at ``x`` (n, d): (n,)."""
    return logsumexp(component_logpdf(mix, x), axis=1) - np.log(mix.size)


def sample(mix: StudentTMixture, rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` draws (n, d): a uniformly chosen component per draw."""
    d = mix.means.shape[1]
    which = rng.integers(mix.size, size=n)
    normal = rng.standard_normal((n, d))
    scale = np.sqrt(mix.df / rng.chisquare(mix.df, size=n))
    out = np.empty((n, d))
    for k in range(mix.size):
        rows = which == k
        out[rows] = mix.means[k] + scale[rows, None] * (normal[rows] @ mix.chols[k].T)
    return out

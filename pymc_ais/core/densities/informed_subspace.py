"""Gaussian fits on few weighted points in high dimension: move only where the points say so.

A weighted covariance of a few dozen effective points in d = 100 is mostly noise: even
points drawn from the reference law itself give eigenvalues spread over the
Marchenko-Pastur bulk, from about ``(1 - sqrt(d / n))^2`` to ``(1 + sqrt(d / n))^2``. A
cross-entropy fit that takes such a covariance at face value puts its draws on a
random ellipsoid, and the importance weights of the next block spread over orders of
magnitude. Here the points are whitened by the reference law (the initial law's
moments) and the fit leaves the reference alone except along the eigen-directions of
their second moment outside the bulk, where the points carry information: a mean shift
towards a failure region, a narrowing across it. This is eigenvalue thresholding of a
spiked covariance (Donoho, Gavish & Johnstone 2018, Ann. Statist. 46(4)) applied to the
informative subspace of a rare-event fit, the idea of Uribe, Papaioannou, Marzouk &
Straub (2021, SIAM/ASA JUQ 9(2)), with the edges of Johnstone (2001) and Ma (2012).
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

TRACY_WIDOM_MARGIN = 2.0
"""Tracy-Widom scales added beyond each Marchenko-Pastur edge: a noise eigenvalue
crosses the upper edge about once in a hundred fits."""

SHIFT_DETECTION = 4.0
"""A weighted mean is kept whole when its part off the informative directions has a
squared length above this many times its noise (the trace of the weighted covariance
there over the effective sample size): a shift too small for its eigenvalue to leave
the bulk. Otherwise only its projection on the informative directions is kept."""


def bulk_edges(dim: int, n: float) -> tuple[float, float]:
    """Interval holding the eigenvalues of the covariance of ``n`` white-noise points in ``dim`` dimensions.

    The Marchenko-Pastur edges, each widened by :data:`TRACY_WIDOM_MARGIN` scales of
    the Tracy-Widom law of the extreme eigenvalue (Johnstone 2001 for the largest,
    Ma 2012 for the smallest). With fewer points than dimensions the smallest
    eigenvalues are zero and the lower edge is 0.

    >>> lower, upper = bulk_edges(100, 2000)
    >>> bool(0.5 < lower < 0.6 < 1.5 < upper < 1.6)
    True
    """
    m = max(float(n) - 1.0, 1.0)
    p = float(dim)
    top = np.sqrt(m) + np.sqrt(p)
    upper = top**2 / m + TRACY_WIDOM_MARGIN * top * (1.0 / np.sqrt(m) + 1.0 / np.sqrt(p)) ** (1.0 / 3.0) / m
    if p >= m:
        return 0.0, float(upper)
    bottom = np.sqrt(m) - np.sqrt(p)
    lower = bottom**2 / m - TRACY_WIDOM_MARGIN * bottom * (1.0 / np.sqrt(p) - 1.0 / np.sqrt(m)) ** (1.0 / 3.0) / m
    return float(max(lower, 0.0)), float(upper)


def outside_bulk(values: np.ndarray, dim: int, n: float) -> np.ndarray:
    """Which of the eigenvalues ``values`` lie outside :func:`bulk_edges` of ``n`` points.

    With fewer points than dimensions the lower edge is 0 and the zero eigenvalues (to
    rounding, of either sign) are not information: only the upper edge counts.
    """
    lower, upper = bulk_edges(dim, n)
    outside = values > upper
    if lower > 0:
        outside |= values < lower
    return outside


def denoised_reference(x: np.ndarray) -> np.ndarray:
    """Covariance of ``x`` (n, d) with the correlation eigenvalues inside the bulk set to one.

    Independent inputs then get a diagonal reference instead of one with random
    correlations of order ``1 / sqrt(n)``; correlations the sample does resolve (an
    eigenvalue outside :func:`bulk_edges`) are kept. The result has the sample
    variances on its diagonal.

    >>> rng = np.random.default_rng(0)
    >>> cov = denoised_reference(rng.standard_normal((500, 50)))
    >>> bool(np.abs(cov - np.diag(np.diag(cov))).max() < 1e-12)
    True
    """
    cov = np.atleast_2d(np.cov(x, rowvar=False))
    d = cov.shape[0]
    if d < 2:
        return cov
    sd = np.sqrt(np.diag(cov))
    corr = cov / np.outer(sd, sd)
    values, vectors = np.linalg.eigh(corr)
    values = np.where(outside_bulk(values, d, x.shape[0]), values, 1.0)
    corr = (vectors * values) @ vectors.T
    scale = np.sqrt(np.diag(corr))
    corr = corr / np.outer(scale, scale)
    return 0.5 * (corr + corr.T) * np.outer(sd, sd)


def informed_fit(
    x: np.ndarray,
    w: np.ndarray,
    ess: float,
    reference_mean: np.ndarray,
    reference_chol: np.ndarray,
    slope: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted mean and covariance of ``x`` that keep the reference law off the informative subspace.

    ``w`` are normalised weights, ``ess`` their effective sample size, the reference law
    is ``N(reference_mean, L L^T)`` with ``L = reference_chol``. In whitened coordinates
    the informative directions are the eigenvectors of the weighted second moment
    whose eigenvalue lies outside :func:`bulk_edges` of ``ess`` points; the covariance
    is the weighted one there and the identity elsewhere. The mean is the weighted
    mean's projection on the informative directions, or the whole weighted mean when
    the part left out stands out of its noise (:data:`SHIFT_DETECTION`). Many points
    make the bulk narrow, and the fit tends to the plain weighted one.

    With a ``slope`` (a direction in the input space along which the event lies, from
    :func:`~pymc_ais.core.engine.score_trend.score_slopes`) the mean is kept only along
    it, unless the rest stands out of its noise, and the informative directions are
    those of the weighted covariance alone plus the slope. The mean's own spike in the
    second moment points along the noisy weighted mean: projecting on it kept the
    noise (a shift of length about one off the event's direction in d = 300).
    """
    d = x.shape[1]
    z = solve_triangular(reference_chol, (x - reference_mean).T, lower=True, check_finite=False).T
    mean = w @ z
    centred = z - mean
    cov = (centred * w[:, None]).T @ centred
    if slope is None:
        values, vectors = np.linalg.eigh(cov + np.outer(mean, mean))
        basis = vectors[:, outside_bulk(values, d, ess)]
        projected = basis @ (basis.T @ mean)
    else:
        direction = reference_chol.T @ slope  # the slope in whitened coordinates
        direction = direction / np.linalg.norm(direction)
        values, vectors = np.linalg.eigh(cov)
        basis = _with_direction(vectors[:, outside_bulk(values, d, ess)], direction)
        projected = direction * (direction @ mean)
    residual = mean - projected
    noise = (np.trace(cov) - np.trace(basis.T @ cov @ basis)) / max(ess, 1.0)
    if residual @ residual <= SHIFT_DETECTION * noise:  # what the basis leaves out is noise
        mean = projected
    inside = basis @ (basis.T @ cov @ basis) @ basis.T
    cov = inside + np.eye(d) - basis @ basis.T
    return reference_mean + reference_chol @ mean, reference_chol @ cov @ reference_chol.T


def _with_direction(basis: np.ndarray, direction: np.ndarray) -> np.ndarray:
    """An orthonormal basis of the span of ``basis``'s columns and the unit vector ``direction``."""
    extra = direction - basis @ (basis.T @ direction)
    rest = float(np.linalg.norm(extra))
    if rest < 1e-8:  # already in the span
        return basis
    return np.column_stack([basis, extra / rest])

"""One Gaussian per failure region: the fit of a reached event, or of a level set, whose draws form clusters.

A single Gaussian fitted to an event made of several regions (a series system's
branches) spans the gaps between them, and most of its draws fall where neither the
event nor its neighbourhood is. Cross-entropy methods with mixtures (Kurtz & Song 2013;
Geyer, Papaioannou & Straub 2019) fit one component per region instead. Here mixtures
of 2, 3, ... components, seeded at far-apart heavy points along the directions the
event's points spread along and refined by weighted expectation-maximisation, compete
with one Gaussian by a Bayesian information criterion on the effective sample size (up
to ``MAX_REGIONS`` components, or until two more in a row do not pay); a mixture is
kept only when it beats one Gaussian by ``REGION_GAIN`` nats per weighted point beyond
that. Components share one covariance when the points cannot pay for one each; when
they cannot pay for two means either (a few draws carrying most of the weight), the
regions are found from where the draws lie and each is then refitted to its own
weighted draws.
"""

from __future__ import annotations

import numpy as np
from scipy.linalg import solve_triangular

from .gaussian_mixture import (
    GaussianMixture,
    expectation_maximisation,
    fit_gaussian,
    kish_ess,
    logpdf,
    normalised_weights,
)

SPANNING_SHARE = 0.2
"""Share of the single Gaussian kept beside the regions' mixture: it spans the gaps, so a
region no point has reached yet (a branch the climb missed) still gets draws. Without
it, one run of 50 on the four-branch system at 9e-7 fitted three of its four branches
and came out 32 % low with an error bar of 0.7 %."""

MAX_REGIONS = 6
"""Most components one event's fit gets."""

EM_STEPS = 30
"""Expectation-maximisation steps per mixture: enough to settle the components on their
regions, which is all a proposal needs; each step is a pass over the points per
component, and up to five mixtures are fitted per event and block."""

SPREAD = 2.0
"""Least variance, relative to the input law's, of a direction the event's points spread
along for the regions to be looked for there. Separate regions lie far apart along
some direction (the two sides of P(|S| > 4) have variance 16 along S); the points of
one region, as a half-space's, spread less than the input law along every direction
and need no search."""

MAX_SPREAD_DIRECTIONS = 3
"""Most directions the seeds of the regions are chosen in."""

MAX_POINTS = 4000
"""Most points the fits use; more are thinned by a fixed stride, in index order."""

REGION_GAIN = 0.2
"""Least gain, in nats per weighted point, of the chosen mixture's penalised
log-likelihood over one Gaussian's."""

REGION_FLOOR = 0.5
"""Share of a mixture spread evenly over regions found from the draws' positions (too
few effective draws to weigh them well)."""


def fit_regions(
    x: np.ndarray,
    log_weights: np.ndarray,
    reference_cov: np.ndarray,
    covariance: str = "full",
    floor: np.ndarray | None = None,
) -> GaussianMixture | None:
    """A Gaussian per cluster of the weighted points, refined by EM; None when one Gaussian does as well.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> x = rng.standard_normal((4000, 2))
    >>> inside = np.abs(x[:, 0]) > 2.0  # two regions, one on each side
    >>> fit = fit_regions(x, np.where(inside, 0.0, -np.inf), np.eye(2))
    >>> fit.n_components, np.sort(np.round(fit.means[:, 0]))
    (2, array([-2.,  2.]))
    >>> fit_regions(x, np.where(x[:, 0] > 2.0, 0.0, -np.inf), np.eye(2)) is None  # one region
    True
    """
    w = normalised_weights(log_weights)
    if not w.any():
        return None
    full = np.flatnonzero(w)
    support = full[:: -(-full.size // MAX_POINTS)]
    points, w = x[support], w[support] / w[support].sum()
    d, ess = x.shape[1], kish_ess(w)
    by_position = ess < 4 * (1 + d) <= points.shape[0]
    if by_position:  # too few effective points even for two means: the regions are where the draws are
        w = np.full(points.shape[0], 1.0 / points.shape[0])
        ess = float(points.shape[0])
    spread = _spread_coordinates(points, w, reference_cov)
    if spread is None:
        return None
    with np.errstate(divide="ignore"):
        single = fit_gaussian(points, np.log(w), reference_cov, covariance, floor=floor)
    assert single is not None
    per_component = 1 + d + (d * (d + 1) // 2 if covariance == "full" else d)
    baseline = float(w @ logpdf(single, points))
    best, best_score, scores = None, baseline + REGION_GAIN, [baseline]
    for k in range(2, MAX_REGIONS + 1):
        tied = by_position or ess < 2 * k * per_component  # too few points for k covariances: one shared
        if tied and ess < 2 * k * (1 + d):  # too few points even for k means
            break
        region = _nearest_seed(spread, w, k)
        if np.bincount(region, minlength=k).min() < 2:
            break
        mixture = _refined(points, w, region, k, reference_cov, covariance, floor, tied)
        extra = 1 + d if tied else per_component  # parameters each component beyond the first adds
        penalty = (mixture.n_components - 1) * extra * np.log(ess) / (2.0 * ess)
        score = float(w @ logpdf(mixture, points)) - penalty
        if score > best_score:
            best, best_score = mixture, score
        scores.append(score)
        if len(scores) > 2 and scores[-1] <= scores[-2] <= scores[-3]:  # two more components did not pay
            break
    if best is not None and by_position:  # every draw of the event, the heavy ones the thinning skipped included
        weights = normalised_weights(log_weights[full])
        best = _refitted_by_weight(best, x[full], weights, reference_cov, covariance, floor)
    return best


def _refitted_by_weight(
    mixture: GaussianMixture,
    points: np.ndarray,
    w: np.ndarray,
    reference_cov: np.ndarray,
    covariance: str,
    floor: np.ndarray | None,
) -> GaussianMixture:
    """Regions found from the draws' positions, each refitted to the weighted draws it is responsible for.

    The positions of the draws tell where the regions are but follow the earlier
    proposals, not the law inside each region: one EM step with the draws' weights
    refits each region's Gaussian to its own weighted draws (shrunk toward
    ``reference_cov`` by its effective size) and gives it the mass of its draws, of
    which half is spread evenly over the regions since those masses rest on few
    effective draws.
    """
    covs = np.einsum("kij,klj->kil", mixture.chols, mixture.chols)
    refit = expectation_maximisation(
        points, w, mixture.log_weights, mixture.means, covs, reference_cov, covariance, floor, max_iter=1
    )
    shares = (1.0 - REGION_FLOOR) * np.exp(refit.log_weights) + REGION_FLOOR / refit.n_components
    return refit._replace(log_weights=np.log(shares))


def _spread_coordinates(points: np.ndarray, w: np.ndarray, reference_cov: np.ndarray) -> np.ndarray | None:
    """The points' coordinates along the directions they spread along more than the input law, or None.

    Coordinates are in units of the input law (``reference_cov`` whitened) about the
    weighted mean, along the eigen-directions of the weighted covariance with variance
    above :data:`SPREAD` (at most :data:`MAX_SPREAD_DIRECTIONS`). Distances there are
    not drowned by the many directions along which the regions do not differ.
    """
    chol = np.linalg.cholesky(reference_cov)
    mean = w @ points
    u = solve_triangular(chol, (points - mean).T, lower=True, check_finite=False).T
    eigval, eigvec = np.linalg.eigh((u * w[:, None]).T @ u)
    wide = np.flatnonzero(eigval > SPREAD)[::-1][:MAX_SPREAD_DIRECTIONS]
    if wide.size == 0:
        return None
    return u @ eigvec[:, wide]


def _nearest_seed(coordinates: np.ndarray, w: np.ndarray, k: int) -> np.ndarray:
    """Index of each point's nearest of ``k`` seeds picked greedily (deterministic k-means++).

    The first seed maximises weight times squared distance from the weighted mean,
    each next one weight times squared distance from the seeds so far, so every seed
    lies in a heavy region away from the others.
    """
    distance = np.square(coordinates).sum(axis=1)
    seeds: list[int] = []
    nearest = np.full(coordinates.shape[0], np.inf)
    for _ in range(k):
        seed = int(np.argmax(w * (nearest if seeds else distance)))
        seeds.append(seed)
        nearest = np.minimum(nearest, np.square(coordinates - coordinates[seed]).sum(axis=1))
    to_seed = np.stack([np.square(coordinates - coordinates[s]).sum(axis=1) for s in seeds], axis=1)
    return np.argmin(to_seed, axis=1)


def _refined(
    points: np.ndarray,
    w: np.ndarray,
    region: np.ndarray,
    k: int,
    reference_cov: np.ndarray,
    covariance: str,
    floor: np.ndarray | None,
    tied: bool = False,
) -> GaussianMixture:
    """EM from one component per region of the hard assignment ``region`` (one shared covariance if ``tied``)."""
    means, covs, shares = [], [], []
    for r in range(k):
        inside = region == r
        with np.errstate(divide="ignore"):
            g = fit_gaussian(points, np.where(inside, np.log(w), -np.inf), reference_cov, covariance, floor=floor)
        assert g is not None
        means.append(g.means[0])
        covs.append(g.chols[0] @ g.chols[0].T)
        shares.append(w[inside].sum())
    log_pi = np.log(np.asarray(shares) / np.sum(shares))
    covs_array = np.stack(covs)
    if tied:
        covs_array[:] = np.tensordot(np.exp(log_pi), covs_array, axes=1)
    return expectation_maximisation(
        points, w, log_pi, np.stack(means), covs_array, reference_cov, covariance, floor, EM_STEPS, tied=tied
    )

"""Gaussian mixtures in log space: density, sampling and weighted fits.

A single Gaussian is a mixture with one component, so every auxiliary density of the
method (one per target expectation) has the same representation. Densities are always
returned as logs; mixtures are combined with log-sum-exp so nothing underflows in
high dimension.

The weighted fits are the cross-entropy updates of the method: the weighted mean and
covariance (one Gaussian), or weighted expectation-maximisation (a mixture). Small
effective sample sizes are handled by shrinking the covariance toward a reference
covariance (a conjugate-prior style update), so a fit on a few heavy weights never
collapses to a singular matrix.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from scipy.linalg import cho_factor, solve_triangular

from .informed_subspace import informed_fit

_LOG_2PI = np.log(2.0 * np.pi)


def logsumexp(a: np.ndarray, axis: int = -1) -> np.ndarray:
    """``log(sum(exp(a)))`` along ``axis``, stable, -inf for all -inf (fast numpy path)."""
    top = np.max(a, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        out = np.log(np.sum(np.exp(a - top), axis=axis, keepdims=True)) + top
    return np.squeeze(out, axis=axis)


class GaussianMixture(NamedTuple):
    """Mixture of ``K`` Gaussians on ``R^d``.

    Attributes
    ----------
    log_weights : (K,) log mixture weights (they sum to one in natural scale).
    means : (K, d) component means.
    chols : (K, d, d) lower Cholesky factors of the component covariances.
    """

    log_weights: np.ndarray
    means: np.ndarray
    chols: np.ndarray

    @property
    def dim(self) -> int:
        """Dimension d."""
        return self.means.shape[1]

    @property
    def n_components(self) -> int:
        """Number of components K."""
        return self.means.shape[0]


def gaussian(mean: np.ndarray, cov: np.ndarray) -> GaussianMixture:
    """One Gaussian ``N(mean, cov)`` as a one-component mixture."""
    mean = np.asarray(mean, dtype=np.float64)
    chol = _cholesky(np.asarray(cov, dtype=np.float64))
    return GaussianMixture(np.zeros(1), mean[None, :], chol[None, :, :])


def _cholesky(cov: np.ndarray) -> np.ndarray:
    """Lower Cholesky factor, adding jitter if ``cov`` is numerically singular."""
    cov = 0.5 * (cov + cov.T)
    jitter = 0.0
    scale = float(np.mean(np.diag(cov))) or 1.0
    for _ in range(10):
        try:
            c, _ = cho_factor(cov + jitter * np.eye(cov.shape[0]), lower=True)
            return np.tril(c)
        except np.linalg.LinAlgError:
            jitter = scale * 1e-10 if jitter == 0.0 else jitter * 100.0
    raise np.linalg.LinAlgError("covariance is not positive definite even with jitter")


def component_logpdf(mixture: GaussianMixture, x: np.ndarray) -> np.ndarray:
    """Log density of each component at ``x`` (n, d): array (n, K), weights excluded.

    Consecutive components with the same covariance (the kernels of
    :func:`fit_kernel`) share one triangular solve and one matrix product:
    ``|L^-1 (x - m_k)|^2 = |a|^2 - 2 a.b_k + |b_k|^2`` with ``a = L^-1 x``, ``b_k = L^-1 m_k``.
    """
    n, d = x.shape
    out = np.empty((n, mixture.n_components))
    k = 0
    while k < mixture.n_components:
        chol = mixture.chols[k]
        end = k + 1
        while end < mixture.n_components and np.array_equal(mixture.chols[end], chol):
            end += 1
        inv = solve_triangular(chol, np.eye(d), lower=True, check_finite=False)
        log_det = np.sum(np.log(np.diag(chol)))
        if end == k + 1:
            z = (x - mixture.means[k]) @ inv.T
            squared = np.einsum("ij,ij->i", z, z)[:, None]
        else:
            a = x @ inv.T
            b = mixture.means[k:end] @ inv.T
            b2 = np.einsum("ij,ij->i", b, b)[None, :]
            rows = max(1, BATCH_VALUES // (end - k))  # (rows, kernels) blocks: memory bounded
            for r in range(0, n, rows):
                ar = a[r : r + rows]
                squared = np.maximum(np.einsum("ij,ij->i", ar, ar)[:, None] - 2.0 * (ar @ b.T) + b2, 0.0)
                out[r : r + rows, k:end] = -0.5 * squared - log_det - 0.5 * d * _LOG_2PI
            k = end
            continue
        out[:, k:end] = -0.5 * squared - log_det - 0.5 * d * _LOG_2PI
        k = end
    return out


def logpdf(mixture: GaussianMixture, x: np.ndarray) -> np.ndarray:
    """Log density of the mixture at ``x`` (n, d): array (n,), by blocks of points."""
    if mixture.n_components > 1 and _runs(mixture) == [(0, mixture.n_components)]:
        return _shared_covariance_logpdf(mixture, x)
    rows = max(1, BATCH_VALUES // (mixture.n_components * x.shape[1]))
    if rows >= x.shape[0]:
        return logsumexp(component_logpdf(mixture, x) + mixture.log_weights, axis=1)
    out = np.empty(x.shape[0])
    for r in range(0, x.shape[0], rows):
        out[r : r + rows] = logsumexp(component_logpdf(mixture, x[r : r + rows]) + mixture.log_weights, axis=1)
    return out


def _shared_covariance_logpdf(mixture: GaussianMixture, x: np.ndarray) -> np.ndarray:
    """Log density of a mixture whose components share one covariance (a kernel estimate).

    With ``a = L^-1 x`` and ``b_k = L^-1 m_k``, the log density is
    ``-|a|^2 / 2 + logsumexp_k(a.b_k + log w_k - |b_k|^2 / 2) + const``: the per-point
    term leaves the log-sum-exp, which then runs in place on one matrix product by
    blocks of points (half the passes over the (n, K) values of the general path).
    """
    n, d = x.shape
    chol = mixture.chols[0]
    inv = solve_triangular(chol, np.eye(d), lower=True, check_finite=False)
    a = x @ inv.T
    b = mixture.means @ inv.T
    column = mixture.log_weights - 0.5 * np.einsum("ij,ij->i", b, b)
    out = -0.5 * np.einsum("ij,ij->i", a, a) - np.sum(np.log(np.diag(chol))) - 0.5 * d * _LOG_2PI
    rows = max(1, BATCH_VALUES // mixture.n_components)
    for r in range(0, n, rows):
        block = a[r : r + rows] @ b.T
        block += column
        top = block.max(axis=1)
        top = np.where(np.isfinite(top), top, 0.0)
        block -= top[:, None]
        np.exp(block, out=block)
        with np.errstate(divide="ignore"):
            out[r : r + rows] += np.log(block.sum(axis=1)) + top
    return out


MAX_KERNELS = 256
"""Most centres of a kernel estimate. With one per point above a level, a budget of
1e6 kept 1e5 of them, and their densities at every pooled point (n x kernels) ran the
machine out of memory; the time to evaluate them grows with the budget squared. At
2e4 draws a level holds about 200 points (2 % of the pooled draws): unchanged there."""

BATCH_VALUES = 1 << 22
"""Values (points x Gaussians x dimension) one block of :func:`many_logpdf` holds: 32 MB."""


def many_logpdf(mixtures, x: np.ndarray) -> np.ndarray:
    """Log density of each of several mixtures at ``x`` (n, d): array (n, len(mixtures)).

    Every mixture is split into runs of components: a Gaussian with a covariance of
    its own, or a kernel estimate (consecutive components sharing one covariance).
    Each distinct run is evaluated once, however many mixtures hold it: the targets of
    one climbing event share a kernel estimate, and it used to be evaluated once per
    target. The lone Gaussians go together through one matrix product of the points
    with every inverse Cholesky factor stacked, by blocks of points (five times faster
    than one small product each for 65 Gaussians in 10 dimensions); a mixture is then
    the log-sum-exp of its runs.
    """
    n, d = x.shape
    lone: dict[tuple, int] = {}  # (mean, chol) -> column among the lone Gaussians
    kernels: dict[tuple, GaussianMixture] = {}  # (weights, means, chol) -> the run
    layouts = []  # per mixture: [(kind, key, log weight added)]
    for g in mixtures:
        runs: list[tuple[int, tuple, float]] = []
        for a, b in _runs(g):
            if b == a + 1:
                lone_key = (g.means[a].tobytes(), g.chols[a].tobytes())
                lone.setdefault(lone_key, len(lone))
                runs.append((0, lone_key, g.log_weights[a]))
            else:
                kernel_key = (g.log_weights[a:b].tobytes(), g.means[a:b].tobytes(), g.chols[a].tobytes())
                kernels.setdefault(kernel_key, GaussianMixture(g.log_weights[a:b], g.means[a:b], g.chols[a:b]))
                runs.append((1, kernel_key, 0.0))
        layouts.append(runs)
    lone_values = _lone_logpdf(lone, x, d)
    kernel_values = {key: logpdf(mix, x) for key, mix in kernels.items()}
    out = np.empty((n, len(mixtures)))
    for i, runs in enumerate(layouts):
        columns = [
            (lone_values[:, lone[key]] if kind == 0 else kernel_values[key]) + weight for kind, key, weight in runs
        ]
        out[:, i] = columns[0] if len(columns) == 1 else logsumexp(np.stack(columns, axis=1), axis=1)
    return out


def _runs(mixture: GaussianMixture) -> list[tuple[int, int]]:
    """``(start, end)`` of each run of consecutive components with one covariance."""
    bounds, k = [], 0
    while k < mixture.n_components:
        end = k + 1
        while end < mixture.n_components and np.array_equal(mixture.chols[end], mixture.chols[k]):
            end += 1
        bounds.append((k, end))
        k = end
    return bounds


def _lone_logpdf(lone: dict, x: np.ndarray, d: int) -> np.ndarray:
    """Log densities of the Gaussians keyed ``(mean bytes, chol bytes)`` at ``x``: (n, len(lone))."""
    out = np.empty((x.shape[0], len(lone)))
    if not lone:
        return out
    means = np.stack([np.frombuffer(key[0]) for key in lone])
    chols = np.stack([np.frombuffer(key[1]).reshape(d, d) for key in lone])
    invs = np.stack([solve_triangular(c, np.eye(d), lower=True, check_finite=False) for c in chols])
    shifts = np.einsum("kij,kj->ki", invs, means)
    consts = -np.sum(np.log(np.diagonal(chols, axis1=1, axis2=2)), axis=1) - 0.5 * d * _LOG_2PI
    stacked = invs.transpose(2, 0, 1).reshape(d, len(lone) * d)  # x @ stacked = every L^-1 x
    rows = max(1, BATCH_VALUES // (len(lone) * d))
    for a in range(0, x.shape[0], rows):
        z = (x[a : a + rows] @ stacked).reshape(-1, len(lone), d) - shifts
        out[a : a + rows] = -0.5 * np.einsum("nki,nki->nk", z, z) + consts
    return out


def blend(main: GaussianMixture, other: GaussianMixture, share: float) -> GaussianMixture:
    """The mixture ``(1 - share) main + share other`` (components of both, weights scaled)."""
    return GaussianMixture(
        np.concatenate([main.log_weights + np.log1p(-share), other.log_weights + np.log(share)]),
        np.concatenate([main.means, other.means]),
        np.concatenate([main.chols, other.chols]),
    )


def push_forward(mixture: GaussianMixture, component: int, u: np.ndarray) -> np.ndarray:
    """Map standard-normal points ``u`` (n, d) through one component: ``mean + L u``."""
    return mixture.means[component] + u @ mixture.chols[component].T


def transform(mixture: GaussianMixture, rng: np.random.Generator, u: np.ndarray) -> np.ndarray:
    """Map standard-normal inputs ``u`` (n, d) to mixture draws (component picked at random)."""
    if mixture.n_components == 1:
        return push_forward(mixture, 0, u)
    which = rng.choice(mixture.n_components, size=u.shape[0], p=normalised_weights(mixture.log_weights))
    out = np.empty_like(u)
    for k in range(mixture.n_components):
        out[which == k] = push_forward(mixture, k, u[which == k])
    return out


def sample(mixture: GaussianMixture, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` i.i.d. points from the mixture."""
    return transform(mixture, rng, rng.standard_normal((n, mixture.dim)))


def normalised_weights(log_weights: np.ndarray) -> np.ndarray:
    """Weights proportional to ``exp(log_weights)``, summing to one (zero if all -inf)."""
    top = np.max(log_weights) if log_weights.size else -np.inf
    if not np.isfinite(top):
        return np.zeros_like(log_weights)
    w = np.exp(log_weights - top)
    return w / w.sum()


def kish_ess(weights: np.ndarray) -> float:
    """Kish effective sample size of non-negative weights."""
    s2 = float(np.sum(weights * weights))
    return float(np.sum(weights)) ** 2 / s2 if s2 > 0 else 0.0


def _weighted_moments(x, w, covariance):
    """Weighted mean and covariance; only the points of nonzero weight take part."""
    support = np.flatnonzero(w)
    if support.size < 0.5 * w.size:  # an event's weights: mostly zeros
        x, w = x[support], w[support]
    mean = w @ x
    centred = x - mean
    if covariance == "diag":
        cov = np.diag(w @ (centred * centred))
    else:
        cov = (centred * w[:, None]).T @ centred
    return mean, cov


def fit_gaussian(
    x: np.ndarray,
    log_weights: np.ndarray,
    reference_cov: np.ndarray,
    covariance: str = "full",
    prior_strength: float | None = None,
    floor: np.ndarray | None = None,
    reference_mean: np.ndarray | None = None,
    slope: np.ndarray | None = None,
) -> GaussianMixture | None:
    """Weighted Gaussian fit (cross-entropy update); ``None`` if all weights vanish.

    The weighted covariance is shrunk toward ``reference_cov`` with strength
    ``prior_strength`` (default: the dimension) in units of effective sample size, and a
    diagonal ``floor`` is added, so a few dominant weights cannot produce a singular fit.
    With a ``reference_mean`` (and a full covariance) the moments are those of
    :func:`~pymc_ais.core.densities.informed_subspace.informed_fit`: the reference law
    ``N(reference_mean, reference_cov)`` is kept along every direction the weighted
    points do not resolve, which high dimensions need; ``slope``, a direction towards
    the event the points were weighted by, is passed on to it.
    """
    w = normalised_weights(log_weights)
    if not w.any():
        return None
    d = x.shape[1]
    nu = float(d) if prior_strength is None else float(prior_strength)
    ess = kish_ess(w)
    if reference_mean is not None and covariance == "full":
        support = np.flatnonzero(w)
        mean, cov = informed_fit(x[support], w[support], ess, reference_mean, _cholesky(reference_cov), slope)
    else:
        mean, cov = _weighted_moments(x, w, covariance)
    lam = nu / (ess + nu)
    cov = (1.0 - lam) * cov + lam * reference_cov
    if covariance == "diag":
        cov = np.diag(np.diag(cov))
    if floor is not None:
        cov = cov + np.diag(floor)
    return gaussian(mean, cov)


def fit_kernel(
    x: np.ndarray,
    log_weights: np.ndarray,
    reference_cov: np.ndarray,
    covariance: str = "full",
    floor: np.ndarray | None = None,
    reference_mean: np.ndarray | None = None,
    cluster_floor: float = 0.0,
) -> GaussianMixture | None:
    """Weighted Gaussian kernel density estimate: one component per point of nonzero weight.

    The kernels share the weighted covariance of the points scaled by Silverman's
    factor ``(4 / ((d + 2) ess))^(2 / (d + 4))``. Unlike one Gaussian (or a few), a
    kernel estimate keeps every direction the points spread into, however few of them
    lie there (the auxiliary densities of nonparametric adaptive importance sampling).
    Beyond :data:`MAX_KERNELS` points the centres are resampled systematically (equal
    weights, deterministic): the estimate's cost at every later point stays bounded
    instead of growing with the budget. ``reference_mean``: see :func:`fit_gaussian`.
    ``cluster_floor``: each of the C clusters of centres keeps at least
    ``cluster_floor / C`` of the weight (see :func:`_balanced_clusters`).
    Returns ``None`` if all weights vanish.
    """
    single = fit_gaussian(x, log_weights, reference_cov, covariance, reference_mean=reference_mean)
    if single is None:
        return None
    w = normalised_weights(log_weights)
    keep = w > 0
    d = x.shape[1]
    factor = (4.0 / ((d + 2) * kish_ess(w))) ** (2.0 / (d + 4))
    cov = factor * (single.chols[0] @ single.chols[0].T)
    if floor is not None:
        cov = cov + np.diag(floor)
    chol = _cholesky(cov)
    centres, w = x[keep], w[keep]
    if centres.shape[0] > MAX_KERNELS:  # systematic resampling of the centres, without a random draw
        picks = np.searchsorted(np.cumsum(w), (np.arange(MAX_KERNELS) + 0.5) / MAX_KERNELS)
        picks, counts = np.unique(np.minimum(picks, w.size - 1), return_counts=True)
        centres, w = centres[picks], counts / MAX_KERNELS
    k = centres.shape[0]
    kernel = GaussianMixture(np.log(w), centres.copy(), np.repeat(chol[None], k, axis=0))
    return balance_clusters(kernel, cluster_floor) if cluster_floor > 0 else kernel


def balance_clusters(kernel: GaussianMixture, floor: float) -> GaussianMixture:
    """``kernel`` (from :func:`fit_kernel`) with each of its C clusters of centres given ``floor / C`` or more."""
    w = _balanced_clusters(kernel.means, np.exp(kernel.log_weights), kernel.chols[0], floor)
    return kernel._replace(log_weights=np.log(w))


CLUSTER_DISTANCE = 3.0
"""Kernel centres further apart than this many bandwidths (single linkage) are in different clusters."""


def _balanced_clusters(centres: np.ndarray, w: np.ndarray, chol: np.ndarray, floor: float) -> np.ndarray:
    """Kernel weights with every cluster of centres given at least ``floor / clusters`` of the mass.

    Clusters are the single-linkage groups of the centres at :data:`CLUSTER_DISTANCE`
    bandwidths. A failure region that holds few of a level's elite draws (the straight
    branches of the four-branch system, a tenth of the curved ones' at the intermediate
    levels) then still gets draws, and is not lost before the levels reach it.
    """
    if centres.shape[0] < 3:
        return w
    from scipy.cluster.hierarchy import fcluster, linkage

    scaled = solve_triangular(chol, centres.T, lower=True, check_finite=False).T
    labels = fcluster(linkage(scaled, method="single"), t=CLUSTER_DISTANCE, criterion="distance") - 1
    clusters = int(labels.max()) + 1
    if clusters == 1:
        return w
    mass = np.bincount(labels, weights=w, minlength=clusters)
    small = mass < floor / clusters
    target = mass * (1.0 - small.sum() * floor / clusters) / mass[~small].sum()
    target[small] = floor / clusters
    with np.errstate(divide="ignore", over="ignore"):
        scale = target / mass
    if np.all(np.isfinite(scale)):
        w = w * scale[labels]
    else:  # a cluster of vanishing mass (weights of 1e-310): each centre's share of it first
        count = np.bincount(labels, minlength=clusters)
        with np.errstate(divide="ignore", invalid="ignore"):
            w = target[labels] * np.where(mass[labels] > 0, w / mass[labels], 1.0 / count[labels])
    return w / w.sum()


def fit_mixture(
    x: np.ndarray,
    log_weights: np.ndarray,
    reference_cov: np.ndarray,
    n_components: int = 2,
    covariance: str = "full",
    floor: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
) -> GaussianMixture | None:
    """Weighted expectation-maximisation fit of a Gaussian mixture.

    Starts from the weighted Gaussian fit split along its principal axis, so the fit is
    deterministic. Components whose effective sample size becomes negligible are
    dropped. Returns ``None`` if all weights vanish.
    """
    single = fit_gaussian(x, log_weights, reference_cov, covariance, floor=floor)
    if single is None or n_components == 1:
        return single
    w = normalised_weights(log_weights)
    keep = w > 0
    x, w = x[keep], w[keep]
    if x.shape[0] < 2 * n_components:
        return single
    cov0 = single.chols[0] @ single.chols[0].T
    eigval, eigvec = np.linalg.eigh(cov0)
    axis = eigvec[:, -1] * np.sqrt(eigval[-1])
    offsets = np.linspace(-1.0, 1.0, n_components)
    means = single.means[0] + offsets[:, None] * axis
    covs = np.repeat(cov0[None], n_components, axis=0)
    log_pi = np.full(n_components, -np.log(n_components))
    return expectation_maximisation(x, w, log_pi, means, covs, reference_cov, covariance, floor, max_iter, tol)


def expectation_maximisation(
    x: np.ndarray,
    w: np.ndarray,
    log_pi: np.ndarray,
    means: np.ndarray,
    covs: np.ndarray,
    reference_cov: np.ndarray,
    covariance: str = "full",
    floor: np.ndarray | None = None,
    max_iter: int = 100,
    tol: float = 1e-8,
    tied: bool = False,
) -> GaussianMixture:
    """Weighted EM from a given mixture (weights ``w`` summing to one, all positive).

    Each component's covariance is shrunk toward ``reference_cov`` in proportion to
    ``d / (ess + d)`` of its own effective sample size, and ``floor`` is added to its
    diagonal; components whose mass falls below 1e-6 are dropped. ``tied`` components
    share one covariance, the pooled within-component one (shrunk by the effective
    size of all points): with full covariances, ``d + 1`` parameters per extra
    component instead of ``1 + d + d (d + 1) / 2``, which a few hundred points in ten
    dimensions can afford.
    """
    previous = -np.inf
    for _ in range(max_iter):
        mix = GaussianMixture(log_pi, means, np.stack([_cholesky(c) for c in covs]))
        comp = component_logpdf(mix, x) + log_pi
        log_norm = logsumexp(comp, axis=1)
        objective = float(w @ log_norm)
        resp = np.exp(comp - log_norm[:, None]) * w[:, None]  # (n, K)
        mass = resp.sum(axis=0)
        alive = mass > 1e-6
        if not alive.all():
            resp, mass = resp[:, alive], mass[alive]
        means = (resp.T @ x) / mass[:, None]
        raw = []
        for k in range(means.shape[0]):
            rk = resp[:, k] / mass[k]
            _, cov_k = _weighted_moments(x, rk, covariance)
            raw.append(cov_k + np.outer(rk @ x - means[k], rk @ x - means[k]))
        if tied:  # the within-component covariance pooled over components, shrunk by every point's weight
            pooled = np.tensordot(mass / mass.sum(), np.stack(raw), axes=1)
            covs = np.stack([_shrunk(pooled, kish_ess(w), reference_cov, floor)] * means.shape[0])
        else:
            covs = np.stack([_shrunk(c, kish_ess(resp[:, k]), reference_cov, floor) for k, c in enumerate(raw)])
        log_pi = np.log(mass / mass.sum())
        if abs(objective - previous) <= tol * (1.0 + abs(objective)):
            break
        previous = objective
    return GaussianMixture(log_pi, means, np.stack([_cholesky(c) for c in covs]))


def _shrunk(cov: np.ndarray, ess: float, reference_cov: np.ndarray, floor: np.ndarray | None) -> np.ndarray:
    """``cov`` shrunk toward ``reference_cov`` by ``d / (ess + d)``, with ``floor`` added to its diagonal."""
    d = cov.shape[0]
    lam = d / (ess + d)
    cov = (1.0 - lam) * cov + lam * reference_cov
    return cov + np.diag(floor) if floor is not None else cov


KERNEL_SHARE_GRID = np.linspace(0.0, 0.5, 11)
"""Shares of a kernel estimate tried beside one Gaussian (see :func:`kernel_share`)."""

KERNEL_GAIN = 0.2
"""Least gain, in nats per (weighted) point, of the held-out log-likelihood for the
kernels to take a share. The level sets of the four-branch system gain 0.3-0.6 (four
clusters); a half-plane's (one cloud, truncated) gains 0.03-0.12, and kernels there
only made the climb noisier."""


def _own_centre(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """Index of the centre equal to each point (bit for bit), or -1: (n,)."""
    width = np.dtype((np.void, points.dtype.itemsize * points.shape[1]))
    keys = np.ascontiguousarray(points).view(width).ravel()
    centre_keys = np.ascontiguousarray(centres).view(width).ravel()
    order = np.argsort(centre_keys)
    found = np.minimum(np.searchsorted(centre_keys[order], keys), order.size - 1)
    return np.where(centre_keys[order][found] == keys, order[found], -1)


def kernel_share(x: np.ndarray, log_weights: np.ndarray, single: GaussianMixture, kernel: GaussianMixture) -> float:
    """Share of ``kernel`` in ``(1 - s) single + s kernel`` that best predicts the weighted points.

    The score is the weighted leave-one-out log-likelihood of the points of nonzero
    weight: each point's own kernel is left out, so a kernel estimate cannot win by
    sitting on the points it was built from. When the points form one cloud the single
    Gaussian predicts them about as well (less than :data:`KERNEL_GAIN` better) and the
    share is 0; when they form clusters (several failure regions above a level) the
    Gaussian spreads between them and the kernels win a share, at most the grid's top
    (0.5) so the Gaussian still spans the level set.
    """
    w = normalised_weights(log_weights)
    keep = w > 0
    points, w = x[keep], w[keep]
    if points.shape[0] < 3:
        return 0.0
    log_single = logpdf(single, points)
    log_k = component_logpdf(kernel, points) + kernel.log_weights  # (points, centres)
    own = _own_centre(points, kernel.means)
    rows = np.flatnonzero(own >= 0)
    own_weight = np.zeros(points.shape[0])
    own_weight[rows] = np.exp(kernel.log_weights[own[rows]])
    log_k[rows, own[rows]] = -np.inf
    with np.errstate(divide="ignore"):
        log_loo = logsumexp(log_k, axis=1) - np.log(np.maximum(1.0 - own_weight, 1e-300))
    scores = []
    for share in KERNEL_SHARE_GRID:
        with np.errstate(divide="ignore"):
            terms = np.logaddexp(np.log1p(-share) + log_single, np.log(share) + log_loo)
        scores.append(float(w @ terms))
    best = int(np.argmax(scores))
    if scores[best] - scores[0] < KERNEL_GAIN:
        return 0.0
    return float(KERNEL_SHARE_GRID[best])

"""Gaussian mixtures: kernel fits, blends and the shared-covariance density path."""

import numpy as np
from scipy.stats import multivariate_normal

from pymc_ais.core.densities import gaussian_mixture as gm


def test_kernel_fit_puts_one_weighted_component_on_each_point():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3))
    log_w = np.where(np.arange(60) % 3 == 0, -np.inf, rng.normal(size=60))
    kernel = gm.fit_kernel(x, log_w, np.eye(3))
    kept = np.isfinite(log_w)
    w = np.exp(log_w[kept] - log_w[kept].max())
    w /= w.sum()
    np.testing.assert_allclose(np.exp(kernel.log_weights), w, rtol=1e-12)
    np.testing.assert_array_equal(kernel.means, x[kept])
    # Silverman's factor times the (shrunk) weighted covariance of the points
    single = gm.fit_gaussian(x, log_w, np.eye(3))
    ess = 1.0 / np.sum(w**2)
    factor = (4.0 / (5 * ess)) ** (2.0 / 7)
    cov = kernel.chols[0] @ kernel.chols[0].T
    np.testing.assert_allclose(cov, factor * single.chols[0] @ single.chols[0].T, rtol=1e-12)
    assert gm.fit_kernel(x, np.full(60, -np.inf), np.eye(3)) is None


def test_shared_covariance_density_matches_scipy():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 2)) * 2
    kernel = gm.fit_kernel(x, rng.normal(size=40), np.eye(2))
    y = rng.normal(size=(25, 2)) * 5
    cov = kernel.chols[0] @ kernel.chols[0].T
    expected = np.stack([multivariate_normal(m, cov).logpdf(y) for m in kernel.means], axis=1)
    np.testing.assert_allclose(gm.component_logpdf(kernel, y), expected, rtol=1e-10, atol=1e-10)


def test_blend_mixes_two_mixtures_with_the_given_share():
    a = gm.gaussian(np.zeros(2), np.eye(2))
    b = gm.gaussian(np.full(2, 3.0), 2 * np.eye(2))
    mixed = gm.blend(a, b, 0.2)
    y = np.random.default_rng(2).normal(size=(10, 2))
    expected = np.log(0.8 * np.exp(gm.logpdf(a, y)) + 0.2 * np.exp(gm.logpdf(b, y)))
    np.testing.assert_allclose(gm.logpdf(mixed, y), expected, rtol=1e-12)


def _scipy_logpdf(mixture, y):
    """Reference density of a mixture: scipy's Gaussians, summed with their weights."""
    parts = [
        multivariate_normal(m, c @ c.T).logpdf(y) + lw
        for lw, m, c in zip(mixture.log_weights, mixture.means, mixture.chols)
    ]
    return np.logaddexp.reduce(np.stack(parts, axis=1), axis=1)


def test_many_densities_with_shared_kernel_runs_match_scipy():
    # three targets blend their own Gaussian with ONE kernel estimate, a fourth is an EM mixture
    rng = np.random.default_rng(2)
    kernel = gm.fit_kernel(rng.normal(size=(30, 3)), rng.normal(size=30), np.eye(3))
    fits = [gm.gaussian(rng.normal(size=3), (1 + k) * np.eye(3)) for k in range(3)]
    mixtures = [gm.blend(g, kernel, 0.05) for g in fits]
    mixtures.append(gm.blend(fits[0], fits[1], 0.3))
    mixtures.append(fits[2])
    y = rng.normal(size=(50, 3)) * 2
    got = gm.many_logpdf(mixtures, y)
    for i, mixture in enumerate(mixtures):
        np.testing.assert_allclose(got[:, i], _scipy_logpdf(mixture, y), rtol=1e-10, atol=1e-10)
        np.testing.assert_allclose(gm.logpdf(mixture, y), _scipy_logpdf(mixture, y), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(gm.logpdf(kernel, y), _scipy_logpdf(kernel, y), rtol=1e-10, atol=1e-10)


def test_kernel_share_is_zero_on_one_cloud_and_positive_on_clusters():
    rng = np.random.default_rng(5)
    log_w = np.zeros(200)
    cloud = rng.normal(size=(200, 2))
    single = gm.fit_gaussian(cloud, log_w, np.eye(2))
    assert gm.kernel_share(cloud, log_w, single, gm.fit_kernel(cloud, log_w, np.eye(2))) == 0.0
    # four tight clusters at the corners of a square: one Gaussian spreads between them
    corners = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0], [0.0, -4.0]])
    clusters = corners[np.arange(200) % 4] + 0.3 * rng.normal(size=(200, 2))
    single = gm.fit_gaussian(clusters, log_w, np.eye(2))
    share = gm.kernel_share(clusters, log_w, single, gm.fit_kernel(clusters, log_w, np.eye(2)))
    assert share == gm.KERNEL_SHARE_GRID[-1]


def test_kernel_clusters_keep_a_floor_of_the_mass():
    # 90 centres on one side, 10 on the other: with a floor of 0.5 the small cluster gets 0.25
    rng = np.random.default_rng(6)
    x = np.concatenate([rng.normal(size=(90, 2)) * 0.2 + [5.0, 0.0], rng.normal(size=(10, 2)) * 0.2 - [5.0, 0.0]])
    log_w = np.zeros(100)
    plain = gm.fit_kernel(x, log_w, np.eye(2))
    balanced = gm.fit_kernel(x, log_w, np.eye(2), cluster_floor=0.5)
    small = x[:, 0] < 0
    np.testing.assert_allclose(np.exp(plain.log_weights)[small].sum(), 0.1)
    np.testing.assert_allclose(np.exp(balanced.log_weights)[small].sum(), 0.25)
    # inside a cluster the weights keep their proportions
    w = np.exp(balanced.log_weights)
    np.testing.assert_allclose(w[small] / w[small].sum(), np.full(10, 0.1))
    # one cloud is one cluster: nothing changes
    cloud = rng.normal(size=(100, 2))
    np.testing.assert_allclose(
        gm.fit_kernel(cloud, log_w, np.eye(2), cluster_floor=0.5).log_weights,
        gm.fit_kernel(cloud, log_w, np.eye(2)).log_weights,
    )


def test_a_cluster_of_vanishing_weight_gets_its_floor_not_nan():
    # a far cluster whose kernel weight is denormal: its share must not overflow into NaN
    chol = np.eye(2)
    centres = np.array([[0.0, 0.0], [0.5, 0.0], [50.0, 0.0]])
    w = np.array([0.5, 0.5, 1e-310])
    w = w / w.sum()
    balanced = gm._balanced_clusters(centres, w, chol, floor=0.2)
    assert np.all(np.isfinite(balanced))
    np.testing.assert_allclose(balanced.sum(), 1.0)
    np.testing.assert_allclose(balanced[2], 0.1)  # floor / clusters
    np.testing.assert_allclose(balanced[:2], [0.45, 0.45])

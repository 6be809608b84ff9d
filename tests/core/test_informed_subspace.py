"""Fits on few weighted points in high dimension: noise edges, denoised reference, informed moments."""

import numpy as np
import pytest

from pymc_ais.core.densities import gaussian_mixture as gm
from pymc_ais.core.densities.informed_subspace import bulk_edges, denoised_reference, informed_fit


@pytest.mark.parametrize(("n", "d"), [(2000, 100), (200, 50), (50, 100), (40, 10)])
def test_noise_eigenvalues_stay_within_the_bulk_edges(n, d):
    rng = np.random.default_rng(n + d)
    lower, upper = bulk_edges(d, n)
    outside = 0
    for _ in range(20):
        values = np.linalg.eigvalsh(np.cov(rng.standard_normal((n, d)), rowvar=False))
        values = values[-min(n - 1, d) :]  # with fewer points than dimensions the rest are zeros
        outside += int(np.any((values < lower) | (values > upper)))
    assert outside <= 2  # the margins make an eigenvalue outside about once in a hundred samples
    # the edges move out as the points get fewer, and meet at one for many points
    assert bulk_edges(d, n / 2)[1] > upper and bulk_edges(d, 1e9)[1] == pytest.approx(1.0, abs=1e-3)


def test_a_spike_outside_the_bulk_is_detected():
    # 300 points in d = 100 with variance 3 along one axis: that axis leaves the bulk
    rng = np.random.default_rng(1)
    x = rng.standard_normal((300, 100))
    x[:, 7] *= np.sqrt(3.0)
    assert np.linalg.eigvalsh(np.cov(x, rowvar=False))[-1] > bulk_edges(100, 300)[1]


def test_denoised_reference_keeps_resolved_correlations_and_drops_noise():
    rng = np.random.default_rng(2)
    d, n = 40, 400
    cov = np.eye(d)
    cov[0, 1] = cov[1, 0] = 0.8  # a correlation the sample resolves
    x = rng.multivariate_normal(np.zeros(d), cov * 4.0, size=n)
    ref = denoised_reference(x)
    np.testing.assert_allclose(np.diag(ref), np.var(x, axis=0, ddof=1), rtol=1e-10)
    corr = ref / np.sqrt(np.outer(np.diag(ref), np.diag(ref)))
    assert corr[0, 1] == pytest.approx(0.8, abs=0.1)
    noise = np.corrcoef(x, rowvar=False)[2:, 2:] - np.eye(d - 2)
    assert np.abs(corr[2:, 2:] - np.eye(d - 2)).max() < 0.2 * np.abs(noise).max()


def _event_points(rng, n, d, shift=3.0):
    """Points of N(0, I) conditioned on a shift along the first axis: the law of an elite set."""
    x = rng.standard_normal((n, d))
    x[:, 0] = shift + 0.3 * rng.standard_normal(n)
    return x


@pytest.mark.parametrize("d", [2, 10, 30, 100])
def test_informed_fit_moves_along_the_shift_and_keeps_the_reference_elsewhere(d):
    rng = np.random.default_rng(d)
    n = max(60, d)  # the climbing levels keep at least one effective point per dimension
    x = _event_points(rng, n, d)
    w = np.full(n, 1.0 / n)
    mean, cov = informed_fit(x, w, float(n), np.zeros(d), np.eye(d))
    assert mean[0] == pytest.approx(3.0, abs=0.2)
    along = mean / np.linalg.norm(mean)
    assert along @ cov @ along < 0.5  # narrower than the reference (1) along the shift it found
    if d >= 30:  # few points per dimension: only the shift is resolved, the rest is the reference
        values = np.linalg.eigvalsh(cov)
        np.testing.assert_allclose(values[1:], 1.0, atol=1e-10)


def test_informed_fit_draws_weigh_evenly_where_the_plain_fit_scatters():
    # d = 100, one elite point per dimension (as the climbing levels keep): the plain weighted fit
    # (shrunk as the engine does) puts its draws on a random ellipsoid; the informed fit's draws
    # are off only by the noise of the mean shift's direction
    rng = np.random.default_rng(3)
    d, n = 100, 100
    x = _event_points(rng, n, d)
    log_w = np.zeros(n)
    plain = gm.fit_gaussian(x, log_w, np.eye(d))
    informed = gm.fit_gaussian(x, log_w, np.eye(d), reference_mean=np.zeros(d))
    exact = gm.gaussian(np.r_[3.0, np.zeros(d - 1)], np.diag(np.r_[0.09, np.ones(d - 1)]))
    draws = gm.sample(exact, rng, 4000)

    def spread(g):
        return np.std(gm.logpdf(exact, draws) - gm.logpdf(g, draws))

    assert spread(informed) < 0.5 * spread(plain)


def test_informed_fit_tends_to_the_plain_fit_with_many_points():
    rng = np.random.default_rng(4)
    d, n = 5, 200_000
    cov = np.diag([0.5, 2.0, 1.0, 1.0, 1.3])
    x = rng.multivariate_normal(np.r_[1.0, 0, 0, 0, 0], cov, size=n)
    w = np.full(n, 1.0 / n)
    mean, fitted = informed_fit(x, w, float(n), np.zeros(d), np.eye(d))
    np.testing.assert_allclose(mean, x.mean(axis=0), atol=0.01)  # 5 standard errors
    np.testing.assert_allclose(fitted, np.cov(x, rowvar=False, ddof=0), atol=0.02)


def test_denoised_reference_with_fewer_points_than_inputs_is_diagonal():
    # 50 points in d = 100: half the eigenvalues are zero up to rounding (either sign);
    # none of them is information, and the reference stays well conditioned
    x = np.random.default_rng(7).standard_normal((50, 100))
    ref = denoised_reference(x)
    np.testing.assert_allclose(ref, np.diag(np.diag(ref)), atol=1e-10)


@pytest.mark.parametrize("d", [10, 30, 100, 300])
def test_a_score_slope_removes_the_mean_noise_off_its_direction(d):
    # the elite draws of the half-space a.x > 1 in d dimensions, 60 of them: their mean is
    # off the direction a by about sqrt(d / 60); with the slope a the fit keeps only the
    # part along a, and its draws weigh evenly against the exact conditional law
    rng = np.random.default_rng(d)
    a = np.ones(d) / np.sqrt(d)
    z = rng.standard_normal((40 * max(d, 60), d))
    x = z[z @ a > 1.0][:60]
    w = np.full(60, 1.0 / 60)
    plain_mean, _ = informed_fit(x, w, 60.0, np.zeros(d), np.eye(d))
    mean, cov = informed_fit(x, w, 60.0, np.zeros(d), np.eye(d), slope=3.0 * a)
    off = mean - (mean @ a) * a
    assert np.linalg.norm(off) < 1e-10
    assert mean @ a == pytest.approx(w @ x @ a, rel=1e-10)  # the shift along a is the weighted mean's
    if d >= 30:  # without the slope the fit keeps the noise, or, when nothing leaves the bulk, no shift at all
        kept_noise = np.linalg.norm(plain_mean - (plain_mean @ a) * a) > 0.5
        assert kept_noise or plain_mean @ a < 0.5 * (mean @ a)
    assert a @ cov @ a < 0.7  # narrower across the event's boundary, as before


def test_a_mean_that_stands_off_the_slope_is_kept_whole():
    # elite draws shifted by 3 along the second axis while the slope says the first:
    # the part off the slope is far above its noise, so the whole weighted mean is kept
    rng = np.random.default_rng(5)
    d, n = 30, 200
    x = rng.standard_normal((n, d))
    x[:, 1] += 3.0
    x[:, 0] += 1.0
    w = np.full(n, 1.0 / n)
    mean, _ = informed_fit(x, w, float(n), np.zeros(d), np.eye(d), slope=np.eye(d)[0])
    np.testing.assert_allclose(mean, x.mean(axis=0), atol=1e-10)

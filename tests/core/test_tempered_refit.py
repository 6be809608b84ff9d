"""Tempered moment matching moves a Gaussian onto a target it misses, and leaves a good one alone."""

import numpy as np
import pytest

from pymc_ais.core.densities.tempered_refit import (
    TEMPERED_ESS,
    effective_share,
    refit,
    refit_laws,
    step_draws,
    temperature,
)


def gaussian_target(mean, sd):
    return lambda x: -0.5 * np.sum(((x - mean) / sd) ** 2, axis=1)


def share_of(mean, covariance, target, rng, n=20_000):
    """Effective share of the target's weights under draws of N(mean, covariance)."""
    chol = np.linalg.cholesky(covariance)
    u = rng.standard_normal((n, mean.size))
    return effective_share(target(mean + u @ chol.T) + 0.5 * np.sum(u**2, axis=1))


@pytest.mark.parametrize("d", [2, 10, 30, 100])
def test_a_laplace_fit_off_the_bulk_is_moved_onto_it(d):
    """A start shifted by 4 standard deviations and 20 % too narrow (as a joint mode's scale bias) is corrected."""
    rng = np.random.default_rng(d)
    centre = np.zeros(d)
    start = centre + 4.0 / np.sqrt(d)  # 4 standard deviations away in all
    target = gaussian_target(centre, 1.0)
    before = share_of(start, 0.64 * np.eye(d), target, np.random.default_rng(0))
    out = refit(target, start, 0.64 * np.eye(d), rng, 50 * step_draws(d))
    after = share_of(out.mean, out.covariance, target, np.random.default_rng(0))
    assert out.reached
    assert out.evaluations == out.steps * step_draws(d)
    # the mean is estimated from about a quarter of a step's draws: its error is
    # about sqrt(d / (step_draws / 4)) in all, the scale's about sqrt(2 / (d x that))
    assert np.linalg.norm(out.mean - centre) <= 3.0 * np.sqrt(d / (step_draws(d) * TEMPERED_ESS)) + 0.1
    # the final mean's error (about 0.9 in all at d = 100) bounds what the draws can keep
    assert after >= 0.3 and after >= 10 * before, (before, after)
    assert abs(np.sqrt(out.covariance[0, 0]) - 1.0) <= 0.15


def test_a_start_that_fits_is_left_alone():
    rng = np.random.default_rng(1)
    target = gaussian_target(np.ones(10), 1.0)
    out = refit(target, np.ones(10) + 0.05, np.eye(10), rng, 10_000)
    assert out.steps == 1 and out.evaluations == step_draws(10)
    assert out.start_ess >= TEMPERED_ESS
    np.testing.assert_array_equal(out.mean, np.ones(10) + 0.05)
    np.testing.assert_allclose(out.covariance, np.eye(10))


def test_a_target_that_is_nowhere_finite_leaves_the_start():
    out = refit(lambda x: np.full(x.shape[0], -np.inf), np.zeros(3), np.eye(3), np.random.default_rng(2), 10_000)
    assert not out.reached and out.start_ess == 0.0
    np.testing.assert_array_equal(out.mean, np.zeros(3))


def test_no_step_when_the_budget_cannot_pay_one():
    out = refit(gaussian_target(np.full(5, 9.0), 1.0), np.zeros(5), np.eye(5), np.random.default_rng(3), 99)
    assert out.evaluations == 0 and out.steps == 0 and not out.reached


def test_temperature_keeps_the_asked_share():
    log_w = np.random.default_rng(4).normal(0.0, 6.0, 1000)
    base = np.zeros(1000)
    needed = TEMPERED_ESS * 1000
    power = temperature(log_w, base, needed)
    assert 0 < power < 1
    assert effective_share(power * log_w) * 1000 >= needed
    assert effective_share(min(1.0, power * 1.05) * log_w) * 1000 < needed
    assert temperature(np.zeros(10), np.zeros(10), 2.5) == 1.0


def test_each_law_is_checked_against_its_own_draws():
    """A law whose target another law's Gaussian covers is still moved; the law that fits is left alone."""
    target = gaussian_target(np.full(10, 3.0), 2.0)

    def both(x):  # the same target for the two laws
        return np.column_stack([target(x), target(x)])

    means = np.stack([np.full(10, 3.0), np.zeros(10)])
    covariances = np.stack([4.0 * np.eye(10), 0.5 * np.eye(10)])
    fits, missed = refit_laws(both, means, covariances, np.random.default_rng(5), 40_000, draws=1000)
    assert fits.steps == 1 and fits.start_ess >= TEMPERED_ESS
    np.testing.assert_array_equal(fits.mean, np.full(10, 3.0))
    assert missed.reached and missed.start_ess < TEMPERED_ESS  # moved at once: the other law's draws cover it
    assert np.linalg.norm(missed.mean - 3.0) <= 1.0  # 4.2 standard deviations away at the start
    assert abs(np.sqrt(missed.covariance[0, 0]) - 2.0) <= 0.3


def test_draws_outside_the_support_weigh_nothing():
    """A half-space support that most first draws miss: no invalid arithmetic, the Gaussian moves inside."""

    def target(x):
        return np.where(x[:, 0] > 1.5, -0.5 * np.sum((x - 2.0) ** 2, axis=1), -np.inf)

    out = refit(target, np.zeros(5), np.eye(5), np.random.default_rng(6), 20_000, draws=500)
    assert out.mean[0] > 1.5
    assert np.all(np.isfinite(out.covariance))


def test_a_target_that_vanishes_after_the_first_step_stops_the_law():
    calls = [0]

    def target(x):
        calls[0] += 1
        return -0.5 * np.sum((x - 5.0) ** 2, axis=1) if calls[0] == 1 else np.full(x.shape[0], -np.inf)

    out = refit(target, np.zeros(4), np.eye(4), np.random.default_rng(7), 10_000)
    assert not out.reached and out.steps == 2 and out.evaluations == 2 * step_draws(4)

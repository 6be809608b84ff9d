"""Over many seeded runs, reported errors match the spread and intervals cover."""

import numpy as np
import pytest
from conftest import normal_moments_problem
from scipy.stats import norm
from scipy.stats import t as student_t

from pymc_ais.core import Problem, Settings, run


@pytest.mark.slow
@pytest.mark.parametrize("sampler, tolerance", [("mc", 0.20), ("stratified", 0.25), ("rqmc", 0.25)])
def test_mcse_and_coverage_over_repetitions(sampler, tolerance):
    # E[X^4] = 3 and P(X > 2) for X ~ N(0, 1); 200 independent seeded runs.
    problem = Problem(
        dim=1,
        sample_initial=lambda rng, n: rng.standard_normal((n, 1)),
        evaluate=lambda x: (norm.logpdf(x), np.hstack([x**4, (x > 2.0) * 1.0])),
        output_names=["m4", "p2"],
        initial_quantile=norm.ppf,
    )
    truth = np.array([3.0, norm.sf(2.0)])
    reps = 200
    means, mcses = np.empty((reps, 2)), np.empty((reps, 2))
    for seed in range(reps):
        res = run(problem, Settings(4_000, sampler=sampler), np.random.default_rng(1000 + seed))
        means[seed], mcses[seed] = res.estimates.mean, res.estimates.mcse
    spread = means.std(axis=0, ddof=1)
    reported = np.sqrt(np.mean(mcses**2, axis=0))
    np.testing.assert_array_less(np.abs(reported / spread - 1.0), tolerance)
    df = 2_000 if sampler == "mc" else res.estimates.df
    covered = np.mean(np.abs(means - truth) <= student_t.ppf(0.975, df) * mcses, axis=0)
    assert np.all((covered >= 0.90) & (covered <= 0.99)), covered
    # the mean over runs is unbiased: within 4 standard errors of the mean
    np.testing.assert_array_less(np.abs(means.mean(axis=0) - truth), 4 * spread / np.sqrt(reps))


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["mc", "rqmc"])
def test_crossfit_calibration_many_laws(sampler):
    """Cross-fitted control variates on six overlapping laws: honest error bars.

    E_{N(mu, 1)}[2 + sin(2X)] = 2 + sin(2 mu) exp(-2), outside the Gaussian family so no
    proposal is exact.
    """
    mus = np.linspace(-0.5, 0.5, 6)

    def sample(rng, n):
        return (mus[rng.integers(mus.size, size=n)] + rng.standard_normal(n))[:, None]

    problem = Problem(
        dim=1,
        sample_initial=sample,
        evaluate=lambda x: (norm.logpdf(x - mus[None, :]), 2 + np.sin(2 * x)),
        output_names=["phi"],
        law_names=[f"mu={m:.1f}" for m in mus],
    )
    truth = 2 + np.sin(2 * mus) * np.exp(-2.0)
    reps = 120
    means, mcses = np.empty((reps, mus.size)), np.empty((reps, mus.size))
    for seed in range(reps):
        res = run(
            problem,
            Settings(12_000, sampler=sampler, cv_fit="crossfit", final_trim=0.0),
            np.random.default_rng(3000 + seed),
        )
        means[seed], mcses[seed] = res.estimates.mean, res.estimates.mcse
    spread = means.std(axis=0, ddof=1)
    reported = np.sqrt(np.mean(mcses**2, axis=0))
    np.testing.assert_array_less(np.abs(reported / spread - 1.0), 0.25)
    df = 2_000 if sampler == "mc" else res.estimates.df
    covered = np.mean(np.abs(means - truth) <= student_t.ppf(0.975, df) * mcses, axis=0)
    assert np.all((covered >= 0.90) & (covered <= 0.99)), covered


@pytest.mark.slow
def test_rqmc_calibration_high_moments():
    """E[X^(2j)], j = 1..5: the final phase drops the i.i.d. control variates here."""
    problem, truth = normal_moments_problem(5, initial_quantile=norm.ppf)
    reps = 150
    means, mcses = np.empty((reps, truth.size)), np.empty((reps, truth.size))
    for seed in range(reps):
        res = run(problem, Settings(6_000), np.random.default_rng(5000 + seed))
        means[seed], mcses[seed] = res.estimates.mean, res.estimates.mcse
    spread = means.std(axis=0, ddof=1)
    reported = np.sqrt(np.mean(mcses**2, axis=0))
    np.testing.assert_array_less(np.abs(reported / spread - 1.0), 0.25)
    covered = np.mean(np.abs(means - truth) <= student_t.ppf(0.975, res.estimates.df) * mcses, axis=0)
    assert np.all((covered >= 0.90) & (covered <= 0.99)), covered
    np.testing.assert_array_less(np.abs(means.mean(axis=0) - truth), 4 * spread / np.sqrt(reps))

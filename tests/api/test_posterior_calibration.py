"""Over 100 seeded runs, posterior means and log evidences: errors match the spread, intervals cover.

A normal-normal model under two priors (a prior-data conflict on one of them) with
exact posterior means, tail probabilities and log evidences.
"""

import warnings

import numpy as np
import pymc as pm
import pytest
from scipy import stats

import pymc_ais as pa

Y = np.array([2.1, 2.9, 2.4, 1.6, 2.7])
PRIORS = {"vague": (0.0, 5.0), "conflicting": (-1.0, 0.5)}


def model(mean, sd):
    with pm.Model() as m:
        mu = pm.Normal("mu", mean, sd)
        pm.Normal("y", mu, 1.0, observed=Y)
    return m


def truth(mean, sd):
    precision = 1 / sd**2 + Y.size
    post_mean = (mean / sd**2 + Y.sum()) / precision
    post = stats.norm(post_mean, np.sqrt(1 / precision))
    cov = np.eye(Y.size) + sd**2
    log_z = stats.multivariate_normal(np.full(Y.size, mean), cov).logpdf(Y)
    return np.array([post_mean, post.sf(2.5)]), log_z


@pytest.mark.slow
def test_posterior_means_and_log_evidence_are_calibrated():
    models = {name: model(*p) for name, p in PRIORS.items()}
    mu = models["vague"]["mu"]
    exact = [truth(*p) for p in PRIORS.values()]
    exact_means = np.array([t[0] for t in exact])  # (laws, 2)
    exact_log_z = np.array([t[1] for t in exact])
    reps = 100
    means, mcses, lows, highs = (np.empty((reps, 2, 2)) for _ in range(4))
    log_z, z_mcse, z_low, z_high = (np.empty((reps, 2)) for _ in range(4))
    for seed in range(reps):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", pa.ReliabilityWarning)
            idata = pa.estimate(
                {"mu": mu, "p": mu > 2.5}, models=models, draws=3_000, random_seed=500 + seed, progressbar=False
            )
        est, ev = idata["estimates"], idata["evidence"]
        means[seed], mcses[seed] = est["mean"].values, est["mcse"].values
        lows[seed], highs[seed] = est["ci_lower"].values, est["ci_upper"].values
        log_z[seed], z_mcse[seed] = ev["log_evidence"].values, ev["mcse"].values
        z_low[seed], z_high[seed] = ev["ci_lower"].values, ev["ci_upper"].values
    # Each run's error in its own standard error: their root mean square near one. (The ratio of
    # the mean squared mcse to the mean squared error, used before, weighs the runs by their mcse
    # and moved by 0.25 between two sets of 100 seeds of the same code while the root mean square
    # z-score stayed within 0.03 of one.) Measured: 0.92-1.13 for the means, 1.01-1.10 for the
    # log evidences; coverage 0.93-0.99.
    z = (means - exact_means) / mcses
    np.testing.assert_array_less(np.abs(np.sqrt(np.mean(z**2, axis=0)) - 1.0), 0.20)
    covered = np.mean((lows <= exact_means) & (exact_means <= highs), axis=0)
    assert np.all((covered >= 0.90) & (covered <= 0.99)), covered
    z_evidence = (log_z - exact_log_z) / z_mcse
    np.testing.assert_array_less(np.abs(np.sqrt(np.mean(z_evidence**2, axis=0)) - 1.0), 0.20)
    z_covered = np.mean((z_low <= exact_log_z) & (exact_log_z <= z_high), axis=0)
    assert np.all((z_covered >= 0.90) & (z_covered <= 0.99)), z_covered

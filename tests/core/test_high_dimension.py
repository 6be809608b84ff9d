"""Forward uncertainty propagation over many inputs: never much worse than plain Monte Carlo."""

import numpy as np
import pytest
from conftest import within
from scipy.stats import norm

from pymc_ais.core import Problem, Settings, run

DRAWS = 20_000


def smooth_outputs(dim):
    """E[S^2], E[exp(S / 2)], E[exp(2 S)], E[x_1^2 + x_2] for S = sum(x) / sqrt(d), x ~ N(0, I_d).

    Returns the problem, the exact values and the per-draw variances of plain Monte Carlo.
    """

    def evaluate(x):
        s = x.sum(axis=1) / np.sqrt(dim)
        phi = np.column_stack([s**2, np.exp(s / 2), np.exp(2 * s), x[:, 0] ** 2 + x[:, 1]])
        return norm.logpdf(x).sum(axis=1), phi

    truth = np.array([1.0, np.exp(1 / 8), np.exp(2.0), 1.0])
    variance = np.array([2.0, np.exp(0.5) - np.exp(0.25), np.exp(8.0) - np.exp(4.0), 3.0])
    problem = Problem(dim, lambda rng, n: rng.standard_normal((n, dim)), evaluate, ["s2", "exp_half", "exp_2", "x"])
    return problem, truth, variance


@pytest.mark.parametrize("dim", [2, 10, 30, 100])
def test_smooth_expectations_are_no_less_precise_than_plain_monte_carlo(dim):
    """Error bars near or below plain Monte Carlo's at the same budget, and the truths within them.

    The rms over three seeds of each error bar over plain Monte Carlo's stays below 1.5.
    Before runs over more than ten inputs used informed fits and kept a share of the
    mixture for every target, 2 runs in 20 at d = 30 gave the component of exp(2 S) 0.98
    of the mixture, and at d = 100 every run was 3 to 18 times less precise than plain
    Monte Carlo (rms 11 over 20 seeds).
    """
    problem, truth, variance = smooth_outputs(dim)
    ratios = []
    for seed in range(3):
        est = run(problem, Settings(DRAWS), np.random.default_rng(seed)).estimates
        within(est.mean, est.mcse, truth, k=4.0, df=est.df)
        ratios.append(est.mcse / np.sqrt(variance / DRAWS))
    rms = np.sqrt(np.mean(np.square(ratios), axis=0))
    assert np.all(rms < 1.5), np.round(rms, 2)


@pytest.mark.parametrize("threshold", [0.0, 1.0, 2.0])
def test_frequent_events_over_a_hundred_inputs_beat_plain_monte_carlo(threshold):
    # P(S > t) with a fifth to a fiftieth of the draws inside: a frequent event over 100 inputs
    # fitted with a full covariance from a few hundred points gave 7 to 8 times plain Monte
    # Carlo's error (0.048 at t = 0, 0.089 at t = 1, 0.36 at t = 2, relative RMSE over 10 seeds)
    dim = 100

    def evaluate(x):
        s = x.sum(axis=1) / np.sqrt(dim)
        return norm.logpdf(x).sum(axis=1), (s > threshold).astype(float)[:, None], (s - threshold)[:, None]

    problem = Problem(dim, lambda rng, n: rng.standard_normal((n, dim)), evaluate, ["p"])
    truth = norm.sf(threshold)
    est = run(problem, Settings(DRAWS), np.random.default_rng(7)).estimates
    within(est.mean, est.mcse, [truth], k=4.0, df=est.df)
    plain = np.sqrt(truth * (1 - truth) / DRAWS)
    assert est.mcse[0] < plain, (est.mcse[0], plain)


@pytest.mark.parametrize("seed", [30, 37])
def test_a_dominant_target_does_not_take_the_whole_mixture(seed):
    # d = 30, the two seeds of 20 where the optimiser gave the component of exp(2 S),
    # whose relative variance dominates the criterion, 0.91-0.98 of the mixture: E[S^2]
    # then came out 8 to 15 times less precise than plain Monte Carlo
    problem, truth, variance = smooth_outputs(30)
    result = run(problem, Settings(DRAWS), np.random.default_rng(seed))
    est = result.estimates
    within(est.mean, est.mcse, truth, k=4.0, df=est.df)
    ratio = est.mcse / np.sqrt(variance / DRAWS)
    assert np.all(ratio < 2.0), np.round(ratio, 2)
    assert result.state.proposals[result.final.proposal_index].alpha.max() < 0.9

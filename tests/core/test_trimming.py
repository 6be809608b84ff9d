"""The quasi-random final phase leaves out only the small components the criterion does not need."""

import numpy as np
from scipy import stats

from pymc_ais.core import Problem, Settings, run
from pymc_ais.core.engine import trimming

MEAN, VAR, T = 0.5, 0.5, 2.5  # the posterior of x_i ~ N(0, 1) given y_i = 1 ~ N(x_i, 1)
LOG_Z = 2 * stats.norm.logpdf(1.0, 0.0, np.sqrt(2.0))


def two_events_on_a_posterior() -> Problem:
    """The unnormalised posterior in 2-d, P(x_0 > t) and P(x_1 > t), and its evidence column."""

    def evaluate(x):
        log_f = LOG_Z + stats.norm.logpdf(x, MEAN, np.sqrt(VAR)).sum(axis=1, keepdims=True)
        return log_f, np.column_stack([x[:, 0] > T, x[:, 1] > T, np.ones(len(x))]).astype(float)

    start = stats.t(df=5, loc=MEAN, scale=1.0)
    return Problem(
        dim=2,
        sample_initial=lambda rng, n: start.rvs(size=(n, 2), random_state=rng),
        evaluate=evaluate,
        output_names=["a", "b", "evidence"],
        log_initial=lambda x, log_f: start.logpdf(x).sum(axis=1),
        normalised=False,
        centred=[True, True, False],
    )


def test_the_bulk_components_of_a_posterior_survive_the_trim():
    # The components fitted to the bulk (the evidence, each event's complement) hold a
    # handful of points per replicate beside the two event components; the trim keeps them.
    problem = two_events_on_a_posterior()
    result = run(problem, Settings(budget=20_000), np.random.default_rng(0))
    est = result.estimates
    relative = est.mcse[2] / est.mean[2]
    assert abs(est.mean[2] - np.exp(LOG_Z)) < 4 * est.mcse[2]
    assert relative < 0.005
    sampled = result.final.alpha
    assert np.count_nonzero(sampled) > 3  # more than the start and the two event components


def test_a_trim_the_criterion_does_not_feel_is_kept():
    # Moments of a standard normal: whatever small components the final mixture has,
    # leaving them out costs nothing, so the trim is as trim_small makes it.
    problem = Problem(
        dim=1,
        sample_initial=lambda rng, n: rng.standard_normal((n, 1)),
        evaluate=lambda x: (stats.norm.logpdf(x), np.hstack([x**2, x**4, x**6])),
        output_names=["m2", "m4", "m6"],
    )
    result = run(problem, Settings(budget=20_000), np.random.default_rng(1))
    proposal = result.state.proposals[result.final.proposal_index]
    assert proposal.components is not None
    small = np.zeros(proposal.alpha.size, dtype=bool)
    small[1:] = proposal.alpha[1:] == proposal.alpha[1:].min()
    spared = trimming.costly_to_drop(problem, result.state, proposal, small)
    assert not spared.any()

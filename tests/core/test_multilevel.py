"""The multilevel start: events no first draw reaches, on plain numpy problems with exact truths."""

import numpy as np
import pytest
from conftest import within
from scipy.stats import norm
from scipy.stats import t as student_t

from pymc_ais.core import Problem, Settings, run
from pymc_ais.core.engine.climbing import LEVEL_STEP, climbing_levels
from pymc_ais.core.engine.state import Proposal, State
from pymc_ais.core.engine.targets import Targets

D = 10


def linear_events(thresholds, scores=True, dim=D):
    """P(S > t_k), S = sum(x) / sqrt(d), x ~ N(0, I_d): indicators with their scores S - t_k."""
    thresholds = np.asarray(thresholds, dtype=np.float64)

    def evaluate(x):
        s = x.sum(axis=1) / np.sqrt(dim)
        log_f = norm.logpdf(x).sum(axis=1)
        phi = (s[:, None] > thresholds).astype(np.float64)
        return (log_f, phi, s[:, None] - thresholds) if scores else (log_f, phi)

    names = [f"p{t:g}" for t in thresholds]
    return Problem(dim, lambda rng, n: rng.standard_normal((n, dim)), evaluate, names), norm.sf(thresholds)


@pytest.mark.parametrize("dim", [2, 10, 30, 100])
def test_rare_thresholds_on_a_ladder_of_dimensions(dim):
    """P(S > 4) = 3.2e-5 and P(S > 5) = 2.9e-7 at 2e4 runs, three seeds, whatever the dimension.

    Measured over 10 seeds (relative RMSE of P(S > 4) / P(S > 5), rms z-score): d = 2
    0.010 / 0.011 (1.5 / 1.1), d = 10 0.012 / 0.027 (0.9 / 1.9), d = 30 0.063 / 0.014
    (1.0 / 0.8), d = 100 0.062 / 0.051 (0.8 / 1.1).
    """
    problem, truth = linear_events([4.0, 5.0], dim=dim)
    errors = []
    for seed in range(3):
        est = run(problem, Settings(20_000), np.random.default_rng(seed)).estimates
        errors.append(est.mean / truth - 1)
        within(est.mean, est.mcse, truth, k=4.0, df=est.df)
    rmse = np.sqrt(np.mean(np.square(errors), axis=0))
    assert np.all(rmse < (0.05 if dim <= 10 else 0.15)), rmse


def test_an_event_of_one_in_a_million():
    problem, truth = linear_events([4.753424])  # P = 1.0e-6
    for seed in range(3):
        result = run(problem, Settings(20_000), np.random.default_rng(seed))
        est = result.estimates
        within(est.mean, est.mcse, truth, k=4.0, df=est.df)
        assert abs(est.mean[0] / truth[0] - 1) < 0.1  # within 10 %: the event was reached
        assert any(p.climbing for p in result.state.proposals)
        assert not result.state.proposals[result.final.proposal_index].climbing


def test_without_scores_the_event_is_never_reached():
    # the same problem without scores: no first draw reaches 1e-6, and the estimate is 0
    problem, truth = linear_events([4.753424], scores=False)
    result = run(problem, Settings(20_000), np.random.default_rng(0))
    assert result.estimates.mean[0] < 0.5 * truth[0]


def test_a_budget_spent_while_climbing_samples_the_highest_level():
    # 6,000 runs cannot climb to 1e-15: every adapted proposal still climbs when the
    # budget ends, and the final phase must draw from the last (highest) one, not the
    # first; the estimate is then far off, and a warning (tested elsewhere) says so
    problem, truth = linear_events([8.0])
    result = run(problem, Settings(6_000), np.random.default_rng(0))
    proposals = result.state.proposals
    assert len(proposals) > 2 and all(p.climbing for p in proposals)
    assert result.final.proposal_index == len(proposals) - 1


def _four_branch(c: float = 5.0, k: float = 10.0):
    """The four-branch series system in two standard normals; p_f = 8.98e-7 for c = 5, k = 10."""

    def evaluate(x):
        x1, x2 = x[:, 0], x[:, 1]
        a = c + (x1 - x2) ** 2 / 10
        g = np.minimum(
            np.minimum(a - (x1 + x2) / np.sqrt(2), a + (x1 + x2) / np.sqrt(2)),
            np.minimum(x1 - x2 + k / np.sqrt(2), x2 - x1 + k / np.sqrt(2)),
        )
        return norm.logpdf(x).sum(axis=1), (g <= 0).astype(float)[:, None], -g[:, None]

    return Problem(2, lambda rng, n: rng.standard_normal((n, 2)), evaluate, ["p_f"], initial_quantile=norm.ppf)


def test_the_first_block_at_an_event_gets_a_refit_past_the_adaptive_cap():
    # the four-branch system at 9e-7 is reached by the block that ends at the cap
    # (half the budget): its fit per region rests on the few draws of the last climb,
    # so one more block is drawn and fitted (the API's four-branch runs over 50 seeds:
    # relative RMSE 0.028 -> 0.011, and no run 17 % low); an event reached earlier
    # stops at the cap as before, and so does one reached at the cap whose fit has no
    # regions ("two of three" sums above 3 sigma, 19 effective draws in the event: a
    # refit there settled on one region in 2 runs of 20 at 6,000 runs, 63 % low)
    settings = Settings(20_000)
    result = run(_four_branch(), settings, np.random.default_rng(0))
    climbing = [p.climbing for p in result.state.proposals]
    assert climbing == [True] * 4 + [False] * 2
    assert result.state.proposals[4].regions[0] >= 2
    assert result.state.evaluations == settings.adaptive_cap + settings.block
    problem, _ = linear_events([3.0])
    early = run(problem, settings, np.random.default_rng(0))
    assert not early.state.proposals[-2].climbing  # reached before the cap
    assert early.state.evaluations <= settings.adaptive_cap

    def two_of_three(x):
        s = x.reshape(-1, 3, 3).sum(axis=2) / np.sqrt(3)
        second = np.sort(s, axis=1)[:, 1]  # at least two of three above 3 when the second largest is
        return norm.logpdf(x).sum(axis=1), (second > 3.0).astype(float)[:, None], (second - 3.0)[:, None]

    problem = Problem(9, lambda rng, n: rng.standard_normal((n, 9)), two_of_three, ["two of three"])
    without = run(problem, settings, np.random.default_rng(0))
    assert [p.climbing for p in without.state.proposals] == [True] * 4 + [False]
    assert without.state.proposals[-1].regions[0] == 0
    assert without.state.evaluations == settings.adaptive_cap


def test_thresholds_share_the_ladder():
    problem, truth = linear_events([2.0, 3.0, 4.0, 4.5, 5.0])
    result = run(problem, Settings(20_000), np.random.default_rng(11))
    within(result.estimates.mean, result.estimates.mcse, truth, k=4.0, df=result.estimates.df)


def _pooled_after_a_climb(last_level: float, n: int = 4000) -> State:
    """The event x > 5 (2.9e-7, score x - 5) for x ~ N(0, 1), after one climb to ``last_level``.

    The pooled draws are n from the law and n from N(4, 1), which put a sixth of
    theirs in the event: an elite share reached it whatever the last level was.
    """
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.standard_normal(n), rng.normal(4.0, 1.0, n)])[:, None]
    log_q = np.stack([norm.logpdf(x[:, 0]), norm.logpdf(x[:, 0], 4.0, 1.0)], axis=1)
    one = np.ones(1)
    initial = Proposal(np.array([1.0]), None, one, one[None], one, np.nan, np.array([True]))
    climbed = Proposal(
        np.array([0.5, 0.5]), None, one, np.ones((2, 1)), one, 0.0, np.array([True]), None, None, np.array([last_level])
    )
    return State(
        Targets(np.array([0]), np.array([0]), np.array([0]), np.array([0]), np.zeros(1)),
        x,
        norm.logpdf(x),
        (x > 5.0).astype(np.float64),
        log_q,
        np.array([n, n]),
        (initial, climbed),
        np.array([norm.sf(5.0)]),
        one,
        np.eye(1),
        np.zeros(1),
        None,
        x - 5.0,
    )


def test_an_event_reached_by_a_jump_climbs_on():
    # from the level x > 2 (2.3e-2) the event (2.9e-7) is 1e-5 of the level's probability:
    # reached through whatever part of the level set the fit favoured, it climbs on to
    # a level holding about LEVEL_STEP of the last one's; from x > 4.7 (1.3e-6) it is reached
    state = _pooled_after_a_climb(-3.0)
    assert state.phi.sum() > 100  # an elite share of the draws is in the event
    level = climbing_levels(state)[0]
    assert -3.0 < level < 0.0
    assert 0.5 * LEVEL_STEP < norm.sf(5.0 + level) / norm.sf(2.0) < 2.0 * LEVEL_STEP
    assert np.isnan(climbing_levels(_pooled_after_a_climb(-0.3))[0])


@pytest.mark.slow
def test_calibration_at_four_and_a_half_sigma():
    """200 seeds at 2e4 runs: reported errors match the spread, 95 % intervals cover 90-99 %.

    Measured: reported / spread 0.98, coverage 0.90 on these seeds (0.93 on 100 others):
    at the lower edge. Levels that climb by bounded steps cost this case adaptive
    blocks: the coverage was 0.96 with the elite share alone, which lost failure
    regions and high-dimensional directions (see the rare-event benchmarks).
    """
    problem, truth = linear_events([4.5])
    reps = 200
    means, mcses, dfs = np.empty(reps), np.empty(reps), np.empty(reps)
    for seed in range(reps):
        est = run(problem, Settings(20_000), np.random.default_rng(7000 + seed)).estimates
        means[seed], mcses[seed], dfs[seed] = est.mean[0], est.mcse[0], est.df
    spread = np.sqrt(np.mean((means - truth[0]) ** 2))
    reported = np.sqrt(np.mean(mcses**2))
    assert abs(reported / spread - 1) < 0.3, (reported, spread)
    covered = np.mean(np.abs(means - truth[0]) <= student_t.ppf(0.975, dfs) * mcses)
    assert 0.90 <= covered <= 0.99, covered
    assert spread / truth[0] < 0.05  # the target: relative RMSE at most 5 % at 2e4 runs


def test_a_reach_once_accepted_is_not_revisited():
    # the same pooled draws, but the last block no longer climbed: the event was taken
    # as reached then, and later blocks do not send it climbing again
    state = _pooled_after_a_climb(-3.0)
    reached = state.proposals[-1]._replace(levels=np.array([np.nan]))
    later = state._replace(
        proposals=state.proposals + (reached,),
        counts=np.append(state.counts, 0),
        log_q=np.column_stack([state.log_q, state.log_q[:, 1]]),
    )
    assert np.isnan(climbing_levels(later)[0])


def test_the_default_target_share_grows_with_dimension():
    settings = Settings(2000)
    assert [settings.rare_target_share(d) for d in (2, 10, 20, 30, 300)] == pytest.approx([0.1, 0.1, 0.2, 0.3, 0.3])
    assert Settings(2000, target_share=0.05).rare_target_share(300) == 0.05
    assert Settings(2000, defensive=0.9).rare_target_share(300) == pytest.approx(0.05)  # half of what is left


def test_frequent_events_beside_rare_ones_keep_their_share_in_high_dimension():
    # P(S > 2) beside P(S > 5) over 100 inputs: the optimiser starved the frequent
    # event's component (final weight 0.05 here), which came out less precise than
    # plain Monte Carlo; the default bound (0.3 at this dimension) must reach the final
    # mixture. The gain in precision is measured in benchmarks/rare_events.py
    problem, truth = linear_events([2.0, 5.0], dim=100)
    result = run(problem, Settings(20_000), np.random.default_rng(0))
    assert result.final.alpha[1] >= 0.3 / 2 - 1e-9
    within(result.estimates.mean, result.estimates.mcse, truth, k=4.0, df=result.estimates.df)


def test_target_share_is_validated():
    with pytest.raises(ValueError, match="target_share must be in"):
        Settings(2000, target_share=0.995)
    assert Settings(2000, target_share=0.0).target_share == 0.0


def test_a_large_target_share_beside_a_climbing_target_still_gives_a_mixture():
    # 0.9 for the targets and half the mixture for the climbing one add up to more than
    # one: the floors shrink together (they used to give negative mixture weights)
    problem, truth = linear_events([1.0, 1.5, 2.0, 4.0])  # the first block reaches all but the last
    result = run(problem, Settings(6000, target_share=0.9), np.random.default_rng(0))
    assert any(p.climbing for p in result.state.proposals)
    for proposal in result.state.proposals[1:]:
        assert np.all(proposal.alpha >= 0) and np.isclose(proposal.alpha.sum(), 1.0)
    within(result.estimates.mean, result.estimates.mcse, truth, k=4.0, df=result.estimates.df)


def test_a_linear_event_in_three_hundred_dimensions():
    """P(S > 5) = 2.9e-7 over 300 inputs: the score's slope gives the direction, so levels need few draws.

    Measured over 20 seeds (``python benchmarks/rare_events.py --dim 300``): relative RMSE
    0.042 at 5 sigma against 0.31 when each level held one effective draw per dimension.
    """
    problem, truth = linear_events([5.0], dim=300)
    for seed in range(2):
        result = run(problem, Settings(20_000), np.random.default_rng(seed))
        est = result.estimates
        within(est.mean, est.mcse, truth, k=4.0, df=est.df)
        assert abs(est.mean[0] / truth[0] - 1) < 0.25
        assert not result.state.proposals[result.final.proposal_index].climbing  # reached in the adaptive phase

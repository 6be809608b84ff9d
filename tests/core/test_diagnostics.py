"""Diagnostics of the final sample on plain numpy problems: error-bar floor, weight bound, k-hat choice."""

import numpy as np
from scipy.stats import norm

from pymc_ais.core import Problem
from pymc_ais.core.engine.diagnostics import diagnostics, pareto_khat
from pymc_ais.core.engine.final import RARE_EVENT_QMC_CREDIT, SUMMAND_PRECISION, estimates_from_summands
from pymc_ais.core.engine.tails import InputTail, tail_khat, weight_bound


def _problem(log_initial=None):
    return Problem(
        1,
        lambda rng, n: rng.standard_normal((n, 1)),
        lambda x: (norm.logpdf(x), x),
        ["m"],
        log_initial=log_initial,
    )


def test_identical_replicates_keep_a_positive_error_bar():
    # every replicate integrates the output exactly: the spread is 0, the estimate is not exact
    summands = np.tile(np.array([0.5, 1.5]), 8)[:, None] * np.ones((1, 2))
    replicate = np.repeat(np.arange(8), 2)
    est = estimates_from_summands(summands, replicate)
    rms = np.sqrt(np.mean(summands**2, axis=0))
    np.testing.assert_allclose(est.mcse, SUMMAND_PRECISION * rms)
    assert np.all(est.mcse > 0)


def test_the_floor_is_invisible_next_to_a_statistical_error():
    rng = np.random.default_rng(0)
    summands = rng.standard_normal((4000, 1))
    est = estimates_from_summands(summands)
    np.testing.assert_allclose(est.mcse, summands.std(ddof=1) / np.sqrt(4000), rtol=1e-9)


def test_a_rare_event_error_bar_takes_limited_credit_for_quasi_random_replicates():
    # replicate means nearly equal (the spread claims a 1,000-fold gain) while the points
    # vary: a marked estimate's error bar is floored at the i.i.d. formula's over the
    # credit; an unmarked one keeps its spread; the correlation between the two is kept.
    rng = np.random.default_rng(1)
    reps, per = 10, 200
    replicate = np.repeat(np.arange(reps), per)
    balanced = np.tile(rng.permutation(np.linspace(-1.0, 1.0, per)), reps)
    noise = 1e-3 * rng.standard_normal(reps * per)
    second = 2.0 + balanced + noise + 1e-3 * rng.standard_normal(reps * per)
    summands = np.column_stack([1.0 + balanced + noise, second])
    plain = estimates_from_summands(summands, replicate)
    marked = estimates_from_summands(summands, replicate, np.array([True, False]))
    iid = summands[:, 0].std(ddof=1) / np.sqrt(reps * per)
    np.testing.assert_allclose(marked.mcse[0], iid / np.sqrt(RARE_EVENT_QMC_CREDIT), rtol=1e-12)
    assert plain.mcse[0] < marked.mcse[0] / 100
    assert marked.mcse[1] == plain.mcse[1]
    np.testing.assert_array_equal(marked.mean, plain.mean)
    correlation = lambda cov: cov[0, 1] / np.sqrt(cov[0, 0] * cov[1, 1])
    np.testing.assert_allclose(correlation(marked.cov), correlation(plain.cov), rtol=1e-12)
    assert marked.df == plain.df == reps - 1


def test_a_rare_event_run_limits_the_credit_of_its_events_alone():
    from pymc_ais.core import Settings, run
    from pymc_ais.core.engine.kernel import rare_event_pairs

    def evaluate(x):  # the event's score is x0 - 4.5; x has none
        score = np.column_stack([x[:, 0] - 4.5, np.full(x.shape[0], np.nan)])
        return norm.logpdf(x).sum(axis=1), np.column_stack([(x[:, 0] > 4.5) * 1.0, x[:, 0]]), score

    sample = lambda rng, n: rng.standard_normal((n, 2))
    problem = Problem(2, sample, evaluate, ["event", "x"], initial_quantile=norm.ppf)
    rare = run(problem, Settings(6_000), np.random.default_rng(3))
    assert rare.state.rare
    marked = rare_event_pairs(rare.state, rare.final)
    np.testing.assert_array_equal(marked, [True, False])
    again = estimates_from_summands(rare.final.pair_summands, rare.final.replicate, marked)
    np.testing.assert_array_equal(rare.estimates.mcse, again.mcse)
    spread_alone = estimates_from_summands(rare.final.pair_summands, rare.final.replicate)
    assert rare.estimates.mcse[0] > 1.5 * spread_alone.mcse[0]  # the floor binds on this seed
    frequent = Problem(2, problem.sample_initial, lambda x: (norm.logpdf(x).sum(axis=1), (x > 0.5) * 1.0), ["a", "b"])
    assert rare_event_pairs(run(frequent, Settings(2_000), np.random.default_rng(3)).state, rare.final) is None


def test_a_run_over_one_input_limits_the_credit_of_every_scored_event():
    """The boundary of P(x > 1) crosses one cell of each replicate's net: replicates can agree
    far more closely than the estimate errs, though the run climbs to nothing. Without a
    score the event keeps its credit (calibrated over 200 seeds in test_calibration)."""
    from pymc_ais.core import Settings, run
    from pymc_ais.core.engine.kernel import rare_event_pairs

    def evaluate(x):
        score = np.column_stack([x[:, 0] - 1.0, np.full(x.shape[0], np.nan)])
        return norm.logpdf(x[:, 0]), np.column_stack([(x[:, 0] > 1.0) * 1.0, x[:, 0]]), score

    def unscored(x):
        return evaluate(x)[:2]

    def sample(rng, n):
        return rng.standard_normal((n, 1))

    problem = Problem(1, sample, evaluate, ["event", "x"], initial_quantile=norm.ppf)
    scored = run(problem, Settings(4_000), np.random.default_rng(64))
    assert not scored.state.rare
    np.testing.assert_array_equal(rare_event_pairs(scored.state, scored.final), [True, False])
    problem = Problem(1, sample, unscored, ["event", "x"], initial_quantile=norm.ppf)
    plain = run(problem, Settings(4_000), np.random.default_rng(64))
    assert rare_event_pairs(plain.state, plain.final) is None


def test_weight_bound_from_the_defensive_component():
    assert weight_bound(_problem(), 0.25) == 4.0
    assert weight_bound(_problem(), 0.0) == np.inf
    # a starting law other than the mixture of the laws: no bound is known
    assert weight_bound(_problem(log_initial=lambda x, log_f: log_f[:, 0]), 0.25) == np.inf


def test_tail_khat_trusts_bounded_weights_only_with_a_light_input_tail():
    k_final = np.array([1.2, 1.2, 0.3])
    tail = InputTail(khat=np.array([0.1, 0.9, np.nan]), dominated=np.array([False, True, False]), tail_points=64)
    # bounded weights (4 <= sqrt(400)): the light-tailed output reports its input-law k-hat
    np.testing.assert_array_equal(tail_khat(k_final, tail, 4.0, 400), [0.1, 1.2, 0.3])
    # light by its estimate but not by one standard error (0.45 + 1.45 / 8 > 0.5): the
    # final draws' k-hat stands (x^2 under a Student-t(2.5), k = 0.8, gave 0.48 on 500 draws)
    unsure = InputTail(khat=np.array([0.45, 0.9, np.nan]), dominated=np.array([False, True, False]), tail_points=64)
    np.testing.assert_array_equal(tail_khat(k_final, unsure, 4.0, 400), [1.2, 1.2, 0.3])
    # weights bounded far above sqrt(n): the final draws' k-hat stands
    np.testing.assert_array_equal(tail_khat(k_final, tail, 1e3, 400), [1.2, 1.2, 0.3])
    # the input-law k-hat counts where the input law carries the far tail
    tail = InputTail(khat=np.array([0.1, 1.5, np.nan]), dominated=np.array([False, True, False]), tail_points=64)
    np.testing.assert_array_equal(tail_khat(k_final, tail, np.inf, 400), [1.2, 1.5, 0.3])


def test_integrand_ess_counts_the_draws_an_event_rests_on():
    rng = np.random.default_rng(1)
    n = 1000
    log_f = norm.logpdf(rng.standard_normal((n, 1)))
    log_q = log_f[:, 0].copy()  # weights one
    phi = np.zeros((n, 3))
    phi[:40, 0] = 1.0  # an event reached by 40 draws
    phi[0, 1] = 1.0  # an event reached by one draw
    phi[:, 2] = 0.0  # never reached
    diag = diagnostics(log_f, phi, log_q, mcse=np.ones(3))
    np.testing.assert_allclose(diag["ess_integrand"], [40.0, 1.0, 0.0])


def _psis_khat(log_ratios):
    """k-hat of arviz-stats' full PSIS smoothing (the reference)."""
    import warnings

    from arviz_stats.base.array import array_stats

    finite = log_ratios[np.isfinite(log_ratios)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return float(array_stats.psislw(-finite, r_eff=1.0)[1])
        except ValueError:
            return np.nan


def test_partitioned_khat_is_psis_khat_exactly():
    rng = np.random.default_rng(3)
    for trial in range(60):
        n = int(rng.integers(40, 4000))
        x = [rng.standard_normal(n), rng.standard_t(2, n), 3 * np.log(rng.pareto(1.5, n) + 1e-12)][trial % 3]
        if trial % 5 == 0:
            x[rng.integers(0, n, 4)] = -np.inf
        ours, reference = pareto_khat(x), _psis_khat(x)
        assert ours == reference or (np.isnan(ours) and np.isnan(reference)), (trial, ours, reference)

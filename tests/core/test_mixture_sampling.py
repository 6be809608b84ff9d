"""The final-phase samplers and the choice of control variates on replicates."""

import numpy as np
from scipy.stats import norm

from pymc_ais.core.densities import gaussian_mixture as gm
from pymc_ais.core.densities import mixture_sampling as fs
from pymc_ais.core.engine.control_variates import crossfit

ALPHA = np.array([0.05, 0.6, 0.35])
COMPONENTS = (gm.gaussian(np.array([-1.0]), np.array([[4.0]])), gm.gaussian(np.array([2.0]), np.array([[0.25]])))


def _mixture_cdf(t):
    return ALPHA[0] * norm.cdf(t) + ALPHA[1] * norm.cdf(t, -1.0, 2.0) + ALPHA[2] * norm.cdf(t, 2.0, 0.5)


def test_stacked_quasi_mixture_follows_the_mixture_exactly():
    # each point of a replicate follows g_alpha: the fraction of points below t, averaged
    # over independent replicates, matches the mixture CDF within 4 standard errors
    rng = np.random.default_rng(5)
    m, reps = 64, 2_000
    thresholds = np.array([-3.0, -1.0, 0.0, 1.5, 2.0, 2.5])
    fractions = np.empty((reps, thresholds.size))
    for r in range(reps):
        x = fs._quasi_mixture(ALPHA, COMPONENTS, lambda g, n: g.standard_normal((n, 1)), norm.ppf, rng, m, 1)
        fractions[r] = (x[:, 0, None] <= thresholds).mean(axis=0)
    se = fractions.std(axis=0, ddof=1) / np.sqrt(reps)
    z = np.abs(fractions.mean(axis=0) - _mixture_cdf(thresholds)) / se
    assert np.all(z < 4.0), z


def test_stacked_quasi_mixture_counts_follow_alpha():
    # the first Sobol' coordinate is balanced: each strip of width alpha_k holds
    # m * alpha_k points up to one (the net's elementary intervals are exact)
    rng = np.random.default_rng(6)
    m = 1024
    apart = (gm.gaussian(np.array([-10.0]), np.eye(1)), gm.gaussian(np.array([10.0]), np.eye(1)))
    x = fs._quasi_mixture(ALPHA, apart, None, lambda u: np.full_like(u, 100.0), rng, m, 1)[:, 0]
    counts = [(x == 100.0).sum(), (x < 0).sum(), ((x > 0) & (x < 100.0)).sum()]
    assert abs(counts[0] - m * ALPHA[0]) <= 1
    np.testing.assert_allclose(counts[1:], m * ALPHA[1:], atol=1.0)


def test_rqmc_replicates_beat_iid_on_a_smooth_integrand():
    # a smooth integrand under the mixture: the spread of rqmc replicate means is far
    # below that of i.i.d. draws of the same size (the point of the sampler)
    rng = np.random.default_rng(7)
    m, reps = 256, 200
    quasi = [fs._quasi_mixture(ALPHA, COMPONENTS, None, norm.ppf, rng, m, 1)[:, 0] for _ in range(reps)]
    loc, scale = np.array([0.0, -1.0, 2.0]), np.array([1.0, 2.0, 0.5])
    iid = []
    for _ in range(reps):
        k = rng.choice(3, size=m, p=ALPHA)
        iid.append(loc[k] + scale[k] * rng.standard_normal(m))
    spread_q = np.var([np.mean(np.sin(q)) for q in quasi])
    spread_i = np.var([np.mean(np.sin(q)) for q in iid])
    assert spread_q < spread_i / 10


def test_trim_small_keeps_the_defensive_component():
    alpha = np.array([0.01, 0.5, 0.02, 0.03, 0.44])
    trimmed = fs.trim_small(alpha, 0.06)
    assert trimmed[0] > 0 and trimmed[2] == 0 and trimmed[3] == 0
    np.testing.assert_allclose(trimmed.sum(), 1.0)
    np.testing.assert_allclose(trimmed[[1, 4]] / trimmed[[1, 4]].sum(), alpha[[1, 4]] / 0.94)
    # with 4096 points per replicate, 0.02 and 0.03 give 82 and 123 points: kept
    np.testing.assert_array_equal(fs.trim_small(alpha, 0.06, per_replicate=4096), alpha)
    # with 1024, both are a handful (20 and 31 points): dropped
    trimmed = fs.trim_small(alpha, 0.06, per_replicate=1024)
    assert trimmed[2] == 0 and trimmed[3] == 0


def test_components_alone_at_their_centre_survive_trimming():
    # P(S > 2) and P(S > 5) on one axis: the small component sits where no other one does
    far = gm.gaussian(np.array([5.2, 0.0]), np.diag([0.04, 1.0]))
    near = gm.gaussian(np.array([2.4, 0.0]), np.diag([0.15, 1.0]))
    overlapping = gm.gaussian(np.array([5.0, 0.0]), np.diag([0.05, 1.0]))
    alpha = np.array([0.01, 0.02, 0.67, 0.30])
    alone = fs.alone_at_centre(alpha, (near, far, overlapping))
    np.testing.assert_array_equal(alone, [False, True, True, False])
    trimmed = fs.trim_small(alpha, 0.1, per_replicate=1250)
    assert trimmed[1] == 0  # 25 points per replicate: a handful, dropped without the flag
    kept = fs.trim_small(alpha, 0.1, per_replicate=1250, keep=alone)
    np.testing.assert_allclose(kept, alpha)


def test_allocate_sums_to_m():
    counts = fs.allocate(np.array([0.333, 0.333, 0.334]), 10)
    assert counts.sum() == 10 and counts.max() - counts.min() <= 1


CANDIDATES = [np.array([], dtype=int), np.array([0])]  # no control variate, or the one


def _replicated_data(rng, reps=16, per=64):
    """Summands whose replicate means are nearly exact while a control variate's are not.

    Within a replicate y is a balanced pattern (means exactly 0.5, like a QMC integrand)
    and c follows the same pattern plus a shift drawn per replicate: pointwise, c
    explains y almost fully; on replicate means, subtracting it only adds the shifts.
    """
    pattern = np.tile(np.linspace(-0.5, 0.5, per), reps)
    groups = np.repeat(np.arange(reps), per)
    y = (0.5 + pattern + 1e-3 * rng.standard_normal(pattern.size))[:, None]
    shift = np.repeat(rng.uniform(-0.3, 0.3, reps), per)
    c = (pattern + shift)[:, None]
    return y, c, groups


def test_crossfit_on_replicates_drops_a_control_variate_that_hurts():
    rng = np.random.default_rng(8)
    y, c, groups = _replicated_data(rng)
    default = np.array([[1.0]])  # the i.i.d.-fitted coefficient
    out = crossfit(y, c, CANDIDATES, groups % 2, np.ones(1), default, groups)
    np.testing.assert_array_equal(out, y)  # no control variate on either fold
    # scored pointwise, as for i.i.d. draws, the same data keep it
    pointwise = crossfit(y, c, CANDIDATES, groups % 2, np.ones(1), default)
    assert not np.array_equal(pointwise, y)


def test_crossfit_on_replicates_keeps_a_control_variate_that_helps():
    rng = np.random.default_rng(9)
    reps, per = 16, 64
    groups = np.repeat(np.arange(reps), per)
    c = rng.uniform(-1.0, 1.0, (reps * per, 1))
    y = 1.0 + 2.0 * c + 0.01 * rng.standard_normal((reps * per, 1))
    out = crossfit(y, c, CANDIDATES, groups % 2, np.ones(1), np.zeros((1, 1)), groups)
    means = np.array([out[groups == g].mean() for g in range(reps)])
    assert means.std() < 0.01


def test_crossfit_on_replicates_refits_the_light_columns_beside_a_heavy_one():
    # column 0 explains y; column 1 is a heavy-tailed ratio (k-hat about 0.8) unrelated to it.
    # With replicates the light column is refitted alone; with i.i.d. points the set is
    # skipped (its error bars came out too small) and the default coefficients stay.
    rng = np.random.default_rng(10)
    reps, per = 16, 64
    groups = np.repeat(np.arange(reps), per)
    light = rng.uniform(-1.0, 1.0, reps * per)
    heavy = 0.2 * rng.pareto(1.25, reps * per) - 0.8  # ratio 1 + c: Lomax tail, index 1.25
    c = np.column_stack([light, heavy])
    y = (1.0 + 2.0 * light + 0.01 * rng.standard_normal(reps * per))[:, None]
    candidates = [np.arange(0), np.arange(2)]
    default = np.zeros((2, 1))
    out = crossfit(y, c, candidates, groups % 2, np.ones(1), default, groups)
    means = np.array([out[groups == g].mean() for g in range(reps)])
    assert means.std() < 0.01  # the plain summands' replicate means spread about 0.14
    np.testing.assert_array_equal(crossfit(y, c, candidates, groups % 2, np.ones(1), default), y)


def test_guarded_keeps_helpful_coefficients_and_drops_harmful_ones_per_target():
    # two targets share one control variate c (mean 0): target 0 is y0 = 1 + c (coefficient
    # 1 is right), target 1 is y1 = 1 + noise (coefficient 3 adds 9 Var c). Each target must
    # keep or drop the coefficient on its own, and the estimates stay unbiased.
    from pymc_ais.core.engine.control_variates import guarded

    n, reps = 2000, 300
    coef = np.array([[1.0, 3.0]])
    estimates = []
    for seed in range(reps):
        rng = np.random.default_rng(seed)
        c = rng.uniform(-1.0, 1.0, (n, 1))
        y = np.column_stack([1.0 + c[:, 0], 1.0 + 0.5 * rng.standard_normal(n)])
        out = guarded(y, c, coef, np.arange(n) % 2)
        estimates.append(out.mean(axis=0))
        if seed == 0:
            np.testing.assert_allclose(out[:, 0], 1.0)  # the exact control variate, kept
            np.testing.assert_array_equal(out[:, 1], y[:, 1])  # the harmful one, dropped
    estimates = np.array(estimates)
    se = estimates.std(axis=0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(estimates.mean(axis=0) - 1.0) < 4 * np.maximum(se, 1e-12))
    assert estimates[:, 1].std() < 1.2 * 0.5 / np.sqrt(n)  # no worse than plain importance sampling

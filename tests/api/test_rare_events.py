"""Rare events through pa.estimate: indicator expressions reach events no first draw sees."""

import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from conftest import normal_laws, within, within_run
from scipy.stats import norm

import pymc_ais as pa


def test_one_in_a_million_from_an_indicator_expression():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=10)
    s = x.sum() / np.sqrt(10)
    thresholds = [4.0, 4.753424]  # 3.2e-5 and 1.0e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error", pa.ReliabilityWarning)
        idata = pa.estimate(
            {"p4": s > thresholds[0], "p_1e-6": s > thresholds[1]},
            model=model,
            draws=20_000,
            random_seed=3,
            progressbar=False,
        )
    within_run(idata, norm.sf(thresholds))
    relative = idata["estimates"]["mean"].values / norm.sf(thresholds) - 1
    assert np.all(np.abs(relative) < 0.1)


@pytest.mark.parametrize("dim, seed", [(1, 4), (1, 16), (2, 0)])
def test_one_in_a_million_over_one_or_two_inputs(dim, seed):
    """Over one input the climbing fits were as narrow as the truncated law and the climb
    ran out of blocks: seed 4 gave 0, seed 16 was 52 % low (1e-6, 20 seeds: relative
    RMSE 0.28, 9 runs warned)."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=dim)
    threshold = 4.753424  # 1.0e-6
    with warnings.catch_warnings():
        warnings.simplefilter("error", pa.ReliabilityWarning)
        idata = pa.failure_probability(
            threshold - x.sum() / np.sqrt(dim), model=model, random_seed=seed, progressbar=False
        )
    within_run(idata, [norm.sf(threshold)])
    assert abs(idata["failure"]["probability"].item() / norm.sf(threshold) - 1) < 0.05


@pytest.mark.parametrize("dim, probability", [(1, 1e-12), (10, 1e-10)])
def test_a_climb_cut_by_the_adaptive_cap_goes_on(dim, probability):
    """Each level lies at most 50 times below the last, so the five blocks of the adaptive
    cap climb to about 1e-8; the final phase then drew from a proposal that never saw
    the event (over ten inputs at 1e-10, seed 0 came out twice the truth with an error
    bar of 66 %, warned; over one input at 1e-12 the error bar was 12 %)."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=dim)
    threshold = norm.isf(probability)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pa.ReliabilityWarning)
        idata = pa.estimate({"p": x.sum() / np.sqrt(dim) > threshold}, model=model, random_seed=0, progressbar=False)
    within_run(idata, [probability])
    assert idata["estimates"]["mcse"].item() < 0.08 * probability
    assert idata.attrs["evaluations_adaptive"] > 10_000  # past the cap of half the budget


def test_a_climb_towards_an_event_it_cannot_reach_stops_at_the_cap():
    """An event of probability 0 whose score keeps rising (towards a bound below 0): its
    levels never get within reach, and the other expectations keep half the budget."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    with pytest.warns(pa.ReliabilityWarning, match="never reached"):
        idata = pa.estimate(
            {"impossible": pt.sigmoid(x) > 1.5, "mean": x}, model=model, random_seed=0, progressbar=False
        )
    assert idata.attrs["evaluations_adaptive"] <= 10_000


@pytest.mark.parametrize(("dim", "threshold", "iid"), [(12, 4.0, True), (10, 4.0, False), (12, 1.0, False)])
def test_a_rare_event_run_over_many_inputs_draws_its_final_phase_iid(dim, threshold, iid):
    """Over more than ten inputs a rare-event run's final phase is i.i.d. (randomized QMC
    gained little there and its replicates understated the error: cut sets over 99
    inputs had two runs in 20 at five error bars); fewer inputs, or an event the first
    block reaches, keep the replicates."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=dim)
    idata = pa.estimate(
        {"p": x.sum() / np.sqrt(dim) > threshold}, model=model, draws=6000, random_seed=0, progressbar=False
    )
    method = idata["estimates"].attrs["ci_method"]
    assert method.startswith("normal (i.i.d.") if iid else method.startswith("student-t")
    within_run(idata, [norm.sf(threshold)])


def test_the_error_bars_of_an_event_over_one_input_cover():
    """P(x > 2) at 4,000 runs: a fit as narrow as the truncated law gave weights with a heavy
    tail, and intervals that covered 0.80 of the time (rms z 2.1 over 30 seeds)."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    z = []
    for seed in range(20):
        failure = pa.failure_probability(2.0 - x, model=model, draws=4000, random_seed=seed, progressbar=False)[
            "failure"
        ]
        z.append((failure["probability"].item() - norm.sf(2.0)) / failure["mcse"].item())
    assert np.sqrt(np.mean(np.square(z))) < 1.5


def test_a_rare_event_of_two_skewed_inputs():
    # P(b d > 13.474723) = 1.00e-5 (quadrature) for b ~ LogNormal(0, 0.3), d ~ Gamma(3, 2):
    # written as an expression, the event carries its score and is reached on every seed
    # tried (before the multilevel start, 9 runs in 20 were more than 3 standard errors off)
    from scipy import integrate, stats

    gamma = stats.gamma(3, scale=0.5)
    truth, _ = integrate.quad(lambda z: gamma.sf(13.474723 / np.exp(0.3 * z)) * stats.norm.pdf(z), -12, 12)
    with pm.Model() as model:
        b = pm.LogNormal("b", 0.0, 0.3)
        d = pm.Gamma("d", alpha=3.0, beta=2.0)
    for seed in (0, 1, 7):
        idata = pa.estimate({"p": b * d > 13.474723}, model=model, draws=20_000, random_seed=seed, progressbar=False)
        within_run(idata, [truth])


def _four_branch(c: float = 3.0, k: float = 7.0):
    # the four-branch series system; p_f = 2.22280e-3 by 1-D quadrature (c = 3, k = 7):
    # in u = (x1 + x2)/sqrt(2), v = (x1 - x2)/sqrt(2) the failure domain is |v| >= k / 2
    # or |u| >= c + v^2/5
    from scipy import integrate, stats

    inner, _ = integrate.quad(
        lambda v: stats.norm.pdf(v) * 2 * stats.norm.sf(c + v**2 / 5), -k / 2, k / 2, epsabs=1e-15
    )
    truth = 2 * stats.norm.sf(k / 2) + inner
    with pm.Model() as model:
        x1 = pm.Normal("x1", 0.0, 1.0)
        x2 = pm.Normal("x2", 0.0, 1.0)
    a = c + (x1 - x2) ** 2 / 10
    g = pm.math.minimum(
        pm.math.minimum(a - (x1 + x2) / np.sqrt(2), a + (x1 + x2) / np.sqrt(2)),
        pm.math.minimum(x1 - x2 + k / np.sqrt(2), x2 - x1 + k / np.sqrt(2)),
    )
    return model, g, truth


def test_four_failure_regions_with_one_gaussian_per_target():
    # the last climbing fit (a kernel estimate spanning the four regions) stays in the
    # density; without it one Gaussian settled on the two curved regions in some runs
    # and missed the straight ones (4.6e-4 of the 2.2e-3): 18 standard errors off
    model, g, truth = _four_branch()
    for seed in range(20):
        idata = pa.estimate({"p_f": g <= 0}, model=model, draws=20_000, random_seed=seed, progressbar=False)
        within_run(idata, [truth])


def test_four_failure_regions_at_one_in_a_million():
    # p_f = 9.0e-7; its straight branches hold 0.6 of it but few of the first level's
    # elite draws. Seed 6 lost both (61 % low, no warning) while the kernels' share was
    # judged on the cluster-balanced weights; seeds 0 and 1 are plain runs. Once the
    # event is reached its fit has a Gaussian per branch: one Gaussian spanning the four
    # left error bars of 3.5-6.6 % on these seeds, a Gaussian per branch 0.7-1.4 %
    model, g, truth = _four_branch(5.0, 10.0)
    for seed in (0, 1, 6):
        idata = pa.estimate({"p_f": g <= 0}, model=model, draws=20_000, random_seed=seed, progressbar=False)
        within_run(idata, [truth])
        est = idata["estimates"]
        assert abs(est["mean"].values[0] / truth - 1) < 0.1
        assert est["mcse"].values[0] < 0.025 * truth


def test_four_failure_regions_lost_at_a_small_budget_are_warned():
    """At 6,000 runs for 9.0e-7 some runs lose one or two branches: those warn, naming the parts.

    The branches (``g_i <= 0`` under ``min``) are the parts of a union of single
    comparisons: no hidden targets, but their effective final draws are checked after
    the run. Seeds 2, 4, 6 and 7 are 11 to 90 error bars off, and warn (before the
    check they were silent); the runs that do not warn are within their error bars.
    """
    model, g, truth = _four_branch(5.0, 10.0)
    warned_runs = 0
    for seed in range(10):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", pa.ReliabilityWarning)
            idata = pa.estimate({"p_f": g <= 0}, model=model, draws=6000, random_seed=seed, progressbar=False)
        parts = [str(w.message) for w in caught if "'p_f: part" in str(w.message)]
        warned_runs += bool(parts)
        if not parts:
            within_run(idata, [truth])
    assert 4 <= warned_runs <= 7


def test_a_union_of_comparisons_reached_everywhere_does_not_warn():
    # the two-sided event at 2e-5 from 6,000 runs: both parts are well sampled
    model, s = _sum_of_ten()
    with warnings.catch_warnings():
        warnings.simplefilter("error", pa.ReliabilityWarning)
        idata = pa.estimate({"two-sided": abs(s) > T5}, model=model, draws=6000, random_seed=1, progressbar=False)
    within_run(idata, [2e-5])


def test_a_part_that_cannot_happen_warns_and_says_so():
    """abs(u) > 3 for a positive u: the part u < -3 is never reached; the estimate is right and the warning says why."""
    with pm.Model() as model:
        u = pm.HalfNormal("u", 1.0)
    message = r"'p: part 1'.*cannot happen or is negligible"
    with pytest.warns(pa.ReliabilityWarning, match=message):
        idata = pa.estimate({"p": abs(u) > 3.0}, model=model, draws=4000, random_seed=0, progressbar=False)
    within_run(idata, [2 * norm.sf(3.0)])


def test_four_failure_regions_with_a_mixture_family():
    # four mixture components find the four regions
    model, g, truth = _four_branch()
    for seed in range(5):
        idata = pa.estimate(
            {"p_f": g <= 0},
            model=model,
            draws=20_000,
            random_seed=seed,
            progressbar=False,
            family="mixture",
            n_components=4,
        )
        within_run(idata, [truth])


def _sum_of_ten():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=10)
    return model, x.sum() / np.sqrt(10)


def test_exceedance_curve_and_tail_quantiles():
    model, s = _sum_of_ten()
    thresholds = np.array([3.0, 4.0, 4.5, 5.0])
    tails = np.array([1e-3, 1e-5, 1e-6])
    for seed in range(3):
        idata = pa.exceedance(s, thresholds, tail_probabilities=tails, model=model, random_seed=seed, progressbar=False)
        curve = idata["exceedance"]
        np.testing.assert_array_equal(curve["threshold"].values, thresholds)
        within(curve["probability"].values, curve["mcse"].values, norm.sf(thresholds), k=4.0)
        np.testing.assert_allclose(np.sqrt(np.diag(curve["covariance"].values)), curve["mcse"].values)
        quantiles = idata["quantiles"]
        within(quantiles["quantile"].values, quantiles["mcse"].values, norm.isf(tails), k=4.0)


def test_a_tail_quantile_some_replicate_never_reaches_has_no_error_bar():
    """Beyond the thresholds' reach the quantile is unknown: NaN, with a NaN error bar and a warning."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    with pytest.warns(pa.ReliabilityWarning, match=r"tail quantile\(s\) at .*1e-07.*error bar is unknown"):
        idata = pa.exceedance(
            x, [1.0, 2.0], tail_probabilities=[1e-7], model=model, draws=2000, random_seed=0, progressbar=False
        )
    quantile = idata["quantiles"].sel(tail_probability=1e-7)
    assert np.isnan(quantile["quantile"].item()) and np.isnan(quantile["mcse"].item())


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"thresholds": []}, "thresholds must be a non-empty"),
        ({"thresholds": [1.0, np.nan]}, "thresholds must be a non-empty"),
        ({"thresholds": [1.0], "tail_probabilities": [0.0]}, "tail_probabilities must be in"),
        ({"thresholds": [1.0], "output": "nope"}, "no variable named 'nope'"),
        ({"thresholds": [1.0], "output": 3.0}, "a variable name or a callable"),
        ({"thresholds": [2.0, 1.0]}, "thresholds must be increasing, without repeats: 2 is followed by 1"),
        ({"thresholds": [1.0, 1.0]}, "thresholds must be increasing"),
        ({"thresholds": [1.0, 1.0000001]}, "too close to tell apart"),
    ],
)
def test_exceedance_bad_input(kwargs, message):
    model, s = _sum_of_ten()
    kwargs = {"output": s, **kwargs}
    with pytest.raises((ValueError, TypeError), match=message):
        pa.exceedance(model=model, progressbar=False, **kwargs)


def test_exceedance_needs_a_scalar_output():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=3)
    with pytest.raises(ValueError, match="scalar output"):
        pa.exceedance(x, [1.0], model=model, progressbar=False)


T5 = float(norm.isf(1e-5))


def simulator(values):
    """A black box: S = sum(x) / sqrt(d), a standard normal."""
    return values["x"].sum(axis=1) / np.sqrt(values["x"].shape[1])


def test_exceedance_of_a_black_box_simulator():
    # the events and their scores come from the simulator's own response: it runs once per point
    model, _ = _sum_of_ten()
    thresholds = np.array([3.0, 4.0, T5])
    calls = []

    def counted(values):
        calls.append(len(values["x"]))
        return simulator(values)

    for seed in range(2):
        calls.clear()
        idata = pa.exceedance(counted, thresholds, model=model, draws=6000, random_seed=seed, progressbar=False)
        curve = idata["exceedance"]
        within(curve["probability"].values, curve["mcse"].values, norm.sf(thresholds), k=4.0)
        assert np.all(np.abs(curve["probability"].values / norm.sf(thresholds) - 1) < 0.15)
        assert sum(calls) == idata.attrs["evaluations"]


def test_exceedance_under_several_laws():
    """A curve and a tail quantile per law (means 0 and 0.2 per input: S ~ N(0, 1), N(0.2 sqrt(10), 1))."""
    laws = normal_laws({"nominal": 0.0, "drifted": 0.2}, 10)
    thresholds, tails = np.array([3.0, 4.0]), np.array([1e-4])
    idata = pa.exceedance(
        simulator, thresholds, tail_probabilities=tails, models=laws, draws=6000, random_seed=1, progressbar=False
    )
    curve, quantiles = idata["exceedance"], idata["quantiles"]
    assert curve["probability"].dims == ("model", "threshold")
    assert quantiles["quantile"].dims == ("model", "tail_probability")
    for name, shift in (("nominal", 0.0), ("drifted", 0.2 * np.sqrt(10))):
        law = curve.sel(model=name)
        within(law["probability"].values, law["mcse"].values, norm.sf(thresholds - shift), k=4.0)
        np.testing.assert_allclose(np.sqrt(np.diag(law["covariance"].values)), law["mcse"].values)
        q = quantiles.sel(model=name)
        within(q["quantile"].values, q["mcse"].values, norm.isf(tails) + shift, k=4.0)


def test_exceedance_over_a_grid_of_laws_keeps_its_parameters():
    with pm.Model() as model:
        mu = pm.Data("mu", 0.0)
        x = pm.Normal("x", mu, 1.0)
    means = np.array([-0.5, 0.0, 0.5])
    idata = pa.exceedance(
        x, [2.0, 3.0], models=pa.grid(model, {"mu": means}), draws=6000, random_seed=1, progressbar=False
    )
    curve = idata["exceedance"]
    np.testing.assert_array_equal(curve["mu"].values, means)
    within(curve["probability"].values, curve["mcse"].values, norm.sf([2.0, 3.0], loc=means[:, None]), k=4.0)


def test_exceedance_needs_one_response_per_point():
    model, _ = _sum_of_ten()
    with pytest.raises(pa.EvaluationError, match=r"one response per point .* shape \(2,\) per point"):
        pa.exceedance(lambda v: v["x"][:, :2], [3.0], model=model, draws=2000, progressbar=False)


def test_an_event_on_a_black_box_is_climbed_to():
    # a plain lambda v: simulator(v) > t has no score and no draw reaches 1e-5; pa.event gives it one
    model, _ = _sum_of_ten()
    for seed in range(2):
        idata = pa.estimate(
            {"p": pa.event(simulator, ">", T5)}, model=model, draws=6000, random_seed=seed, progressbar=False
        )
        within_run(idata, [1e-5])
        assert abs(idata["estimates"]["mean"].item() / 1e-5 - 1) < 0.15


def _halves():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=10)
    return model, x[:5].sum() / np.sqrt(5), x[5:].sum() / np.sqrt(5)


def test_a_union_written_in_pytensor():
    # two independent regions, 1e-5 each; each branch as an expectation of its own keeps both in the sample
    model, s1, s2 = _halves()
    truth = [1 - (1 - 1e-5) ** 2, 1e-5, 1e-5]
    for union in ((s1 > T5) | (s2 > T5), pt.or_(s1 > T5, s2 > T5)):
        idata = pa.estimate(
            {"union": union, "a": s1 > T5, "b": s2 > T5}, model=model, draws=6000, random_seed=1, progressbar=False
        )
        within_run(idata, truth)


def _three_sums():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=(3, 3))
    p = norm.sf(3.0)
    return model, x.sum(axis=1) / np.sqrt(3), 3 * p**2 * (1 - p) + p**3


def test_a_union_of_intersections_gets_a_hidden_target_per_intersection():
    """Cut sets written out: each intersection is a hidden target, in the adaptation, not in the results."""
    model, s, truth = _three_sums()
    a, b, c = s[0] > 3.0, s[1] > 3.0, s[2] > 3.0
    union = (a & b) | (a & c) | (b & c)
    for seed in range(2):
        idata = pa.estimate({"union": union}, model=model, draws=6000, random_seed=seed, progressbar=False)
        within_run(idata, [truth])
    assert idata["estimates"]["expectation"].values.tolist() == ["union"]
    assert list(idata["outputs"].data_vars) == ["union"]
    targets = idata["adaptation"]["target"].values.tolist()
    assert targets == ["union", "union: region[0]", "union: region[1]", "union: region[2]"]
    # given criterion weights name the user's expectations only
    weighted = pa.estimate(
        {"union": union, "s0": s[0]},
        model=model,
        draws=6000,
        random_seed=0,
        progressbar=False,
        weights=np.array([1.0, 1e-12]),
        surrogate=None,
    )
    within_run(weighted, [truth, 0.0])
    target_weight = weighted["adaptation"]["target_weight"].to_series()
    regions = [f"union: region[{i}]" for i in range(3)]
    np.testing.assert_allclose(target_weight[regions].values, target_weight["union"])  # the event's weight
    assert target_weight["s0(+)"] < 1e-9 * target_weight["union"]


def test_intersections_under_several_laws():
    """The hidden targets are law-major pairs like the rest: each law's estimates stay its own."""
    model, s, truth = _three_sums()
    with pm.Model() as wide:
        pm.Normal("x", 0.0, 1.2, shape=(3, 3))
    q = norm.sf(3.0 / 1.2)
    union = pt.sum(s > 3.0) >= 2
    idata = pa.estimate(
        {"mean": s.sum(), "two of three": union},
        models={"narrow": model, "wide": wide},
        model=model,
        draws=12_000,
        random_seed=2,
        progressbar=False,
    )
    est = idata["estimates"]
    assert dict(est.sizes) == {"model": 2, "expectation": 2, "model_bis": 2, "expectation_bis": 2}
    assert len(idata["adaptation"]["target"]) == 2 * (2 + 3) + 2  # and "mean" split by sign under each law
    within_run(idata, [[0.0, truth], [0.0, 3 * q**2 * (1 - q) + q**3]])


def test_a_region_no_final_draw_reaches_is_named_in_a_warning():
    """A mechanism check: the second cut set (about 1e-38) is beyond any climb of 6,000 runs."""
    model, s, truth = _three_sums()
    union = ((s[0] > 3.0) & (s[1] > 3.0)) | ((s[0] > 13.0) & (s[2] > 13.0))
    with pytest.warns(pa.ReliabilityWarning, match=r"'union': .* only 1 of its 2 regions; 'union: region\[1\]'"):
        idata = pa.estimate({"union": union}, model=model, draws=6000, random_seed=0, progressbar=False)
    within_run(idata, [norm.sf(3.0) ** 2])


def test_a_union_of_black_box_events():
    """Cut sets of black-box events: each intersection a hidden target, each callable run once per point."""
    model, _, truth = _three_sums()
    calls = {"n": 0}

    def first(v):
        calls["n"] += v["x"].shape[0]
        return v["x"][:, 0].sum(axis=1) / np.sqrt(3)

    a = pa.event(first, ">", 3.0)
    b, c = (pa.event(lambda v, i=i: v["x"][:, i].sum(axis=1) / np.sqrt(3), ">", 3.0) for i in (1, 2))
    union = (a & b) | (a & c) | (b & c)
    evaluations = 0
    for seed in range(2):
        idata = pa.estimate({"union": union}, model=model, draws=6000, random_seed=seed, progressbar=False)
        within_run(idata, [truth])
        assert len(idata["adaptation"]["target"]) == 4
        evaluations += idata.attrs["evaluations"]
    assert calls["n"] == evaluations


def test_an_intersection_and_at_least_two_of_three_in_pytensor():
    """Both events are climbed to through their scores and estimated within their errors.

    "Two of three" has three failure regions (the pairs), each a hidden target climbed
    to on its own. Before them, at 6,000 runs, the climb lost one region in some runs
    and the error bars did not say so.
    """
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=(3, 3))
    s = x.sum(axis=1) / np.sqrt(3)
    p = norm.sf(3.0)
    events = {"both": (s[0] > 3.0) & (s[1] > 3.0), "two of three": (s > 3.0).sum() >= 2}
    truth = np.array([p**2, 3 * p**2 * (1 - p) + p**3])
    for seed in range(2):
        idata = pa.estimate(events, model=model, draws=6000, random_seed=seed, progressbar=False)
        within_run(idata, truth)


def test_at_least_two_of_three_keeps_its_three_regions_on_the_way_up():
    """Over three inputs the level sets of "two of three" are three arms that touch.

    The levels used to follow one Gaussian, which drifted onto the arms the sibling
    event "both" also samples and lost the third on the way up: seed 16 came out 32 %
    low with an error bar of 1.2 %. With a Gaussian per region in the level sets,
    seed 8 still lost most of a region (21 % low, a 2.4 % error bar, no warning); each
    pair is now a hidden target climbed to on its own.
    """
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=3)
    p = norm.sf(3.0)
    events = {"both": (x[0] > 3.0) & (x[1] > 3.0), "two of three": (x > 3.0).sum() >= 2}
    truth = np.array([p**2, 3 * p**2 * (1 - p) + p**3])
    for seed in (8, *range(10, 20)):
        idata = pa.estimate(events, model=model, draws=20_000, random_seed=seed, progressbar=False)
        est = idata["estimates"]
        within(est["mean"].values, est["mcse"].values, truth, k=4.0, df=est.attrs["replicates"] - 1)


def test_two_sided_event_written_with_abs():
    # P(|S| > t) = 2e-5 in two regions: abs(S) - t is the score; the branches keep both regions
    model, s = _sum_of_ten()
    truth = [2e-5, 1e-5, 1e-5]
    for seed in range(2):
        idata = pa.estimate(
            {"two-sided": abs(s) > T5, "upper": s > T5, "lower": ~(s >= -T5)},
            model=model,
            draws=6000,
            random_seed=seed,
            progressbar=False,
        )
        within_run(idata, truth)

"""pa.failure_probability: P(g <= 0) for black-box and expression limit states, and systems of them.

Truths are exact: every limit state is linear in standard normal inputs, so each
component fails with a normal tail probability, and components on disjoint inputs are
independent (a series system by inclusion-exclusion, a parallel one by the product).
"""

import json
import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from conftest import normal_laws, within, within_run
from scipy.stats import norm

import pymc_ais as pa

T5 = float(norm.isf(1e-5))  # P(N(0, 1) > T5) = 1e-5
DRAWS = 6000


def _inputs(dim=10):
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=dim)
    return model, x


def _within_failure(idata, truth, k=4.0, relative=0.25):
    """Each failure probability within k of its own standard errors of the truth, and close in relative terms."""
    failure = idata["failure"]
    replicates = idata["estimates"].attrs.get("replicates", 0)
    within(
        failure["probability"].values,
        failure["mcse"].values,
        truth,
        k=k,
        df=replicates - 1 if replicates else np.inf,
    )
    assert np.all(np.abs(failure["probability"].values / truth - 1) < relative)


def linear(values):
    """A black-box limit state in d = 10: g = T5 - sum(x) / sqrt(10), P(g <= 0) = 1e-5."""
    return T5 - values["x"].sum(axis=1) / np.sqrt(values["x"].shape[1])


def halves(values):
    """Two components on disjoint halves of the inputs (independent): (n, 2)."""
    x = values["x"]
    half = x.shape[1] // 2
    return np.stack([x[:, :half].sum(axis=1), x[:, half:].sum(axis=1)], axis=1) / np.sqrt(half)


def test_a_black_box_limit_state_at_one_in_a_hundred_thousand():
    model, _ = _inputs()
    for seed in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("error", pa.ReliabilityWarning)
            idata = pa.failure_probability(linear, model=model, draws=DRAWS, random_seed=seed, progressbar=False)
        _within_failure(idata, [1e-5], relative=0.15)
        failure = idata["failure"]
        assert failure["event"].values.tolist() == ["P(g <= 0)"]
        beta = failure["reliability_index"].item()
        assert failure["reliability_index_lower"].item() <= beta <= failure["reliability_index_upper"].item()
        np.testing.assert_allclose(beta, norm.isf(failure["probability"].item()))


def test_the_same_limit_state_as_an_expression():
    model, x = _inputs()
    for seed in range(3):
        idata = pa.failure_probability(
            T5 - x.sum() / np.sqrt(10), model=model, draws=DRAWS, random_seed=seed, progressbar=False
        )
        _within_failure(idata, [1e-5], relative=0.15)


def test_several_limit_states_at_once():
    # a vector-valued g: each P(g_i <= 0) from the same runs
    model, x = _inputs()
    levels = np.array([3.0, 4.0])
    truth = norm.sf(levels)
    blackbox = lambda v: levels - halves(v)
    s = x.reshape((2, 5)).sum(axis=1) / np.sqrt(5)
    for g in (blackbox, levels - s):
        idata = pa.failure_probability(g, model=model, draws=DRAWS, random_seed=1, progressbar=False)
        assert idata["failure"]["event"].values.tolist() == ["P(g <= 0)[0]", "P(g <= 0)[1]"]
        _within_failure(idata, truth)


def _series_truth(p):
    return 1 - np.prod(1 - np.asarray(p))


def test_a_series_system_of_two_components():
    # fails when either half's sum exceeds T5: two failure regions, p = 2e-5 (inclusion-exclusion)
    model, x = _inputs()
    truth = [_series_truth([1e-5, 1e-5]), 1e-5, 1e-5]
    s = x.reshape((2, 5)).sum(axis=1) / np.sqrt(5)
    for seed in range(2):
        for g in (lambda v: T5 - halves(v), T5 - s):
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always", pa.ReliabilityWarning)
                idata = pa.failure_probability(
                    g, model=model, system="series", draws=DRAWS, random_seed=seed, progressbar=False
                )
            assert idata["failure"].attrs["system"] == "series system"
            _within_failure(idata, truth)
            assert not [w for w in caught if "cut sets" in str(w.message)]  # both regions reached: no alarm


def test_two_sided_event_as_a_series_system():
    # P(|S| > t) = 2 P(S > t): two disjoint regions, as the components t - S and t + S
    model, x = _inputs()
    t = float(norm.isf(5e-6))
    s = x.sum() / np.sqrt(10)
    g = pm.math.stack([t - s, t + s])
    for seed in range(3):
        idata = pa.failure_probability(
            g, model=model, system="series", draws=DRAWS, random_seed=seed, progressbar=False
        )
        _within_failure(idata, [1e-5, 5e-6, 5e-6])


def test_a_parallel_system():
    # fails when both halves exceed 3 sigma: p = sf(3)^2 = 1.8e-6, one region
    model, x = _inputs()
    truth = norm.sf(3.0) ** 2
    s = x.reshape((2, 5)).sum(axis=1) / np.sqrt(5)
    for seed in range(2):
        for g in (lambda v: 3.0 - halves(v), 3.0 - s):
            idata = pa.failure_probability(
                g, model=model, system="parallel", draws=DRAWS, random_seed=seed, progressbar=False
            )
            assert idata["failure"]["event"].values.tolist() == ["P(parallel system fails)"]
            _within_failure(idata, [truth])


def test_cut_sets():
    # components on three disjoint thirds: fails when (0 and 1) fail, or 2 fails
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=(3, 3))
    a, b = 2.5, 4.0
    pa_, pc = norm.sf(a), norm.sf(b)
    truth = [pa_**2 + pc - pa_**2 * pc, pa_**2, pc]
    levels = np.array([a, a, b])
    blackbox = lambda v: levels - v["x"].sum(axis=2) / np.sqrt(3)
    expression = levels - x.sum(axis=1) / np.sqrt(3)
    for g in (blackbox, expression):
        idata = pa.failure_probability(
            g, model=model, system=[[0, 1], [2]], draws=DRAWS, random_seed=2, progressbar=False
        )
        failure = idata["failure"]
        assert failure["event"].values.tolist() == [
            "P(cut sets {0, 1}, {2} fails)",
            "P(cut set fails)[0]",
            "P(cut set fails)[1]",
        ]
        _within_failure(idata, truth)


def test_the_cut_sets_of_a_system_keep_their_share_of_the_draws():
    """Four cut sets over 8 inputs: each keeps its regions' floor of the mixture in every adapted block.

    The cut sets are reported and weighted as the system: with their own relative
    weights, the two cut sets of 1 % and 2 % of the system got 10 % of the mixture each
    and were lost on the way up (relative RMSE 0.035 over 50 seeds, rms z 1.29; 0.017
    and 0.88 now). Truth by enumerating the components' states.
    """
    from pymc_ais.core.engine.adaptation import HELPER_SHARE

    levels = np.array([2.5, 3.0, 3.5, 2.8])
    cuts = [[0, 1], [1, 2], [2, 3], [3, 0]]
    p = norm.sf(levels)
    outcomes = np.array(np.meshgrid(*[[0, 1]] * 4, indexing="ij")).reshape(4, -1).T.astype(bool)
    fails = np.array([any(o[i] and o[j] for i, j in cuts) for o in outcomes])
    truth = np.where(outcomes, p, 1 - p).prod(axis=1)[fails].sum()
    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0, shape=(4, 2))
    g = lambda v: levels - v["x"].sum(axis=2) / np.sqrt(2)  # noqa: E731
    idata = pa.failure_probability(g, model=model, system=cuts, draws=20_000, random_seed=3, progressbar=False)
    _within_failure(idata, [truth, *(p[i] * p[j] for i, j in cuts)])
    alpha = idata["adaptation"]["alpha"].values[1:, 2:]  # adapted blocks; the components of the cut sets
    assert alpha.min() >= HELPER_SHARE / len(cuts) - 1e-12


def test_several_input_laws_in_one_run():
    """A series system under two laws (means 0 and 0.3): every probability under every law."""
    laws = normal_laws({"nominal": 0.0, "drifted": 0.3}, 10)
    idata = pa.failure_probability(
        lambda v: 3.0 - halves(v), models=laws, system="series", draws=DRAWS, random_seed=4, progressbar=False
    )
    failure = idata["failure"]
    assert failure["probability"].dims == ("model", "event")
    assert failure["model"].values.tolist() == ["nominal", "drifted"]
    for name, mean in (("nominal", 0.0), ("drifted", 0.3)):
        p = norm.sf(3.0 - mean * np.sqrt(5))  # each half's sum / sqrt(5) ~ N(mean sqrt(5), 1) above 3
        within(
            failure["probability"].sel(model=name).values,
            failure["mcse"].sel(model=name).values,
            [1 - (1 - p) ** 2, p, p],
            k=4.0,
            df=idata["estimates"].attrs["replicates"] - 1,
        )
    beta = failure["reliability_index"].values
    np.testing.assert_allclose(beta, norm.isf(failure["probability"].values))


def test_a_series_system_under_a_posterior():
    """x_i ~ N(0, 1) observed once each at 1: posterior N(0.5, 1/2); components fail at x_i > 2.5."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=2)
        pm.Normal("y", x, 1.0, observed=np.ones(2))
    p = norm.sf(2.5, loc=0.5, scale=np.sqrt(0.5))
    with warnings.catch_warnings():
        # a posterior's events get no multilevel climb: k-hat flags the weights' tail at this budget
        warnings.simplefilter("ignore", pa.ReliabilityWarning)
        idata = pa.failure_probability(
            lambda v: 2.5 - v["x"], model=model, system="series", draws=DRAWS, random_seed=1, progressbar=False
        )
    _within_failure(idata, [1 - (1 - p) ** 2, p, p])


def test_outputs_weighted_as_an_event_must_follow_it():
    from pymc_ais.model.model_problem import build

    model, x = _inputs(2)
    expectations = {"cuts": x <= 0, "system": pt.any(x <= 0)}
    with pytest.raises(ValueError, match="'cuts' can be weighted as 'system' only if both are outputs, 'system' first"):
        build(expectations, model, regions={"cuts": "system"})
    with pytest.raises(ValueError, match="'nope' can be weighted as 'system'"):
        build(expectations, model, regions={"nope": "system"})


STOP = {"at": None}  # rows after which the limit state below stops its run
ROWS = [0]


class Interrupted(Exception):
    """The simulated cluster failure that stops a run part-way (what the checkpoint must survive)."""


def stopping_limit_state(values):
    n = values["x"].shape[0]
    if STOP["at"] is not None and ROWS[0] + n > STOP["at"]:
        raise Interrupted("the cluster went down")
    ROWS[0] += n
    return T5 - values["x"].sum(axis=1) / np.sqrt(values["x"].shape[1])


def test_a_killed_run_resumes_bitwise_and_runs_nothing_twice(tmp_path):
    model, _ = _inputs()
    args = dict(model=model, draws=4000, random_seed=5, chunk_size=250, progressbar=False)
    ROWS[0] = 0
    reference = pa.failure_probability(stopping_limit_state, **args)
    total = ROWS[0]
    ROWS[0], STOP["at"] = 0, 2600
    try:
        with pytest.raises(pa.EvaluationError, match="the cluster went down"):
            pa.failure_probability(stopping_limit_state, checkpoint=tmp_path / "run", **args)
    finally:
        STOP["at"] = None
    before = ROWS[0]
    assert 0 < before < total
    resumed = pa.resume(tmp_path / "run", progressbar=False)
    assert ROWS[0] == total  # the finished evaluations were read back, none run again
    assert json.loads(resumed.attrs["checkpoint"])["evaluations_read"] == before
    for name in ("probability", "mcse", "reliability_index"):
        np.testing.assert_array_equal(resumed["failure"][name].values, reference["failure"][name].values)


def test_a_limit_state_that_fails_at_some_points():
    # NaN where x_0 < -2.5 (far from the failure region): raise names it, drop estimates around it
    model, _ = _inputs()

    def fragile(values):
        g = linear(values)
        return np.where(values["x"][:, 0] < -2.5, np.nan, g)

    with pytest.raises(pa.EvaluationError, match="NaN"):
        pa.failure_probability(fragile, model=model, draws=DRAWS, random_seed=0, progressbar=False)
    with pytest.warns(pa.ReliabilityWarning, match="failed and were dropped"):
        idata = pa.failure_probability(
            fragile, model=model, draws=DRAWS, random_seed=0, on_error="drop", progressbar=False
        )
    assert json.loads(idata.attrs["failures"])["points_dropped"] > 0
    _within_failure(idata, [1e-5], relative=0.15)


def test_an_event_of_every_draw_is_flagged():
    # the sign turned round: g > 0 is the rare side, so "failure" holds almost everywhere
    model, x = _inputs(2)
    with pytest.warns(pa.ReliabilityWarning, match="every final draw is in the event.*sign convention"):
        pa.failure_probability(x.sum() - 10.0, model=model, draws=2000, random_seed=0, progressbar=False)


def test_warnings_point_at_the_users_line_from_every_entry_point(tmp_path):
    # the same warnings come through different depths of the library; each names this file.
    # Events of probability 1 (a sign turned, a threshold below the output) or 0 (never reached).
    model, x = _inputs(2)
    calls = {
        "failure_probability": lambda: pa.failure_probability(
            x.sum() - 10.0, model=model, draws=2000, random_seed=0, progressbar=False
        ),
        "estimate": lambda: pa.estimate(
            {"p": pm.math.abs(x[0]) < -1.0}, model=model, draws=2000, random_seed=0, progressbar=False
        ),
        "exceedance": lambda: pa.exceedance(
            pm.math.abs(x[0]), [-1.0], model=model, draws=2000, random_seed=0, progressbar=False
        ),
    }
    for name, call in calls.items():
        with pytest.warns(pa.ReliabilityWarning, match="every final draw") as caught:
            call()
        assert {w.filename for w in caught} == {__file__}, name
    with pytest.warns(pa.ReliabilityWarning, match="every final draw"):
        pa.failure_probability(
            x.sum() - 10.0, model=model, draws=2000, random_seed=0, progressbar=False, checkpoint=tmp_path / "run"
        )
    with pytest.warns(pa.ReliabilityWarning, match="every final draw") as caught:
        pa.resume(tmp_path / "run", progressbar=False)
    assert {w.filename for w in caught} == {__file__}, "resume"


def test_an_event_no_draw_reaches_is_flagged():
    model, x = _inputs(2)
    with pytest.warns(pa.ReliabilityWarning, match="zero on every final draw"):
        pa.failure_probability(pm.math.abs(x[0]) + 1.0, model=model, draws=2000, random_seed=0, progressbar=False)


def test_a_region_the_final_draws_barely_reach_is_flagged():
    import xarray as xr

    from pymc_ais.reliability import warn_missed_regions

    labels = ["P(series system fails)", "P(component fails)[0]", "P(component fails)[1]"]

    def result(ess):
        estimates = xr.Dataset({"ess_integrand": ("expectation", ess)}, {"expectation": labels})
        return xr.DataTree.from_dict({"estimates": estimates})

    tree = result([400.0, 380.0, 3.0])
    with pytest.warns(pa.ReliabilityWarning, match=r"through only 1 of its 2 cut sets; 'P\(component fails\)\[1\]'"):
        warn_missed_regions(tree, labels)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pa.ReliabilityWarning)
        warn_missed_regions(result([400.0, 380.0, 350.0]), labels)  # every region reached
        warn_missed_regions(result([2.0, 1.0, 3.0]), labels)  # none: the estimates' own warnings say it


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"system": []}, ValueError, "system has no cut sets"),
        ({"system": [[0], []]}, ValueError, "cut set 1 has no components"),
        ({"system": [[0, 0]]}, ValueError, "names a component twice"),
        ({"system": [[0, -1]]}, ValueError, "non-negative integer"),
        ({"system": "serial"}, ValueError, "system must be None, 'series', 'parallel'"),
        ({"system": 3}, TypeError, "system must be None"),
        ({"system": [[0], [5]]}, ValueError, "names component 5, but limit_state has 2"),
        ({"limit_state": "nope"}, ValueError, "no variable named 'nope'"),
        ({"limit_state": 3.0}, TypeError, "limit_state must be a callable"),
        ({"draws": 0}, ValueError, "draws must be"),
        ({"not_an_option": 1}, TypeError, "unknown option"),
    ],
)
def test_bad_input_is_refused_by_name(kwargs, error, message):
    model, x = _inputs(4)
    kwargs = {"limit_state": 3.0 - x[:2], **kwargs}
    with pytest.raises(error, match=message):
        pa.failure_probability(model=model, progressbar=False, **kwargs)


def test_a_black_box_system_is_checked_against_its_components():
    model, _ = _inputs(4)
    with pytest.raises(pa.EvaluationError, match="names component 5, but the limit state has 2"):
        pa.failure_probability(lambda v: 3.0 - halves(v), model=model, system=[[0], [5]], draws=2000, progressbar=False)


@pytest.mark.parametrize("call", ["failure_probability", "exceedance"])
def test_a_callable_returning_the_event_instead_of_its_response_is_refused(call):
    model, _ = _inputs(4)

    def fails(values):  # the event S > 2 itself: read as g, it would "fail" wherever it is False
        return values["x"].sum(axis=1) / 2.0 > 2.0

    with pytest.raises(
        pa.EvaluationError,
        match=r"returned booleans, but .* compare\(s\) its response with a threshold: return the quantity itself",
    ):
        if call == "failure_probability":
            pa.failure_probability(fails, model=model, draws=2000, progressbar=False)
        else:
            pa.exceedance(fails, [0.5], model=model, draws=2000, progressbar=False)
    indicator = pa.estimate({"p": fails}, model=model, draws=2000, random_seed=1, progressbar=False)
    within_run(indicator, norm.sf(2.0))  # as an expectation of pa.estimate, booleans are fine


@pytest.mark.parametrize("call", ["failure_probability", "exceedance", "event"])
def test_a_callable_returning_the_event_as_zeros_and_ones_warns(call):
    model, _ = _inputs(4)

    def fails(values):  # the event S > 2 as 0.0 / 1.0: read as g, it "fails" wherever the event does not happen
        return (values["x"].sum(axis=1) / 2.0 > 2.0).astype(float)

    with pytest.warns(pa.ReliabilityWarning, match=r"\('fails'\) returned only the values 0 and 1") as caught:
        if call == "failure_probability":
            pa.failure_probability(fails, model=model, draws=2000, random_seed=1, progressbar=False)
        elif call == "exceedance":
            pa.exceedance(fails, [0.5], model=model, draws=2000, random_seed=1, progressbar=False)
        else:  # one warning for the callable, however many events compare it
            events = {"p": pa.event(fails, ">", 0.5), "q": pa.event(fails, ">=", 1.0)}
            pa.estimate(events, model=model, draws=2000, random_seed=1, progressbar=False)
    assert sum("only the values 0 and 1" in str(w.message) for w in caught) == 1

    def response(values):  # the quantity itself, rounded to integers: more values than 0 and 1
        return np.round(values["x"].sum(axis=1))

    with warnings.catch_warnings():
        warnings.simplefilter("error", pa.ReliabilityWarning)
        pa.exceedance(response, [2.5], model=model, draws=2000, random_seed=1, progressbar=False)
        indicator = pa.estimate({"p": fails}, model=model, draws=2000, random_seed=1, progressbar=False)
    within_run(indicator, norm.sf(2.0))  # an expectation that is not compared: no warning


def test_failed_points_do_not_count_as_zeros_of_a_response(tmp_path):
    model, _ = _inputs(4)

    def ones(values):  # 1 wherever the simulator runs, NaN (dropped) where it fails
        return np.where(values["x"][:, 0] > 1.0, np.nan, 1.0)

    def indicator_warnings(run):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            run()
        return [str(w.message) for w in caught if "only the values 0 and 1" in str(w.message)]

    call = dict(model=model, draws=2000, random_seed=2, on_error="drop", checkpoint=tmp_path / "run", progressbar=False)
    assert indicator_warnings(lambda: pa.exceedance(ones, [0.5], **call)) == []
    assert indicator_warnings(lambda: pa.resume(tmp_path / "run", progressbar=False)) == []  # stored placeholders


def _two_components(values):
    """A series pair, each component a 1e-5 event on its own input."""
    x = values["x"]
    return np.stack([T5 - x[:, 0], T5 - x[:, 1]], axis=1)


@pytest.mark.parametrize(
    ("system", "laws"), [("series", False), ([[0], [1]], False), ("series", True)], ids=["series", "cut sets", "laws"]
)
def test_a_system_run_resumes_from_its_checkpoint(system, laws, tmp_path):
    model, _ = _inputs()
    where = {"models": normal_laws({"nominal": 0.0, "drifted": 0.1}, 10)} if laws else {"model": model}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pa.ReliabilityWarning)  # a small budget: this test is about the resume
        first = pa.failure_probability(
            _two_components, **where, system=system, draws=4000, random_seed=3, checkpoint=tmp_path / "run",
            progressbar=False,
        )  # fmt: skip
        again = pa.resume(tmp_path / "run", progressbar=False)  # finished: every evaluation is read back
    assert json.loads(again.attrs["checkpoint"])["evaluations_read"] == first.attrs["evaluations"]
    for name in ("probability", "mcse", "reliability_index"):
        np.testing.assert_array_equal(again["failure"][name].values, first["failure"][name].values)

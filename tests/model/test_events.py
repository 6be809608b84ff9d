"""Event scores read off indicator expressions, composite ones included, and events on callables."""

import numpy as np
import pytensor.tensor as pt
import pytest
from pytensor.graph.traversal import graph_inputs

from pymc_ais.model.events import event_score


def test_scores_of_each_comparison():
    y = pt.vector("y")
    values = np.array([1.0, 3.0, 5.0])
    np.testing.assert_array_equal(event_score(y > 3.0).eval({y: values}), values - 3.0)
    np.testing.assert_array_equal(event_score(y >= 3.0).eval({y: values}), values - 3.0)
    np.testing.assert_array_equal(event_score(y < 3.0).eval({y: values}), 3.0 - values)
    np.testing.assert_array_equal(event_score(y <= 3.0).eval({y: values}), 3.0 - values)
    # the score is positive exactly inside the event (up to the boundary)
    assert np.all((event_score(y > 3.0).eval({y: values}) > 0) == (values > 3.0))


def test_casts_are_looked_through_and_other_outputs_have_none():
    y = pt.vector("y")
    cast = pt.cast(y > 2.0, "float64")
    np.testing.assert_array_equal(event_score(cast).eval({y: np.array([1.0, 4.0])}), [-1.0, 2.0])
    assert event_score(y**2) is None
    assert event_score(pt.switch(y > 0, y, 0.0)) is None


def _catalogue():
    """Composite events and the score each must get, on three vectors y, z, w."""
    y, z, w = pt.vector("y"), pt.vector("z"), pt.vector("w")
    s = {"y": lambda v: v["y"] - 1.0, "z": lambda v: v["z"] - 0.5, "w": lambda v: 0.2 - v["w"]}
    a, b, c = y > 1.0, z > 0.5, w < 0.2
    n = lambda e: pt.cast(e, "float64")  # noqa: E731 - a count of events is a sum of numbers
    kth = lambda v, k: np.sort(np.stack([s["y"](v), s["z"](v), s["w"](v)]), axis=0)[-k]
    cases = [
        ("a | b", a | b, lambda v: np.maximum(s["y"](v), s["z"](v))),
        ("pt.or_", pt.or_(a, c), lambda v: np.maximum(s["y"](v), s["w"](v))),
        ("a & b", a & b, lambda v: np.minimum(s["y"](v), s["z"](v))),
        ("pt.and_", pt.and_(a, pt.and_(b, c)), lambda v: np.minimum(np.minimum(s["y"](v), s["z"](v)), s["w"](v))),
        ("~a", ~a, lambda v: -s["y"](v)),
        ("(a | b) & ~c", (a | b) & ~c, lambda v: np.minimum(np.maximum(s["y"](v), s["z"](v)), -s["w"](v))),
        ("a * b", pt.cast(a, "float64") * pt.cast(b, "float64"), lambda v: np.minimum(s["y"](v), s["z"](v))),
        ("pt.maximum", pt.maximum(a, b), lambda v: np.maximum(s["y"](v), s["z"](v))),
        ("abs(y) > 2", abs(y) > 2.0, lambda v: np.abs(v["y"]) - 2.0),
        ("switch(a, 1, 0)", pt.switch(a, 1.0, 0.0), lambda v: s["y"](v)),
        ("switch(a, 0, 1)", pt.switch(a, 0.0, 1.0), lambda v: -s["y"](v)),
        ("a + b + c >= 2", n(a) + n(b) + n(c) >= 2, lambda v: kth(v, 2)),
        ("int8 sum > 1", pt.cast(a, "int8") + pt.cast(b, "int8") + pt.cast(c, "int8") > 1, lambda v: kth(v, 2)),
        ("a + b + c >= 1", n(a) + n(b) + n(c) >= 1, lambda v: kth(v, 1)),
        ("a + b + c > 2", n(a) + n(b) + n(c) > 2, lambda v: kth(v, 3)),
        ("a + b + c < 2", n(a) + n(b) + n(c) < 2, lambda v: -kth(v, 2)),
        ("a + b + c <= 0", n(a) + n(b) + n(c) <= 0, lambda v: -kth(v, 1)),
        ("2 <= a + b + c", 2 <= n(a) + n(b) + n(c), lambda v: kth(v, 2)),
    ]
    return (y, z, w), cases


def test_composite_scores_follow_the_stated_rules():
    (y, z, w), cases = _catalogue()
    rng = np.random.default_rng(0)
    values = {"y": rng.normal(0, 2, 500), "z": rng.normal(0, 2, 500), "w": rng.normal(0, 2, 500)}
    for label, expr, expected in cases:
        score = event_score(expr)
        assert score is not None, label
        inputs = {v: values[v.name] for v in (y, z, w) if v in set(graph_inputs([expr]))}
        got = score.eval({v: inputs[v] for v in graph_inputs([score]) if v in inputs})
        np.testing.assert_allclose(got, expected(values), err_msg=label)
        inside = np.asarray(expr.eval(inputs)).astype(bool)
        # positive exactly inside the event (no draw lands on a boundary here)
        np.testing.assert_array_equal(got > 0, inside, err_msg=label)


def test_a_sum_of_boolean_events_is_refused():
    """``a + b + c`` of booleans stays boolean: a count in some backends, a logical or in others."""
    y = pt.vector("y")
    a, b, c = y[0] > 0, y[1] > 0, y[2] > 0
    with pytest.raises(ValueError, match=r"adds boolean events with \+.*pt.cast\(a, 'int8'\)"):
        event_score(a + b + c >= 2)


def test_reductions_over_a_vector_of_limit_states():
    g = pt.matrix("g")  # (points, components): a system of limit states, failure at g <= 0
    values = np.random.default_rng(1).normal(1.0, 1.0, (200, 4))
    series, parallel = pt.any(g <= 0, axis=1), pt.all(g <= 0, axis=1)
    np.testing.assert_allclose(event_score(series).eval({g: values}), np.max(-values, axis=1))
    np.testing.assert_allclose(event_score(parallel).eval({g: values}), np.min(-values, axis=1))
    np.testing.assert_allclose(event_score(g.min(axis=1) <= 0).eval({g: values}), np.max(-values, axis=1))
    two = pt.sum(g <= 0, axis=1) >= 2
    np.testing.assert_allclose(event_score(two).eval({g: values}), np.sort(-values, axis=1)[:, -2])
    everything = pt.sum(g <= 0) >= 3  # over every element
    np.testing.assert_allclose(event_score(everything).eval({g: values}), np.sort(-values.ravel())[-3])


def test_what_is_not_an_event_has_no_score():
    y, z = pt.vector("y"), pt.vector("z")
    assert event_score(pt.maximum(y > 1.0, z**2)) is None  # one side is no event
    assert event_score(~pt.cast(y > 1.0, "int8")) is None  # a bitwise not of integers: -1 / -2
    assert event_score(pt.switch(y > 1.0, 2.0, 0.0)) is None  # not an indicator
    assert event_score(2.0 * (y > 1.0)) is None
    assert event_score(pt.sum(y > 1.0)) is None  # a count, not an event
    count = pt.cast(y > 1.0, "int8") + pt.cast(z > 1.0, "int8")
    assert event_score(count >= 3) is None  # never: nothing to climb
    assert event_score(count >= 0) is None  # always


def test_events_on_a_callable_have_the_same_rules():
    from pymc_ais.model.events import event

    sim = lambda v: np.stack([v["x"], -v["x"]], axis=1)
    other = lambda v: v["x"] ** 2
    x = np.array([-3.0, -0.5, 0.0, 2.0, 4.0])
    responses = {id(sim): sim({"x": x}), id(other): other({"x": x})}
    high = event(sim, ">", [1.0, 2.0])  # elementwise: x > 1 and -x > 2
    np.testing.assert_array_equal(high.score(responses), np.stack([x - 1.0, -x - 2.0], axis=1))
    np.testing.assert_array_equal(high.indicator(responses), np.stack([x > 1.0, -x > 2.0], axis=1))
    near = event(other, "<=", 1.0)
    union, both, outside = near | event(other, ">", 9.0), near & event(other, ">=", 0.25), ~near
    np.testing.assert_array_equal(union.score(responses), np.maximum(1.0 - x**2, x**2 - 9.0))
    np.testing.assert_array_equal(both.score(responses), np.minimum(1.0 - x**2, x**2 - 0.25))
    np.testing.assert_array_equal(outside.score(responses), x**2 - 1.0)
    # the boundary belongs to "<=": the indicator is exact there, not read off the score
    np.testing.assert_array_equal(both.indicator(responses), [0, 1, 0, 0, 0])
    np.testing.assert_array_equal(outside.indicator(responses), [1, 0, 0, 1, 1])
    assert union.functions == (other,) and len((high | near).functions) == 2


def test_parts_with_fewer_axes_pair_with_their_own_point():
    from pymc_ais.model.events import event

    pair = lambda v: np.stack([v["x"] + 5.0, v["x"] + 4.0], axis=1)
    single = lambda v: v["x"]
    triple = lambda v: np.stack([v["x"]] * 3, axis=1)
    for x in (np.array([0.0, -10.0]), np.array([0.0, -10.0, 1.0])):  # two points: numpy would pair them crosswise
        responses = {id(pair): pair({"x": x}), id(single): single({"x": x}), id(triple): triple({"x": x})}
        union = event(pair, ">", 1.0) | event(single, ">", 0.0)
        np.testing.assert_array_equal(union.score(responses), np.maximum(pair({"x": x}) - 1.0, x[:, None]))
        with pytest.raises(ValueError, match=r"per-point shapes \(2,\), \(3,\), which do not broadcast"):
            (event(pair, ">", 1.0) & event(triple, ">", 0.0)).score(responses)


def test_a_count_over_a_length_known_only_at_run_time():
    v = pt.vector("v", shape=(None,))
    four = event_score(pt.sum(v > 0) >= 4)
    assert four.eval({v: [3.0, 2.0]}) < 0  # two elements never make four: a negative score, not an index error
    np.testing.assert_array_equal(four.eval({v: [5.0, -1.0, 3.0, 2.0, 4.0]}), 2.0)  # the 4th largest


def test_bad_events_are_refused_by_name():
    from pymc_ais.model.events import event

    sim = lambda v: v["x"]
    with pytest.raises(ValueError, match="comparison must be one of"):
        event(sim, "==", 1.0)
    with pytest.raises(ValueError, match="must be finite"):
        event(sim, ">", np.nan)
    with pytest.raises(TypeError, match="black-box callable or a PyTensor expression"):
        event(3.0, ">", 1.0)
    with pytest.raises(TypeError, match="no truth value"):
        bool(event(sim, ">", 1.0))
    with pytest.raises(TypeError, match="only with another such event"):
        event(sim, ">", 1.0) | (pt.vector("y") > 1)
    with pytest.raises(ValueError, match="does not broadcast"):
        event(sim, ">", [1.0, 2.0]).score({id(sim): np.zeros((4, 3))})
    y = pt.vector("y")
    assert event_score(event(y, "<", 2.0)) is not None  # an expression gives the comparison itself

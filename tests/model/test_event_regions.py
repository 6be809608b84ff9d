"""The intersection regions of composite events, read off their graphs, and the hidden outputs built from them."""

import itertools

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import pymc_ais as pa
from pymc_ais.model.event_regions import MAX_REGIONS, Regions, event_regions, region_outputs
from pymc_ais.model.outputs import parse

S = pt.tensor("s", shape=(4,))
G = pt.tensor("g", shape=(3, 2))  # three cut sets of two limit states each
VALUES = np.array([[4.0, -5.0, 0.5, 3.5], [-1.0, 2.0, 6.0, -0.2], [3.2, 3.1, -3.3, 0.0]])
G_VALUES = np.array([[[-1.0, -2.0], [1.0, -1.0], [-3.0, 0.5]], [[0.5, 0.2], [-0.1, -0.3], [2.0, -4.0]]])


def _evaluated(graph, inputs=S, values=VALUES):
    """The regions' indicators and scores at each row of ``values`` (rows, regions)."""
    regions = event_regions(graph)
    assert regions is not None
    return tuple(np.array([part.eval({inputs: row}) for row in values]) for part in regions)


def test_at_least_k_of_n_splits_into_the_intersections_of_k():
    s = VALUES
    n = lambda e: pt.cast(e, "int8")  # noqa: E731
    for graph in (pt.sum(S > 3.0) >= 2, n(S[0] > 3.0) + n(S[1] > 3.0) + n(S[2] > 3.0) + n(S[3] > 3.0) > 1.5):
        indicators, scores = _evaluated(graph)
        pairs = list(itertools.combinations(range(4), 2))
        inside = s > 3
        np.testing.assert_array_equal(indicators, np.stack([inside[:, i] & inside[:, j] for i, j in pairs], axis=1))
        # each intersection is climbed to along the smaller of its two scores
        np.testing.assert_allclose(scores, np.stack([np.minimum(s[:, i], s[:, j]) - 3 for i, j in pairs], axis=1))


def test_a_union_keeps_its_parts_that_are_intersections():
    s, both = VALUES, lambda i, j: (VALUES[:, i] > 3) & (VALUES[:, j] > 3)  # noqa: E731
    indicators, scores = _evaluated(((S[0] > 3.0) & (S[1] > 3.0)) | pt.or_(S[2] > 1.0, (S[2] > 3.0) & (S[3] > 3.0)))
    np.testing.assert_array_equal(indicators, np.stack([both(0, 1), both(2, 3)], axis=1))  # not S[2] > 1 alone
    np.testing.assert_allclose(scores[:, 0], np.minimum(s[:, 0], s[:, 1]) - 3)
    # max(min, min) > t: a union of two intersections
    indicators, _ = _evaluated(pt.maximum(pt.minimum(S[0], S[1]), pt.minimum(S[2], S[3])) > 3.0)
    np.testing.assert_array_equal(indicators, np.stack([both(0, 1), both(2, 3)], axis=1))


def test_cut_sets_written_with_any_all_or_min_max():
    # the system fails when every limit state of some cut set is at or below 0
    failed = np.all(G_VALUES <= 0, axis=2).astype(float)
    for graph in (pt.any(pt.all(G <= 0, axis=1)), pt.min(pt.max(G, axis=1)) <= 0):
        indicators, scores = _evaluated(graph, G, G_VALUES)
        np.testing.assert_array_equal(indicators, failed)
        np.testing.assert_allclose(scores, -G_VALUES.max(axis=2))


@pytest.mark.parametrize(
    "graph",
    [
        S[0] > 3.0,  # one comparison
        (S[0] > 3.0) & (S[1] > 3.0),  # one intersection
        (S[0] > 3.0) | (S[1] < -2.0),  # a union of single comparisons: the event's own fit
        pt.any(S > 3.0),
        pt.max(S) > 3.0,
        S.min() <= 0.0,
        abs(S[0]) > 3.0,
        pt.maximum(abs(S[0]), abs(S[1])) > 3.0,
        pt.sum(S > 3.0) >= 1,  # at least one: a union of single events
        pt.sum(S > 3.0) >= 4,  # all of them: one intersection
        pt.sum(S > 3.0) < 2,  # at most one: the complement of a union
        ((S[0] > 3.0) & (S[1] > 3.0)) | (S[2] > 3.0),  # one intersection beside a comparison
        ~(((S[0] > 3.0) & (S[1] > 3.0)) | ((S[2] > 3.0) & (S[3] > 3.0))),  # a complement
        S**2,  # no event at all
    ],
)
def test_events_without_two_intersections_are_left_whole(graph):
    assert event_regions(graph) is None


def test_unknown_or_too_many_regions_leave_the_event_whole():
    assert event_regions(pt.sum(pt.vector("v") > 3.0) >= 2) is None  # the number of events is known only at run time
    assert event_regions(pt.sum(pt.tensor("w", shape=(6,)) > 3.0) >= 2) is None  # 15 pairs
    assert event_regions(pt.sum(pt.tensor("w", shape=(5,)) > 3.0) >= 2) is not None  # 10 pairs
    many = pt.tensor("m", shape=(MAX_REGIONS + 1, 2))
    assert event_regions(pt.any(pt.all(many > 3.0, axis=1))) is None


def test_hidden_outputs_for_graphs_and_for_unions_of_callable_events():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=3)
    total = lambda v: v["x"].sum(axis=1)  # noqa: E731
    first = lambda v: v["x"][:, 0]  # noqa: E731
    a, b, c = pa.event(first, ">", 2.0), pa.event(total, ">", 2.0), pa.event(total, "<", -3.0)
    union = (a & b) | (c | (a & c))
    outputs = parse(
        {"two of three": pt.sum(x > 2.0) >= 2, "mean": x.sum(), "union": union, "parts": a | b}, model, model
    )
    hidden = region_outputs(outputs)
    assert [h.name for h in hidden] == ["two of three: region", "union: region"]
    assert [h.region_of for h in hidden] == ["two of three", "union"]
    regions = hidden[1].event
    assert isinstance(regions, Regions) and len(regions.parts) == 2  # a & b and a & c, not c
    values = np.array([[2.5, 1.0, 0.0], [2.5, -4.0, -3.0]])
    responses = {id(fn): fn({"x": values}) for fn in regions.functions}
    np.testing.assert_array_equal(regions.indicator(responses), [[1.0, 0.0], [0.0, 1.0]])
    np.testing.assert_array_equal(regions.score(responses), [[0.5, -6.5], [-6.5, 0.5]])


def test_regions_take_the_shape_of_their_event():
    """A region of fewer elements than its event is broadcast to it: column k of the event, regions after it."""
    from pymc_ais.model.outputs import OutputLayout

    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 1.0, shape=1)
        y = pm.Normal("y", 0.0, 1.0, shape=2)
    event = ((a > 1.0) & (y > 3.0)) | ((a > 5.0) & (y < 7.0))  # shape (2,), from parts of shape (1,) and (2,)
    outputs = parse({"p": event, "m": a.sum()}, model, model)
    hidden = region_outputs(outputs)
    layout = OutputLayout(outputs + hidden, model)
    assert layout.shapes["p: region"] == (2, 2)
    assert layout.labels == ["p[0]", "p[1]", "m"]
    # the columns: p[0], p[1], m, then the regions of p[0] and of p[1]
    np.testing.assert_array_equal(layout.weighted_as(7), [0, 1, 2, 0, 0, 1, 1])
    with pytest.raises(ValueError, match="taken by the regions of the event 'p'"):
        region_outputs(parse({"p": event, "p: region": a.sum()}, model, model))


def test_the_parts_of_a_union_of_comparisons_are_read_for_the_check_only():
    from pymc_ais.model.event_regions import union_parts

    s = VALUES
    parts = union_parts(pt.maximum(abs(S[0]), abs(S[1])) > 3.0)
    got = np.array([parts.eval({S: row}) for row in VALUES])
    np.testing.assert_array_equal(got, np.stack([s[:, 0] > 3, s[:, 0] < -3, s[:, 1] > 3, s[:, 1] < -3], axis=1))
    assert union_parts(S[0] > 3.0) is None  # one region
    assert union_parts(pt.sum(S > 3.0) >= 2) is None  # its intersections are hidden targets


def test_reported_regions_are_weighted_as_their_event():
    """A system's cut sets, reported as an output of their own, take the system's column's weight."""
    import dataclasses

    from pymc_ais.model.outputs import OutputLayout

    with pm.Model() as model:
        g = pm.Normal("g", 0.0, 1.0, shape=3)
    outputs = parse({"system": pt.min(g) <= 0, "m": g.sum(), "cuts": g <= 0}, model, model)
    outputs[2] = dataclasses.replace(outputs[2], weighted_like="system")
    layout = OutputLayout(outputs, model)
    assert layout.labels == ["system", "m", "cuts[0]", "cuts[1]", "cuts[2]"]  # reported, unlike hidden regions
    assert layout.has_regions and layout.all_labels == layout.labels  # no hidden column
    np.testing.assert_array_equal(layout.weighted_as(5), [0, 1, 0, 0, 0])

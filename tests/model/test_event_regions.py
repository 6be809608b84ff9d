"""The regions of composite events, read off their graphs, and the hidden outputs built from them."""

import itertools

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import pymc_ais as pa
from pymc_ais.model.event_regions import MAX_REGIONS, Regions, event_regions, region_outputs
from pymc_ais.model.outputs import parse

S = pt.tensor("s", shape=(4,))
VALUES = np.array([[4.0, -5.0, 0.5, 3.5], [-1.0, 2.0, 6.0, -0.2], [3.2, 3.1, -3.3, 0.0]])


def _evaluated(graph):
    """The regions' indicators and scores at each row of VALUES (rows, regions)."""
    regions = event_regions(graph)
    assert regions is not None
    return tuple(np.array([part.eval({S: row}) for row in VALUES]) for part in regions)


def test_a_union_splits_into_its_parts_with_their_indicators():
    s = VALUES
    cases = {
        "a | b | c": ((S[0] > 3.0) | (S[1] < -2.0) | (S[2] > 1.0), [s[:, 0] > 3, s[:, 1] < -2, s[:, 2] > 1]),
        "pt.or_": (pt.or_(S[0] > 3.0, S[3] >= 0.0), [s[:, 0] > 3, s[:, 3] >= 0]),
        "pt.any": (pt.any(S > 3.0), [s[:, i] > 3 for i in range(4)]),
        "union of intersections": (
            ((S[0] > 3.0) & (S[1] > 3.0)) | (S[2] > 1.0),
            [(s[:, 0] > 3) & (s[:, 1] > 3), s[:, 2] > 1],
        ),
        "max > t": (pt.maximum(S[0], S[1]) > 3.0, [s[:, 0] > 3, s[:, 1] > 3]),
        "max over a vector": (pt.max(S) > 3.0, [s[:, i] > 3 for i in range(4)]),
        "min < t": (S.min() <= 0.0, [s[:, i] <= 0 for i in range(4)]),
        "abs > t": (abs(S[0]) > 3.0, [s[:, 0] > 3, s[:, 0] < -3]),
        "t < abs": (3.0 < abs(S[1]), [s[:, 1] > 3, s[:, 1] < -3]),
        "nested": (pt.maximum(abs(S[0]), abs(S[1])) > 3.0, [s[:, 0] > 3, s[:, 0] < -3, s[:, 1] > 3, s[:, 1] < -3]),
    }
    for name, (graph, expected) in cases.items():
        indicators, scores = _evaluated(graph)
        np.testing.assert_array_equal(indicators, np.stack(expected, axis=1).astype(float), err_msg=name)
        # a union's parts are reached by the union's own climb: they carry no score of their own,
        # but for intersections, whose arms the union's level sets follow one at a time
        if name == "union of intersections":
            np.testing.assert_array_equal(scores[:, 0], np.minimum(s[:, 0], s[:, 1]) - 3.0)
            scores = scores[:, 1:]
        assert np.all(np.isnan(scores)), name


def test_at_least_k_of_n_splits_into_the_intersections_of_k():
    s = VALUES
    for graph in (pt.sum(S > 3.0) >= 2, (S[0] > 3.0) + (S[1] > 3.0) + (S[2] > 3.0) + (S[3] > 3.0) > 1.5):
        indicators, scores = _evaluated(graph)
        pairs = list(itertools.combinations(range(4), 2))
        inside = s > 3
        np.testing.assert_array_equal(indicators, np.stack([inside[:, i] & inside[:, j] for i, j in pairs], axis=1))
        # each intersection is climbed to along the smaller of its two scores
        np.testing.assert_allclose(scores, np.stack([np.minimum(s[:, i], s[:, j]) - 3 for i, j in pairs], axis=1))
    # at least one of n is a union: its events, not climbed each
    indicators, scores = _evaluated(pt.sum(S > 3.0) >= 1)
    np.testing.assert_array_equal(indicators, (s > 3).astype(float))
    assert np.all(np.isnan(scores))


@pytest.mark.parametrize(
    "graph",
    [
        S[0] > 3.0,  # one comparison
        (S[0] > 3.0) & (S[1] > 3.0),  # an intersection is one region
        pt.sum(S > 3.0) >= 4,  # all of them: an intersection
        pt.sum(S > 3.0) < 2,  # at most one: the complement of a union
        abs(S[0]) < 3.0,  # an interval
        pt.maximum(S[0], S[1]) < 3.0,  # both below: an intersection
        abs(S[0]) > -1.0,  # always true
        ~((S[0] > 3.0) | (S[1] > 3.0)),  # the complement of a union
        S**2,  # no event at all
    ],
)
def test_events_of_one_region_are_left_whole(graph):
    assert event_regions(graph) is None


def test_unknown_or_too_many_regions_leave_the_event_whole():
    assert event_regions(pt.any(pt.vector("v") > 3.0)) is None  # the number of elements is known only at run time
    many = pt.tensor("m", shape=(MAX_REGIONS + 1,))
    assert event_regions(pt.any(many > 3.0)) is None
    assert event_regions(pt.sum(pt.tensor("w", shape=(6,)) > 3.0) >= 2) is None  # 15 pairs
    assert event_regions(pt.any(pt.tensor("w", shape=(MAX_REGIONS,)) > 3.0)) is not None


def test_hidden_outputs_for_graphs_and_for_unions_of_callable_events():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=3)
    simulator = lambda v: v["x"].sum(axis=1)  # noqa: E731
    first = lambda v: v["x"][:, 0]  # noqa: E731
    both = pa.event(first, ">", 2.0) & pa.event(simulator, ">", 2.0)
    union = pa.event(simulator, ">", 3.0) | (pa.event(simulator, "<", -3.0) | both)
    outputs = parse({"two of three": pt.sum(x > 2.0) >= 2, "mean": x.sum(), "union": union}, model, model)
    hidden = region_outputs(outputs)
    assert [h.name for h in hidden] == ["two of three: region", "union: region"]
    assert [h.region_of for h in hidden] == ["two of three", "union"]
    regions = hidden[1].event
    assert isinstance(regions, Regions) and len(regions.parts) == 3
    values = np.array([[2.5, 1.0, 0.0], [-1.0, -2.0, -1.0]])
    responses = {id(fn): fn({"x": values}) for fn in regions.functions}
    np.testing.assert_array_equal(regions.indicator(responses), [[1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    scores = regions.score(responses)
    assert np.all(np.isnan(scores[:, :2]))  # parts reached by the union's climb
    np.testing.assert_array_equal(scores[:, 2], [0.5, -6.0])  # an intersection, climbed: min(x0 - 2, sum - 2)

"""The failure regions of a composite event that its own fit may lose: the intersections of a union.

An event that is a union of intersections ("at least two of three" sums above a level,
a system's cut sets written out) has level sets made of arms that touch: the event's
own climb follows one arm at a time, and its fit, spanning them, may leave a region
with a handful of final draws, with an error bar that does not say so.
:func:`event_regions` reads those regions off the expression's graph, so that each
gets a hidden target of its own (see :mod:`pymc_ais.model.model_problem`): climbed to
along its own score from the start, with its own share of the final draws and its own
fit, and dropped from the results.

==============================================  =====================================
event                                            regions
==============================================  =====================================
``pt.sum(events) >= k``, a sum of events         each intersection of ``k`` of the
cast to numbers (also ``>``; ``2 <= k < n``)     ``n`` events
``(a & b) | (a & c) | ...``, ``pt.or_``,         the parts that are intersections
``pt.maximum``, ``pt.any(pt.all(e, axis=1))``    (``&``, ``pt.and_``, ``*``, ``pt.all``,
                                                 ``pt.max(g) <= t``, ``pt.min(y) > t``)
``pt.min(pt.max(g, axis=1)) <= 0`` (cut sets),   the same, through the rules
``pt.max(y) > t``, ``abs(y) > t``                ``max > t`` = a union, ``abs(y) > t`` =
                                                 ``y > t`` or ``y < -t``
==============================================  =====================================

A union's parts that are single comparisons (a series system, the branches of the
four-branch system) are left to the event's own fit, which has a Gaussian per region:
as hidden targets they spread the adaptive draws so thin that a deep branch was
sometimes reached only in the final draws. Events on black-box callables
(:func:`pymc_ais.event`) split the same way: a union's parts written ``a & b``. At most
``MAX_REGIONS`` regions: beyond, the budget split over that many targets would leave
each too few draws, and the event is left whole.
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Variable
from pytensor.scalar import basic as ps
from pytensor.tensor.elemwise import CAReduce, Elemwise
from pytensor.tensor.variable import TensorVariable

from .events import (
    _INTERSECTION,
    _UNION,
    CallableEvent,
    Composite,
    _batch_aligned,
    _constant,
    _score,
    _strip_casts,
    count_form,
    reduced_last,
)
from .outputs import Output

MAX_REGIONS = 10
"""The most regions an event is split into."""

Region = tuple[TensorVariable, TensorVariable, bool]  # (indicator as float64, score, whether an intersection)


def event_regions(graph: Variable) -> tuple[TensorVariable, TensorVariable] | None:
    """The indicators and scores of an event's intersection regions, on a last axis after the event's shape.

    None when the event has fewer than two such regions, or more than ``MAX_REGIONS``
    in all (over its elements too, or a number known only at run time).

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> s = pt.tensor("s", shape=(3,))
    >>> indicators, scores = event_regions(pt.sum(s > 3.0) >= 2)   # 3 events: 3 pairs of them
    >>> indicators.eval({s: [4.0, 5.0, 0.0]}).tolist()
    [1.0, 0.0, 0.0]
    >>> scores.eval({s: [4.0, 5.0, 0.0]}).tolist()
    [1.0, -3.0, -3.0]
    >>> event_regions((s[0] > 3.0) | (s[1] > 3.0)) is None   # single comparisons: the event's own fit
    True
    """
    regions = _regions(graph) or []
    intersections = [r for r in regions if r[2]]
    if len(intersections) < 2 or _too_many(graph, intersections):
        return None
    return _stacked(graph, [i for i, _, _ in intersections]), _stacked(graph, [s for _, s, _ in intersections])


def _too_many(graph: Variable, regions: list[Region]) -> bool:
    """Whether the event's hidden columns (regions times elements) exceed ``MAX_REGIONS`` or are unknown."""
    elements = pt.as_tensor(graph).type.shape
    return None in elements or len(regions) * int(np.prod(elements)) > MAX_REGIONS


def _stacked(graph: Variable, parts: list) -> TensorVariable:
    """Parts on a last axis after the event's shape: a part may broadcast against others it does not hold."""
    shape = pt.as_tensor(graph).shape
    return pt.stack([pt.broadcast_to(part, shape) for part in parts], axis=-1)


def union_parts(graph: Variable) -> TensorVariable | None:
    """The indicators of a union's parts on a last axis, when the event has no hidden targets; else None.

    The parts of a union of single comparisons (a series system, the branches of the
    four-branch system) are left to the event's own fit; their indicators serve only to
    check, after the run, that the final draws reached each of them.
    """
    regions = _regions(graph) or []
    if len(regions) < 2 or sum(r[2] for r in regions) >= 2 or _too_many(graph, regions):
        return None  # one region, or two intersections or more (hidden targets), or too many
    return _stacked(graph, [i for i, _, _ in regions])


def region_outputs(outputs: list[Output]) -> list[Output]:
    """The hidden outputs of the events with several regions: each event's regions on a last axis."""
    hidden = []
    names = {o.name for o in outputs}
    for o in outputs:
        name = f"{o.name}: region"
        if o.score is not None:
            regions = event_regions(o.graph)  # type: ignore[arg-type]
            if regions is None:
                continue
            region = Output(name, graph=regions[0], score=regions[1], region_of=o.name)
        elif o.event is not None:
            parts = [p for p in _union_parts(o.event) if isinstance(p, Composite) and p.kind == "intersection"]
            if not 2 <= len(parts) <= MAX_REGIONS:
                continue
            region = Output(name, event=Regions(tuple(parts), o.event), region_of=o.name)
        else:
            continue
        if name in names:
            raise ValueError(
                f"expectation name {name!r} is taken by the regions of the event {o.name!r}; name it differently"
            )
        hidden.append(region)
    return hidden


def _union_parts(event: CallableEvent) -> list[CallableEvent]:
    if isinstance(event, Composite) and event.kind == "union":
        return [p for part in event.parts for p in _union_parts(part)]
    return [event]


class Regions(CallableEvent):
    """The intersection parts of a union of events on callables, stacked on a last axis (one region each).

    Each part is broadcast to the shape of the whole event (``whole``), which may hold
    parts of more elements. At most ``MAX_REGIONS`` parts; a vector-valued event has
    that many per element.
    """

    def __init__(self, parts: tuple[CallableEvent, ...], whole: CallableEvent):
        self.parts = parts
        self.whole = whole
        self.functions = whole.functions

    def score(self, responses: dict) -> np.ndarray:
        """Each part's score, on a last axis."""
        return self._stacked([p.score(responses) for p in self.parts], responses)

    def indicator(self, responses: dict) -> np.ndarray:
        """Each part's indicator, on a last axis."""
        return self._stacked([p.indicator(responses) for p in self.parts], responses)

    def _stacked(self, arrays: list[np.ndarray], responses: dict) -> np.ndarray:
        shape = np.shape(self.whole.indicator(responses))
        aligned = _batch_aligned([*arrays, np.zeros(shape)], "union")
        return np.stack(np.broadcast_arrays(*aligned)[:-1], axis=-1).astype(np.float64)


def _whole(var: Variable) -> list[Region] | None:
    """One region: the event itself, flagged if it is an intersection; None if it is no event."""
    score = _score(var)
    if score is None:
        return None
    return [(pt.cast(var, "float64"), pt.cast(score, "float64"), _is_intersection(var))]


def _is_intersection(var: Variable) -> bool:
    """Whether an event is an intersection of events.

    ``&``, ``pt.and_``, ``*``, ``pt.all``, and comparisons that hold when every one of
    several responses does: ``max(u, v) <= t``, ``min(u, v) > t`` (over axes too).
    """
    node = _strip_casts(var).owner
    if node is None:
        return False
    op = node.op
    if isinstance(op, CAReduce):
        return isinstance(op.scalar_op, (ps.AND, ps.ScalarMinimum))
    if not isinstance(op, Elemwise):
        return False
    if isinstance(op.scalar_op, _INTERSECTION):
        return True
    if not isinstance(op.scalar_op, (ps.GT, ps.GE, ps.LT, ps.LE)):
        return False
    above = isinstance(op.scalar_op, (ps.GT, ps.GE))
    for response, level, flipped in ((node.inputs[0], node.inputs[1], False), (node.inputs[1], node.inputs[0], True)):
        if _constant(level) is None:
            continue
        inner = _strip_casts(response).owner
        if inner is None:
            return False
        if above != flipped:  # "response > t": an intersection when the response is a min
            return (isinstance(inner.op, Elemwise) and isinstance(inner.op.scalar_op, ps.ScalarMinimum)) or (
                _negated_max(inner) is not None
            )
        return isinstance(inner.op, (Elemwise, CAReduce)) and isinstance(inner.op.scalar_op, ps.ScalarMaximum)
    return False


def _regions(graph: Variable) -> list[Region] | None:
    var = _strip_casts(graph)
    node = var.owner
    if node is None:
        return None
    op = node.op
    if isinstance(op, Elemwise) and isinstance(op.scalar_op, _UNION):
        return _union_of(node.inputs)
    if isinstance(op, Elemwise) and isinstance(op.scalar_op, ps.Switch):
        if (_constant(node.inputs[1]), _constant(node.inputs[2])) == (1.0, 0.0):
            return _regions(node.inputs[0])
    if isinstance(op, CAReduce) and isinstance(op.scalar_op, _UNION):
        events = _elements(node.inputs[0], op.axis)
        if events is not None:
            return events
    if isinstance(op, Elemwise) and isinstance(op.scalar_op, (ps.GT, ps.GE, ps.LT, ps.LE)):
        split = _at_least_regions(op.scalar_op, *node.inputs)
        if split is None:
            split = _extreme_regions(op.scalar_op, *node.inputs)
        if split is not None:
            return split
    return _whole(var)


def _extreme_regions(scalar, left: Variable, right: Variable) -> list[Region] | None:
    """``max(u, v) > t`` as ``u > t`` or ``v > t``; ``min(u, v) < t``, ``abs(u) > t`` (``t >= 0``) alike.

    The largest of several responses exceeds a level when one of them does, whatever the
    form: ``pt.maximum``, ``pt.max`` over axes, ``abs``; the smallest falls below it when
    one of them does. None for any other comparison.
    """
    above = isinstance(scalar, (ps.GT, ps.GE))
    compare = type(scalar)
    for response, level, flipped in ((left, right, False), (right, left, True)):
        t = _constant(level)
        if t is None:
            continue
        upward = above != flipped  # the event is "response > t" (or >=)
        node = _strip_casts(response).owner
        if node is None:
            return None
        op = node.op

        if isinstance(op, Elemwise) and isinstance(op.scalar_op, ps.ScalarMaximum if upward else ps.ScalarMinimum):
            return _union_of([_compared(compare, u, t, flipped) for u in node.inputs])
        if isinstance(op, CAReduce) and isinstance(op.scalar_op, ps.ScalarMaximum if upward else ps.ScalarMinimum):
            return _elements(_compared(compare, node.inputs[0], t, flipped), op.axis)
        reduced = None if upward else _negated_max(node)
        if reduced is not None:  # pt.min(y) is written -max(-y)
            return _elements(_compared(compare, reduced[0], t, flipped), reduced[1])
        if upward and t >= 0 and isinstance(op, Elemwise) and isinstance(op.scalar_op, ps.Abs):
            u = node.inputs[0]
            return _union_of([_compared(compare, u, t, flipped), _compared(compare, -u, t, flipped)])
        return None
    return None


def _negated_max(node) -> tuple[Variable, tuple | None] | None:
    """``(y, axis)`` when ``node`` is ``-max(-y, axis)`` (how ``pt.min`` is built), else None."""
    if not (isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, ps.Neg)):
        return None
    inner = node.inputs[0].owner
    if inner is None or not (isinstance(inner.op, CAReduce) and isinstance(inner.op.scalar_op, ps.ScalarMaximum)):
        return None
    negated = inner.inputs[0].owner
    if negated is None or not (isinstance(negated.op, Elemwise) and isinstance(negated.op.scalar_op, ps.Neg)):
        return None
    return negated.inputs[0], inner.op.axis


def _compared(compare, u: Variable, t: float, flipped: bool) -> TensorVariable:
    """The comparison ``compare`` of ``u`` with ``t``, on the side it had."""
    ops = {ps.GT: pt.gt, ps.GE: pt.ge, ps.LT: pt.lt, ps.LE: pt.le}
    return ops[compare](t, u) if flipped else ops[compare](u, t)


def _union_of(events) -> list[Region] | None:
    parts = [_regions(e) for e in events]
    return None if any(p is None for p in parts) else [r for p in parts for r in p]  # type: ignore[union-attr]


def _elements(inner: Variable, axis) -> list[Region] | None:
    """The events of a vector event over the reduced axes, one per element; None if their number is unknown."""
    score = _score(inner)
    if score is None:
        return None
    inner = pt.as_tensor(inner)
    axes = tuple(range(inner.ndim)) if axis is None else tuple(axis)
    sizes = [inner.type.shape[a] for a in axes]
    if any(s is None for s in sizes):
        return None
    n = int(np.prod(sizes, dtype=int))

    def flat(x: TensorVariable) -> TensorVariable:
        return reduced_last(pt.broadcast_to(x, inner.shape) if x.ndim < inner.ndim else x, axes, n)

    indicators, scores = flat(pt.cast(inner, "float64")), flat(pt.cast(score, "float64"))
    return [(indicators[..., i], scores[..., i], _is_intersection(inner)) for i in range(n)]


def _count_events(count: Variable) -> list[Region] | None:
    """The events a count adds up (``a + b + c`` or ``pt.sum(events)``), or None if it is no count."""
    form = count_form(count)
    if form is None:
        return None
    terms, reduced, axis = form
    if reduced:
        return _elements(terms[0], axis)
    wholes = [_whole(term) for term in terms]
    return None if any(w is None for w in wholes) else [w[0] for w in wholes]  # type: ignore[index]


def _at_least_regions(scalar, left: Variable, right: Variable) -> list[Region] | None:
    """The k-subsets' intersections of "at least k of n events", or None for another comparison."""
    strict = isinstance(scalar, (ps.GT, ps.LT))
    if isinstance(scalar, (ps.LT, ps.LE)):
        left, right = right, left  # the event is now "left > right" (">=" unless strict)
    level = _constant(right)
    if level is None:
        return None  # "level > count" is the complement of an "at least": one region
    events = _count_events(left)
    if events is None:
        return None
    k = math.floor(level) + 1 if strict else math.ceil(level)
    n = len(events)
    if not 1 <= k < n or math.comb(n, k) > MAX_REGIONS:
        return None
    regions = []
    for subset in itertools.combinations(events, k):
        indicator, score, _ = subset[0]
        for other_indicator, other_score, _ in subset[1:]:
            indicator, score = indicator * other_indicator, pt.minimum(score, other_score)
        regions.append((indicator, score, k >= 2 or subset[0][2]))
    return regions

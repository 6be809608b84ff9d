"""Event scores: how far a draw is from an indicator output's event.

An output ``y > t`` (or ``>=``, ``<``, ``<=``, possibly cast to a number) is an event
whose probability may be far too small for any first draw to reach. Its score
``y - t`` (``t - y`` for ``<``) is positive inside the event and says how close a
draw outside it came, which is what the multilevel start of the adaptive phase
climbs along (:func:`pymc_ais.core.engine.climbing.climbing_levels`). The score is read off
the expression's graph and computed in the same compiled call as the output: it costs
no model run.

Composite events get the scores that keep "positive exactly inside the event":

==========================================================  ===============================
event                                                        score
==========================================================  ===============================
``y > t``, ``y >= t``                                        ``y - t``
``y < t``, ``y <= t``                                        ``t - y``
``abs(y) > t``                                               ``abs(y) - t`` (the rule above)
``a | b``, ``pt.or_``, ``pt.maximum``, ``pt.any`` (union)      ``max`` of the scores
``a & b``, ``pt.and_``, ``a * b``, ``pt.minimum``, ``pt.all``  ``min`` of the scores
``~a``, ``pt.invert`` (complement)                           ``-score``
``pt.switch(a, 1, 0)`` (``pt.switch(a, 0, 1)``)              the score of ``a`` (its negation)
at least ``k`` of ``n`` events: ``pt.sum(events) >= k``,     the ``k``-th largest score
a sum of events cast to numbers (also ``>``, ``<``, ``<=``)
==========================================================  ===============================

Casts (``pt.cast(a, "float64")``, ``int8`` sums) are looked through. A sum of boolean
events left boolean (``a + b + c``) is refused: PyTensor backends disagree on its value. Systems of limit
states follow: a series system ``pt.any(g <= 0)`` (equivalently ``g.min() <= 0``)
scores ``max(-g)``, a parallel one ``pt.all(g <= 0)`` (``g.max() <= 0``) ``min(-g)``.

Black-box simulators have no graph to read: :func:`event` states the event on a
callable's response instead (:class:`CallableEvent`), with the same scores, computed
from the simulator's own output at no extra run.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytensor.tensor as pt
from pytensor.graph.basic import Constant, Variable
from pytensor.scalar import basic as ps
from pytensor.tensor.elemwise import CAReduce, DimShuffle, Elemwise
from pytensor.tensor.variable import TensorVariable

_ABOVE = (ps.GT, ps.GE)
_BELOW = (ps.LT, ps.LE)
_UNION = (ps.OR, ps.ScalarMaximum)
_INTERSECTION = (ps.AND, ps.Mul, ps.ScalarMinimum)


def event_score(graph: Variable) -> Variable | None:
    """The score graph of an indicator expression, or None if it is not one.

    The score is positive inside the event and says how far outside it a point is
    (see the module docstring for the rules of composite events).

    Examples
    --------
    >>> import pytensor.tensor as pt
    >>> y = pt.vector("y")
    >>> event_score(y > 3.0).eval({y: [1.0, 5.0]})
    array([-2.,  2.])
    >>> event_score((y > 3.0) | (y < -1.0)).eval({y: [1.0, 5.0, -4.0]})
    array([-2.,  2.,  3.])
    >>> event_score(y**2) is None
    True
    """
    score = _score(graph)
    return None if score is None else pt.cast(score, "float64")


def _strip_casts(var: Variable) -> Variable:
    while var.owner is not None and isinstance(var.owner.op, Elemwise) and isinstance(var.owner.op.scalar_op, ps.Cast):
        var = var.owner.inputs[0]
    return var


def single_comparison(graph: Variable) -> bool:
    """Whether an event expression is one comparison (``y > t``), not a combination of several.

    Its score is then NaN exactly where the compared quantity is, and the comparison
    reads False there. A combination's score can be NaN where one part is while another
    decides the event (``(x > 0) & (log(x) > 1)`` at ``x = -1``).
    """
    node = _strip_casts(graph).owner
    return node is not None and isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, _ABOVE + _BELOW)


def _constant(var: Variable) -> float | None:
    """The value of a scalar constant (broadcast by ``ExpandDims``), or None."""
    while var.owner is not None and isinstance(var.owner.op, DimShuffle):
        var = var.owner.inputs[0]
    var = _strip_casts(var)
    if isinstance(var, Constant):
        data = np.asarray(var.data)
        if data.size == 1:
            return float(data.reshape(()))
    return None


def _score(graph: Variable) -> TensorVariable | None:
    var = _strip_casts(graph)
    node = var.owner
    if node is None:
        return None
    op = node.op
    if isinstance(op, CAReduce):
        return _reduction_score(op, node.inputs[0])
    if not isinstance(op, Elemwise):
        return None
    scalar = op.scalar_op
    if isinstance(scalar, _ABOVE + _BELOW):
        return _comparison_score(scalar, *node.inputs)
    if isinstance(scalar, _UNION + _INTERSECTION):
        parts = _all_scores(node.inputs)
        if parts is None:
            return None
        combine = pt.maximum if isinstance(scalar, _UNION) else pt.minimum
        out = parts[0]
        for p in parts[1:]:
            out = combine(out, p)
        return out
    if isinstance(scalar, ps.Invert) and node.inputs[0].dtype == "bool":  # not a bitwise not of integers
        inner = _score(node.inputs[0])
        return None if inner is None else -inner
    if isinstance(scalar, ps.Switch):
        inner = _score(node.inputs[0])
        branches = (_constant(node.inputs[1]), _constant(node.inputs[2]))
        if inner is None or branches not in ((1.0, 0.0), (0.0, 1.0)):
            return None
        return inner if branches == (1.0, 0.0) else -inner
    return None


def _all_scores(variables) -> list[TensorVariable] | None:
    """The scores of every variable, or None as soon as one has none."""
    scores = []
    for var in variables:
        score = _score(var)
        if score is None:
            return None
        scores.append(score)
    return scores


def _comparison_score(scalar, left: Variable, right: Variable) -> TensorVariable | None:
    """The score of a comparison: a difference, or, for a count of events, a k-th largest score."""
    strict = isinstance(scalar, (ps.GT, ps.LT))
    if isinstance(scalar, _BELOW):
        left, right = right, left  # now the event is "left > right" (">=" unless strict)
    for count, bound, upper in ((left, right, False), (right, left, True)):
        level = _constant(bound)
        if level is None:
            continue
        scores = _count_scores(count)
        if scores is not None:
            return _at_least_score(scores, level, strict, upper)
    return pt.cast(left, "float64") - pt.cast(right, "float64")


def _reduction_score(op: CAReduce, inner: Variable) -> TensorVariable | None:
    """``pt.any`` / ``pt.all`` of events: the max / min of their scores over the reduced axes."""
    if not isinstance(op.scalar_op, _UNION + (ps.AND, ps.ScalarMinimum)):
        return None
    score = _score(inner)
    if score is None:
        return None
    reduce = pt.max if isinstance(op.scalar_op, _UNION) else pt.min
    return reduce(score, axis=op.axis)


def _count_scores(count: Variable) -> TensorVariable | None:
    """The scores of the events a count adds up, stacked on a last axis; None if it is no count."""
    form = count_form(count)
    if form is None:
        return None
    terms, reduced, axis = form
    if not reduced:
        scores = _all_scores(terms)
        return None if scores is None else pt.stack(pt.broadcast_arrays(*scores), axis=-1)
    score = _score(terms[0])
    if score is None:
        return None
    return reduced_last(score, axis)


def reduced_last(x: TensorVariable, axis: tuple | None, size: int = -1) -> TensorVariable:
    """``x`` with the axes a reduction runs over (None: all) moved last and flattened into one."""
    axes = tuple(range(x.ndim)) if axis is None else tuple(axis)
    kept = [i for i in range(x.ndim) if i not in axes]
    moved = x.transpose(*kept, *axes)
    return moved.reshape((*[moved.shape[i] for i in range(len(kept))], size), ndim=len(kept) + 1)


def count_form(count: Variable) -> tuple[list, bool, tuple | None] | None:
    """What a count adds up: ``(terms, False, None)`` for ``a + b + c``, ``([events], True, axis)`` for ``pt.sum``.

    A count is a sum of (cast) indicators, ``a + b + c``, or ``pt.sum`` of a vector
    event over some axes (``axis`` None: all of them, as in NumPy). None if ``count``
    is neither.
    """
    var = _strip_casts(count)
    node = var.owner
    if node is None:
        return None
    if isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, ps.Add):
        terms = _add_terms(var)
        if len(terms) < 2:
            return None
        if getattr(var.type, "dtype", None) == "bool":
            raise ValueError(
                "this event adds boolean events with +, whose result is a boolean: a count on some "
                "PyTensor backends, a logical or on others, so that a comparison with 2 or more may be "
                "always false. Count them as numbers, pt.cast(a, 'int8') + pt.cast(b, 'int8') + ..., or "
                "compare a vector at once, pt.sum(y > t) >= 2"
            )
        return terms, False, None
    if isinstance(node.op, CAReduce) and isinstance(node.op.scalar_op, ps.Add):
        return [node.inputs[0]], True, (None if node.op.axis is None else tuple(node.op.axis))
    return None


def _add_terms(var: Variable) -> list:
    node = var.owner
    if node is not None and isinstance(node.op, Elemwise) and isinstance(node.op.scalar_op, ps.Add):
        return [t for x in node.inputs for t in _add_terms(_strip_casts(x))]
    return [var]


def _at_least_score(scores: TensorVariable, level: float, strict: bool, upper: bool) -> TensorVariable | None:
    """The score of ``count > level`` (``>=`` unless strict), or of ``level > count`` when ``upper``.

    ``level > count`` is the complement of ``count >= level`` (``level >= count`` that
    of ``count > level``). With the k-th largest score ``s_(k)``, ``count >= k`` holds
    exactly when ``s_(k) > 0``. None for a count that is always or never in range.
    """
    if upper:
        strict = not strict
    k = math.floor(level) + 1 if strict else math.ceil(level)
    n = scores.type.shape[-1]
    if k <= 0 or (n is not None and k > n):
        return None  # always or never: a constant, nothing to climb
    if k == 1:
        kth = pt.max(scores, axis=-1)
    elif n is not None and k == n:
        kth = pt.min(scores, axis=-1)
    elif n is not None:
        kth = pt.sort(scores, axis=-1)[..., -k]
    else:  # a length known only at run time may be below k: then the count never gets there (a negative score)
        length, ordered = scores.shape[-1], pt.sort(scores, axis=-1)
        kth = pt.switch(pt.ge(length, k), ordered[..., pt.maximum(length - k, 0)], -1.0 - pt.abs(ordered[..., 0]))
    return -kth if upper else kth


COMPARISONS: dict[str, Callable] = {">": np.greater, ">=": np.greater_equal, "<": np.less, "<=": np.less_equal}


class CallableEvent:
    """An event stated on the responses of black-box callables, with its score.

    Build one with :func:`event`; combine with ``|`` (union, score ``max``), ``&``
    (intersection, ``min``) and ``~`` (complement, ``-score``). As an expectation of
    :func:`pymc_ais.estimate` it is the event's indicator; each callable runs once per
    point whatever the number of events stated on it.
    """

    functions: tuple[Callable, ...] = ()

    def indicator(self, responses: dict) -> np.ndarray:
        """The event's indicator (0.0 / 1.0) from the callables' responses ``{id(function): array}``."""
        return (self.score(responses) > 0).astype(np.float64)

    def score(self, responses: dict) -> np.ndarray:
        """The event's score: positive inside the event."""
        raise NotImplementedError

    def __or__(self, other: CallableEvent) -> CallableEvent:
        return Composite("union", (self, _as_event(other, "|")))

    def __and__(self, other: CallableEvent) -> CallableEvent:
        return Composite("intersection", (self, _as_event(other, "&")))

    def __invert__(self) -> CallableEvent:
        return Composite("complement", (self,))

    def __bool__(self):
        raise TypeError("a pymc_ais event has no truth value: combine events with |, & and ~ (not 'or', 'and', 'not')")


def _as_event(other, symbol: str) -> CallableEvent:
    if not isinstance(other, CallableEvent):
        raise TypeError(
            f"an event from pymc_ais.event can be combined with {symbol} only with another such event, "
            f"got {type(other).__name__}"
        )
    return other


@dataclass(frozen=True, eq=False)
class Threshold(CallableEvent):
    """``reduce(function(x)) <comparison> threshold``, elementwise; ``reduce`` maps the response (n, ...) first."""

    function: Callable
    comparison: str
    threshold: np.ndarray | np.float64
    reduce: Callable | None = None
    functions: tuple = field(init=False)

    def __post_init__(self):
        object.__setattr__(self, "functions", (self.function,))

    def _response(self, responses: dict) -> np.ndarray:
        y = responses[id(self.function)]
        if self.reduce is not None:
            y = self.reduce(y)
        y = np.asarray(y, dtype=np.float64)
        shape = np.shape(self.threshold)
        if len(shape) > y.ndim - 1 or any(t not in (1, r) for t, r in zip(shape[::-1], y.shape[:0:-1])):
            raise ValueError(
                f"the event's threshold has shape {shape}, which does not broadcast against the shape "
                f"{y.shape[1:]} of the response per point"
            )
        return y

    def score(self, responses: dict) -> np.ndarray:
        """``y - threshold`` for ``>`` and ``>=``, ``threshold - y`` for ``<`` and ``<=``."""
        y = self._response(responses)
        return y - self.threshold if self.comparison.startswith(">") else self.threshold - y

    def indicator(self, responses: dict) -> np.ndarray:
        """The comparison itself (exact on the boundary, where the score is 0)."""
        y = self._response(responses)
        return COMPARISONS[self.comparison](y, self.threshold).astype(np.float64)


@dataclass(frozen=True, eq=False)
class Composite(CallableEvent):
    """A union, an intersection or a complement of events."""

    kind: str
    parts: tuple
    functions: tuple = field(init=False)

    def __post_init__(self):
        unique: dict = {}
        for part in self.parts:
            for fn in part.functions:
                unique.setdefault(id(fn), fn)
        object.__setattr__(self, "functions", tuple(unique.values()))

    def score(self, responses: dict) -> np.ndarray:
        """The max of the parts' scores (union), their min (intersection), or minus the score (complement)."""
        scores = _batch_aligned([p.score(responses) for p in self.parts], self.kind)
        if self.kind == "complement":
            return -scores[0]
        combine = np.maximum if self.kind == "union" else np.minimum
        out = scores[0]
        for s in scores[1:]:
            out = combine(out, s)
        return out

    def indicator(self, responses: dict) -> np.ndarray:
        """The parts' indicators combined (exact on the boundaries)."""
        values = _batch_aligned([p.indicator(responses) > 0 for p in self.parts], self.kind)
        if self.kind == "complement":
            return (~values[0]).astype(np.float64)
        combine = np.logical_or if self.kind == "union" else np.logical_and
        out = values[0]
        for v in values[1:]:
            out = combine(out, v)
        return out.astype(np.float64)


def _batch_aligned(arrays: list[np.ndarray], kind: str) -> list[np.ndarray]:
    """The parts' arrays with the batch axis first in all: fewer per-point axes are broadcast after it.

    NumPy would align them from the last axis, pairing one point's values with another's.
    """
    ndim = max(a.ndim for a in arrays)
    aligned = [a.reshape(a.shape[0], *([1] * (ndim - a.ndim)), *a.shape[1:]) for a in arrays]
    try:
        np.broadcast_shapes(*(a.shape for a in aligned))
    except ValueError:
        shapes = ", ".join(str(a.shape[1:]) for a in arrays)
        raise ValueError(f"the parts of this {kind} have per-point shapes {shapes}, which do not broadcast") from None
    return aligned


def event(
    response: Callable[[dict], np.ndarray] | Variable, comparison: str, threshold: float | np.ndarray
) -> CallableEvent | Variable:
    """An event stated on a model output, with the score that lets rare events be climbed to.

    ``response`` is a black-box callable (as for :func:`pymc_ais.estimate`: a dict of
    the free variables' values with a leading batch axis in, an array with the same
    leading axis out) or a PyTensor expression. The event is
    ``response <comparison> threshold``, elementwise for an array-valued response (one
    event per element; ``threshold`` broadcasts against the response of one point).
    Its score, ``response - threshold`` for ``>`` and ``>=`` and ``threshold - response``
    for ``<`` and ``<=``, is positive inside the event and computed from the response
    itself: no extra model run. Given to :func:`pymc_ais.estimate` as an expectation,
    the event's probability is estimated, with the multilevel start climbing along the
    score towards events no first draw reaches (a plain ``lambda v: sim(v) > t`` has
    no score, and at ``p = 1e-5`` usually no draw ever reaches it).

    Events on callables combine with ``|`` (union: the score is the max of the
    scores), ``&`` (intersection: the min) and ``~`` (complement: minus the score).
    Every callable runs once per point, however many events are stated on it. For an
    expression the result is the comparison itself (``y > t``), whose composite forms
    get the same scores (see :mod:`pymc_ais.model.events`).

    Parameters
    ----------
    response : callable or PyTensor expression
    comparison : ">", ">=", "<" or "<="
    threshold : float or array of finite numbers

    Returns
    -------
    An event to pass as an expectation (a PyTensor boolean for an expression).

    Examples
    --------
    >>> import numpy as np, pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0, shape=4)
    >>> def simulator(v):
    ...     return v["x"].sum(axis=1) / 2.0   # a black box; S ~ N(0, 1)
    >>> idata = pa.estimate({"p": pa.event(simulator, ">", 4.0)}, model=m, draws=4000,
    ...                     random_seed=1, progressbar=False)
    >>> est = idata["estimates"].sel(expectation="p")   # truth 3.17e-5
    >>> bool(abs(est["mean"] - 3.167e-5) < 4 * est["mcse"])
    True
    """
    if comparison not in COMPARISONS:
        raise ValueError(f"comparison must be one of {', '.join(map(repr, COMPARISONS))}, got {comparison!r}")
    if isinstance(threshold, Variable):
        raise TypeError("the threshold of an event must be a number or an array of numbers, not a PyTensor expression")
    try:
        value = np.asarray(threshold, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise TypeError(f"the threshold of an event must be numbers, got {threshold!r}") from err
    if not np.all(np.isfinite(value)):
        raise ValueError(f"the threshold of an event must be finite, got {threshold!r}")
    if isinstance(response, Variable):
        return {">": pt.gt, ">=": pt.ge, "<": pt.lt, "<=": pt.le}[comparison](response, value)
    if isinstance(response, CallableEvent) or not callable(response):
        raise TypeError(
            "the response of an event must be a black-box callable or a PyTensor expression, "
            f"got {type(response).__name__}"
        )
    return Threshold(response, comparison, value)

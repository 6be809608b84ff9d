"""The user's outputs phi: PyTensor expressions, variable names or black-box callables.

:func:`parse` turns each into an :class:`Output` in the working model's variables, with
clear errors for anything unusable; :class:`OutputLayout` knows every output's shape per
draw and its flat column labels. Graph outputs take their shape from the graph (at the
model's initial point, no random draw); a callable's shape is fixed by the first real
batch it is called on, so no evaluation is ever spent outside the budget.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pymc as pm
import pytensor
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import ancestors, graph_inputs
from pytensor.tensor.random.op import RandomVariable

from ..core.execution.dispatch import Dispatcher, Job
from ..core.problem import EvaluationError
from .events import CallableEvent, event_score, single_comparison


@dataclass(frozen=True)
class Output:
    """One named output phi: a graph (in the working model's variables), a callable or an event on callables."""

    name: str
    graph: Variable | None = None
    function: Callable | None = None
    score: Variable | None = None  # event score of an indicator graph (see events.py)
    event: CallableEvent | None = None  # an event stated on callables' responses, with its score
    region_of: str | None = None  # hidden: the regions of this visible event, a target each (event_regions.py)
    weighted_like: str | None = None  # visible, but the regions of this event: weighted as it (a system's cut sets)

    @property
    def functions(self) -> tuple:
        """The black-box callables this output needs."""
        if self.function is not None:
            return (self.function,)
        return self.event.functions if self.event is not None else ()


def as_mapping(expectations) -> dict:
    """A mapping name -> phi; a single phi is named after itself.

    Names become variables of the result's DataTree, where a ``/`` would read as a path:
    such a name is refused here, before any model run, not after the run has finished.
    """
    if isinstance(expectations, Mapping):
        if not expectations:
            raise ValueError("no expectation given: pass a mapping name -> phi with at least one entry")
        for key in expectations:
            if not isinstance(key, str):
                raise TypeError(f"expectation names must be strings, got {key!r}")
        return _checked_names(dict(expectations))
    if isinstance(expectations, str):
        return _checked_names({expectations: expectations})
    if isinstance(expectations, Variable):
        return _checked_names({expectations.name or "phi": expectations})
    if callable(expectations):
        return _checked_names({getattr(expectations, "__name__", "phi"): expectations})
    raise TypeError(
        "expectations must be a mapping name -> phi or a single phi (a PyTensor expression, "
        f"a model variable name or a callable), got {type(expectations).__name__}"
    )


def _checked_names(mapping: dict) -> dict:
    """``mapping``, after refusing names that an xarray DataTree cannot hold."""
    for name in mapping:
        if "/" in name:
            raise ValueError(
                f"expectation name {name!r} contains '/', which the result's DataTree reads as a "
                f"path; name it differently, e.g. {name.replace('/', '_over_')!r}"
            )
    return mapping


def _translate(name: str, expr: Variable, user_model: pm.Model, work_model: pm.Model) -> Variable:
    """Re-express ``expr`` (in ``user_model``'s variables) in ``work_model``'s free variables."""
    replace = {user_model[rv.name]: work_model[rv.name] for rv in user_model.free_RVs}
    replace = {k: v for k, v in replace.items() if k in set(ancestors([expr]))}
    out = graph_replace(expr, replace, strict=False) if replace else expr
    free = set(work_model.free_RVs)
    allowed = free | set(work_model.value_vars)
    for var in ancestors([out], blockers=list(free)):
        if var in allowed:
            continue
        if var.owner is not None and isinstance(var.owner.op, RandomVariable):
            rv = var.owner.outputs[1] if len(var.owner.outputs) > 1 else var
            label = rv.name or var.name or str(var)
            raise ValueError(
                f"expectation {name!r} uses the random variable {label!r}, which is not a free "
                "variable of the model; write expressions with the model's own variables"
            )
    inputs = list(graph_inputs([out], blockers=list(allowed)))
    for var in inputs:
        if var in allowed or isinstance(var, (Constant, SharedVariable)):
            continue
        raise ValueError(
            f"expectation {name!r} depends on the symbolic input {var.name or str(var)!r}, which "
            "is not a variable of the model"
        )
    if not any(var in allowed for var in ancestors([out], blockers=list(allowed))):
        raise ValueError(
            f"expectation {name!r} depends on no free variable of the model: it is a constant, whose "
            "expectation needs no sampling"
        )
    return out


def parse(expectations, user_model: pm.Model, work_model: pm.Model) -> list[Output]:
    """Outputs in ``work_model``'s variables, with clear errors for anything unusable."""
    outputs = []
    for name, phi in as_mapping(expectations).items():
        if isinstance(phi, str):
            if phi not in user_model.named_vars:
                valid = ", ".join(sorted(v for v in user_model.named_vars if v in work_model.named_vars))
                raise ValueError(f"expectation {name!r}: the model has no variable named {phi!r}; valid names: {valid}")
            graph = _translate(name, user_model[phi], user_model, work_model)
            outputs.append(Output(name, graph=graph, score=_named_score(name, graph)))
        elif isinstance(phi, Variable):
            dtype = str(getattr(phi.type, "dtype", ""))
            if dtype != "bool" and not dtype.startswith(("float", "int", "uint")):
                raise TypeError(f"expectation {name!r} has dtype {dtype}; expected a numeric or boolean expression")
            graph = _translate(name, phi, user_model, work_model)
            outputs.append(Output(name, graph=graph, score=_named_score(name, graph)))
        elif isinstance(phi, CallableEvent):
            outputs.append(Output(name, event=phi))
        elif callable(phi):
            outputs.append(Output(name, function=phi))
        elif np.isscalar(phi):
            raise TypeError(f"expectation {name!r} is the constant {phi!r}; a constant's expectation needs no sampling")
        else:
            raise TypeError(
                f"expectation {name!r} must be a PyTensor expression, a model variable name or a "
                f"callable, got {type(phi).__name__}"
            )
    return outputs


def _named_score(name: str, graph: Variable) -> Variable | None:
    """The event score of an output, with its name on an event refused as ambiguous."""
    try:
        return event_score(graph)
    except ValueError as err:
        raise ValueError(f"expectation {name!r}: {err}") from None


def labels(name: str, shape: tuple) -> list[str]:
    """Flat column labels of an output: ``name`` or ``name[i,j]``."""
    if shape == ():
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in itertools.product(*map(range, shape))]


def graph_shape(work: pm.Model, name: str, graph) -> tuple:
    """Shape per draw of a graph output, from the graph at the model's initial point.

    No random draw is made and no output is computed: only the shape graph runs. An
    expression whose parts do not broadcast fails here, with the expectation named.
    """
    if all(s is not None for s in graph.type.shape):
        return tuple(int(s) for s in graph.type.shape)
    [value_graph] = work.replace_rvs_by_values([graph])
    point = work.initial_point()
    inputs = [v for v in work.value_vars if v in set(graph_inputs([value_graph]))]
    try:
        fn = pytensor.function(inputs, value_graph.shape, on_unused_input="ignore", mode="FAST_COMPILE")
        return tuple(int(s) for s in fn(*[point[v.name] for v in inputs]))
    except Exception as err:  # noqa: BLE001 - re-raised with the expectation's name
        raise ValueError(f"expectation {name!r} cannot be computed: {type(err).__name__}: {err}") from err


class OutputLayout:
    """Shapes per draw and flat labels of the outputs; callables' shapes fixed by their first batch.

    Every distinct callable runs once per point, as one job named after the first
    output that needs it, however many outputs (the callable itself, events stated on
    its response) use its response.
    """

    def __init__(self, outputs: list[Output], work: pm.Model):
        self.outputs = outputs
        self.shapes: dict = {
            o.name: (graph_shape(work, o.name, o.graph) if o.graph is not None else None) for o in outputs
        }
        jobs: dict = {}
        names: set = set()
        for o in sorted(outputs, key=lambda o: o.event is not None):  # named after a plain callable if any
            for k, fn in enumerate(o.functions):
                if id(fn) not in jobs:
                    # one name per callable: the checkpoint's chunks and a distributed run's
                    # pickled functions are keyed by it (an event on three callables has three)
                    name, j = o.name, k + 1
                    while name in names:
                        name, j = f"{o.name} (callable {j})", j + 1
                    jobs[id(fn)] = Job(name, fn)
                    names.add(name)
        self.jobs = list(jobs.values())
        self._compared: dict[str, list[str]] = {}  # job name -> the events comparing its response
        for o in outputs:
            for fn in o.event.functions if o.event is not None and o.region_of is None else ():
                self._compared.setdefault(jobs[id(fn)].name, []).append(o.name)
        self._zero_one: dict[str, np.ndarray | None] = {name: np.zeros(2, dtype=bool) for name in self._compared}
        self._response_shapes: dict = {job.name: None for job in self.jobs}
        self._responses: dict = {}
        self._failed = np.zeros(0, dtype=bool)

    @property
    def known(self) -> bool:
        """Whether every output's shape is known."""
        return all(shape is not None for shape in self.shapes.values())

    @property
    def labels(self) -> list[str] | None:
        """One label per flat column of the user's outputs, or None until every shape is known."""
        if not self.known:
            return None
        return [lab for o in self.outputs if o.region_of is None for lab in labels(o.name, self.shapes[o.name])]

    @property
    def all_labels(self) -> list[str] | None:
        """One label per flat column the sampler sees: the user's outputs, then the hidden regions."""
        if not self.known:
            return None
        return [lab for o in self.outputs for lab in labels(o.name, self.shapes[o.name])]

    def weighted_as(self, n_columns: int) -> np.ndarray:
        """Per column the sampler sees, the column whose criterion weight it takes: a region its event's.

        A region column of an event with shape ``s`` and ``R`` regions is laid out as
        ``(*s, R)``: its event's column is its own flat index divided by ``R``.
        """
        start, starts = 0, {}
        index: list[int] = []
        for o in self.outputs:
            size = int(np.prod(self.shapes[o.name], dtype=int))
            starts[o.name] = start
            event = o.region_of or o.weighted_like
            if event is None:
                index.extend(range(start, start + size))
            else:
                regions = self.shapes[o.name][-1]
                index.extend(starts[event] + np.arange(size) // regions)
            start += size
        if start != n_columns:
            raise ValueError(f"the outputs have {start} columns, the sampler saw {n_columns}")
        return np.asarray(index, dtype=np.int64)

    @property
    def has_regions(self) -> bool:
        """Whether some output is the regions of an event, hidden or reported: then its weight is the event's."""
        return any(o.region_of is not None or o.weighted_like is not None for o in self.outputs)

    def columns(self, named: dict, graph_values, n: int, dispatcher: Dispatcher) -> tuple[np.ndarray, np.ndarray]:
        """The (n, M) outputs at a batch and its failed points (n,).

        Graph values come in order; every callable runs on ``named`` through the
        ``dispatcher`` (chunks, executor, failure policy), all callables' chunks at once.
        Events on callables are read off their responses, which are kept for
        :meth:`score_columns`.
        """
        jobs = self.jobs
        called, failed = dispatcher.run(jobs, named, n, self._check) if jobs else ([], np.zeros(n, dtype=bool))
        self._responses = {id(job.function): value for job, value in zip(jobs, called)}
        self._failed = failed
        for job, value in zip(jobs, called):
            if self._zero_one.get(job.name) is not None:
                self._note_zero_one(job.name, value[~failed])  # failed rows hold 0 as a placeholder
        columns = []
        for o in self.outputs:
            if o.graph is not None:
                value = np.asarray(next(graph_values))
            elif o.event is not None:
                value = self._event_values(o, "indicator", n)
            else:
                value = self._responses[id(o.function)]
                self.shapes[o.name] = value.shape[1:]
            if value.shape[:1] != (n,):
                value = np.broadcast_to(value, (n, *self.shapes[o.name]))
            columns.append(np.reshape(value, (n, -1)))
        return np.concatenate(columns, axis=1), failed

    def _event_values(self, o: Output, what: str, n: int) -> np.ndarray:
        """An event's indicator or score at the batch, from the responses; its first batch fixes its shape."""
        try:
            value = np.asarray(getattr(o.event, what)(self._responses), dtype=np.float64)
        except ValueError as err:
            raise EvaluationError(f"event {o.name!r}: {err}") from err
        if value.ndim == 0 or value.shape[0] != n:
            raise EvaluationError(f"event {o.name!r} gives shape {value.shape} for a batch of {n} points")
        if self.shapes[o.name] is None:
            self.shapes[o.name] = value.shape[1:]
        elif value.shape[1:] != self.shapes[o.name]:
            raise EvaluationError(
                f"event {o.name!r} has shape {value.shape[1:]} per point, expected {self.shapes[o.name]}"
            )
        return value

    def _check(self, name: str, value, rows: tuple[int, int]) -> np.ndarray:
        """A callable's values at a chunk of rows, checked; its first chunk fixes its shape.

        A response that an event compares with a threshold must be a number: booleans
        (the event itself, given where its response was asked for) would be compared
        as 0 and 1, and ``g <= 0`` would read "fails" wherever the user's event is False.
        """
        if name in self._compared and np.asarray(value).dtype == np.bool_:
            events = ", ".join(repr(e) for e in self._compared[name])
            raise EvaluationError(
                f"the callable of {name!r} returned booleans, but {events} compare(s) its response with a "
                "threshold: return the quantity itself (for pa.exceedance the simulated output, for "
                "pa.failure_probability the limit state g, failing where g <= 0, e.g. lambda v: t - simulator(v)); "
                "an indicator given as booleans is an expectation of pa.estimate"
            )
        value = checked(name, value, rows[1] - rows[0], self._response_shapes[name])
        self._response_shapes[name] = value.shape[1:]
        return value

    def _note_zero_one(self, name: str, value: np.ndarray) -> None:
        """Which of 0 and 1 a compared response took so far; None once it took any other value."""
        finite = value[np.isfinite(value)]
        zero, one = finite == 0.0, finite == 1.0
        if not np.all(zero | one):
            self._zero_one[name] = None
            return
        seen = self._zero_one[name]
        assert seen is not None
        seen |= (bool(zero.any()), bool(one.any()))

    @property
    def indicator_responses(self) -> list[tuple[str, list[str]]]:
        """Callables whose compared response took the values 0 and 1 only, both of them: (label, its events).

        Such a response is likely an indicator given as numbers where the quantity was
        asked for (``(simulator(v) > t).astype(float)``): compared as a limit state it
        reads "fails" wherever it is 0, and a climb sees no distance to the event. The
        caller warns (:func:`~pymc_ais.results.reliability.warn_indicator_responses`).
        """
        found = []
        for job in self.jobs:
            seen = self._zero_one.get(job.name)
            if seen is not None and bool(seen.all()):
                function = getattr(job.function, "__name__", "<lambda>")
                label = f"the callable of {job.name!r}"
                found.append((label if function == "<lambda>" else f"{label} ({function!r})", self._compared[job.name]))
        return found

    @property
    def has_scores(self) -> bool:
        """Whether some output is an event with a score."""
        return any(o.score is not None or o.event is not None for o in self.outputs)

    def score_columns(self, score_values, n: int, inside: np.ndarray | None = None) -> np.ndarray:
        """The (n, M) event scores at a batch, in the outputs' column layout (NaN: no score).

        The scores of events on callables come from the responses of the last
        :meth:`columns` call; at its failed points (dropped by ``on_error="drop"``) they
        are NaN: such a point says nothing of how close the model came to the event.
        An expression's event of one comparison whose score is NaN at a point of
        ``inside`` (where some law's density is positive) raises: a comparison with NaN
        reads False, so the event would silently count that point as outside it.
        """
        columns = []
        for o in self.outputs:
            shape = self.shapes[o.name]
            if o.event is not None:
                value = self._event_values(o, "score", n).copy()
                value[self._failed] = np.nan
            elif o.score is None:
                columns.append(np.full((n, int(np.prod(shape, dtype=int))), np.nan))
                continue
            else:
                value = np.broadcast_to(np.asarray(next(score_values), dtype=np.float64), (n, *shape))
                if o.graph is not None and single_comparison(o.graph):
                    _refuse_nan_score(o.name, np.reshape(value, (n, -1)), inside)
            columns.append(np.reshape(value, (n, -1)))
        return np.concatenate(columns, axis=1)

    def split(self, phi: np.ndarray) -> dict:
        """Flat columns (n, M) of the user's outputs back to one array (n, *shape) per output."""
        out, start = {}, 0
        for o in self.outputs:
            if o.region_of is not None:
                continue
            shape = self.shapes[o.name]
            size = int(np.prod(shape, dtype=int))
            out[o.name] = phi[:, start : start + size].reshape((phi.shape[0], *shape))
            start += size
        return out


def _refuse_nan_score(name: str, score: np.ndarray, inside: np.ndarray | None) -> None:
    """Raise if an expression's event has a NaN score (a NaN side of its comparison) at some point."""
    bad = np.isnan(score).any(axis=1)
    if inside is not None:
        bad &= inside
    if bad.any():
        raise EvaluationError(
            f"event {name!r}: the quantity it compares is NaN at {int(bad.sum())} of {bad.size} point(s), "
            "where the comparison reads False, so those points would silently count as outside the event. "
            "Make the expression finite there (pt.switch), or state the event on a callable with "
            "on_error='drop' to count failed model runs apart"
        )


def checked(name: str, value, n: int, shape: tuple | None) -> np.ndarray:
    """A black-box output's values at ``n`` points, checked: real numbers of shape (n, *shape).

    Non-finite values are left in: they are failures of those points, handled by the
    run's ``on_error`` policy (see :mod:`pymc_ais.core.execution.dispatch`).
    """
    value = np.asarray(value)
    if np.iscomplexobj(value):
        raise EvaluationError(
            f"callable of expectation {name!r} returned complex values; expectations need real "
            "outputs (return value.real, or abs(value), as you mean)"
        )
    try:
        value = value.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise EvaluationError(f"callable of expectation {name!r} returned {value.dtype} values, not numbers") from err
    if value.ndim == 0 or value.shape[0] != n:
        raise EvaluationError(
            f"callable of expectation {name!r} returned shape {value.shape} for a batch of {n} "
            f"points; it must return an array with leading axis {n} (one value per point)"
        )
    if shape is not None and value.shape[1:] != shape:
        raise EvaluationError(
            f"callable of expectation {name!r} returned shape {value.shape[1:]} per point, expected {shape}"
        )
    return value

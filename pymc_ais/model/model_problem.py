"""Turn input laws and the user's outputs into the core's plain problem object.

:func:`build` checks and compiles (once per laws, outputs and compile options: a
cache), and returns a :class:`ModelProblem`: the core :class:`~pymc_ais.core.Problem`
plus what the results need to name and shape things (labels, natural values, laws).
Building draws no random number and evaluates nothing, so a cached and a fresh build
give the same run for the same seed.
"""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.traversal import ancestors

from ..core.execution.dispatch import Dispatcher
from ..core.problem import Problem
from ..laws.lawset import LawSet
from .evaluation import compile_at_points, compile_evaluator, compile_natural
from .event_regions import region_outputs, union_parts
from .outputs import OutputLayout, as_mapping, parse

EVIDENCE = "evidence"  # label of the constant output whose integral is a posterior's evidence

PARTS_CHUNK = 65_536  # final draws per call when a union's parts are read at them (bounded temporaries)

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 16


@dataclass
class ModelProblem:
    """Compiled laws and outputs; ``problem`` is what the core runs on."""

    problem: Problem
    laws: LawSet
    layout: OutputLayout
    _evaluator: Callable[..., Any]
    _compile_kwargs: dict | None = None
    _natural: object = None
    _parts: tuple | None = None

    @property
    def labels(self) -> list[str] | None:
        """One label per flat output column (None until a callable's first batch)."""
        return self.layout.labels

    @property
    def core_labels(self) -> list[str] | None:
        """Labels of the columns the core sees: the outputs, the hidden regions of events, a posterior's evidence."""
        labels = self.layout.all_labels
        if labels is None or not self.laws.posterior:
            return labels
        return [*labels, EVIDENCE]

    @property
    def n_region_columns(self) -> int:
        """Number of hidden region columns the core sees after the user's outputs (0 without them)."""
        core, labels = self.layout.all_labels, self.layout.labels
        return 0 if core is None or labels is None else len(core) - len(labels)

    def _run(self, z: np.ndarray):
        logp, *rest = self._evaluator(np.ascontiguousarray(z, dtype=np.float64))
        n_free = len(self.laws.work.free_RVs)
        named = {rv.name: v for rv, v in zip(self.laws.work.free_RVs, rest[:n_free])}
        return logp, named, iter(rest[n_free:])

    def natural(self, z: np.ndarray) -> dict:
        """Natural (constrained) values of every free variable at flat points ``z``.

        A function of the value transforms alone, compiled on first use: no
        log-density or output is recomputed.
        """
        if self._natural is None:
            self._natural = compile_natural(self.laws.work, self.laws.blocks, self._compile_kwargs)
        values = self._natural(np.ascontiguousarray(z, dtype=np.float64))  # type: ignore[operator]
        return {rv.name: v for rv, v in zip(self.laws.work.free_RVs, values)}

    def union_parts(self, z: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """The parts of the user's unions of single comparisons at points ``z``, compiled on first use.

        One ``(first column, indicators (n, elements, parts))`` per such event: an
        expression with no hidden targets whose parts are left to its own fit.
        """
        if self._parts is None:
            found, start = [], 0
            for o in self.layout.outputs:
                if o.region_of is not None:
                    continue
                parts = union_parts(o.graph) if o.score is not None and o.graph is not None else None
                if parts is not None:
                    found.append((start, parts))
                start += int(np.prod(self.layout.shapes[o.name], dtype=int))
            fn = (
                compile_at_points(
                    self.laws.work, self.laws.blocks, [pt.cast(g, "float64") for _, g in found], self._compile_kwargs
                )
                if found
                else None
            )
            self._parts = ([s for s, _ in found], fn)
        starts, fn = self._parts
        if fn is None:
            return []
        z = np.ascontiguousarray(z, dtype=np.float64)
        chunks = [fn(z[i : i + PARTS_CHUNK]) for i in range(0, max(z.shape[0], 1), PARTS_CHUNK)]
        values = [np.concatenate(parts) for parts in zip(*chunks)]
        return [(s, v.reshape(v.shape[0], -1, v.shape[-1])) for s, v in zip(starts, values)]

    def evaluate(self, z: np.ndarray, dispatcher: Dispatcher | None = None) -> tuple:
        """Every law's log-density (n, L) and every output (n, M) at flat points ``z``.

        With indicator outputs, also their event scores (n, M) (NaN for other outputs).
        With posteriors the log-densities are the unnormalised joints and a last column
        of ones is added to the outputs: its integral is the evidence. Black-box
        callables run through ``dispatcher`` (by default here, one call per batch);
        at points it marks failed (``on_error="drop"``) every output, the evidence's
        included, is 0, so they add nothing to any estimate, and the dispatcher keeps
        them in ``dropped_points``.
        """
        dispatcher = dispatcher if dispatcher is not None else Dispatcher()
        logp, named, graph_values = self._run(z)
        phi, failed = self.layout.columns(named, graph_values, z.shape[0], dispatcher)
        if self.laws.posterior:
            phi = np.hstack([phi, np.ones((z.shape[0], 1))])
        if failed.any():
            dispatcher.dropped_points.append(np.array(z[failed]))
            phi = np.where(failed[:, None], 0.0, phi)
        if not self.layout.has_scores:
            return logp, phi
        inside = np.isfinite(logp).any(axis=1) if np.ndim(logp) == 2 else np.isfinite(logp)
        scores = self.layout.score_columns(graph_values, z.shape[0], inside)
        if self.laws.posterior:
            scores = np.hstack([scores, np.full((z.shape[0], 1), np.nan)])
        return logp, phi, scores


def _cache_key(model, models, spec, compile_kwargs):
    ids = tuple((name, phi if isinstance(phi, str) else id(phi)) for name, phi in spec.items())
    if models is None or not hasattr(models, "items"):
        law_ids = (id(models),)
    else:
        law_ids = tuple((name, id(m)) for name, m in models.items())
    return (id(model), ids, repr(sorted((compile_kwargs or {}).items())), law_ids)


def _refuse_outputs_on_grid_data(outputs: list, table: Mapping, free: list) -> None:
    """Raise if an output's expression reads a ``pm.Data`` container that the grid varies.

    The outputs are evaluated once per draw and shared by every law; such an output
    would keep the container's current value under every law, silently.
    """
    for o in outputs:
        graphs = [g for g in (o.graph, o.score) if g is not None]
        found = ancestors(graphs, blockers=free)  # a free variable is a point's value, not its parameters
        read = {str(v.name) for v in found if isinstance(v, SharedVariable) and v.name in table}
        if read:
            raise ValueError(
                f"output {o.name!r} reads the pm.Data container(s) {', '.join(map(repr, sorted(read)))} that "
                "the grid varies: outputs are the same function under every law, so it would keep the "
                "container's current value under each. Write the output without the container: one output "
                "per value (several thresholds of pa.exceedance, a vector of limit states)"
            )


def _weighted_like(outputs: list, stated: Mapping[str, str]) -> list:
    """``outputs`` with each one named in ``stated`` weighted as the earlier event it maps to."""
    names = [o.name for o in outputs]
    for name, event in stated.items():
        if name not in names or event not in names or names.index(event) >= names.index(name):
            raise ValueError(f"{name!r} can be weighted as {event!r} only if both are outputs, {event!r} first")
    return [dataclasses.replace(o, weighted_like=stated.get(o.name)) for o in outputs]


def build(
    expectations,
    model: pm.Model | None,
    models=None,
    compile_kwargs: dict | None = None,
    regions: bool | Mapping[str, str] = True,
) -> ModelProblem:
    """Check the laws and outputs, compile their function (cached) and return the problem.

    ``model`` is the model the expressions are written in (default: the first law, or
    the context model); ``models`` alternative input laws (a mapping or a grid). With
    ``regions``, an event with several regions (a union, "at least k of n") gets a
    hidden output of their indicators, one target each, so that the draws reach every
    region (see :mod:`pymc_ais.model.event_regions`); not on posteriors, whose outputs
    are seldom rare events. ``regions`` may instead map the names of outputs that are
    themselves the regions of an earlier event (a system's cut sets) to that event: they
    are reported, and weighted in the criterion as their event, whose regions they keep
    in the sample (a share of the mixture each, as hidden regions get); no hidden output
    is added, and on a posterior they are expectations of their own.
    """
    spec = as_mapping(expectations)
    model = LawSet.user_model(model, models)
    stated = regions if isinstance(regions, Mapping) else {}
    key = (*_cache_key(model, models, spec, compile_kwargs), tuple(sorted(stated.items())) or bool(regions))
    cached = _CACHE.get(key)
    if (
        cached is not None
        and cached[0] is model
        and cached[1] is models
        and all(cached[2][k] is v for k, v in spec.items())
    ):
        _CACHE.move_to_end(key)
        cached[3].laws.sync_data()
        return cached[3]
    laws = LawSet.from_arguments(model, models)
    outputs = parse(spec, laws.model, laws.work)
    if laws.grid is not None:
        _refuse_outputs_on_grid_data(outputs, laws.grid.table, laws.work.free_RVs + laws.model.free_RVs)
    if stated and not laws.posterior:
        outputs = _weighted_like(outputs, stated)
    elif regions and not stated and not laws.posterior:
        outputs += region_outputs(outputs)
    layout = OutputLayout(outputs, laws.work)
    graphs = [o.graph for o in outputs if o.graph is not None] + [o.score for o in outputs if o.score is not None]
    shapes = [layout.shapes[o.name] for o in outputs if o.graph is not None]
    shapes += [layout.shapes[o.name] for o in outputs if o.score is not None]
    evaluator = compile_evaluator(laws.work, laws.blocks, laws.logp_graph(), graphs, compile_kwargs, shapes)
    result = ModelProblem(None, laws, layout, evaluator, compile_kwargs)  # type: ignore[arg-type]
    result.problem = Problem(
        dim=laws.dim,
        sample_initial=laws.sample,
        evaluate=result.evaluate,
        output_names=result.core_labels,
        law_names=laws.names,
        initial_quantile=laws.initial_quantile(),
        weighted_as=layout.weighted_as if layout.has_regions else None,
    )
    _CACHE[key] = (model, models, spec, result)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result

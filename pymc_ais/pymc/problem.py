"""Turn a PyMC input model and expectations into the core's plain problem object."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pymc as pm

from ..core.problem import EvaluationError, Problem
from .compiler import Block, compile_evaluator, compile_quantile_map, compile_sampler, flat_layout
from .expectations import Output, as_mapping, parse
from .model_checks import check_input_model, float64_clone

_CACHE: OrderedDict = OrderedDict()
_CACHE_SIZE = 16


@dataclass
class ModelProblem:
    """A compiled input model with its outputs; ``problem`` is what the core runs on."""

    problem: Problem
    blocks: list[Block]
    outputs: list[Output]
    output_shapes: dict  # name -> shape of one draw
    labels: list[str]  # one per flat output column
    dims: dict = field(default_factory=dict)  # free variable name -> dims names
    coords: dict = field(default_factory=dict)
    natural: callable = None  # z -> dict name -> natural values (n, *shape)


def _labels(name: str, shape: tuple) -> list[str]:
    if shape == ():
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in itertools.product(*map(range, shape))]


def _cache_key(model, outputs_spec, compile_kwargs):
    spec = tuple((name, phi if isinstance(phi, str) else id(phi)) for name, phi in outputs_spec.items())
    return (id(model), spec, repr(sorted((compile_kwargs or {}).items())))


def build(expectations, model: pm.Model, compile_kwargs: dict | None, rng: np.random.Generator) -> ModelProblem:
    """Check the model, compile its functions (cached) and return the problem object."""
    spec = as_mapping(expectations)
    key = _cache_key(model, spec, compile_kwargs)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is model and all(cached[1][k] is v for k, v in spec.items()):
        _CACHE.move_to_end(key)
        return cached[2]
    check_input_model(model)
    work = float64_clone(model)
    outputs = parse(spec, model, work)
    blocks = flat_layout(work)
    graphs = [o.graph for o in outputs if o.graph is not None]
    evaluator = compile_evaluator(work, blocks, graphs, compile_kwargs)
    sampler = compile_sampler(work, blocks)
    dim = blocks[-1].stop
    free_names = [b.name for b in blocks]

    n_free = len(work.free_RVs)

    def run_evaluator(z):
        logp, *rest = evaluator(np.ascontiguousarray(z, dtype=np.float64))
        named = {rv.name: v for rv, v in zip(work.free_RVs, rest[:n_free])}
        return logp, named, iter(rest[n_free:])

    def natural(z):
        return run_evaluator(z)[1]

    probe = sampler(rng, 2)
    _, named, graph_values = run_evaluator(probe)
    shapes = {
        o.name: tuple(np.shape(next(graph_values) if o.graph is not None else _call(o, named, 2, None)))[1:]
        for o in outputs
    }

    def evaluate(z: np.ndarray):
        n = z.shape[0]
        logp, named, graph_values = run_evaluator(z)
        columns = [
            np.reshape(next(graph_values) if o.graph is not None else _call(o, named, n, shapes[o.name]), (n, -1))
            for o in outputs
        ]
        return logp[:, None], np.concatenate(columns, axis=1)

    labels = [lab for o in outputs for lab in _labels(o.name, shapes[o.name])]
    result = ModelProblem(
        problem=Problem(
            dim=dim, sample_initial=sampler, evaluate=evaluate, output_names=labels,
            initial_quantile=compile_quantile_map(work, blocks),
        ),
        blocks=blocks,
        outputs=outputs,
        output_shapes=shapes,
        labels=labels,
        dims={name: model.named_vars_to_dims.get(name) for name in free_names},
        coords={k: v for k, v in model.coords.items()},
        natural=natural,
    )
    _CACHE[key] = (model, spec, result)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


def _call(out: Output, named: dict, n: int, shape: tuple | None) -> np.ndarray:
    """Call a black-box output on a batch and check what it returns (shape (n, *shape))."""
    try:
        value = np.asarray(out.function(dict(named)), dtype=np.float64)
    except EvaluationError:
        raise
    except Exception as err:  # noqa: BLE001 - re-raised with the expectation's name
        raise EvaluationError(f"callable of expectation {out.name!r} raised {type(err).__name__}: {err}") from err
    if value.ndim == 0 or value.shape[0] != n:
        raise EvaluationError(
            f"callable of expectation {out.name!r} returned shape {value.shape} for a batch of {n} "
            f"points; it must return an array with leading axis {n} (one value per point)"
        )
    if shape is not None and value.shape[1:] != shape:
        raise EvaluationError(
            f"callable of expectation {out.name!r} returned shape {value.shape[1:]} per point, "
            f"expected {shape}"
        )
    bad = ~np.isfinite(value)
    if bad.any():
        raise EvaluationError(
            f"callable of expectation {out.name!r} returned NaN or inf at "
            f"{int(bad.reshape(n, -1).any(axis=1).sum())} of {n} point(s)"
        )
    return value

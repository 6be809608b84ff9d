"""Turn a PyMC input model and expectations into the core's plain problem object."""

from __future__ import annotations

import itertools
from collections import OrderedDict
from dataclasses import dataclass, field

import numpy as np
import pymc as pm

from ..core.problem import EvaluationError, Problem
from .compiler import (
    Block,
    compile_evaluator,
    compile_quantile_map,
    compile_sampler,
    flat_layout,
)
from .expectations import Output, as_mapping, parse
from .grid import LawGrid, grid_logp, grid_sampler
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
    law_coords: dict = field(default_factory=dict)  # law parameter name -> values (J,)
    sync_data: callable = None  # copy the user's pm.Data values into the compiled clone
    law_quantiles: callable = None  # () -> ``(l, u) -> z`` for law l, or None (compiled on first use)


def _labels(name: str, shape: tuple) -> list[str]:
    if shape == ():
        return [name]
    return [f"{name}[{','.join(map(str, idx))}]" for idx in itertools.product(*map(range, shape))]


def _cache_key(model, outputs_spec, compile_kwargs, laws):
    spec = tuple((name, phi if isinstance(phi, str) else id(phi)) for name, phi in outputs_spec.items())
    law_ids = (id(laws),) if isinstance(laws, LawGrid) else tuple((name, id(m)) for name, m in (laws or {}).items())
    return (id(model), spec, repr(sorted((compile_kwargs or {}).items())), law_ids)


def check_same_inputs(reference: pm.Model, other: pm.Model, law: str) -> None:
    """Raise a ValueError naming the first free variable that differs between two laws."""
    ref_point, other_point = reference.initial_point(), other.initial_point()
    ref_vars = {rv.name: reference.rvs_to_values[rv].name for rv in reference.free_RVs}
    other_vars = {rv.name: other.rvs_to_values[rv].name for rv in other.free_RVs}
    for name in sorted(set(ref_vars) | set(other_vars)):
        if name not in other_vars:
            raise ValueError(f"input law {law!r} has no free variable {name!r}; every law needs the same free variables")
        if name not in ref_vars:
            raise ValueError(f"input law {law!r} has the extra free variable {name!r}; every law needs the same free variables")
        if ref_vars[name] != other_vars[name]:
            raise ValueError(
                f"free variable {name!r} has value variable {other_vars[name]!r} in law {law!r} but "
                f"{ref_vars[name]!r} in the first law: the supports (value transforms) differ"
            )
        a, b = np.shape(ref_point[ref_vars[name]]), np.shape(other_point[other_vars[name]])
        if a != b:
            raise ValueError(f"free variable {name!r} has shape {b} in law {law!r} but {a} in the first law")


def _mixture_sampler(samplers: list):
    """Sampler of the equal mixture of several laws."""
    if len(samplers) == 1:
        return samplers[0]

    def sample(rng: np.random.Generator, n: int) -> np.ndarray:
        counts = rng.multinomial(n, np.full(len(samplers), 1.0 / len(samplers)))
        parts = [s(rng, int(c)) for s, c in zip(samplers, counts) if c]
        return np.concatenate(parts, axis=0)[rng.permutation(n)]

    return sample


def build(
    expectations,
    model: pm.Model,
    compile_kwargs: dict | None,
    rng: np.random.Generator,
    laws: dict | None = None,
) -> ModelProblem:
    """Check the model(s), compile the functions (cached) and return the problem object.

    ``laws`` maps names to models over the same free variables (alternative input laws);
    expressions are written in ``model``'s variables (or given by name).
    """
    spec = as_mapping(expectations)
    key = _cache_key(model, spec, compile_kwargs, laws)
    cached = _CACHE.get(key)
    if cached is not None and cached[0] is model and all(cached[1][k] is v for k, v in spec.items()):
        _CACHE.move_to_end(key)
        cached[2].sync_data()
        return cached[2]
    check_input_model(model)
    work = float64_clone(model)

    def sync_data():
        """The compiled clone has its own data containers: give them the user's values."""
        clones = {v.name: v for v in work.data_vars}
        for v in model.data_vars:
            if v.name in clones:
                clones[v.name].set_value(v.get_value())

    outputs = parse(spec, model, work)
    blocks = flat_layout(work)
    law_names = ["f"]
    law_models = [work]
    law_coords = {}
    if isinstance(laws, LawGrid):
        if laws.model is not model:
            raise ValueError("the grid's model must be the model the expectations are written in")
        law_names = list(laws.names)
        law_coords = {k: v for k, v in laws.table.items() if v.ndim == 1}
    elif laws:
        law_names, law_models = [], []
        for name, law in laws.items():
            if not isinstance(law, pm.Model):
                raise TypeError(f"input law {name!r} must be a pm.Model, got {type(law).__name__}")
            check_input_model(law)
            check_same_inputs(model, law, name)
            law_names.append(str(name))
            law_models.append(work if law is model else float64_clone(law))
    graphs = [o.graph for o in outputs if o.graph is not None]
    if isinstance(laws, LawGrid):
        evaluator = compile_evaluator(work, blocks, graphs, compile_kwargs, logp=grid_logp(work, laws))
        sampler = grid_sampler(work, laws, compile_sampler(work, blocks))
    else:
        evaluator = compile_evaluator(work, blocks, graphs, compile_kwargs, law_models)
        sampler = _mixture_sampler([compile_sampler(law, blocks) for law in law_models])
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
        return logp, np.concatenate(columns, axis=1)

    labels = [lab for o in outputs for lab in _labels(o.name, shapes[o.name])]
    initial_quantile = compile_quantile_map(work, blocks) if len(law_names) == 1 else None
    result = ModelProblem(
        problem=Problem(
            dim=dim, sample_initial=sampler, evaluate=evaluate, output_names=labels, law_names=law_names,
            initial_quantile=initial_quantile,
        ),
        blocks=blocks,
        outputs=outputs,
        output_shapes=shapes,
        labels=labels,
        dims={name: model.named_vars_to_dims.get(name) for name in free_names},
        coords={k: v for k, v in model.coords.items()},
        natural=natural,
        law_coords=law_coords,
        sync_data=sync_data,
        law_quantiles=_law_quantiles(work, blocks, laws, law_models, initial_quantile),
    )
    _CACHE[key] = (model, spec, result, laws)
    if len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return result


def _law_quantiles(work, blocks, laws, law_models, initial_quantile):
    """A lazily compiled ``(l, u) -> z``: uniforms to input law l, or None if a law has no map.

    One law: its quantile map. A grid: one map of the model, its data swapped per law.
    Several models: one map each.
    """
    compiled = {}

    def get():
        if "map" in compiled:
            return compiled["map"]
        if len(law_models) == 1 and not isinstance(laws, LawGrid):
            maps = None if initial_quantile is None else (lambda law, u: initial_quantile(u))
        elif isinstance(laws, LawGrid):
            one = compile_quantile_map(work, blocks)
            containers = {v.name: v for v in work.data_vars}

            def maps(law, u):
                saved = {k: containers[k].get_value() for k in laws.table}
                try:
                    for k, v in laws.row(law).items():
                        containers[k].set_value(np.asarray(v, dtype=containers[k].dtype))
                    return one(u)
                finally:
                    for k, v in saved.items():
                        containers[k].set_value(v)

            maps = None if one is None else maps
        else:
            each = [compile_quantile_map(law, blocks) for law in law_models]
            maps = None if any(q is None for q in each) else (lambda law, u: each[law](u))
        compiled["map"] = maps
        return maps

    return get


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

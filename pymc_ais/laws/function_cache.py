"""Compiled PyTensor functions, reused when a graph asks for the same computation again.

Building the same model a second time (a notebook cell run again, a loop over seeds or
budgets) gives new graph objects of an unchanged computation, which PyTensor would
rewrite and link anew: about a second per call for a three-input model, most of a
Sobol' run of 5e4 model runs. A compiled function is reused here when the new outputs
are the same computation of the same inputs, by PyTensor's own test
(``equal_computations``): operations and constants compared by value, shared
variables (``pm.Data`` containers, random generators) by identity, so that a function
never reads another model's data. The compile options are part of the key; global
PyTensor flags changed between two calls are not (:func:`clear` forgets every function).
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
import pytensor
from pytensor.graph.basic import Constant, equal_computations
from pytensor.graph.traversal import graph_inputs, io_toposort
from pytensor.tensor.random.type import RandomGeneratorType

CACHE_SIZE = 64  # functions kept, least recently used dropped first

_CACHE: OrderedDict[tuple, tuple[list, list, object]] = OrderedDict()


def clear() -> None:
    """Forget every compiled function (after changing global PyTensor flags, say)."""
    _CACHE.clear()


def _is_generator(variable) -> bool:
    return isinstance(variable.type, RandomGeneratorType)


def _root_key(variable, inputs: list, generators_free: bool = False) -> tuple:
    """What identifies a graph's root: its place among the inputs, a constant's value, or its identity."""
    for i, x in enumerate(inputs):
        if variable is x:
            return ("input", i)
    if generators_free and _is_generator(variable):
        return ("generator",)
    if isinstance(variable, Constant):
        data = np.asarray(variable.data)
        if data.dtype == object:
            return ("object", id(variable))
        return ("constant", str(variable.type), data.shape, data.tobytes())
    return ("root", id(variable))


def _op_key(op) -> tuple:
    try:
        return (type(op).__qualname__, hash(op))
    except TypeError:
        return (type(op).__qualname__, id(op))


def fingerprint(inputs: list, outputs: list, generators_free: bool = False) -> int:
    """A hash of the computation: equal computations of the same inputs hash the same."""
    position: dict = {}
    parts = []
    for k, node in enumerate(io_toposort(inputs, outputs)):
        refs = []
        for x in node.inputs:
            if x.owner is not None and x.owner in position:
                refs.append(("node", position[x.owner], x.owner.outputs.index(x)))
            else:
                refs.append(_root_key(x, inputs, generators_free))
        position[node] = k
        parts.append((_op_key(node.op), tuple(refs)))
    ends = tuple(
        ("node", position[o.owner], o.owner.outputs.index(o))
        if o.owner in position
        else _root_key(o, inputs, generators_free)
        for o in outputs
    )
    return hash((tuple(parts), ends, tuple(str(x.type) for x in inputs)))


def options_key(*parts) -> str | None:
    """A faithful name for compile options built from plain values, or None (then no reuse)."""
    plain = (str, int, float, bool, type(None))

    def ok(value) -> bool:
        if isinstance(value, dict):
            return all(isinstance(k, str) and ok(v) for k, v in value.items())
        if isinstance(value, (list, tuple)):
            return all(ok(v) for v in value)
        return isinstance(value, plain)

    if not all(ok(p) for p in parts):
        return None
    return repr([sorted(p.items()) if isinstance(p, dict) else p for p in parts])


def cached_function(inputs: list, outputs, options: str | None, generators_free: bool = False, compiler=None, **kwargs):
    """``pytensor.function(inputs, outputs, **kwargs)``, or the one compiled for an equal graph.

    ``options`` names the compile options in ``kwargs`` (see :func:`options_key`);
    None compiles afresh and keeps nothing. ``generators_free``: the caller reseeds
    every random generator of the function before each call, so generators in the
    same places of two graphs count as the same. ``compiler`` replaces
    ``pytensor.function`` (PyMC's ``compile``, say).
    """
    compiler = compiler or pytensor.function
    if options is None:
        return compiler(inputs, outputs, **kwargs)
    listed = list(outputs) if isinstance(outputs, (list, tuple)) else [outputs]
    key = (fingerprint(inputs, listed, generators_free), isinstance(outputs, (list, tuple)), options)
    hit = _CACHE.get(key)
    if hit is not None:
        old_inputs, old_outputs, fn = hit
        new_roots, old_roots = list(inputs), list(old_inputs)
        if generators_free:
            new_roots += [x for x in graph_inputs(listed) if _is_generator(x)]
            old_roots += [x for x in graph_inputs(old_outputs) if _is_generator(x)]
        same = (
            len(old_outputs) == len(listed)
            and len(new_roots) == len(old_roots)
            and equal_computations(listed, old_outputs, in_xs=new_roots, in_ys=old_roots)
        )
        if same:
            _CACHE.move_to_end(key)
            return fn
    fn = compiler(inputs, outputs, **kwargs)
    _CACHE[key] = (list(inputs), listed, fn)
    if len(_CACHE) > CACHE_SIZE:
        _CACHE.popitem(last=False)
    return fn

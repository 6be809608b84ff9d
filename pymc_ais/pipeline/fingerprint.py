"""Fingerprints of everything that determines a run's evaluations, for checkpoints.

A checkpoint must never serve an evaluation made by another computation. Its manifest
records one digest per part of the call (each expectation, the model or models, each
setting, the library version), and a reopened checkpoint compares them part by part,
so that a mismatch names what changed.

The digests are stable across processes (a re-run script must match its own
checkpoint) and follow what a computation depends on:

- a callable by its code (bytecode, constants, names, recursively for nested code),
  its defaults, its closure and the globals its code names (their values, and the code
  of the functions they are), not by its identity;
- a PyTensor graph by its structure (PyTensor's ``debugprint`` with types and stable
  identifiers) and the values of its constants and shared variables (``pm.Data``);
  random generators by type only, since every run reseeds them;
- a PyMC model by the graphs of its free and observed variables, its potentials and
  deterministics, their value transforms and its data;
- numpy arrays by dtype, shape and bytes; plain values by their ``repr``; anything
  else by its attributes, or its cloudpickle as a last resort.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import types
from collections.abc import Mapping

import cloudpickle
import numpy as np
import pymc as pm
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.traversal import graph_inputs
from pytensor.printing import debugprint
from pytensor.tensor.random.type import RandomGeneratorType

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")
_MAX_DEPTH = 12


def digest(value) -> str:
    """A stable hex digest of ``value`` (see the module docstring for what it follows)."""
    h = hashlib.sha256()
    _feed(h, value, set(), 0)
    return h.hexdigest()


def call_fingerprint(arguments: Mapping, version: str) -> dict[str, str]:
    """One digest per part of a call: each expectation of a mapping, each other argument, the version."""
    parts: dict[str, str] = {"pymc_ais version": version}
    for name, value in arguments.items():
        if name == "random_seed":
            continue  # checked on its own, with its own message
        if name == "expectations" and isinstance(value, Mapping):
            for key, phi in value.items():
                parts[f"expectation {key!r}"] = digest(phi)
        else:
            parts[name] = digest(value)
    return parts


def differences(stored: Mapping[str, str], current: Mapping[str, str]) -> list[str]:
    """The parts whose digests differ, or that only one of the two fingerprints has."""
    return sorted(k for k in set(stored) | set(current) if stored.get(k) != current.get(k))


def _feed(h, value, seen: set, depth: int) -> None:
    if depth > _MAX_DEPTH:
        h.update(b"<deep>")
        return
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        h.update(f"{type(value).__name__}:{value!r};".encode())
        return
    if isinstance(value, np.ndarray):
        h.update(f"array:{value.dtype.str}:{value.shape};".encode())
        h.update(np.ascontiguousarray(value).tobytes() if value.dtype != object else repr(value.tolist()).encode())
        return
    key = id(value)
    if key in seen:
        h.update(b"<cycle>")
        return
    seen = seen | {key}
    if isinstance(value, pm.Model):
        _feed_model(h, value, seen, depth)
    elif isinstance(value, Variable):
        _feed_graphs(h, [value])
    elif isinstance(value, Mapping):
        h.update(f"mapping:{len(value)};".encode())
        for k in value:
            _feed(h, k, seen, depth + 1)
            _feed(h, value[k], seen, depth + 1)
    elif isinstance(value, (list, tuple)):
        h.update(f"{type(value).__name__}:{len(value)};".encode())
        for item in value:
            _feed(h, item, seen, depth + 1)
    elif isinstance(value, (set, frozenset)):
        h.update(repr(sorted(map(repr, value))).encode())
    elif isinstance(value, types.ModuleType):
        h.update(f"module:{value.__name__};".encode())
    elif isinstance(value, type):
        h.update(f"class:{value.__module__}.{value.__qualname__};".encode())
        _feed_namespace(h, vars(value), seen, depth)
    elif callable(value):
        _feed_callable(h, value, seen, depth)
    elif hasattr(value, "__dict__") or hasattr(value, "__slots__"):
        h.update(f"object:{type(value).__module__}.{type(value).__qualname__};".encode())
        state = dict(vars(value)) if hasattr(value, "__dict__") else {}
        for slot in getattr(type(value), "__slots__", ()):
            if hasattr(value, slot):
                state[slot] = getattr(value, slot)
        _feed(h, dict(sorted(state.items())), seen, depth + 1)
    else:
        h.update(cloudpickle.dumps(value))


def _feed_callable(h, fn, seen: set, depth: int) -> None:
    if isinstance(fn, functools.partial):
        h.update(b"partial;")
        _feed(h, (fn.func, fn.args, dict(sorted(fn.keywords.items()))), seen, depth + 1)
    elif isinstance(fn, types.MethodType):
        h.update(b"method;")
        _feed(h, (fn.__func__, fn.__self__), seen, depth + 1)
    elif isinstance(fn, types.FunctionType):
        h.update(f"function:{fn.__qualname__};".encode())
        _feed_code(h, fn.__code__)
        _feed(h, (fn.__defaults__, fn.__kwdefaults__), seen, depth + 1)
        cells = tuple(_cell_value(c) for c in fn.__closure__ or ())
        _feed(h, cells, seen, depth + 1)
        names = sorted(_global_names(fn.__code__) & set(fn.__globals__))
        _feed(h, {name: fn.__globals__[name] for name in names}, seen, depth + 1)
    elif isinstance(fn, (types.BuiltinFunctionType, np.ufunc)):
        h.update(f"builtin:{getattr(fn, '__module__', '')}.{getattr(fn, '__qualname__', fn.__name__)};".encode())
    else:  # a callable instance: its class's code and its state
        h.update(f"instance:{type(fn).__module__}.{type(fn).__qualname__};".encode())
        call = getattr(type(fn), "__call__", None)
        if isinstance(call, types.FunctionType):
            _feed_code(h, call.__code__)
        state = vars(fn) if hasattr(fn, "__dict__") else {}
        _feed(h, dict(sorted(state.items())), seen, depth + 1)


def _cell_value(cell):
    try:
        return cell.cell_contents
    except ValueError:  # an empty cell
        return "<empty cell>"


def _feed_code(h, code: types.CodeType) -> None:
    h.update(code.co_code)
    h.update(repr((code.co_names, code.co_varnames, code.co_freevars, code.co_argcount)).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _feed_code(h, const)
        else:
            h.update(_ADDRESS.sub("", repr(const)).encode())


def _global_names(code: types.CodeType) -> set:
    names = set(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names |= _global_names(const)
    return names


def _feed_namespace(h, namespace: Mapping, seen: set, depth: int) -> None:
    for name in sorted(namespace):
        value = namespace[name]
        if isinstance(value, (types.FunctionType, staticmethod, classmethod, property)):
            function = getattr(value, "__func__", None) or getattr(value, "fget", None) or value
            if isinstance(function, types.FunctionType):
                h.update(name.encode())
                _feed_code(h, function.__code__)


def _feed_graphs(h, graphs: list) -> None:
    graphs = [g for g in graphs if g is not None]
    if not graphs:
        return
    text = io.StringIO()
    debugprint(graphs, file=text, print_type=True, id_type="CHAR")
    h.update(_ADDRESS.sub("", text.getvalue()).encode())
    for root in graph_inputs(graphs):
        if isinstance(root.type, RandomGeneratorType):
            h.update(b"rng;")
        elif isinstance(root, SharedVariable):
            h.update(f"shared:{root.name};".encode())
            h.update(np.ascontiguousarray(np.asarray(root.get_value(borrow=True))).tobytes())
        elif isinstance(root, Constant):
            data = np.asarray(root.data)
            if data.dtype != object:
                h.update(f"constant:{data.dtype.str}:{data.shape};".encode() + np.ascontiguousarray(data).tobytes())
        else:
            h.update(f"input:{root.name}:{root.type};".encode())


def _feed_model(h, model: pm.Model, seen: set, depth: int) -> None:
    h.update(b"model;")
    names = [v.name for v in (*model.free_RVs, *model.observed_RVs, *model.potentials, *model.deterministics)]
    h.update(repr(names).encode())
    transforms = [repr(type(model.rvs_to_transforms.get(rv)).__name__) for rv in model.free_RVs]
    h.update(repr(transforms).encode())
    _feed_graphs(h, [*model.free_RVs, *model.observed_RVs, *model.potentials, *model.deterministics])
    for rv in model.observed_RVs:
        _feed(h, model.rvs_to_values[rv], seen, depth + 1)
        value = model.rvs_to_values[rv]
        if isinstance(value, Constant):
            h.update(np.ascontiguousarray(np.asarray(value.data)).tobytes())
        elif isinstance(value, SharedVariable):
            h.update(np.ascontiguousarray(np.asarray(value.get_value(borrow=True))).tobytes())

"""One compiled function for a batch of points: every law's log-density and every graph output.

``z (n, d) -> [log f (n, L), *natural values, *outputs]``: ``z`` holds flat coordinates
in the unconstrained space of PyMC's value transforms (see
:mod:`pymc_ais.laws.compile`), ``log f`` every input law's log-density there (Jacobian
included), the natural (constrained) values feed black-box callables and the results,
and every graph output comes last. The value variables are replaced by batched slices
of ``z`` with ``vectorize_graph``, so one call evaluates a whole batch.
"""

from __future__ import annotations

import importlib.util
import inspect
from collections.abc import Mapping

import numpy as np
import pymc as pm
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import Mode
from pytensor.graph.replace import vectorize_graph

from ..laws.compile import Block, batched_values, checks_to_switches, density_mode, runnable_mode, strip_view_ops
from ..laws.function_cache import cached_function, options_key
from .rewrites import keep_solves_compiled

DEFAULT_MODE = "CVM"
"""Compile mode when the user gives none. PyTensor's default ("auto", numba where it can)
gave log-densities that differ by one ulp between a cold compile and a cached one, so a
seed's result depended on the compile cache; C code (with Python fallbacks) is bitwise
the same either way, and measured 2x faster on a batch of 1e5 points."""


COMPILE_MODES = ("CVM", "C", "NUMBA", "JAX", "PYTORCH", "MLX", "FAST_RUN", "FAST_COMPILE")
"""Compile modes a ``compile_kwargs`` may name: PyTensor's predefined modes (any case).

"C" runs as "CVM" (PyTensor's whole-graph C linker aborted the interpreter on a slice
of an intermediate result, see :func:`~pymc_ais.laws.compile.runnable_mode`), with
bitwise the same results. "FAST_RUN" is "NUMBA" under PyTensor's default linker.
"JAX", "PYTORCH" and "MLX" need their package installed. A ``pytensor.compile.mode.Mode``
instance is taken as it is (a whole-graph C linker in it runs as "CVM" too)."""

_BACKEND_PACKAGES = {"JAX": "jax", "PYTORCH": "torch", "MLX": "mlx"}
_SET_HERE = ("inputs", "outputs", "updates", "givens", "on_unused_input")  # the evaluator's own arguments


def check_compile_kwargs(compile_kwargs: object) -> dict:
    """The user's ``compile_kwargs`` checked: a dict of ``pytensor.function`` options.

    Returns a new dict whose mode, if any, is named in capitals ("C" as "CVM", which
    runs the same C code; see :data:`COMPILE_MODES`); a mode of None is dropped (the
    default, :data:`DEFAULT_MODE`). Raises ValueError for anything but a dict or
    None, an option ``pytensor.function`` does not take or that the evaluator sets
    itself, a mode name PyTensor does not predefine, or a backend whose package is
    not installed.

    >>> check_compile_kwargs({"mode": "numba"})
    {'mode': 'NUMBA'}
    >>> check_compile_kwargs({"mode": "C"})
    {'mode': 'CVM'}
    """
    modes = ", ".join(repr(m) for m in COMPILE_MODES)
    if compile_kwargs is None:
        return {}
    if not isinstance(compile_kwargs, Mapping):
        raise ValueError(
            f"compile_kwargs must be a dict of pytensor.function options such as {{'mode': 'NUMBA'}}, "
            f"got {type(compile_kwargs).__name__} {compile_kwargs!r}; compile modes: {modes}"
        )
    kwargs = dict(compile_kwargs)
    allowed = [name for name in inspect.signature(pytensor.function).parameters if name not in _SET_HERE]
    unknown = [k for k in kwargs if k not in allowed]
    if unknown:
        raise ValueError(f"compile_kwargs: unknown or reserved option {unknown[0]!r}; options: {', '.join(allowed)}")
    mode = kwargs.pop("mode", None)
    if mode is None:
        return kwargs
    if isinstance(mode, Mode):
        kwargs["mode"] = mode
        return kwargs
    name = mode.upper() if isinstance(mode, str) else None
    if name not in COMPILE_MODES:
        raise ValueError(
            f"compile_kwargs: unknown compile mode {mode!r}; modes: {modes}, or a pytensor.compile.mode.Mode"
        )
    package = _BACKEND_PACKAGES.get(name)
    if package is not None and importlib.util.find_spec(package) is None:
        raise ValueError(f"compile mode {name!r} needs the package {package!r}, which is not installed")
    kwargs["mode"] = "CVM" if name == "C" else name
    return kwargs


MANY_OUTPUTS = 48
"""Above this many graph outputs, they are compiled apart with PyTensor's Python linker.

The C backend looks every node up in its on-disk module cache (tenths of a second per
node), or fuses the elementwise outputs into one composite whose C code grows with
their number: 100 indicator outputs took 87 s to compile, 1000 would take many minutes.
The Python linker runs each node's numpy implementation: 1000 outputs compile in about
5 s and evaluate 2e4 points in 0.14 s. The log-densities keep the C backend."""


def compile_evaluator(
    model: pm.Model, blocks: list[Block], logp, outputs: list, compile_kwargs: dict | None, shapes: list | None = None
):
    """Compile the batched function of the log-densities, natural values and outputs.

    ``logp`` is an (L,) graph in ``model``'s value variables, the natural values come
    in the order of ``model.free_RVs`` and ``outputs`` are expressions of the model's
    random variables; every result has the batch as leading axis. With more than
    :data:`MANY_OUTPUTS` outputs, their ``shapes`` per draw known and no compile mode
    given, the outputs get a function of their own (see there), with ONE matrix
    result split here: PyTensor checks every result of a function against every
    other for aliasing, which took a minute for 2000 results.
    """
    compile_kwargs = check_compile_kwargs(compile_kwargs)
    z = pt.matrix("z", dtype="float64")
    n = z.shape[0]
    natural = model.replace_rvs_by_values(model.free_RVs)
    phis = [pt.cast(e, "float64") for e in model.replace_rvs_by_values(outputs)] if outputs else []
    apart = len(phis) > MANY_OUTPUTS and shapes is not None and "mode" not in compile_kwargs
    graphs = checks_to_switches(strip_view_ops([logp, *natural, *([] if apart else phis)]))
    replace = batched_values(model, blocks, z)
    batched = keep_solves_compiled(vectorize_graph(graphs, replace=replace))
    logp_b = pt.cast(batched[0], "float64") + pt.zeros((n, 1), dtype="float64")
    kwargs = {"mode": DEFAULT_MODE, **compile_kwargs}
    options = options_key("density", kwargs)
    kwargs["mode"] = density_mode(kwargs["mode"])
    fn = cached_function([z], [logp_b, *_leading(batched[1:], n)], options, on_unused_input="ignore", **kwargs)
    fn.trust_input = True
    if not apart:
        return fn
    assert shapes is not None
    flat = [pt.reshape(b, (n, -1)) for b in vectorize_graph(strip_view_ops(phis), replace=replace)]
    python = Mode(linker="py", optimizer="fast_compile")
    fn_phis = cached_function([z], pt.join(1, *flat), "py fast_compile", on_unused_input="ignore", mode=python)
    fn_phis.trust_input = True
    sizes = [int(np.prod(shape, dtype=int)) for shape in shapes]
    bounds = np.cumsum([0, *sizes])

    def evaluate(z_):
        joined = fn_phis(z_)
        pieces = [joined[:, a:b].reshape((len(z_), *shape)) for a, b, shape in zip(bounds[:-1], bounds[1:], shapes)]
        return [*fn(z_), *pieces]

    return evaluate


def _leading(batched: list, n) -> list:
    """Every result broadcast to the batch's leading axis (constants included)."""
    return [b + pt.zeros((n,) + (1,) * (b.ndim - 1), dtype=b.dtype) if b.ndim else b for b in batched]


def compile_at_points(model: pm.Model, blocks: list[Block], graphs: list, compile_kwargs: dict | None):
    """Compile ``z (n, d) -> each graph at every point``: expressions of the model's random variables.

    For values the results need at draws already evaluated (the natural values of the
    final draws, the parts of a union there), without the log-densities and outputs of
    the full evaluator.
    """
    z = pt.matrix("z", dtype="float64")
    values = checks_to_switches(strip_view_ops(model.replace_rvs_by_values(graphs)))
    batched = keep_solves_compiled(vectorize_graph(values, replace=batched_values(model, blocks, z)))
    batched = _leading(batched, z.shape[0])
    kwargs = {"mode": DEFAULT_MODE, **check_compile_kwargs(compile_kwargs)}
    options = options_key(kwargs)
    kwargs["mode"] = runnable_mode(kwargs["mode"])
    fn = cached_function([z], batched, options, on_unused_input="ignore", **kwargs)
    fn.trust_input = True
    return fn


def compile_natural(model: pm.Model, blocks: list[Block], compile_kwargs: dict | None):
    """Compile ``z (n, d) -> natural values of every free variable``: the value transforms only.

    The results need the draws in the model's own space; the full evaluator would
    recompute every log-density and output to give them.
    """
    return compile_at_points(model, blocks, model.free_RVs, compile_kwargs)

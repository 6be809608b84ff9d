"""Parse the user's expectations: PyTensor expressions, variable names or callables."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pymc as pm
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import ancestors, graph_inputs
from pytensor.tensor.random.op import RandomVariable


@dataclass(frozen=True)
class Output:
    """One named output phi: a graph (in the working model's variables) or a callable."""

    name: str
    graph: Variable | None = None
    function: Callable | None = None


def as_mapping(expectations) -> dict:
    """A mapping name -> phi; a single phi is named after itself."""
    if isinstance(expectations, Mapping):
        if not expectations:
            raise ValueError("no expectation given: pass a mapping name -> phi with at least one entry")
        for key in expectations:
            if not isinstance(key, str):
                raise TypeError(f"expectation names must be strings, got {key!r}")
        return dict(expectations)
    if isinstance(expectations, str):
        return {expectations: expectations}
    if isinstance(expectations, Variable):
        return {expectations.name or "phi": expectations}
    if callable(expectations):
        return {getattr(expectations, "__name__", "phi"): expectations}
    raise TypeError(
        "expectations must be a mapping name -> phi or a single phi (a PyTensor expression, "
        f"a model variable name or a callable), got {type(expectations).__name__}"
    )


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
    for var in graph_inputs([out], blockers=list(allowed)):
        if var in allowed or isinstance(var, (Constant, SharedVariable)):
            continue
        raise ValueError(
            f"expectation {name!r} depends on the symbolic input {var.name or str(var)!r}, which "
            "is not a variable of the model"
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
            outputs.append(Output(name, graph=_translate(name, user_model[phi], user_model, work_model)))
        elif isinstance(phi, Variable):
            if phi.dtype not in ("bool",) and not phi.dtype.startswith(("float", "int", "uint")):
                raise TypeError(f"expectation {name!r} has dtype {phi.dtype}; expected a numeric or boolean expression")
            outputs.append(Output(name, graph=_translate(name, phi, user_model, work_model)))
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

"""Checks that a PyMC model can serve as an input law, and a float64 clone of it."""

from __future__ import annotations

import numpy as np
import pymc as pm
import pytensor.tensor as pt
from pymc.model.fgraph import fgraph_from_model, model_from_fgraph
from pytensor.graph.replace import graph_replace
from pytensor.graph.traversal import ancestors
from pytensor.tensor.random.op import RandomVariable
from pytensor.tensor.variable import TensorConstant


def is_posterior(model: pm.Model) -> bool:
    """Whether ``model`` holds observed data or Potentials: its law is a posterior."""
    return bool(model.observed_RVs or model.potentials)


IMPROPER_PRIORS = ("FlatRV", "HalfFlatRV")


def improper_variables(model: pm.Model) -> list[str]:
    """Names of the free variables with an improper prior (``pm.Flat``, ``pm.HalfFlat``)."""
    return [rv.name for rv in model.free_RVs if type(rv.owner.op).__name__ in IMPROPER_PRIORS]


def check_input_model(model: pm.Model) -> None:
    """Raise a ValueError naming the variable if ``model`` cannot serve as a law.

    A law is a model of free continuous random variables: their prior (an input law),
    or with observed variables and Potentials, their posterior. Discrete free variables
    are refused (the proposals are Gaussians on a continuous space), and so are the
    free variables PyMC creates to impute missing observations.
    """
    if not model.free_RVs:
        raise ValueError("the model has no free random variables: there is no input law to sample")
    observed = {rv.name for rv in model.observed_RVs}
    for rv in model.free_RVs:
        stem = rv.name.removesuffix("_unobserved")
        if stem != rv.name and f"{stem}_observed" in observed:
            raise ValueError(
                f"observed variable {stem!r} has missing values (NaN): PyMC imputes them as the free variable "
                f"{rv.name!r}, which would make them unknowns of the posterior; drop the missing "
                "observations (or model them explicitly) before estimating"
            )
        if not rv.dtype.startswith("float"):
            raise ValueError(
                f"free variable {rv.name!r} is discrete (dtype {rv.dtype}); pymc_ais needs "
                "continuous inputs (its proposals are Gaussian mixtures on a continuous space)"
            )
    if not is_posterior(model):
        improper = improper_variables(model)
        if improper:
            raise ValueError(
                f"free variable {improper[0]!r} has an improper prior ({model[improper[0]].owner.op.name}): "
                "without observed data there is no law to take expectations under; give it a proper distribution"
            )


def _is_low_precision(var) -> bool:
    return getattr(var, "dtype", "float64") != "float64" and var.dtype[:3] in ("int", "flo", "uin")


def _as_float64(param):
    """A float64 version of a distribution parameter.

    A constant is converted; an expression of low-precision constants (such as the
    ``1 / beta`` PyMC builds for ``Gamma(beta=2)``) is rebuilt with float64 constants so
    it is computed in float64, not merely cast after a float32 computation.
    """
    if not _is_low_precision(param):
        return param
    if isinstance(param, TensorConstant):
        return pt.constant(np.asarray(param.data, dtype="float64"))
    constants = [v for v in ancestors([param]) if isinstance(v, TensorConstant) and _is_low_precision(v)]
    try:
        rebuilt = graph_replace(
            param, {c: pt.constant(np.asarray(c.data, dtype="float64")) for c in constants}, strict=False
        )
    except (TypeError, ValueError):
        rebuilt = param
    return pt.cast(rebuilt, "float64")


def float64_clone(model: pm.Model) -> pm.Model:
    """A copy of ``model`` whose distribution parameters given as constants are float64.

    Python scalars become int8/float32 constants in PyTensor, which makes the
    log-densities only float32-accurate; the clone computes them in float64.
    """
    fgraph, _ = fgraph_from_model(model)
    for node in list(fgraph.toposort()):
        if not isinstance(node.op, RandomVariable):
            continue
        rng, size, *params = node.inputs
        new = [_as_float64(p) for p in params]
        if any(a is not b for a, b in zip(new, params)):
            replacement = node.op.make_node(rng, size, *new)
            fgraph.replace_all(list(zip(node.outputs, replacement.outputs)), import_missing=True)
    return model_from_fgraph(fgraph, mutate_fgraph=True)


def check_same_inputs(reference: pm.Model, other: pm.Model, law: str) -> None:
    """Raise a ValueError naming the first free variable that differs between two laws."""
    ref_point, other_point = reference.initial_point(), other.initial_point()
    ref_vars = {rv.name: reference.rvs_to_values[rv].name for rv in reference.free_RVs}
    other_vars = {rv.name: other.rvs_to_values[rv].name for rv in other.free_RVs}
    for name in sorted(set(ref_vars) | set(other_vars)):
        if name not in other_vars:
            raise ValueError(
                f"input law {law!r} has no free variable {name!r}; every law needs the same free variables"
            )
        if name not in ref_vars:
            raise ValueError(
                f"input law {law!r} has the extra free variable {name!r}; every law needs the same free variables"
            )
        if ref_vars[name] != other_vars[name]:
            raise ValueError(
                f"free variable {name!r} has value variable {other_vars[name]!r} in law {law!r} but "
                f"{ref_vars[name]!r} in the first law: the supports (value transforms) differ"
            )
        a, b = np.shape(ref_point[ref_vars[name]]), np.shape(other_point[other_vars[name]])
        if a != b:
            raise ValueError(f"free variable {name!r} has shape {b} in law {law!r} but {a} in the first law")

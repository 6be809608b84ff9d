"""Alternative priors: a copy of a model with some free variables' distributions swapped."""

from __future__ import annotations

from collections.abc import Mapping

import pymc as pm
from pymc.distributions.transforms import _default_transform
from pymc.model.fgraph import (
    ModelFreeRV,
    fgraph_from_model,
    model_free_rv,
    model_from_fgraph,
)
from pytensor.graph.basic import Variable
from pytensor.tensor.variable import TensorVariable


def swap_priors(model: pm.Model, priors: Mapping) -> pm.Model:
    """A new model where each named free variable gets a new distribution.

    ``priors`` maps a free variable's name to an unregistered distribution
    (``pm.StudentT.dist(nu=3, mu=0, sigma=2.5)``) or to a callable returning one. The new
    distribution must have the same shape; its default value transform is used, so a
    prior with another support (e.g. HalfNormal for a Normal) is allowed. Everything
    else, including the variables that depend on the swapped ones, is kept.

    Examples
    --------
    >>> import numpy as np, pymc as pm, pymc_ais as pa
    >>> with pm.Model() as model:
    ...     beta = pm.Normal("beta", 0.0, 2.5)
    ...     y = pm.Normal("y", beta, 1.0, observed=np.array([0.3, 1.1, 0.8]))
    >>> robust = pa.swap_priors(model, {"beta": pm.StudentT.dist(nu=3, mu=0, sigma=2.5)})
    >>> [type(rv.owner.op).__name__ for rv in robust.free_RVs]
    ['StudentTRV']
    >>> idata = pa.estimate({"beta": "beta"}, models={"normal": model, "student-t": robust},
    ...                     draws=4_000, random_seed=1, progressbar=False)
    >>> idata["evidence"]["log_evidence"].coords["model"].values.tolist()
    ['normal', 'student-t']
    """
    fgraph, _ = fgraph_from_model(model)
    free = {
        out.owner.op.name: out
        for out in fgraph.outputs
        if out.owner is not None and isinstance(out.owner.op, ModelFreeRV)
    }
    for name, dist in priors.items():
        if name not in free:
            raise ValueError(f"{name!r} is not a free variable of the model ({', '.join(sorted(free))})")
        new_rv = dist() if callable(dist) and not isinstance(dist, Variable) else dist
        if not isinstance(new_rv, TensorVariable) or new_rv.owner is None:
            raise TypeError(f"the new prior of {name!r} must be a distribution made with .dist(...)")
        if new_rv in set(model.basic_RVs) or new_rv.name is not None:
            raise TypeError(
                f"the new prior of {name!r} is the model variable {new_rv.name!r}; pass an unregistered "
                "distribution made with .dist(...), e.g. pm.StudentT.dist(nu=3, mu=0, sigma=1)"
            )
        old = free[name]
        old_rv = old.owner.inputs[0]
        assert isinstance(old_rv, TensorVariable)  # a free variable of a PyMC model is a tensor
        old_shape = tuple(int(v) for v in old_rv.shape.eval()) if old_rv.ndim else ()
        new_shape = tuple(int(v) for v in new_rv.shape.eval()) if new_rv.ndim else ()
        if new_shape != old_shape:
            if new_shape == ():
                new_rv = pm.distributions.shape_utils.change_dist_size(new_rv, old_shape)
            else:
                raise ValueError(f"the new prior of {name!r} has shape {new_shape}, the variable has shape {old_shape}")
        if new_rv.dtype != old_rv.dtype:
            raise ValueError(f"the new prior of {name!r} has dtype {new_rv.dtype}, the variable has {old_rv.dtype}")
        transform = _default_transform(new_rv.owner.op, new_rv)
        value = new_rv.type(name=f"{name}_{transform.name}__" if transform is not None else name)
        replacement = model_free_rv(new_rv, value, transform, name, *old.owner.op.dims)
        fgraph.replace(old, replacement, import_missing=True)
    return model_from_fgraph(fgraph, mutate_fgraph=True)

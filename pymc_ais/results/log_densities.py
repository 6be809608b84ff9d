"""ArviZ's ``log_prior`` and ``log_likelihood`` groups of a posterior run, at its draws.

``arviz_stats.psense_summary`` (power-scaling prior sensitivity) and LOO read these
groups next to a ``posterior`` group. A posterior run stores them at its kept final
draws (:func:`final_draw_groups`), so that :func:`pymc_ais.to_posterior` can resample
them with the draws without the model; :func:`pointwise_groups` computes them for any
draws of a model.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..laws.checks import float64_clone
from ..laws.compile import compile_pointwise_logp

MAX_STORED_VALUES = 10_000_000
"""Above this many log-density values (draws x elements x laws, 80 MB), a run does not store them."""


class DifferentVariables(ValueError):
    """The laws' models have different observed (or free) variables: one group cannot hold them all."""


def pointwise_groups(model, draws: xr.Dataset) -> dict[str, xr.Dataset]:
    """``log_prior`` and ``log_likelihood`` datasets at draws ``(chain, draw, ...)`` of ``model``'s free variables.

    ``log_prior`` holds each free variable's elementwise prior log-density in the
    natural space (no Jacobian), ``log_likelihood`` each observed variable's pointwise
    log-likelihood (absent without observed variables).
    """
    free = [rv.name for rv in model.free_RVs]
    observed = [rv.name for rv in model.observed_RVs]
    missing = [name for name in free if name not in draws]
    if missing:
        raise ValueError(f"the draws have no variable {missing[0]!r}: pass the model the run used")
    pointwise = compile_pointwise_logp(float64_clone(model), free + observed)  # float64 constants, not float32
    n_chain, n_draw = draws.sizes["chain"], draws.sizes["draw"]
    flat = {name: draws[name].values.reshape(n_chain * n_draw, *draws[name].shape[2:]) for name in free}
    values = pointwise(flat)
    coords = {k: list(v) for k, v in model.coords.items() if v is not None}
    sample_coords = {"chain": draws["chain"].values, "draw": draws["draw"].values}

    def dataset(names):
        out = {}
        for name in names:
            flat_values = np.asarray(values[name])
            array = flat_values.reshape(n_chain, n_draw, *flat_values.shape[1:])
            dims = model.named_vars_to_dims.get(name) or ()
            if len(dims) != array.ndim - 2:
                dims = tuple(f"{name}_dim_{i}" for i in range(array.ndim - 2))
            out[name] = xr.DataArray(array, dims=("chain", "draw", *dims))
        used = {d for v in out.values() for d in v.dims}
        return xr.Dataset(out, coords={**sample_coords, **{k: v for k, v in coords.items() if k in used}})

    return (
        {"log_prior": dataset(free), "log_likelihood": dataset(observed)} if observed else {"log_prior": dataset(free)}
    )


def per_law_groups(models: dict, draws: xr.Dataset, laws: xr.DataArray) -> dict[str, xr.Dataset]:
    """The groups of several laws, each law's at its own draws (``draws`` has a ``model`` dim), dim ``model``."""
    names = [str(v) for v in laws.values]
    per_law = [pointwise_groups(models[law], draws.sel(model=law, drop=True)) for law in names]
    out = {}
    for group in per_law[0]:
        found = [groups[group] for groups in per_law if group in groups]
        if len(found) < len(per_law) or any(set(ds.data_vars) != set(found[0].data_vars) for ds in found):
            raise DifferentVariables(
                f"the laws' models differ in the variables of {group!r}: fill it per law, with one law's "
                "draws (idata[...] of that law) and its model"
            )
        out[group] = xr.concat(found, dim=laws).transpose("chain", "draw", "model", ...)
    return out


def final_draw_groups(laws, samples: xr.Dataset) -> tuple[dict[str, xr.Dataset], str | None]:
    """The groups at a posterior run's kept draws ``samples``, every law's at all of them; or a note why not.

    Every law is evaluated at the same shared draws (dim ``model`` with several laws).
    Nothing is stored for a grid of laws (its laws share one model whose data change)
    or when the values would exceed :data:`MAX_STORED_VALUES`: the note says so, and
    :func:`pymc_ais.to_posterior` computes them from ``model=`` instead.
    """
    if laws.grid is not None:
        return {}, "not stored for a grid of laws: pass model= to pymc_ais.to_posterior"
    model = laws.law_models[0]
    per_draw = sum(int(np.prod(samples[rv.name].shape[2:])) for rv in model.free_RVs)
    per_draw += sum(_size(model.rvs_to_values[rv]) for rv in model.observed_RVs)
    total = per_draw * samples.sizes["chain"] * samples.sizes["draw"] * laws.n_laws
    if total > MAX_STORED_VALUES:
        return {}, (
            f"not stored: {total:,} values exceed {MAX_STORED_VALUES:,}; pass model= to pymc_ais.to_posterior, "
            "which computes them at the resampled draws"
        )
    if not laws.several:
        return pointwise_groups(model, samples), None
    names = xr.DataArray(list(laws.names), dims="model", name="model")
    shared = xr.concat([samples] * laws.n_laws, dim=names)
    try:
        return per_law_groups(dict(zip(laws.names, laws.law_models)), shared, names), None
    except DifferentVariables as err:  # models compared by their evidence may differ in their likelihoods
        return {}, f"not stored: {err}"


def _size(data) -> int:
    """Number of elements of an observed variable's data (a constant or a shared variable)."""
    if hasattr(data, "data"):
        return int(np.size(data.data))
    if hasattr(data, "get_value"):
        return int(np.size(data.get_value(borrow=True)))
    return int(np.size(data.eval()))

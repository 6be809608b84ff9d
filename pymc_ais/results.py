"""Build the ``xarray.DataTree`` returned by :func:`pymc_ais.estimate`."""

from __future__ import annotations

import datetime
import json

import numpy as np
import xarray as xr
from scipy.stats import norm
from scipy.stats import t as student_t

from .core.aiscv import RunResult, input_tail_khat
from .core.diagnostics import diagnostics
from .core.settings import Settings


def _versions() -> dict:
    import arviz
    import pymc
    import pytensor
    import scipy

    from . import __version__

    return {
        "pymc_ais": __version__,
        "pymc": pymc.__version__,
        "pytensor": pytensor.__version__,
        "arviz": arviz.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "xarray": xr.__version__,
    }


def _settings_dict(settings: Settings) -> dict:
    out = {}
    for key, value in settings.__dict__.items():
        out[key] = value if isinstance(value, (str, int, float, type(None))) else np.asarray(value).tolist()
    return out


def interval_quantile(ci_prob: float, df: float) -> float:
    """Half-width of a central interval in standard errors: normal, or Student-t."""
    quantile = 0.5 + ci_prob / 2.0
    return float(norm.ppf(quantile) if np.isinf(df) else student_t.ppf(quantile, df))


def estimates_dataset(
    result: RunResult, labels: list[str], ci_prob: float, law_names: list[str], outputs_phi: np.ndarray | None = None
) -> xr.Dataset:
    """Estimates, errors, intervals, diagnostics and covariance.

    Dims ("expectation",) for one input law, ("model", "expectation") for several.
    ``outputs_phi``: phi at the final draws when the draws carry residual outputs (a
    surrogate); the ESS then compares with i.i.d. sampling of phi itself, while the
    Pareto k-hat stays that of what was sampled.
    """
    est = result.estimates
    final = result.final
    z = interval_quantile(ci_prob, est.df)
    diag = diagnostics(final.log_f, final.phi, final.log_q, est.mcse, float(final.alpha[0]))
    diag["pareto_k"] = np.fmax(diag["pareto_k"], input_tail_khat(result.state, final))
    if outputs_phi is not None:
        diag["ess"] = diagnostics(final.log_f, outputs_phi, final.log_q, est.mcse, float(final.alpha[0]))["ess"]
    n_laws = len(law_names)
    if n_laws == 1:
        e, shape, coords = ("expectation",), (len(labels),), {"expectation": labels, "expectation_bis": labels}
        cov_dims, cov = ("expectation", "expectation_bis"), est.cov
    else:
        e, shape = ("model", "expectation"), (n_laws, len(labels))
        coords = {"model": law_names, "expectation": labels, "model_bis": law_names, "expectation_bis": labels}
        cov_dims, cov = ("model", "expectation", "model_bis", "expectation_bis"), est.cov.reshape(shape + shape)
    values = {
        "mean": est.mean,
        "mcse": est.mcse,
        "ci_lower": est.mean - z * est.mcse,
        "ci_upper": est.mean + z * est.mcse,
        "ess": diag["ess"],
        "ess_weights": diag["ess_weights"],
        "pareto_k": diag["pareto_k"],
    }
    ds = xr.Dataset({k: (e, v.reshape(shape)) for k, v in values.items()}, coords=coords)
    ds["covariance"] = (cov_dims, cov)
    ds.attrs.update(
        ci_prob=ci_prob,
        ci_method="normal (i.i.d. draws)" if np.isinf(est.df) else f"student-t, {int(est.df)} degrees of freedom",
        n_draws=est.n,
        replicates=0 if np.isinf(est.df) else int(est.df) + 1,
    )
    ds["mean"].attrs["description"] = "unbiased estimate of E_f[phi] from the final-phase draws"
    ds["mcse"].attrs["description"] = "Monte Carlo standard error of the estimate"
    ds["ess"].attrs["description"] = "Var_f(phi) / mcse^2: i.i.d. draws from f giving the same error"
    ds["ess_weights"].attrs["description"] = "Kish effective sample size of the weights f/g"
    ds["pareto_k"].attrs["description"] = (
        "Pareto k-hat of |phi| f / g (and of |phi| f / h0 on the i.i.d. initial draws where the "
        "input law dominates the final mixture); above 0.7 the error bar is unreliable"
    )
    return ds


def adaptation_dataset(result: RunResult, labels: list[str], law_names: list[str]) -> xr.Dataset:
    """One row per sampling law of the adaptive phase (row 0: the initial law)."""
    state = result.state
    targets = state.targets
    pair_names = labels if len(law_names) == 1 else [f"{law}:{label}" for law in law_names for label in labels]
    target_labels = targets.labels(pair_names)
    components = ["initial law", *target_labels]
    props = state.proposals
    alpha = np.stack([p.alpha for p in props])
    return xr.Dataset(
        {
            "evaluations": ("iteration", np.cumsum(state.counts)),
            "block_size": ("iteration", state.counts),
            "predicted_variance": ("iteration", [float(state.weights @ p.sigma2) for p in props]),
            "criterion": ("iteration", [p.criterion for p in props]),
            "alpha": (("iteration", "component"), alpha),
            "beta": (("iteration", "target"), np.stack([p.beta for p in props])),
            "sigma2": (("iteration", "target"), np.stack([p.sigma2 for p in props])),
            "target_weight": ("target", state.weights),
        },
        coords={"iteration": np.arange(len(props)), "component": components, "target": target_labels},
        attrs={
            "stop_reason": result.stop_reason,
            "final_proposal": result.final.proposal_index,
            "description": "predicted_variance = sum_t w_t sigma2_t per point, with the final weights",
        },
    )


def _sample_dims(name: str, shape: tuple, dims: tuple | None, coords: dict):
    if dims is not None and len(dims) == len(shape):
        return list(dims), {d: list(coords[d]) for d in dims if d in coords and coords[d] is not None}
    return [f"{name}_dim_{i}" for i in range(len(shape))], {}


def draws_dataset(values: dict, dims: dict, coords: dict) -> xr.Dataset:
    """Arrays (n, *shape) as variables with dims (chain=1, draw, ...)."""
    data, all_coords = {}, {}
    for name, array in values.items():
        array = np.asarray(array)
        extra, extra_coords = _sample_dims(name, array.shape[1:], dims.get(name), coords)
        data[name] = (["chain", "draw", *extra], array[None])
        all_coords.update(extra_coords)
    n = next(iter(values.values())).shape[0]
    all_coords.update(chain=[0], draw=np.arange(n))
    return xr.Dataset(data, coords=all_coords)


def build_datatree(
    result: RunResult,
    model_problem,
    settings: Settings,
    ci_prob: float,
    random_seed,
    outputs_phi: np.ndarray | None = None,
) -> xr.DataTree:
    """Assemble every group of the result (``outputs_phi``: phi at the draws, if not ``final.phi``)."""
    final = result.final
    mp = model_problem
    n = final.x.shape[0]
    labels = list(mp.labels)
    samples = draws_dataset(mp.natural(final.x), mp.dims, mp.coords)
    outputs, start = {}, 0
    for out in mp.outputs:
        shape = mp.output_shapes[out.name]
        size = int(np.prod(shape, dtype=int))
        values = final.phi if outputs_phi is None else outputs_phi
        outputs[out.name] = values[:, start : start + size].reshape((n, *shape))
        start += size
    law_names = list(mp.problem.law_names)
    log_w = final.log_f - final.log_q[:, None]
    weight_var = (
        (("chain", "draw"), log_w[None, :, 0])
        if len(law_names) == 1
        else (("model", "chain", "draw"), log_w.T[:, None, :])
    )
    log_weights = xr.Dataset(
        {"log_weight": weight_var, "log_proposal": (("chain", "draw"), final.log_q[None])},
        coords={"chain": [0], "draw": np.arange(n), **({"model": law_names} if len(law_names) > 1 else {})},
        attrs={"description": "log f(x) - log g(x) at the final draws (unconstrained space)"},
    )
    tree = xr.DataTree.from_dict(
        {
            "estimates": estimates_dataset(result, labels, ci_prob, law_names, outputs_phi).assign_coords(
                {k: ("model", v) for k, v in mp.law_coords.items()}
            ),
            "samples": samples,
            "log_weights": log_weights,
            "outputs": draws_dataset(outputs, {}, {}),
            "adaptation": adaptation_dataset(result, labels, law_names),
        }
    )
    tree.attrs.update(
        inference_library="pymc_ais",
        method="adaptive importance sampling with control variates (aISCV)",
        created_at=datetime.datetime.now(datetime.timezone.utc).isoformat(),
        budget=settings.budget,
        evaluations=int(result.state.evaluations + n),
        evaluations_adaptive=int(result.state.evaluations),
        evaluations_final=int(n),
        random_seed=str(random_seed),
        stop_reason=result.stop_reason,
        settings=json.dumps(_settings_dict(settings)),
        versions=json.dumps(_versions()),
    )
    return tree

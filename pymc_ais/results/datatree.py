"""Groups of the ``xarray.DataTree`` results, shared by :func:`pymc_ais.estimate` and :func:`pymc_ais.sobol`.

Every function here packages numbers the core already computed (estimates, their
covariance, diagnostics, the adaptation history); none reaches into the algorithm.
With several input laws the estimates have dims ("model", "expectation"), with one
("expectation",): :func:`law_dims` is the one place that decides.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from scipy.stats import norm
from scipy.stats import t as student_t

from ..core.engine.kernel import RunResult


def interval_quantile(ci_prob: float, df: float) -> float:
    """Half-width of a central interval in standard errors: normal, or Student-t."""
    quantile = 0.5 + ci_prob / 2.0
    return float(norm.ppf(quantile) if np.isinf(df) else student_t.ppf(quantile, df))


def law_dims(law_names: list[str], labels: list[str]) -> tuple[tuple, tuple, dict]:
    """Dims, shape and coordinates of per-expectation values (a ``model`` dim for several laws)."""
    if len(law_names) == 1:
        return ("expectation",), (len(labels),), {"expectation": labels}
    return ("model", "expectation"), (len(law_names), len(labels)), {"model": law_names, "expectation": labels}


def estimates_dataset(
    result: RunResult, labels: list[str], ci_prob: float, law_names: list[str], law_coords: dict | None = None
) -> xr.Dataset:
    """Estimates, errors, intervals, diagnostics and covariance of every expectation."""
    est = result.estimates
    z = interval_quantile(ci_prob, est.df)
    dims, shape, coords = law_dims(law_names, labels)
    bis = {f"{k}_bis": v for k, v in coords.items()}
    cov_dims = dims + tuple(f"{d}_bis" for d in dims)
    values = {
        "mean": est.mean,
        "mcse": est.mcse,
        "ci_lower": est.mean - z * est.mcse,
        "ci_upper": est.mean + z * est.mcse,
        "ess_iid": result.diagnostics["ess"],
        "ess_weights": result.diagnostics["ess_weights"],
        "ess_integrand": result.diagnostics["ess_integrand"],
        "pareto_k": result.diagnostics["pareto_k"],
    }
    ds = xr.Dataset({k: (dims, np.asarray(v).reshape(shape)) for k, v in values.items()}, coords={**coords, **bis})
    ds["covariance"] = (cov_dims, est.cov.reshape(shape + shape))
    if law_coords and len(law_names) > 1:
        ds = ds.assign_coords({k: ("model", v) for k, v in law_coords.items()})
    ds.attrs.update(
        ci_prob=ci_prob,
        ci_method="normal (i.i.d. draws)" if np.isinf(est.df) else f"student-t, {int(est.df)} degrees of freedom",
        n_draws=est.n,
        replicates=0 if np.isinf(est.df) else int(est.df) + 1,
    )
    ds["mean"].attrs["description"] = "unbiased estimate of E_f[phi] from the final-phase draws"
    ds["mcse"].attrs["description"] = "Monte Carlo standard error of the estimate"
    ds["ess_iid"].attrs["description"] = (
        "Var_f(phi) / mcse^2: the number of i.i.d. draws from the law f that would give the same error. "
        "Not a count of draws: it exceeds the number of final draws when the run beats i.i.d. sampling "
        "(a rare event, a near-zero-variance control variate)"
    )
    ds["ess_weights"].attrs["description"] = "Kish effective sample size of the weights f/g"
    ds["ess_integrand"].attrs["description"] = (
        "Kish effective sample size of |phi| f/g: the final draws the estimate rests on (0: never reached; "
        "with a surrogate control, of |phi| + |s| f/g, and NaN where the surrogate is exact)"
    )
    ds["pareto_k"].attrs["description"] = (
        "Pareto k-hat of |phi| f / g (and of |phi| f / h0 on the i.i.d. initial draws where the "
        "input law dominates the final mixture, or alone where the weights are bounded); above 0.7 "
        "the error bar is unreliable. With a surrogate control, of (|phi| + |s|) f / g, and NaN where "
        "the surrogate is exact"
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
    # per target: its component's weight, split among the targets sharing it
    alpha = np.stack([np.concatenate([p.alpha[:1], p.target_shares(targets.size)]) for p in props])
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
    """The model's dims and coords of a variable when its shape fits them, else ``name_dim_i``."""
    if dims is not None and len(dims) == len(shape):
        known = {d: list(coords[d]) for d in dims if d in coords and coords[d] is not None}
        if all(len(known[d]) == size for d, size in zip(dims, shape) if d in known):
            return list(dims), known
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
    attrs = {
        "weighted": 1,
        "description": (
            "final draws from the adaptive proposal g, NOT from the input law: statistics of these "
            "draws describe g; weigh them by exp(log_weights.log_weight) to describe an input law"
        ),
    }
    return xr.Dataset(data, coords=all_coords, attrs=attrs)


def log_weights_dataset(result: RunResult, law_names: list[str]) -> xr.Dataset:
    """``log f - log g`` of the final draws per law, and ``log g``."""
    final = result.final
    n = final.x.shape[0]
    log_w = final.log_f - final.log_q[:, None]
    several = len(law_names) > 1
    weight_var = (
        (("model", "chain", "draw"), log_w.T[:, None, :]) if several else (("chain", "draw"), log_w[None, :, 0])
    )
    return xr.Dataset(
        {"log_weight": weight_var, "log_proposal": (("chain", "draw"), final.log_q[None])},
        coords={"chain": [0], "draw": np.arange(n), **({"model": law_names} if several else {})},
        attrs={
            "description": "log f(x) - log g(x) at the final draws, in the sampler's coordinates (unconstrained, "
            "or standard normal in a rare-event run under non-normal inputs)"
        },
    )


def output_dims(laws) -> dict:
    """Dims of the user's model variables, for outputs named after one (theta keeps ``school``)."""
    return {name: dims for name, dims in laws.model.named_vars_to_dims.items() if dims}


def kept_rows(n: int, keep_draws) -> np.ndarray:
    """Rows of the final draws to store: all (True), none (False) or ``keep_draws`` evenly spaced."""
    if isinstance(keep_draws, (bool, np.bool_)):
        return np.arange(n) if keep_draws else np.arange(0)
    return np.unique(np.linspace(0, n - 1, min(int(keep_draws), n)).round().astype(int))


def estimate_tree(result: RunResult, model_problem, ci_prob: float, keep_draws=True) -> xr.DataTree:
    """Every group of a :func:`pymc_ais.estimate` result (attrs are written by the caller).

    ``keep_draws`` (True, False or a number of draws) says which final draws the
    ``samples``, ``log_weights`` and ``outputs`` groups hold: every one, none (no such
    groups), or that many evenly spaced.
    """
    mp = model_problem
    laws = mp.laws
    labels = list(mp.labels)
    law_names = list(laws.names)
    groups = {
        "estimates": estimates_dataset(result, labels, ci_prob, law_names, laws.coords),
        "adaptation": adaptation_dataset(result, list(mp.core_labels), law_names),
    }
    n = result.final.x.shape[0]
    rows = kept_rows(n, keep_draws)
    if rows.size:
        final = result.final
        # every draw: views of the final arrays, not copies (GBs at 1e6 draws)
        take: np.ndarray | slice = slice(None) if rows.size == n else rows
        kept = result._replace(final=final._replace(x=final.x[take], log_f=final.log_f[take], log_q=final.log_q[take]))
        groups["samples"] = draws_dataset(mp.natural(final.x[take]), laws.free_dims, laws.model_coords)
        groups["log_weights"] = log_weights_dataset(kept, law_names)
        groups["outputs"] = draws_dataset(mp.layout.split(final.phi[take]), output_dims(laws), laws.model_coords)
    return xr.DataTree.from_dict(
        {k: groups[k] for k in ("estimates", "samples", "log_weights", "outputs", "adaptation") if k in groups}
    )

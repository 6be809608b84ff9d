"""Public entry point :func:`sobol`: Sobol' indices from one shared adaptive sample."""

from __future__ import annotations

import json

import numpy as np
import pymc as pm
import xarray as xr
from pytensor.graph.traversal import ancestors

from .api import check_options, run_with_progress
from .core.pick_freeze import (
    SurrogateControl,
    indices_from_estimates,
    pick_freeze_problem,
    surrogate_control,
)
from .core.settings import Settings
from .core.surrogate import POINTS_PER_FEATURE, surrogate_requested
from .pymc.problem import build
from .results import (
    _settings_dict,
    _versions,
    adaptation_dataset,
    estimates_dataset,
    interval_quantile,
)


def _check_independent(model: pm.Model) -> None:
    free = set(model.free_RVs)
    for rv in model.free_RVs:
        parents = [p.name for p in ancestors([rv]) if p in free and p is not rv]
        if parents:
            raise ValueError(
                f"input {rv.name!r} depends on {', '.join(map(repr, parents))}: Sobol' indices are "
                "defined for independent inputs only (group dependent variables in one variable, "
                "e.g. an MvNormal, to treat them as one input)"
            )


def _groups(model, blocks, groups) -> tuple[list[str], list[np.ndarray]]:
    by_name = {b.name: np.arange(b.start, b.stop) for b in blocks}
    columns = {rv.name: by_name[rv.name] for rv in model.free_RVs}  # the user's order
    if groups is None:
        return list(columns), list(columns.values())
    names, cols = [], []
    for name, members in groups.items():
        members = [members] if isinstance(members, str) else list(members)
        unknown = [m for m in members if m not in columns]
        if unknown:
            raise ValueError(f"group {name!r} names {unknown[0]!r}, which is not a free variable ({', '.join(columns)})")
        names.append(str(name))
        cols.append(np.concatenate([columns[m] for m in members]))
    return names, cols


def _surrogate_control(problem, cols, indices, points, kind, fraction, rng) -> SurrogateControl | None:
    """The pilot and its control variates, or None (no surrogate, or too small a budget)."""
    if not surrogate_requested(kind, fraction):
        return None
    # a linear fit on each half of each half of the pilot needs POINTS_PER_FEATURE points per term
    needed = -(-4 * POINTS_PER_FEATURE * (problem.dim + 1) // (len(cols) + 2))
    pilot = max(int(fraction * points), needed)
    if pilot > 0.1 * points:
        return None
    return surrogate_control(problem, cols, indices, pilot, rng, final_points=points - pilot)


def _describe(control: SurrogateControl | None) -> str:
    if control is None:
        return "none"
    used = int(np.count_nonzero(control.beta))
    return (
        f"{control.surrogate.describe()}; held-out relative error {control.relative_error:.2g}; "
        f"control variate on {used} of {len(control.beta)} integrands"
    )


def sobol(
    output,
    *,
    model: pm.Model | None = None,
    draws: int = 140_000,
    indices=("first", "total"),
    groups: dict | None = None,
    weights="absolute",
    family: str = "gaussian",
    surrogate: str | None = "polynomial",
    surrogate_pilot: float = 0.03,
    random_seed=None,
    progressbar: bool = True,
    compile_kwargs: dict | None = None,
    ci_prob: float = 0.95,
    **options,
) -> xr.DataTree:
    """First-order and total Sobol' indices of a scalar model output.

    The variance and the pick-freeze numerators (first order from squared differences,
    Jansen's total; see :mod:`pymc_ais.core.pick_freeze`) are expectations under the
    product law of two independent copies of the inputs; all of them are estimated
    with ONE adaptive importance sample (aISCV) and the indices get delta-method
    standard errors from the joint covariance.

    Parameters
    ----------
    output : a scalar phi as in :func:`pymc_ais.estimate` (expression, name or callable).
    model : the input model (independent free variables); the context model by default.
    draws : budget in MODEL RUNS. One point of the product law costs G + 2 runs (G groups),
        as one row of a Saltelli design, so comparisons with other estimators are fair.
    indices : any of "first", "total".
    groups : optional mapping group name -> free variable name(s); default one group per
        free variable.
    surrogate : "polynomial" (default) or None. With "polynomial", a pilot of the
        product law fits a polynomial surrogate of the output (degree and log or
        linear space chosen by held-out error), and each integrand gets the same
        integrand computed on the surrogate as a control variate; its mean costs no
        model run (randomized QMC on the surrogate alone). Unbiased whatever the fit;
        a poor surrogate is simply not used. See :func:`pymc_ais.core.pick_freeze.surrogate_control`.
    surrogate_pilot : fraction of the budget spent on the pilot (i.i.d. points of the
        product law); a budget too small for a linear fit skips the surrogate.
    weights, family, random_seed, progressbar, compile_kwargs, ci_prob, **options :
        as in :func:`pymc_ais.estimate` (weights default to "absolute": the numerators
        share the output's scale).

    Returns
    -------
    xarray.DataTree
        ``sensitivity`` (dims ``index``, ``variable``: mean, mcse, ci_lower, ci_upper),
        ``estimates`` (the underlying expectations and their covariance), ``adaptation``;
        attrs with model runs used.

    Examples
    --------
    >>> idata = pa.sobol(beam["D"], model=beam, draws=14_000)        # doctest: +SKIP
    >>> idata["sensitivity"]["mean"].sel(index="first")               # doctest: +SKIP
    """
    check_options(options)
    indices = (indices,) if isinstance(indices, str) else tuple(indices)
    model = pm.modelcontext(model)
    rng = np.random.default_rng(random_seed)
    mp = build({"phi": output}, model, compile_kwargs, rng)
    if len(mp.labels) != 1:
        raise ValueError(f"Sobol' indices need a scalar output; this one has {len(mp.labels)} elements")
    _check_independent(model)
    names, cols = _groups(model, mp.blocks, groups)
    runs_per_point = len(cols) + 2
    if not isinstance(draws, (int, np.integer)) or draws < runs_per_point:
        raise ValueError(f"draws must be an integer number of model runs >= {runs_per_point}")
    points = int(draws) // runs_per_point
    control = _surrogate_control(mp.problem, cols, indices, points, surrogate, surrogate_pilot, rng)
    pilot = control.pilot_points if control is not None else 0
    problem = pick_freeze_problem(mp.problem, cols, indices, control)
    settings = Settings(budget=points - pilot, weights=weights, family=family, **options)
    result = run_with_progress(problem, settings, rng, progressbar)
    if control is not None:
        cov = result.estimates.cov + control.cov
        result = result._replace(estimates=result.estimates._replace(cov=cov, mcse=np.sqrt(np.diag(cov))))
    est = result.estimates
    found = indices_from_estimates(est.mean, est.cov, len(cols), indices)
    z = interval_quantile(ci_prob, est.df)
    dims = ("index", "variable")
    sensitivity = xr.Dataset(
        {
            "mean": (dims, found.mean),
            "mcse": (dims, found.mcse),
            "ci_lower": (dims, found.mean - z * found.mcse),
            "ci_upper": (dims, found.mean + z * found.mcse),
        },
        coords={"index": list(found.kinds), "variable": names},
        attrs={"ci_prob": ci_prob, "output_variance": found.variance, "output_variance_mcse": found.variance_mcse,
               "method": "pick-freeze (first order from squared differences, Jansen total), delta-method errors"},
    )
    labels = list(problem.output_names)
    runs = int((result.state.evaluations + result.final.x.shape[0] + pilot) * runs_per_point)
    tree = xr.DataTree.from_dict(
        {
            "sensitivity": sensitivity,
            "estimates": estimates_dataset(result, labels, ci_prob, ["f"]),
            "adaptation": adaptation_dataset(result, labels, ["f"]),
        }
    )
    tree.attrs.update(
        inference_library="pymc_ais",
        method="Sobol' indices by aISCV on the pick-freeze product law",
        budget_model_runs=int(draws),
        model_runs=runs,
        runs_per_point=runs_per_point,
        pilot_model_runs=pilot * runs_per_point,
        surrogate=_describe(control),
        random_seed=str(random_seed),
        stop_reason=result.stop_reason,
        settings=json.dumps(_settings_dict(settings)),
        versions=json.dumps(_versions()),
    )
    return tree

"""Public entry point :func:`sobol`: Sobol' indices from one shared adaptive sample."""

from __future__ import annotations

import dataclasses
import functools
import inspect

import numpy as np
import pymc as pm
import xarray as xr
from pytensor.graph.traversal import ancestors

from .core.engine.settings import Settings
from .core.execution.evaluator import Evaluator
from .core.sensitivity.indices import sobol_indices
from .core.sensitivity.pick_freeze import INDICES, pick_freeze_problem
from .core.surrogates.choice import PickFreeze, Request, choose
from .model import build
from .pipeline import RunRequest, Session, execute
from .pipeline.registry import Entry
from .pipeline.request import RUNTIME
from .pipeline.stages import (
    check_draws,
    check_shared,
    checkpoint_record,
    failures_record,
    finish,
    ledger,
    run_sampler,
    settings_record,
    tuning_options,
)
from .results.datatree import adaptation_dataset, estimates_dataset, interval_quantile


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
            raise ValueError(
                f"group {name!r} names {unknown[0]!r}, which is not a free variable ({', '.join(columns)})"
            )
        names.append(str(name))
        cols.append(np.concatenate([columns[m] for m in members]))
    return names, cols


def sobol(
    output,
    *,
    model: pm.Model | None = None,
    draws: int = 140_000,
    indices=("first", "total"),
    groups: dict | None = None,
    weights="absolute",
    family: str = "gaussian",
    surrogate: str | None = "auto",
    surrogate_pilot: float = 0.03,
    random_seed=None,
    progressbar: bool = True,
    compile_kwargs: dict | None = None,
    ci_prob: float = 0.95,
    executor=None,
    chunk_size: int | None = None,
    on_error: str = "raise",
    checkpoint=None,
    **options,
) -> xr.DataTree:
    """First-order and total Sobol' indices of a scalar model output.

    The variance and the pick-freeze numerators (first order from squared differences,
    Jansen's total; see :mod:`pymc_ais.core.sensitivity.pick_freeze`) are expectations under the
    product law of two independent copies of the inputs; all of them are estimated
    with ONE adaptive importance sample (aISCV) and the indices get delta-method
    standard errors from the joint covariance.

    Parameters
    ----------
    output : a scalar phi as in :func:`pymc_ais.estimate` (expression, name or callable).
    model : the input model (independent free variables); the context model by default.
    draws : budget in MODEL RUNS (an integral float such as ``1e6`` is accepted). One
        point of the product law costs G + 2 runs (G groups), as one row of a Saltelli
        design, so comparisons with other estimators are fair.
    indices : any of "first", "total".
    groups : optional mapping group name -> free variable name(s); default one group per
        free variable.
    surrogate : "auto" (default), "chaos", "polynomial" or None
        A surrogate of the output fitted on a pilot serves as a control variate of
        every pick-freeze integrand; the indices stay unbiased whatever the fit, and a
        poor surrogate is simply not used. "chaos" (independent univariate inputs with
        a CDF): a sparse polynomial chaos whose integrand means are exact; its pilot
        grows while its leave-one-out error falls, and the residual is sampled as a
        plain randomized-QMC pick-freeze design (the output itself when the chaos is
        rejected, as for a discontinuous output). "polynomial": a polynomial in the
        inputs whose integrand means come from randomized QMC on the surrogate alone;
        it also serves dependent or multivariate inputs. "auto": the chaos where the
        inputs allow it, the polynomial otherwise. The docs' Sobol' page has the
        measurements.
    surrogate_pilot : fraction of the budget spent on the pilot (i.i.d. points of the
        product law), the chaos's first pilot. A budget too small for the pilot skips the
        surrogate under "auto" (said in ``attrs["surrogate"]``) and raises for an
        explicit kind.
    weights, family, random_seed, progressbar, compile_kwargs, ci_prob, **options :
        as in :func:`pymc_ais.estimate` (weights default to "absolute": the numerators
        share the output's scale).
    executor, chunk_size : optional
        Run a black-box output in chunks on an executor, as in :func:`pymc_ais.estimate`.
    on_error : "raise" or "retry"
        As in :func:`pymc_ais.estimate`; dropping failed runs would break the
        pick-freeze tuples, so "drop" is refused.
    checkpoint : str or path, optional
        As in :func:`pymc_ais.estimate`: finished evaluations on disk, and
        :func:`pymc_ais.resume` to continue a killed run.

    Warns
    -----
    ReliabilityWarning
        As :func:`pymc_ais.estimate`, for the underlying expectations.

    Returns
    -------
    xarray.DataTree
        ``sensitivity`` (dims ``index``, ``variable``: mean, mcse, ci_lower, ci_upper),
        ``estimates`` (the underlying expectations and their covariance), ``adaptation``;
        attrs with the budget ledger in model runs (``evaluations``, ...).

    Examples
    --------
    An additive output of two standard normal inputs: first-order indices 1/5 and 4/5
    (the chaos fits it exactly).

    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0.0, 1.0)
    ...     z = pm.Normal("z", 0.0, 1.0)
    >>> idata = pa.sobol(x + 2 * z, model=m, draws=2_000, random_seed=1, progressbar=False)
    >>> idata["sensitivity"]["mean"].sel(index="first").round(6).values.tolist()
    [0.2, 0.8]
    """
    return execute(RunRequest.bind("sobol", locals()))


def check_arguments(arguments: dict) -> dict:
    """A Sobol' call's arguments validated, before anything is compiled or stored."""
    a = arguments
    if a["on_error"] == "drop":
        raise ValueError(
            "on_error='drop' is not available for Sobol' indices: a dropped run breaks its pick-freeze "
            "tuple; use on_error='retry' or 'raise'"
        )
    indices = (a["indices"],) if isinstance(a["indices"], str) else tuple(a["indices"])
    unknown = [k for k in indices if k not in INDICES]
    if unknown or not indices:
        raise ValueError(
            f"unknown index {unknown[0] if unknown else indices!r}; valid options are {', '.join(map(repr, INDICES))}"
        )
    a["indices"] = indices
    check_shared(a, NAMED)
    if a["model"] is None:
        a["model"] = pm.modelcontext(None)
    return a


def run_sobol(arguments: dict, session: Session) -> xr.DataTree:
    """The steps of a Sobol' analysis: build, pick-freeze design, surrogate, sample, indices."""
    a = arguments
    options = tuning_options(a, NAMED)
    mp = build({"phi": a["output"]}, a["model"], None, a["compile_kwargs"], regions=False)  # one scalar output
    if mp.labels is not None and len(mp.labels) != 1:
        raise ValueError(f"Sobol' indices need a scalar output; this one has {len(mp.labels)} elements")
    laws = mp.laws
    if laws.posterior:
        observed = ", ".join(repr(v.name) for v in [*laws.model.observed_RVs, *laws.model.potentials])
        raise ValueError(
            f"the model has observed data or Potentials ({observed}): Sobol' indices are defined for "
            "independent inputs under their prior; build the input model without them"
        )
    _check_independent(laws.model)
    names, cols = _groups(laws.model, laws.blocks, a["groups"])
    runs_per_point = len(cols) + 2
    smallest = Settings(budget=1 << 40, weights=a["weights"], family=a["family"], **options).minimum_budget
    draws = check_draws(
        a["draws"],
        minimum=smallest * runs_per_point,
        unit=f"model runs; one point of the pick-freeze design costs {runs_per_point}",
    )
    points = draws // runs_per_point
    settings = Settings(budget=points, weights=a["weights"], family=a["family"], **options)
    rng = np.random.default_rng(session.random_seed)
    evaluate = functools.partial(mp.evaluate, dispatcher=session.dispatcher)
    evaluator = Evaluator(evaluate, law_names=laws.names, output_names=lambda: mp.labels, natural=mp.natural)
    base = dataclasses.replace(mp.problem, evaluate=evaluator)
    problem = pick_freeze_problem(base, cols, a["indices"])
    request = Request(
        a["surrogate"],
        a["surrogate_pilot"],
        auto_fallback="polynomial",
        pick_freeze=PickFreeze(evaluator, base.dim, cols, a["indices"]),
        budget_runs=draws,
    )
    control, problem, settings, pilot, note = choose(request, laws, problem, settings, rng)
    result = run_sampler(problem, settings, rng, session.progressbar, control)
    est = result.estimates
    found = sobol_indices(est.mean, est.cov, len(cols), a["indices"])
    tree = xr.DataTree.from_dict(
        {
            "sensitivity": sensitivity_dataset(found, names, a["ci_prob"], est.df),
            "estimates": estimates_dataset(result, list(problem.output_names or ()), a["ci_prob"], ["f"]),
            "adaptation": adaptation_dataset(result, list(problem.output_names or ()), ["f"]),
        }
    )
    tree.attrs.update(surrogate=note or "none", runs_per_point=runs_per_point)
    return finish(
        tree,
        method="Sobol' indices by aISCV on the pick-freeze product law",
        ledger=ledger(draws, evaluator, pilot, result, runs_per_point),
        random_seed=session.random_seed,
        result=result,
        settings=settings_record(settings, a["surrogate"], a["surrogate_pilot"]),
        failures=failures_record(session.dispatcher, result, ["f"]),
        checkpoint=checkpoint_record(session.dispatcher),
    )


def sensitivity_dataset(found, names: list[str], ci_prob: float, df: float) -> xr.Dataset:
    """The ``sensitivity`` group: indices with errors and intervals, dims (index, variable)."""
    z = interval_quantile(ci_prob, df)
    dims = ("index", "variable")
    return xr.Dataset(
        {
            "mean": (dims, found.mean),
            "mcse": (dims, found.mcse),
            "ci_lower": (dims, found.mean - z * found.mcse),
            "ci_upper": (dims, found.mean + z * found.mcse),
        },
        coords={"index": list(found.kinds), "variable": names},
        attrs={
            "ci_prob": ci_prob,
            "output_variance": found.variance,
            "output_variance_mcse": found.variance_mcse,
            "method": "pick-freeze (first order from squared differences, Jansen total), delta-method errors",
        },
    )


ENTRY = Entry(check_arguments, run_sobol)
NAMED = tuple(name for name in inspect.signature(sobol).parameters if name not in (*RUNTIME, "options"))
"""The named parameters of :func:`sobol` that determine its result; other keywords are tuning options."""

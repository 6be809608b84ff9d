"""Public entry point :func:`estimate`: many expectations from one shared adaptive sample."""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable, Mapping

import numpy as np
import pymc as pm
import xarray as xr

from .core.engine.settings import Settings
from .core.execution.evaluator import Evaluator
from .core.surrogates.choice import Request, choose, refuse_for_posterior
from .model import build
from .model.posterior_start import posterior_start, posterior_weights, shifted, starting_problem
from .model.standard_space import (
    StandardSpace,
    sample_standard_normal,
    standard_normal_quantile,
    standard_space_map,
)
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
from .results.datatree import estimate_tree
from .results.event_regions import warn_thin_parts, warn_thin_regions, without_regions
from .results.log_densities import final_draw_groups
from .results.posterior import evidence_dataset, posterior_result
from .results.reliability import warn_indicator_responses


def estimate(
    expectations,
    *,
    model: pm.Model | None = None,
    models: Mapping[str, pm.Model] | None = None,
    draws: int = 20_000,
    weights="relative",
    family: str = "gaussian",
    surrogate: str | None = "auto",
    surrogate_pilot: float = 0.03,
    random_seed=None,
    progressbar: bool = True,
    compile_kwargs: dict | None = None,
    ci_prob: float = 0.95,
    init=None,
    executor=None,
    chunk_size: int | None = None,
    on_error: str = "raise",
    checkpoint=None,
    keep_draws: bool | int = True,
    **options,
) -> xr.DataTree:
    """Estimate many expectations ``E_f[phi_j(X)]`` from ONE shared adaptive sample.

    The law ``f`` is a PyMC model's free variables: their prior or, when the model
    has observed variables (or Potentials), their posterior. The method is adaptive
    importance sampling with control variates (aISCV, Demange-Chryst, Bachoc & Morio,
    arXiv 2212.00568), with a defensive mixture component and log-space densities.

    Parameters
    ----------
    expectations : mapping name -> phi, or a single phi
        A phi is a PyTensor expression of the model's random variables (booleans give
        probabilities), the name of a model variable, or a callable taking a dict
        ``{free variable name: array with a leading batch axis}`` (natural space) and
        returning an array with the same leading axis (a black-box simulator).
        Array-valued phi give one expectation per element, labelled ``name[i,...]``.
    model : pm.Model, optional
        The input model; the context model by default.
    models : mapping name -> pm.Model, or :func:`pymc_ais.grid`, optional
        Alternative input laws over the same free variables (same names, shapes and
        supports). Every phi is estimated under every law from one shared sample; the
        estimates then have dims ("model", "expectation"). Expressions are written in
        ``model``'s variables (by default the first law's) or given by name. A grid
        of ``pm.Data`` values (``pa.grid``, ``pa.sample_grid``) defines many laws with
        one model and one compilation. With several laws the final control variates
        are cross-fitted on the final sample (``cv_fit="crossfit"``, ``final_trim=0``);
        posteriors keep the adaptive phase's coefficients where the other half of the
        final sample shows that they help (``cv_fit="guarded"``). Pass those options
        to change it.
    draws : int
        TOTAL budget of model evaluations, adaptive phase and surrogate pilot included
        (an integral float such as ``1e6`` is accepted).
    weights : "relative", "absolute" or array
        Weights of the variance criterion: ``1 / I_j^2`` from running estimates
        (relative precision, the default), ``1``, or one positive weight per expectation.
    family : "gaussian" or "mixture"
        Auxiliary density per expectation: one Gaussian, or a Gaussian mixture.
    surrogate : "auto" (default), "chaos", "polynomial" or None
        A surrogate s of each output, fitted on a pilot of the initial law, becomes its
        control variate: the sampler estimates ``E_f[phi - beta s]`` and ``beta E_f[s]``
        is added back. Unbiased whatever the fit; an output the surrogate does not help
        is left as it is (the pilot's runs are then spent). "chaos": a sparse
        polynomial chaos per output (one law of independent univariate inputs with a
        CDF), whose mean is exact. "polynomial": a polynomial in the inputs, its mean
        integrated by randomized QMC on the surrogate alone. "auto": the chaos where it
        applies and no event indicator is among the outputs, nothing otherwise (several
        laws, dependent inputs, a posterior, a budget too small for a pilot).
        ``idata.attrs["surrogate"]`` says what was done; the Benchmarks page has the
        measurements behind these choices.
    surrogate_pilot : float
        Fraction of the budget spent on the surrogate's pilot.
    random_seed : int, numpy Generator or None
    progressbar : bool
        Show progress over the adaptive blocks and the final phase.
    compile_kwargs : dict, optional
        Passed to ``pytensor.function`` for the log-density/output function
        (e.g. ``{"mode": "NUMBA"}``; default mode "CVM", C code, whose results do not
        depend on the compile cache). Compiled functions are cached per model and outputs.
    ci_prob : float
        Probability of the confidence intervals (normal intervals for i.i.d. final
        draws, Student-t over the replicates for randomized QMC; a rare-event run of
        input laws over more than ten inputs draws its final phase i.i.d.).
    init : InferenceData or DataTree with a ``posterior`` group, optional
        Posteriors only: draws of the posterior (e.g. from ``pm.sample``) whose mean and
        covariance place the starting law. Without it the run finds the posterior
        itself: Laplace approximations at the modes of the laws' posteriors (L-BFGS in
        the unconstrained space, at most a tenth of ``draws``; every log-density
        evaluation counts). Either way the starting law is a Student-t mixture
        (4 degrees of freedom) that stays the defensive component of every proposal.
    executor : concurrent.futures.Executor or dask.distributed.Client, optional
        Runs the black-box callables in chunks (thread or process pools, Dask,
        ``mpi4py.futures``); log-densities and PyTensor outputs stay in this process.
        The next block's proposal needs this block's results, so blocks run one after
        the other, each as many chunks at once. A callable whose value at a point does
        not depend on the other points of its chunk gives bitwise the serial result.
    chunk_size : int, optional
        Points per task: by default four chunks per worker and per block with an
        executor, one call per block without.
    on_error : "raise", "retry" or "drop"
        When a callable raises or returns NaN/inf: stop with an ``EvaluationError``
        that keeps every finished evaluation (default); run the chunk again up to 3
        times first; or drop the failed points (their outputs count as 0: each estimate
        is then of ``E[phi * 1(run succeeded)]``; a ``ReliabilityWarning`` gives the
        estimated probability of a failure, and ``attrs["failures"]`` the counts).
    checkpoint : str, path or :class:`pymc_ais.Checkpoint`, optional
        A directory where every finished chunk of black-box evaluations is written as
        it completes, with the call, its fingerprint and its seed. If the run is killed,
        :func:`pymc_ais.resume` (or the same call again) continues it: the result is
        bitwise the uninterrupted run's, and no finished evaluation is run again. A
        directory written by another call (another simulator, expectation, model, data
        or setting) raises :class:`pymc_ais.CheckpointMismatch` naming the difference,
        unless ``Checkpoint(path, on_mismatch="restart")``.
    keep_draws : bool or int
        Which final draws the ``samples``, ``log_weights`` and ``outputs`` groups
        hold: all (default), none (``False``: no such groups, for huge runs where the
        estimates are all that is wanted), or that many, evenly spaced. The estimates
        always use every draw; :func:`pymc_ais.to_posterior` needs the kept draws.
    **options
        Tuning passed to :class:`pymc_ais.core.Settings` (see there for each):
        ``covariance`` ("full"/"diag"), ``n_components``, ``block_fraction``,
        ``adaptive_fraction``, ``sampler`` ("rqmc"/"stratified"/"mc"), ``replicates``,
        ``final_trim``, ``qmc_preference``, ``cv_fit`` ("auto"/"adaptive"/"crossfit"/"guarded"),
        ``control_variates`` ("full"/"single"), ``alpha_floor``, ``defensive``,
        ``max_control_variates``, ``min_cv_points``, ``max_components`` (beyond it, targets
        share mixture components: 128 by default), ``target_share``.

    Warns
    -----
    ReliabilityWarning
        In plain words, naming the expectation: Pareto k-hat above 0.7, effective
        sample size below 100, an output constant on every draw, an adaptive phase
        stopped by its budget cap, a callable whose response an event compares that
        returned only the values 0 and 1 (an indicator where the quantity was asked for).

    Returns
    -------
    xarray.DataTree
        Groups ``estimates`` (mean, mcse, ci_lower, ci_upper, ess_iid, ess_weights,
        pareto_k, covariance), ``samples`` (final draws, dims chain/draw, WEIGHTED:
        see ``log_weights``), ``log_weights``, ``outputs``, ``adaptation``; run
        information in ``attrs``. With posteriors, the estimates are posterior
        expectations (ratios ``E_g[phi p L / g] / E_g[p L / g]``, delta-method errors)
        and the group ``evidence`` holds each law's log marginal likelihood
        (``log_evidence``, ``mcse``, an interval; see :func:`pymc_ais.bayes_factors`);
        ``log_prior`` and ``log_likelihood`` hold every law's log-densities at the kept
        final draws, for :func:`pymc_ais.to_posterior` and ArviZ's prior sensitivity.

    Examples
    --------
    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0, 1)
    >>> idata = pa.estimate({"m2": x**2, "p": x > 2}, model=m, draws=4000,
    ...                     random_seed=1, progressbar=False)
    >>> est = idata["estimates"].sel(expectation="m2")
    >>> bool(abs(est["mean"] - 1.0) < 5 * est["mcse"])
    True

    A posterior: the mean of ``mu`` given three observations (exactly 0.75), and the
    log evidence.

    >>> import numpy as np
    >>> with pm.Model() as post:
    ...     mu = pm.Normal("mu", 0.0, 1.0)
    ...     obs = pm.Normal("y", mu, 1.0, observed=np.array([0.5, 1.5, 1.0]))
    >>> idata = pa.estimate({"mu": "mu"}, model=post, draws=4000, random_seed=1, progressbar=False)
    >>> est = idata["estimates"].sel(expectation="mu")
    >>> bool(abs(est["mean"] - 0.75) < 5 * est["mcse"])
    True
    >>> sorted(idata["evidence"].data_vars)
    ['ci_lower', 'ci_upper', 'log_evidence', 'mcse', 'pareto_k']
    """
    return execute(RunRequest.bind("estimate", locals()))


def check_arguments(arguments: dict) -> dict:
    """An estimate call's arguments validated, before anything is compiled or stored.

    The model is taken from the context when neither ``model`` nor ``models`` is given,
    so that a checkpoint records it.
    """
    a = arguments
    a["draws"] = check_draws(a["draws"])
    keep = a["keep_draws"]
    if not isinstance(keep, (bool, np.bool_)) and not (isinstance(keep, int) and keep >= 1):
        raise ValueError(f"keep_draws must be True, False or a positive number of draws, got {keep!r}")
    options = check_shared(a, NAMED)
    Settings(budget=a["draws"], weights=a["weights"], family=a["family"], **options)  # bad options fail early
    if a["model"] is None and a["models"] is None:
        a["model"] = pm.modelcontext(None)
    return a


def run_estimate(arguments: dict, session: Session, regions: bool | Mapping[str, str] = True) -> xr.DataTree:
    """The steps of an estimate: build, start, surrogate, sample, assemble.

    ``regions``: whether events with several regions get a hidden target per region, or,
    when the caller states the regions as expectations of their own, a mapping from
    their names to their event's (see :func:`~pymc_ais.model.model_problem.build`).
    """
    a = arguments
    draws, surrogate = a["draws"], a["surrogate"]
    mp = build(a["expectations"], a["model"], a["models"], a["compile_kwargs"], regions=regions)
    settings = _settings(mp, a)
    rng = np.random.default_rng(session.random_seed)
    raw: Callable[..., tuple] = functools.partial(mp.evaluate, dispatcher=session.dispatcher)
    start = None
    request = Request(
        surrogate, a["surrogate_pilot"], posterior=mp.laws.posterior, has_scores=mp.layout.has_scores, budget_runs=draws
    )
    if mp.laws.posterior:
        refuse_for_posterior(request)
        start = posterior_start(mp.laws, draws, rng, a["init"])
        raw = shifted(raw, start.log_scale)
    elif a["init"] is not None:
        raise ValueError("init= places the start of a run on a posterior; this model has no observed data")
    natural, standard = mp.natural, None
    to_flat = standard_space_map(mp.laws) if mp.layout.has_scores and surrogate in ("auto", None) else None
    if to_flat is not None:  # events: sampled in standard normal space
        raw = standard = StandardSpace(raw, to_flat)
        natural = functools.partial(_natural_of_standard, mp.natural, standard.flat)
    evaluator = Evaluator(raw, law_names=mp.laws.names, output_names=lambda: mp.core_labels, natural=natural)
    problem = dataclasses.replace(mp.problem, evaluate=evaluator)
    if standard is not None:
        problem = dataclasses.replace(
            problem,
            sample_initial=functools.partial(sample_standard_normal, dim=problem.dim),
            initial_quantile=standard_normal_quantile,
        )
    if start is not None:
        problem = starting_problem(problem, start, mp.laws)
        settings = dataclasses.replace(
            settings,
            budget=draws - start.evaluations,
            weights=posterior_weights(settings.weights, mp.laws.n_laws),
            defensive=_start_defensive(settings, start, "defensive" in tuning_options(a, NAMED)),
        )
    control, problem, settings, pilot, note = choose(request, mp.laws, problem, settings, rng)
    result = run_sampler(problem, settings, rng, session.progressbar, control)
    if standard is not None:  # the draws in the law's flat coordinates, as every other run reports them
        result = result._replace(
            state=result.state._replace(x=standard.flat(result.state.x)),
            final=result.final._replace(x=standard.flat(result.final.x)),
        )
    warn_indicator_responses(mp.layout.indicator_responses)
    if mp.n_region_columns:
        warn_thin_regions(result, mp.layout, list(mp.laws.names))
        result = without_regions(result, mp.laws.n_laws, len(mp.labels or ()), mp.n_region_columns)
    if mp.layout.has_scores and not mp.laws.posterior:
        warn_thin_parts(result, mp, list(mp.laws.names))
    log_evidence = None
    if start is not None:
        n_outputs = len(mp.labels or ())  # known once the model has run, callables' shapes included
        result, log_evidence = posterior_result(result, mp.laws.n_laws, n_outputs, start.log_scale)
    idata = _assemble(a, mp, result, start, log_evidence, control, note)
    return finish(
        idata,
        method="adaptive importance sampling with control variates (aISCV)",
        ledger=ledger(draws, evaluator, pilot, result, search=start.evaluations if start is not None else 0),
        random_seed=session.random_seed,
        result=result,
        settings=settings_record(settings, surrogate, a["surrogate_pilot"]),
        failures=failures_record(session.dispatcher, result, list(mp.laws.names)),
        checkpoint=checkpoint_record(session.dispatcher),
    )


def _natural_of_standard(natural, flat, u: np.ndarray) -> dict:
    return natural(flat(u))


POINTS_PER_DIMENSION = 100
"""Posterior blocks hold at least this many points per dimension, within ``POSTERIOR_BLOCK_FRACTIONS``."""
POSTERIOR_BLOCK_FRACTIONS = (0.1, 0.15)


def posterior_block_fraction(dim: int, draws: int) -> float:
    """The adaptive blocks' share of the budget on posteriors: at least ``POINTS_PER_DIMENSION * dim`` points.

    Every block refits each target's Gaussian in ``dim`` dimensions from the pooled
    draws, which blocks of a tenth of the budget leave too few for in tens of
    dimensions. Larger blocks leave fewer adapted ones: past 0.15 the precision fell
    again (see the Benchmarks page).
    """
    low, high = POSTERIOR_BLOCK_FRACTIONS
    return float(np.clip(POINTS_PER_DIMENSION * dim / draws, low, high))


def _settings(mp, a: dict) -> Settings:
    """The run's settings: the defaults of posteriors and of many laws under the user's options."""
    options = tuning_options(a, NAMED)
    if mp.laws.posterior:
        # the adaptive phase's coefficients where they help (refitted ones gave error bars 20 % too small)
        options = {"cv_fit": "guarded", "block_fraction": posterior_block_fraction(mp.laws.dim, a["draws"]), **options}
    elif a["models"] is not None:
        # many overlapping laws: cross-fitted control variates on every component
        options = {"cv_fit": "crossfit", "final_trim": 0.0, **options}
    weights = a["weights"]
    if not isinstance(weights, str) and mp.labels is not None and weights.shape[0] != mp.laws.n_laws * len(mp.labels):
        raise ValueError(
            f"weights has {weights.shape[0]} entries but there are {mp.laws.n_laws * len(mp.labels)} "
            f"expectations ({', '.join(mp.labels)})"
        )
    return Settings(budget=a["draws"], weights=weights, family=a["family"], **options)


def _start_defensive(settings: Settings, start, user_set: bool) -> float:
    """The starting law's least weight: the user's ``defensive=`` if given, else the start's own floor.

    The floor stays below what an explicit ``target_share`` leaves.
    """
    if user_set:
        return settings.defensive
    room = 1.0 - settings.target_share - 1e-9 if settings.target_share is not None else 1.0
    return float(min(max(settings.defensive, start.defensive), max(settings.defensive, room)))


def _assemble(a: dict, mp, result, start, log_evidence, control, note) -> xr.DataTree:
    """The result's groups: estimates, draws, adaptation, and a posterior's evidence."""
    idata = estimate_tree(result, mp, a["ci_prob"], a["keep_draws"])
    if start is not None:
        idata["evidence"] = evidence_dataset(
            log_evidence, result, list(mp.laws.names), a["ci_prob"], mp.laws.improper, mp.laws.coords
        )
        idata.attrs["posterior_start"] = start.origin
        if "samples" in idata.children:
            groups, why_not = final_draw_groups(mp.laws, idata["samples"].to_dataset())
            for name, group in groups.items():
                idata[name] = group
            if why_not is not None:
                idata.attrs["log_densities"] = why_not
    if note is not None:
        idata.attrs["surrogate"] = note
    if control is not None:
        note = "with a surrogate, these refer to the residual outputs phi - beta s that were sampled"
        idata["adaptation"].attrs["note"] = note
        idata["estimates"]["pareto_k"].attrs["note"] = note
    return idata


ENTRY = Entry(check_arguments, run_estimate)
NAMED = tuple(name for name in inspect.signature(estimate).parameters if name not in (*RUNTIME, "options"))
"""The named parameters of :func:`estimate` that determine its result; other keywords are tuning options."""


def event_run_arguments(arguments: dict, own: tuple[str, ...]) -> dict:
    """The :func:`estimate` arguments of an entry point built on events (exceedance, failure probabilities).

    Estimate's defaults under the caller's arguments other than its ``own``; the
    surrogate off unless asked (the events are what the run is for, and a pilot would
    only serve a mean); the model from the context when neither a model nor laws are
    given. ``arguments`` gets the model too, for the caller to build its events in.
    """
    arguments.setdefault("surrogate", None)
    if arguments["model"] is None and arguments.get("models") is None:
        arguments["model"] = pm.modelcontext(None)
    defaults = {k: v.default for k, v in inspect.signature(estimate).parameters.items() if k in NAMED}
    return {**defaults, **{k: v for k, v in arguments.items() if k not in own}}

"""Public entry point :func:`estimate`: many expectations from one shared adaptive sample."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Mapping

import numpy as np
import pymc as pm
import xarray as xr

from .checkpoint import open_checkpoint
from .core.densities.widened_law import widened_problem
from .core.engine.settings import Settings
from .core.execution.dispatch import Dispatcher
from .core.execution.evaluator import Evaluator
from .core.surrogates.control import MAX_PILOT_SHARE, output_control, pilot_fits, pilot_size
from .core.surrogates.output_chaos import output_chaos_control
from .core.surrogates.polynomial import surrogate_requested
from .model import build
from .model.posterior_start import posterior_start, posterior_weights, shifted, starting_problem
from .results.datatree import estimate_tree
from .results.posterior import evidence_dataset, posterior_result
from .runner import (
    CHAOS_MAX_PILOT_SHARE,
    CHAOS_MIN_PILOT,
    check_ci_prob,
    check_draws,
    check_options,
    check_weights,
    checkpoint_record,
    failures_record,
    finish,
    ledger,
    plain_residual_settings,
    run_sampler,
    settings_record,
)


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
        one model and one compilation. With several laws the final estimator
        cross-fits the control-variate coefficients of every mixture component on the
        final sample (``cv_fit="crossfit"``, ``final_trim=0``), which measured ten
        times better on many overlapping laws; pass those options to change it.
        Posteriors use the adaptive phase's coefficients where the other half of the
        final sample shows that they help, per expectation (``cv_fit="guarded"``): on
        eight schools refitted coefficients gave error bars 20 % too small, and on a
        regression the adaptive ones always applied made one posterior mean's
        variance 25 times that of plain importance sampling on one seed of fifty.
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
        is added. Unbiased whatever the fit; an output the surrogate does not help is
        left as it is, and when it helps none the run goes on without it (the pilot's
        runs are spent: ``surrogate_pilot`` of the budget, 3 %, doubled once when the
        first pilot fits nothing). "chaos" (one law of
        independent univariate inputs with CDFs): a sparse polynomial chaos per output
        (:mod:`pymc_ais.core.surrogates.output_chaos`), whose mean is exact; its pilot doubles
        while that pays, indicators are left alone, and when every output is
        controlled the residuals are sampled plainly by randomized QMC; with unbounded
        inputs the pilot and the residuals come from the law widened in its tails
        (:mod:`pymc_ais.core.densities.widened_law`). Its fit costs up to a second or two per run
        (Ishigami at 2,000 runs: 1 s, against 0.06 s without), which any model dearer
        than a millisecond a run repays. "polynomial": a polynomial in the inputs
        (degree, and log or linear space, by held-out error), its mean computed by
        randomized QMC on the surrogate alone under each law (no model run; its error
        is in the error bars); with several laws each needs a quantile map
        (univariate distributions with an inverse CDF, multivariate normals). "auto":
        the chaos where it applies, and nothing (no pilot spent) otherwise: several
        laws or dependent inputs (the polynomial is on request only: it is not measured
        as a default, and beside an event its intervals covered 0.75 of the time, see
        the user guide), a posterior, an event's indicator among the outputs, or a budget that
        cannot pay a pilot; ``idata.attrs["surrogate"]`` says what was done. With an
        event beside a smooth output (E[x^2] and P(x > 2), x normal, 2,000 runs), the
        chaos made E[x^2] exact but the event's MSE 2.4 times larger: the sum of
        relative variances the sampler minimises grew.
        For smooth outputs of a few inputs either can divide the variance by orders of
        magnitude. None: no surrogate. See :mod:`pymc_ais.core.surrogates.control`.
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
        draws, Student-t over the replicates for randomized QMC).
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
    checkpoint : str or path, optional
        A directory where every finished chunk of black-box evaluations is written as
        it completes (with the call and its seed). If the run is killed,
        :func:`pymc_ais.resume` (or the same call again) continues it: the result is
        bitwise the uninterrupted run's, and no finished evaluation is run again.
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
        share mixture components: 64 by default).

    Warns
    -----
    ReliabilityWarning
        In plain words, naming the expectation: Pareto k-hat above 0.7, effective
        sample size below 100, an output constant on every draw, an adaptive phase
        stopped by its budget cap.

    Returns
    -------
    xarray.DataTree
        Groups ``estimates`` (mean, mcse, ci_lower, ci_upper, ess_iid, ess_weights,
        pareto_k, covariance), ``samples`` (final draws, dims chain/draw, WEIGHTED:
        see ``log_weights``), ``log_weights``, ``outputs``, ``adaptation``; run
        information in ``attrs``. With posteriors, the estimates are posterior
        expectations (ratios ``E_g[phi p L / g] / E_g[p L / g]``, delta-method errors)
        and the group ``evidence`` holds each law's log marginal likelihood
        (``log_evidence``, ``mcse``, an interval; see :func:`pymc_ais.bayes_factors`).

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
    draws = check_draws(draws)
    if not isinstance(keep_draws, (bool, np.bool_)) and not (isinstance(keep_draws, int) and keep_draws >= 1):
        raise ValueError(f"keep_draws must be True, False or a positive number of draws, got {keep_draws!r}")
    dispatcher = Dispatcher(executor, chunk_size, on_error)
    ci_prob = check_ci_prob(ci_prob)
    check_options(options)
    weights = check_weights(weights)
    Settings(budget=draws, weights=weights, family=family, **options)  # bad options fail before compiling
    use_surrogate = surrogate_requested(surrogate, surrogate_pilot, kinds=("auto", "chaos", "polynomial"))
    mp = build(expectations, model, models, compile_kwargs)
    dispatcher.store, random_seed = open_checkpoint(
        checkpoint,
        "estimate",
        expectations,
        dict(
            model=model,
            models=models,
            draws=draws,
            weights=weights,
            family=family,
            surrogate=surrogate,
            surrogate_pilot=surrogate_pilot,
            random_seed=random_seed,
            compile_kwargs=compile_kwargs,
            ci_prob=ci_prob,
            init=init,
            chunk_size=chunk_size,
            on_error=on_error,
            keep_draws=keep_draws,
            **options,
        ),
    )
    if mp.laws.posterior:
        # the adaptive phase's coefficients where they help (refitted ones gave error bars 20 % too small)
        options = {"cv_fit": "guarded", **options}
    elif models is not None:
        # many overlapping laws: cross-fitted control variates on every component
        options = {"cv_fit": "crossfit", "final_trim": 0.0, **options}
    settings = Settings(budget=draws, weights=weights, family=family, **options)
    if not isinstance(weights, str) and mp.labels is not None and weights.shape[0] != mp.laws.n_laws * len(mp.labels):
        raise ValueError(
            f"weights has {weights.shape[0]} entries but there are {mp.laws.n_laws * len(mp.labels)} "
            f"expectations ({', '.join(mp.labels)})"
        )
    rng = np.random.default_rng(random_seed)
    control, pilot, start = None, 0, None
    raw = functools.partial(mp.evaluate, dispatcher=dispatcher)
    if mp.laws.posterior:
        if use_surrogate and surrogate != "auto":
            raise ValueError(
                f"surrogate={surrogate!r} is not available for posteriors (models with observed data); "
                "pass surrogate=None"
            )
        start = posterior_start(mp.laws, draws, rng, init)
        raw = shifted(raw, start.log_scale)
    elif init is not None:
        raise ValueError("init= places the start of a run on a posterior; this model has no observed data")
    evaluator = Evaluator(raw, law_names=mp.laws.names, output_names=lambda: mp.core_labels, natural=mp.natural)
    problem = dataclasses.replace(mp.problem, evaluate=evaluator)
    if start is not None:
        problem = starting_problem(problem, start, mp.laws)
        settings = dataclasses.replace(
            settings,
            budget=draws - start.evaluations,
            weights=posterior_weights(settings.weights, mp.laws.n_laws, len(mp.labels)),
        )
    if use_surrogate:
        if mp.laws.posterior:
            surrogate_note = "not used: the law is a posterior"
        elif surrogate == "auto" and mp.layout.has_scores:  # an event's indicator (callables are not known to be)
            surrogate_note = (
                "not used: some output is an event's indicator, which no polynomial follows; the adapted "
                "draws then serve the events, and a chaos of the other outputs measured worse for the run "
                "as a whole (surrogate='chaos' asks for it)"
            )
        else:
            control, problem, settings, pilot, surrogate_note = _output_surrogate(
                surrogate, surrogate_pilot, mp.laws, problem, settings, draws, rng
            )
    result = run_sampler(problem, settings, rng, progressbar, control)
    log_evidence = None
    if start is not None:
        result, log_evidence = posterior_result(result, mp.laws.n_laws, len(mp.labels), start.log_scale)
    idata = estimate_tree(result, mp, ci_prob, keep_draws)
    if log_evidence is not None:
        idata["evidence"] = evidence_dataset(
            log_evidence, result, list(mp.laws.names), ci_prob, mp.laws.improper, mp.laws.coords
        )
        idata.attrs["posterior_start"] = start.origin
    if use_surrogate:
        idata.attrs["surrogate"] = surrogate_note
    if control is not None:
        note = "with a surrogate, these refer to the residual outputs phi - beta s that were sampled"
        idata["adaptation"].attrs["note"] = note
        idata["estimates"]["pareto_k"].attrs["note"] = note
    return finish(
        idata,
        method="adaptive importance sampling with control variates (aISCV)",
        ledger=ledger(draws, evaluator, pilot, result, search=start.evaluations if start is not None else 0),
        random_seed=random_seed,
        result=result,
        settings=settings_record(settings, surrogate, surrogate_pilot),
        failures=failures_record(dispatcher, result, list(mp.laws.names)),
        checkpoint=checkpoint_record(dispatcher),
    )


def _output_surrogate(surrogate, surrogate_pilot, laws, problem, settings, draws, rng):
    """The surrogate control of :func:`estimate`: ``(control, problem, settings, pilot, note)``.

    "auto" takes the chaos where the law allows it, and quietly goes without one
    otherwise or when the budget cannot pay its pilot. With a chaos, the
    pilot and the residuals are drawn from the law widened in the tails of its
    unbounded inputs (:mod:`pymc_ais.core.densities.widened_law`), which the problem returned
    starts from.
    """
    germ_map = laws.germ_map() if surrogate in ("auto", "chaos") else None
    if surrogate in ("auto", "chaos") and germ_map is None:
        message = (
            f"surrogate={surrogate!r} needs a single input law of independent univariate inputs with a CDF "
            "(no models= or grid, no multivariate or dependent inputs) for its chaos"
        )
        return _without_surrogate(surrogate, message, "use surrogate='polynomial'", problem, settings)
    if germ_map is not None:
        pilot = max(int(surrogate_pilot * draws), CHAOS_MIN_PILOT)
        if pilot > CHAOS_MAX_PILOT_SHARE * draws or draws - pilot < settings.minimum_budget:
            message = (
                f"draws={draws} is too small for a chaos surrogate: its pilot needs {pilot} evaluations and "
                f"the sampler at least {settings.minimum_budget} more"
            )
            return _without_surrogate(surrogate, message, "raise draws or pass surrogate=None", problem, settings)
        law_problem = problem
        problem, tau = widened_problem(problem, germ_map)
        control = output_chaos_control(
            problem,
            germ_map,
            pilot,
            rng,
            total_points=draws,
            max_pilot_points=min(int(CHAOS_MAX_PILOT_SHARE * draws), draws - settings.minimum_budget),
        )
        settings = dataclasses.replace(settings, budget=draws - control.pilot_points)
        if not control.beta.any():  # the pilot is spent; the law need not stay widened
            return None, law_problem, settings, control.pilot_points, f"not used: {control.description}"
        if control.beta.all():  # every output rides on its chaos: sample the residuals plainly
            settings = plain_residual_settings(settings)
        note = control.description
        if tau > 1:
            note += f"; pilot and residuals drawn with the normal germs scaled by {tau:.3g}"
        return control, problem, settings, control.pilot_points, note
    pilot = pilot_size(surrogate_pilot, draws, problem.dim)
    if not pilot_fits(pilot, draws):
        message = (
            f"draws={draws} is too small for a surrogate in {problem.dim} dimensions: its pilot alone "
            f"needs {pilot} evaluations, more than {MAX_PILOT_SHARE:g} of the budget"
        )
        return _without_surrogate(surrogate, message, "raise draws or pass surrogate=None", problem, settings)
    law_quantile = laws.law_quantile()
    if law_quantile is None and laws.n_laws > 1:
        message = (
            f"surrogate={surrogate!r} with several input laws needs every law's quantile map, and some "
            "law has a distribution without an inverse CDF"
        )
        return _without_surrogate(surrogate, message, "pass surrogate=None", problem, settings)
    control = output_control(problem, law_quantile, pilot, rng, final_points=draws - pilot)
    settings = dataclasses.replace(settings, budget=draws - pilot)
    if not control.beta.any():
        return None, problem, settings, pilot, f"not used: {control.description}"
    return control, problem, settings, pilot, control.description


def _without_surrogate(surrogate, message, fix, problem, settings):
    """No control: said in the run's attrs under "auto", an error naming ``fix`` otherwise."""
    if surrogate != "auto":
        raise ValueError(f"{message}; {fix}")
    return None, problem, settings, 0, f"not used: {message}"

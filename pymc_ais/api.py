"""Public entry point: :func:`estimate`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pymc as pm
import xarray as xr

from .core.aiscv import run
from .core.output_control import OutputControl, output_control, residual_problem
from .core.problem import EvaluationError
from .core.settings import Settings
from .core.surrogate import POINTS_PER_FEATURE, surrogate_requested
from .progress import ProgressReporter
from .pymc.grid import LawGrid
from .pymc.problem import build
from .reliability import check_result
from .results import build_datatree

_OPTIONS = tuple(
    f.name for f in dataclasses.fields(Settings) if f.name not in ("budget", "weights", "family", "weight_scale")
)


def check_options(options: dict) -> None:
    """Refuse unknown tuning options, listing the valid ones."""
    unknown = sorted(set(options) - set(_OPTIONS))
    if unknown:
        raise TypeError(f"unknown option(s) {', '.join(unknown)}; valid options are {', '.join(_OPTIONS)}")


def run_with_progress(problem, settings: Settings, rng: np.random.Generator, progressbar: bool):
    """Run the core algorithm with the progress bar."""
    with ProgressReporter(settings, enabled=progressbar) as progress:
        result = run(problem, settings, rng, callback=progress.update)
        progress.finish(result)
    return result


def estimate(
    expectations,
    *,
    model: pm.Model | None = None,
    models: Mapping[str, pm.Model] | None = None,
    draws: int = 20_000,
    weights="relative",
    family: str = "gaussian",
    surrogate: str | None = None,
    surrogate_pilot: float = 0.03,
    random_seed=None,
    progressbar: bool = True,
    compile_kwargs: dict | None = None,
    ci_prob: float = 0.95,
    **options,
) -> xr.DataTree:
    """Estimate many expectations ``E_f[phi_j(X)]`` from ONE shared adaptive sample.

    The input law ``f`` is a PyMC model's free variables. The method is adaptive
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
    draws : int
        TOTAL budget of model evaluations, adaptive phase included.
    weights : "relative", "absolute" or array
        Weights of the variance criterion: ``1 / I_j^2`` from running estimates
        (relative precision, the default), ``1``, or one positive weight per expectation.
    family : "gaussian" or "mixture"
        Auxiliary density per expectation: one Gaussian, or a Gaussian mixture.
    surrogate : None (default) or "polynomial"
        With "polynomial", a pilot of the initial law (``surrogate_pilot`` of the budget)
        fits a polynomial surrogate s of each output (degree, and log or linear space,
        by held-out error); the sampler then estimates ``E_f[phi - beta s]`` and
        ``beta E_f[s]`` is added, computed by randomized QMC on the surrogate alone
        under each law (no model run; its error is in the error bars). Unbiased
        whatever the fit; an output the surrogate does not help is left as it is. For
        smooth outputs of a few inputs it can divide the variance by orders of
        magnitude; each input law needs a quantile map (univariate distributions with
        an inverse CDF, multivariate normals) when there are several. See
        :mod:`pymc_ais.core.output_control`.
    surrogate_pilot : float
        Fraction of the budget spent on the surrogate's pilot.
    random_seed : int, numpy Generator or None
    progressbar : bool
        Show progress over the adaptive blocks and the final phase.
    compile_kwargs : dict, optional
        Passed to ``pytensor.function`` for the log-density/output function
        (e.g. ``{"mode": "NUMBA"}``). Compiled functions are cached per model and outputs.
    ci_prob : float
        Probability of the confidence intervals (normal intervals).
    **options
        Tuning passed to :class:`pymc_ais.core.Settings`: ``covariance``
        ("full"/"diag"), ``n_components``, ``control_variates`` ("full"/"single"),
        ``defensive``, ``alpha_floor``, ``block_fraction``, ``adaptive_fraction``,
        ``sampler``, ``max_control_variates``, ``min_cv_points``.

    Warns
    -----
    ReliabilityWarning
        In plain words, naming the expectation: Pareto k-hat above 0.7, effective
        sample size below 100, an output constant on every draw, an adaptive phase
        stopped by its budget cap.

    Returns
    -------
    xarray.DataTree
        Groups ``estimates`` (mean, mcse, ci_lower, ci_upper, ess, ess_weights,
        pareto_k, covariance), ``samples`` (final draws, dims chain/draw),
        ``log_weights``, ``outputs``, ``adaptation``; run information in ``attrs``.

    Examples
    --------
    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0, 1)
    >>> idata = pa.estimate({"m2": x**2, "p": x > 2}, model=m, draws=4000,
    ...                     random_seed=1, progressbar=False)
    >>> idata["estimates"]["mean"].sel(expectation="m2").item()  # doctest: +SKIP
    1.00...
    """
    check_options(options)
    if isinstance(models, LawGrid):
        model = models.model if model is None else model
    elif models is not None:
        if not isinstance(models, Mapping) or not models:
            raise ValueError("models must be a non-empty mapping name -> pm.Model (the alternative input laws)")
        if model is None:
            model = next(iter(models.values()))
    if not isinstance(draws, (int, np.integer)) or isinstance(draws, bool) or draws <= 0:
        raise ValueError(f"draws must be a positive integer (the total budget of model evaluations), got {draws!r}")
    if not 0 < ci_prob < 1:
        raise ValueError(f"ci_prob must be in (0, 1), got {ci_prob!r}")
    if not isinstance(weights, str):
        weights = np.asarray(weights, dtype=np.float64).ravel()
    if models is not None:
        # many overlapping laws: cross-fitted control variates on every component
        options = {"cv_fit": "crossfit", "final_trim": 0.0, **options}
    settings = Settings(budget=int(draws), weights=weights, family=family, **options)
    model = pm.modelcontext(model)
    rng = np.random.default_rng(random_seed)
    model_problem = build(expectations, model, compile_kwargs, rng, laws=models)
    if not isinstance(weights, str) and weights.shape[0] != model_problem.problem.n_pairs:
        raise ValueError(
            f"weights has {weights.shape[0]} entries but there are {model_problem.problem.n_pairs} "
            f"expectations ({', '.join(model_problem.labels)})"
        )
    control = _output_control(model_problem, surrogate, surrogate_pilot, int(draws), rng)
    problem = model_problem.problem
    if control is not None:
        problem = residual_problem(problem, control)
        # relative weights from the outputs' scale, not from the residuals' near-zero means
        settings = dataclasses.replace(settings, budget=settings.budget - control.pilot_points,
                                       weight_scale=control.mean)
    try:
        result = run_with_progress(problem, settings, rng, progressbar)
    except EvaluationError as err:
        if "x" in err.completed and len(err.completed["x"]):
            err.completed["draws"] = model_problem.natural(err.completed["x"])
        raise
    outputs = None
    if control is not None:
        result, outputs = add_control(result, control)
    idata = build_datatree(result, model_problem, settings, ci_prob, random_seed, outputs)
    if control is not None:
        idata.attrs.update(
            surrogate=control.describe(), evaluations_pilot=control.pilot_points,
            evaluations=idata.attrs["evaluations"] + control.pilot_points, budget=int(draws),
        )
        note = "with a surrogate, these refer to the residual outputs phi - beta s that were sampled"
        idata["adaptation"].attrs["note"] = note
        idata["estimates"]["pareto_k"].attrs["note"] = note
    check_result(idata)
    return idata


def _output_control(model_problem, kind, fraction, draws, rng) -> OutputControl | None:
    """Pilot and surrogates for ``surrogate=kind``; None when not asked for."""
    if not surrogate_requested(kind, fraction):
        return None
    problem = model_problem.problem
    needed = 4 * POINTS_PER_FEATURE * (problem.dim + 1)
    pilot = max(int(fraction * draws), needed)
    if pilot > 0.5 * draws:
        raise ValueError(
            f"draws={draws} is too small for a surrogate in {problem.dim} dimensions: its pilot alone "
            f"needs {needed} evaluations; raise draws or pass surrogate=None"
        )
    law_quantile = model_problem.law_quantiles()
    if law_quantile is None and problem.n_laws > 1:
        raise ValueError(
            "surrogate='polynomial' with several input laws needs every law's quantile map, and some "
            "law has a distribution without an inverse CDF; pass surrogate=None"
        )
    return output_control(problem, law_quantile, pilot, rng, final_points=draws - pilot)


def add_control(result, control: OutputControl):
    """Put the surrogate term back into the estimates and their covariance.

    Returns the result and phi at the final draws. The result's draws keep the residual
    outputs: its diagnostics (ESS, Pareto k-hat) are those of what was sampled.
    """
    est = result.estimates
    cov = est.cov + control.cov
    phi = np.array(result.final.phi, dtype=np.float64)
    for m, s in enumerate(control.surrogates):
        if s is not None:
            phi[:, m] += control.beta[m] * s(result.final.x)
    result = result._replace(estimates=est._replace(mean=est.mean + control.mean, cov=cov, mcse=np.sqrt(np.diag(cov))))
    return result, phi

"""Public entry point: :func:`estimate`."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

import numpy as np
import pymc as pm
import xarray as xr

from .core.aiscv import run
from .core.problem import EvaluationError
from .core.settings import Settings
from .progress import ProgressReporter
from .pymc.grid import LawGrid
from .pymc.problem import build
from .reliability import check_result
from .results import build_datatree

_OPTIONS = tuple(
    f.name for f in dataclasses.fields(Settings) if f.name not in ("budget", "weights", "family")
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
    try:
        result = run_with_progress(model_problem.problem, settings, rng, progressbar)
    except EvaluationError as err:
        if "x" in err.completed and len(err.completed["x"]):
            err.completed["draws"] = model_problem.natural(err.completed["x"])
        raise
    idata = build_datatree(result, model_problem, settings, ci_prob, random_seed)
    check_result(idata)
    return idata

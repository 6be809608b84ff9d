"""Equally weighted draws for ArviZ: systematic resampling of a run's weighted final draws.

The ``samples`` and ``outputs`` groups of a result are draws from the adaptive proposal
g, weighted by ``f / g``: ArviZ functions on them describe g, not the law. This module
turns them into an equally weighted ``posterior`` (or ``prior``) group, per law, that
``az.summary``, ``az.plot_posterior`` and arviz-stats read as they read MCMC draws.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..core.densities.gaussian_mixture import kish_ess, normalised_weights
from .log_densities import per_law_groups, pointwise_groups


def systematic_resample(weights: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``size`` draws by systematic resampling of normalised ``weights``, shuffled.

    Each draw is kept ``size * w_i`` times up to rounding (the lowest variance of the
    usual resampling schemes); the shuffle removes the ordering, which ArviZ's
    autocorrelation-based ESS would otherwise read as a strongly correlated chain.

    Examples
    --------
    >>> import numpy as np
    >>> idx = systematic_resample(np.array([0.5, 0.25, 0.25]), 4, np.random.default_rng(0))
    >>> np.bincount(idx, minlength=3).tolist()
    [2, 1, 1]
    """
    positions = (rng.random() + np.arange(size)) / size
    cumulative = np.cumsum(weights)
    cumulative[-1] = 1.0
    return rng.permutation(np.searchsorted(cumulative, positions))


def to_posterior(idata: xr.DataTree, draws: int | None = None, random_seed=None, model=None) -> xr.DataTree:
    """An ArviZ DataTree of equally weighted draws of every law, resampled from a result.

    Parameters
    ----------
    idata : a result of :func:`pymc_ais.estimate`.
    draws : number of equally weighted draws per law; by default the smallest Kish
        effective sample size of the laws' weights (so that duplicates stay few and
        ArviZ's ESS of the draws is not far above the information they hold).
    random_seed : seed of the resampling.
    model : pm.Model, or a dict {law name: pm.Model}, optional
        The run's model (one law), or the run's ``models=`` (several laws). With it, the
        groups ``log_prior`` (each free variable's prior log-density, natural space) and
        ``log_likelihood`` (each observed variable's pointwise log-likelihood) are filled
        at the resampled draws (each law's at its own, dim ``model``), so that
        ``arviz_stats.psense_summary`` and LOO run on the result. Without it, the
        groups a posterior run stored at its final draws are resampled with them
        (a run stores them unless they would be too large, see ``idata.attrs``).

    Returns
    -------
    xarray.DataTree
        One group, ``posterior`` for a run on posteriors (observed data) or ``prior``
        otherwise, holding the free variables (natural values, with the model's dims)
        and the outputs, dims ``(chain, draw, ...)``, plus a ``model`` dim after
        ``draw`` when the run had several laws. Summaries of these draws carry the
        resampling's noise on top of the run's: the ``estimates`` group stays the
        precise answer. For a posterior run, also ``log_prior`` and ``log_likelihood``.

    Notes
    -----
    Resampled draws hold no more information than the weighted draws they come from:
    about ``ess_weights`` (Kish's effective sample size of the law's weights) independent
    draws, whatever ``draws`` is. ArviZ counts each duplicate as a draw and reads the
    shuffled draws as uncorrelated, so ``az.summary``'s ``ess_bulk`` is close to
    ``draws`` and its ``mcse_mean`` is too small by about ``sqrt(draws / ess_weights)``
    when ``draws`` exceeds ``ess_weights``. The default ``draws`` (the smallest
    ``ess_weights`` of the laws) keeps that factor near one; for error bars, read the
    ``estimates`` group (its ``mcse`` and ``ess_iid`` account for the weights and the
    control variates).

    Examples
    --------
    >>> import numpy as np, pymc as pm, pymc_ais as pa, arviz as az
    >>> with pm.Model() as m:
    ...     mu = pm.Normal("mu", 0.0, 1.0)
    ...     obs = pm.Normal("y", mu, 1.0, observed=np.array([0.5, 1.5, 1.0]))
    >>> idata = pa.estimate({"mu": "mu"}, model=m, draws=4000, random_seed=1, progressbar=False)
    >>> post = pa.to_posterior(idata, random_seed=1)
    >>> bool(abs(float(post["posterior"]["mu"].mean()) - 0.75) < 0.05)
    True
    """
    for group in ("samples", "log_weights"):
        if group not in idata.children:
            raise ValueError(f"idata has no {group!r} group: pass a result of pymc_ais.estimate")
    samples = idata["samples"].to_dataset()
    outputs = idata["outputs"].to_dataset() if "outputs" in idata.children else xr.Dataset()
    extra = outputs[[name for name in outputs.data_vars if name not in samples]]
    values = xr.merge([samples, extra]).isel(chain=0)
    log_weight = idata["log_weights"].to_dataset()["log_weight"]
    several = "model" in log_weight.dims
    table = log_weight.isel(chain=0).transpose(*(("model", "draw") if several else ("draw",))).values
    table = np.atleast_2d(table)
    weights = [normalised_weights(row) for row in table]
    if draws is None:
        draws = max(1, int(min(kish_ess(w) for w in weights)))
    if not isinstance(draws, (int, np.integer)) or draws < 1:
        raise ValueError(f"draws must be a positive integer, got {draws!r}")
    rng = np.random.default_rng(random_seed)
    indices = []
    for w in weights:
        if not w.sum() > 0:
            raise ValueError("a law has zero weight on every final draw: there is nothing to resample")
        indices.append(systematic_resample(w, int(draws), rng))
    resampled = _take(values, indices, log_weight["model"] if several else None)
    name = "posterior" if "evidence" in idata.children else "prior"
    resampled.attrs = {
        "inference_library": "pymc_ais",
        "description": (
            "equally weighted draws, systematic resampling of the weighted final draws; statistics of "
            "them carry the resampling's noise on top of the run's (the estimates group is the precise answer)"
        ),
    }
    groups = {name: resampled}
    if model is not None and not several:
        if isinstance(model, dict):
            raise ValueError("this run has one law: pass model= the pm.Model itself, not a dict")
        groups.update(pointwise_groups(model, resampled))
    elif model is not None:
        groups.update(per_law_groups(_models_of(model, log_weight["model"]), resampled, log_weight["model"]))
    else:
        for group in ("log_prior", "log_likelihood"):
            if group in idata.children:
                stored = idata[group].to_dataset().isel(chain=0)
                groups[group] = _take(stored, indices, log_weight["model"] if several else None)
    return xr.DataTree.from_dict(groups)


def _take(values: xr.Dataset, indices: list[np.ndarray], laws: xr.DataArray | None) -> xr.Dataset:
    """Law l's resampled draws ``values[indices[l]]`` (``values`` without ``chain``), dims ``chain, draw, [model]``."""
    per_law = []
    for position, idx in enumerate(indices):
        law_values = values
        if laws is not None and "model" in values.dims:  # by name: a file's order need not be the weights'
            law_values = values.sel(model=laws.values[position], drop=True)
        per_law.append(law_values.isel(draw=idx).assign_coords(draw=np.arange(idx.size)))
    if laws is None:
        return per_law[0].expand_dims(chain=[0]).transpose("chain", "draw", ...)
    return xr.concat(per_law, dim=laws).expand_dims(chain=[0]).transpose("chain", "draw", "model", ...)


def _models_of(models, laws: xr.DataArray) -> dict:
    """``model=`` of a run with several laws, checked: a dict with a model for every law."""
    names = [str(v) for v in laws.values]
    if not isinstance(models, dict):
        raise ValueError(
            f"this run has {len(names)} laws: pass model= a dict {{law name: pm.Model}} (the run's models=), "
            f"with the names {names}"
        )
    missing = [law for law in names if law not in models]
    if missing:
        raise ValueError(f"model= has no model for law {missing[0]!r}; the run's laws are {names}")
    return models

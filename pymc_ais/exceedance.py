"""Public entry point :func:`exceedance`: P(Y > t_k) for many thresholds, and tail quantiles, from one run."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pymc as pm
import xarray as xr
from pytensor.graph.basic import Variable

from .estimate import check_arguments as check_estimate_arguments
from .estimate import event_run_arguments, run_estimate
from .laws.lawset import LawSet
from .model.events import Threshold
from .pipeline import RunRequest, Session, execute
from .pipeline.registry import Entry
from .results.datatree import interval_quantile
from .results.reliability import warn_certain_events, warn_user

QUANTILE_BATCHES = 10  # i.i.d. final draws: batches whose spread gives the quantiles' errors


def exceedance(
    output,
    thresholds: Sequence[float],
    *,
    tail_probabilities: Sequence[float] | None = None,
    model: pm.Model | None = None,
    models: Mapping[str, pm.Model] | None = None,
    draws: int = 20_000,
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
    """Exceedance probabilities ``P(Y > t_k)`` of one output for every threshold, from ONE run.

    Each threshold is an event ``Y > t_k`` with its score ``Y - t_k``, so events no first
    draw reaches are climbed to (the multilevel start of :func:`estimate`), and the
    thresholds share their intermediate levels. ``Y`` may be a black-box simulator: its
    response is computed once per point, and the events and their scores are read off
    it (no extra run). The estimates come with their
    covariance across thresholds. With ``tail_probabilities``, the tail quantiles
    ``q_j`` (``P(Y > q_j) = p_j``) are read off the importance-weighted exceedance
    curve of the final draws, with errors from the spread of the quasi-random
    replicates (or of batches of i.i.d. draws); choose thresholds that bracket them, so
    that the final draws reach that far.

    Parameters
    ----------
    output : a scalar PyTensor expression of the model's random variables, the name of
        a model variable (a ``pm.Deterministic``, say), or a callable (a black-box
        simulator, as for :func:`estimate`: a dict of the free variables' values with a
        leading batch axis in, one response per point out, shape ``(n,)``).
    thresholds : the thresholds t_k, at least one, finite, increasing.
    tail_probabilities : optional tail probabilities p_j in (0, 1) whose quantiles are wanted.
    model, models, draws, random_seed, progressbar, compile_kwargs, ci_prob, **options
        As for :func:`estimate` (``draws`` is the total budget for all thresholds; with
        ``models``, every probability and quantile under every law, dim ``model``),
        except that ``surrogate`` defaults to None: the events are what the run is for,
        and a surrogate's pilot would only serve ``E[Y]``.
    executor, chunk_size, on_error, checkpoint
        As for :func:`estimate`; :func:`pymc_ais.resume` continues an exceedance run
        with its ``exceedance`` and ``quantiles`` groups.

    Returns
    -------
    xarray.DataTree
        The groups of :func:`estimate` (expectations ``P(Y > t)`` for each threshold and
        ``E[Y]``), plus ``exceedance`` (dim ``threshold``: ``probability``, ``mcse``,
        ``ci_lower``, ``ci_upper``, ``covariance``) and, with ``tail_probabilities``,
        ``quantiles`` (dim ``tail_probability``: ``quantile``, ``mcse``, ``ci_lower``,
        ``ci_upper``). With ``models``, both have a ``model`` dim first, and
        ``covariance`` is each law's across its thresholds (the ``estimates`` group
        holds the covariance across laws).

    Warns
    -----
    ReliabilityWarning
        As for :func:`estimate`, and when every final draw exceeds a threshold (a
        threshold below the output's range: a probability of 1 as far as the run can tell),
        or a callable returned only the values 0 and 1 (an indicator, not the output).

    Examples
    --------
    >>> import pymc as pm
    >>> import pymc_ais as pa
    >>> with pm.Model() as model:
    ...     x = pm.Normal("x", 0.0, 1.0, shape=3)
    >>> idata = pa.exceedance(x.sum(), [3.0, 5.0], model=model, draws=4000, random_seed=1,
    ...                       progressbar=False)
    >>> idata["exceedance"]["probability"].sizes["threshold"]
    2

    A black-box simulator (here S = the sum / sqrt(3), a standard normal), climbed to
    3e-5 with 4000 runs:

    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> def simulator(values):
    ...     return values["x"].sum(axis=1) / np.sqrt(3.0)
    >>> idata = pa.exceedance(simulator, [2.0, 4.0], model=model, draws=4000, random_seed=1,
    ...                       progressbar=False)
    >>> curve = idata["exceedance"]
    >>> bool(np.all(np.abs(curve["probability"] - norm.sf([2.0, 4.0])) < 4 * curve["mcse"]))
    True
    """
    return execute(RunRequest.bind("exceedance", locals()))


def check_arguments(arguments: dict) -> dict:
    """An exceedance call's arguments validated, before anything is compiled or stored."""
    a = arguments
    thresholds = np.atleast_1d(np.asarray(a["thresholds"], dtype=np.float64))
    if thresholds.ndim != 1 or thresholds.size == 0 or not np.all(np.isfinite(thresholds)):
        raise ValueError(f"thresholds must be a non-empty list of finite numbers, got {a['thresholds']!r}")
    if np.any(np.diff(thresholds) <= 0):
        at = int(np.flatnonzero(np.diff(thresholds) <= 0)[0])
        raise ValueError(
            f"thresholds must be increasing, without repeats: {thresholds[at]:g} is followed by "
            f"{thresholds[at + 1]:g}; pass sorted(set(thresholds))"
        )
    labels = _labels(thresholds)
    if len(set(labels)) != len(labels):
        same = next(label for label in labels if labels.count(label) > 1)
        raise ValueError(f"thresholds too close to tell apart: several are labelled {same!r}")
    a["thresholds"] = thresholds
    if a["tail_probabilities"] is not None:
        probabilities = np.atleast_1d(np.asarray(a["tail_probabilities"], dtype=np.float64))
        if probabilities.ndim != 1 or probabilities.size == 0 or np.any((probabilities <= 0) | (probabilities >= 1)):
            raise ValueError(f"tail_probabilities must be in (0, 1), got {a['tail_probabilities']!r}")
        if a.get("keep_draws", True) is not True:
            raise ValueError("tail_probabilities need every final draw (weighted quantiles): leave keep_draws=True")
        a["tail_probabilities"] = probabilities
    call = event_run_arguments(a, ("output", "thresholds", "tail_probabilities"))
    checked = check_estimate_arguments({**call, "expectations": _events(a)})  # one event per threshold, and E[Y]
    return {**checked, "output": a["output"], "thresholds": thresholds, "tail_probabilities": a["tail_probabilities"]}


def _labels(thresholds) -> list[str]:
    return [f"P(Y > {t:g})" for t in thresholds]


def _events(a: dict) -> dict:
    output = a["output"]
    if callable(output) and not isinstance(output, (str, Variable)):
        # events on the simulator's response, which runs once per point for all of them and E[Y]
        events = [Threshold(output, ">", np.float64(t), reduce=scalar_response) for t in a["thresholds"]]
        return {**dict(zip(_labels(a["thresholds"]), events)), "E[Y]": output}
    y = _scalar_output(output, LawSet.user_model(a["model"], a.get("models")))
    expectations = {label: y > t for label, t in zip(_labels(a["thresholds"]), a["thresholds"])}
    expectations["E[Y]"] = y
    return expectations


def scalar_response(y: np.ndarray) -> np.ndarray:
    """A simulator's response, which must be one number per point (shape ``(n,)``)."""
    if y.ndim != 1:
        raise ValueError(
            f"exceedance needs one response per point (shape (n,)); the simulator returned shape {y.shape[1:]} "
            "per point (return a 1-d array, or one output of the simulator)"
        )
    return y


def run_exceedance(arguments: dict, session: Session) -> xr.DataTree:
    """The steps of an exceedance run: the estimate of every event, then the curve and the quantiles."""
    a = dict(arguments)
    thresholds, probabilities = a.pop("thresholds"), a.pop("tail_probabilities")
    a.pop("output")
    idata = run_estimate(a, session)
    names = _labels(thresholds)
    est = idata["estimates"].to_dataset().sel(expectation=names, expectation_bis=names)
    curve = est[["mean", "mcse", "ci_lower", "ci_upper"]].rename(mean="probability", expectation="threshold")
    covariance = est["covariance"].rename(expectation="threshold", expectation_bis="threshold_bis")
    if "model" in est.dims:  # each law's covariance of its own curve: (model, threshold, threshold_bis)
        same_law = xr.DataArray(est["model"].values, dims="model")
        covariance = covariance.sel(model_bis=same_law).drop_vars("model_bis")
    curve = (
        curve.assign(covariance=covariance)
        .drop_attrs()
        .assign_coords(threshold=thresholds, threshold_bis=thresholds)
        .assign_attrs(ci_prob=a["ci_prob"], description="P(Y > threshold), estimated from one shared run")
    )
    idata["exceedance"] = curve
    warn_certain_events(idata, names, "Is the threshold below every value the output takes?")
    if probabilities is not None:
        log_w = idata["log_weights"].to_dataset()["log_weight"]
        if "model" not in curve.dims:
            idata["quantiles"] = _quantiles(idata, log_w.values[0], probabilities, a["ci_prob"])
        else:
            laws = curve["model"].values
            each = [_quantiles(idata, log_w.sel(model=law).values[0], probabilities, a["ci_prob"]) for law in laws]
            law_coords = {k: v for k, v in curve.coords.items() if v.dims == ("model",)}  # a grid's parameters too
            idata["quantiles"] = xr.concat(each, dim="model").assign_coords(law_coords)
    return idata


def _scalar_output(output, model):
    """The output as a scalar PyTensor expression, with a clear error otherwise."""
    if isinstance(output, str):
        model = pm.modelcontext(model)
        if output not in model.named_vars:
            raise ValueError(f"the model has no variable named {output!r}")
        output = model[output]
    if not isinstance(output, Variable):
        raise TypeError(
            "exceedance needs a PyTensor expression of the model's variables, a variable name or a callable "
            f"simulator, got {type(output).__name__}"
        )
    if output.ndim != 0:
        raise ValueError(f"exceedance needs a scalar output; this one has {output.ndim} dimension(s)")
    return output


def _quantiles(idata: xr.DataTree, log_w: np.ndarray, probabilities: np.ndarray, ci_prob: float) -> xr.Dataset:
    """Tail quantiles from the weighted exceedance curve of the final draws (log-weights ``log_w``), per replicate."""
    y = idata["outputs"].to_dataset()["E[Y]"].values[0]
    n = y.size
    replicates = int(idata["estimates"].attrs.get("replicates", 0))
    groups = replicates if replicates >= 2 else QUANTILE_BATCHES
    per = n // groups
    pooled = np.array([_tail_quantile(y, log_w, p) for p in probabilities])
    parts = np.array(
        [
            [_tail_quantile(y[g * per : (g + 1) * per], log_w[g * per : (g + 1) * per], p) for p in probabilities]
            for g in range(groups)
        ]
    )
    # a replicate (or batch) whose draws never reach p leaves the spread unknown: no error bar
    known = np.isfinite(pooled) & np.all(np.isfinite(parts), axis=0)
    mcse = np.full(pooled.shape, np.nan)
    mcse[known] = np.std(parts[:, known], axis=0, ddof=1) / np.sqrt(groups)
    if not known.all():
        unknown = ", ".join(f"{p:g}" for p in probabilities[~known])
        warn_user(
            f"tail quantile(s) at {unknown}: some of the {groups} {'replicates' if replicates >= 2 else 'batches'} "
            "of the final draws never reach that exceedance probability, so the quantile's error bar is unknown "
            "(NaN). Use more draws, or a threshold nearer that tail to climb to."
        )
    z = interval_quantile(ci_prob, float(groups - 1))
    return xr.Dataset(
        {
            "quantile": ("tail_probability", pooled),
            "mcse": ("tail_probability", mcse),
            "ci_lower": ("tail_probability", pooled - z * mcse),
            "ci_upper": ("tail_probability", pooled + z * mcse),
        },
        coords={"tail_probability": probabilities},
        attrs={
            "ci_prob": ci_prob,
            "description": "q with P(Y > q) = tail_probability, from the importance-weighted final draws; "
            f"errors from the spread over {groups} {'replicates' if replicates >= 2 else 'batches'}",
        },
    )


def _tail_quantile(y: np.ndarray, log_w: np.ndarray, p: float) -> float:
    """``q`` where the weighted exceedance ``mean(w 1{y > q})`` falls to ``p`` (NaN if never that high)."""
    order = np.argsort(y)[::-1]
    mass = np.cumsum(np.exp(log_w[order])) / y.size  # exceedance just below each sorted value
    k = int(np.searchsorted(mass, p))
    if k == 0 or k >= y.size:
        return np.nan
    # between the k-th and (k+1)-th largest values, interpolated on the exceedance
    hi, lo = y[order[k - 1]], y[order[k]]
    m0, m1 = mass[k - 1], mass[k]
    return float(hi + (lo - hi) * (p - m0) / (m1 - m0)) if m1 > m0 else float(lo)


ENTRY = Entry(check_arguments, run_exceedance)

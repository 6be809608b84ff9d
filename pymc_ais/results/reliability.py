"""Plain-words warnings about estimates that should not be trusted as they are."""

from __future__ import annotations

import json
import os
import sys
import warnings

import numpy as np
import xarray as xr

PARETO_K_THRESHOLD = 0.7
# Fewer effective draws than this under an estimate (Kish ESS of |phi| f / g): its error
# bar rests on too few terms for the central limit theorem to be trusted.
MIN_EFFECTIVE_DRAWS = 30.0


class ReliabilityWarning(UserWarning):
    """An estimate or its error bar may be unreliable; the message says which and why."""


_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def warn_user(message: str, category: type[Warning] = ReliabilityWarning) -> None:
    """``warnings.warn`` attributed to the first caller outside pymc_ais: the user's line.

    A fixed ``stacklevel`` points at the right line from one entry point only; the same
    warning comes through ``pa.estimate``, ``pa.exceedance``, ``pa.failure_probability``
    and ``pa.resume`` at different depths.
    """
    frame = sys._getframe(1)
    level = 2
    while frame.f_back is not None and frame.f_code.co_filename.startswith(_PACKAGE):
        frame = frame.f_back
        level += 1
    warnings.warn(message, category, stacklevel=level)


def thin_regions(ess: np.ndarray) -> np.ndarray | None:
    """Which of an event's regions rest on fewer than ``MIN_EFFECTIVE_DRAWS`` effective final draws.

    None when none does, or every one does (then the event's own diagnostics say so):
    the case worth a warning is a region thin beside well-sampled ones.
    """
    thin = np.asarray(ess) < MIN_EFFECTIVE_DRAWS  # NaN (no integrand left to sample) is not thin
    return thin if thin.any() and not thin.all() else None


def thin_regions_message(event: str, kind: str, n_regions: int, thin: list[str]) -> str:
    """The warning for an event whose final draws reach some of its regions through few effective draws."""
    return (
        f"{event!r}: the final draws reach this event through only {n_regions - len(thin)} of its {n_regions} "
        f"{kind}; {', '.join(repr(t) for t in thin)} rest(s) on fewer than {MIN_EFFECTIVE_DRAWS:g} effective "
        "draws, so unless that region is negligible the estimate may miss its share, and its error bar cannot "
        "show it. Use more draws."
    )


def warn_indicator_responses(responses: list[tuple[str, list[str]]]) -> None:
    """Warn for each callable whose compared response took only the values 0 and 1: an indicator, likely.

    ``responses``: (the callable in words, the events that compare its response with a threshold).
    """
    for callable_, events in responses:
        warn_user(
            f"{callable_} returned only the values 0 and 1, and {', '.join(repr(e) for e in events)} compare(s) "
            "its response with a threshold. If it returns an indicator of the event, return the quantity "
            "instead: a limit state of pa.failure_probability given as 0 and 1 fails wherever it is 0 (return g, "
            "failing where g <= 0); for pa.exceedance and pa.event the probability holds but the run has no "
            "distance to the event to climb by, and misses a rare one (return the simulated output). A response "
            "that truly takes two values needs nothing."
        )


def _labels(ds: xr.Dataset, mask: np.ndarray) -> list[str]:
    exp = ds["expectation"].values
    if "model" in ds.dims:
        models = ds["model"].values
        return [f"{exp[j]} under law {models[i]}" for i, j in zip(*np.nonzero(mask))]
    return [str(exp[j]) for j in np.flatnonzero(mask)]


def _listing(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _failure_messages(idata: xr.DataTree) -> list[str]:
    """The warning of a run that dropped failed model evaluations (``on_error="drop"``)."""
    failures = json.loads(idata.attrs.get("failures", "{}"))
    if not failures.get("points_dropped"):
        return []
    probability = ", ".join(f"{p:.3g} under law {law!r}" for law, p in failures["failure_probability"].items())
    return [
        f"{failures['points_dropped']} model evaluation(s) failed and were dropped (on_error='drop'; "
        f"{failures['final_points_dropped']} among the final draws): each estimate is of E[phi * 1(run "
        "succeeded)], which differs from E[phi] by at most P(failure) * max|phi|. The estimated probability "
        f"of a failed run is {probability}."
    ]


def _undefined_indices(idata: xr.DataTree) -> list[str]:
    """A Sobol' result whose variance estimate is not positive: every index is NaN."""
    if "sensitivity" not in idata.children:
        return []
    variance = idata["sensitivity"].attrs.get("output_variance")
    if variance is None or variance > 0:
        return []
    spread = idata["sensitivity"].attrs.get("output_variance_mcse", np.nan)
    if variance == 0 and spread == 0:
        return [
            "the output took one value on every draw: its estimated variance is 0 and every Sobol' index is "
            "undefined (NaN). Check that the output depends on the inputs where they have mass."
        ]
    return [
        f"the estimated variance of the output is {variance:.3g} (mcse {spread:.2g}), not positive: every "
        "Sobol' index is undefined (NaN). The budget is too small for this output, or its surrogate control "
        "failed: use more draws, or surrogate=None. The pick-freeze estimates are in the 'estimates' group."
    ]


def _undefined_posteriors(idata: xr.DataTree) -> list[str]:
    """A posterior run whose evidence estimate is not positive: that law's expectations are NaN."""
    if "evidence" not in idata.children:
        return []
    undefined = idata["estimates"]["mean"].isnull()
    if not bool(undefined.any()):
        return []
    which = "the posterior"
    if "model" in undefined.dims:
        per_law = undefined.any(dim=[d for d in undefined.dims if d != "model"])
        which = f"law {_listing([str(m) for m in undefined['model'].values[per_law.values]])}"
    return [
        f"{which}: the estimate of the evidence (the integral of prior times likelihood) is not positive, so "
        "the posterior expectations and the log evidence are undefined (NaN): the draws did not find the "
        "posterior. Use more draws, pass init= draws of the posterior (pm.sample's, say), or reparametrise "
        "the model."
    ]


def _unused_inputs(idata: xr.DataTree, ds: xr.Dataset) -> np.ndarray:
    """Sobol' index numerators of a varying output: zero on every draw means an input never used.

    Such an index is 0 with error 0, what SALib reports too, not an event never reached
    (the warning fired on every run of an output that ignores one of its inputs).
    """
    shape = ds["ess_integrand"].shape
    if "sensitivity" not in idata.children or not idata["sensitivity"].attrs.get("output_variance", 0) > 0:
        return np.zeros(shape, dtype=bool)
    names = ds["expectation"].values.astype(str)
    return np.broadcast_to(np.char.startswith(names, "first[") | np.char.startswith(names, "total["), shape)


def check_result(idata: xr.DataTree) -> list[str]:
    """Emit a :class:`ReliabilityWarning` for each problem found; return the messages."""
    ds = idata["estimates"].to_dataset()
    messages = []
    khat = ds["pareto_k"].values
    high = np.nan_to_num(khat, nan=-np.inf) > PARETO_K_THRESHOLD
    if high.any():
        messages.append(
            f"Pareto k-hat above {PARETO_K_THRESHOLD} for {_listing(_labels(ds, high))}: the importance "
            "weights have a heavy tail, so the estimate may be far off and its error bar too small. "
            "Use more draws, and check for heavy tails in the output or in an input law (a Student-t prior, say)."
        )
    carried = ds["ess_integrand"].values
    unseen = (carried == 0) & ~_unused_inputs(idata, ds)
    if unseen.any():
        messages.append(
            f"{_listing(_labels(ds, unseen))}: the output is zero on every final draw (an event never "
            "reached), so the estimate is 0 and its error bar says nothing. The event may still have a "
            "positive probability: use more draws, or check that the budget can reach its probability."
        )
    few = (carried > 0) & (carried < MIN_EFFECTIVE_DRAWS)
    if few.any():
        messages.append(
            f"{_listing(_labels(ds, few))}: the estimate rests on fewer than {MIN_EFFECTIVE_DRAWS:g} "
            "effective draws (see 'ess_integrand'; for an event, the final draws inside it), too few for "
            "its error bar to be trusted. Use more draws."
        )
    messages.extend(_failure_messages(idata))
    messages.extend(_undefined_indices(idata))
    messages.extend(_undefined_posteriors(idata))
    for message in messages:
        warn_user(message)
    return messages


def warn_certain_events(idata: xr.DataTree, labels, hint: str) -> None:
    """A :class:`ReliabilityWarning` for events that hold at every final draw (probability 1, or a sign turned).

    ``hint`` ends the message: what usually causes it for the caller's kind of event.
    """
    if "outputs" not in idata.children:
        return
    outputs = idata["outputs"].to_dataset()
    labels = [str(label) for label in labels]
    certain = []
    for name in outputs.data_vars:
        values = outputs[name].values[0]  # (draw, *shape)
        own = [label for label in labels if label == name or label.startswith(f"{name}[")]
        for label, column in zip(own, values.reshape(values.shape[0], -1).T):
            if column.size and np.all(column == 1.0):
                certain.append(label)
    if certain:
        warn_user(
            f"{', '.join(repr(c) for c in certain)}: every final draw is in the event, so its probability "
            f"is 1 as far as this run can tell. {hint}"
        )

"""Plain-words warnings about estimates that should not be trusted as they are."""

from __future__ import annotations

import warnings

import numpy as np
import xarray as xr

PARETO_K_THRESHOLD = 0.7
MIN_ESS = 100.0


class ReliabilityWarning(UserWarning):
    """An estimate or its error bar may be unreliable; the message says which and why."""


def _labels(ds: xr.Dataset, mask: np.ndarray) -> list[str]:
    exp = ds["expectation"].values
    if "model" in ds.dims:
        models = ds["model"].values
        return [f"{exp[j]} under law {models[i]}" for i, j in zip(*np.nonzero(mask))]
    return [str(exp[j]) for j in np.flatnonzero(mask)]


def _listing(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(repr(n) for n in names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


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
    zero = ds["mcse"].values == 0
    if zero.any():
        messages.append(
            f"{_listing(_labels(ds, zero))}: the output is the same on every final draw (often zero: an "
            "event never seen), so its error bar is 0 and says nothing. Use more draws; for a rare "
            "event, check that the budget can reach its probability."
        )
    ess = ds["ess"].values
    small = np.nan_to_num(ess, nan=np.inf) < MIN_ESS
    small &= ~zero
    if small.any():
        messages.append(
            f"effective sample size below {MIN_ESS:g} for {_listing(_labels(ds, small))}: the standard "
            "error rests on few effective draws. Use more draws."
        )
    if idata.attrs.get("stop_reason") == "budget":
        messages.append(
            "the adaptive phase used its whole share of the budget (half) before its stopping rule "
            "was met: the proposals may still be improving. More draws would let it adapt further."
        )
    for message in messages:
        warnings.warn(message, ReliabilityWarning, stacklevel=3)
    return messages

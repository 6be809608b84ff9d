"""The hidden region targets of composite events: a warning from them, then out of the results.

An event with several regions (a union, "at least k of n"; see
:mod:`pymc_ais.model.event_regions`) ran with one hidden target per region, after the
user's outputs. Their estimates say through how many regions the final draws reach
the event: :func:`warn_thin_regions` warns when some regions rest on a handful of
effective draws beside well-sampled ones. :func:`without_regions` then restates the
run for the user's outputs alone (the adaptation history keeps every target).
"""

from __future__ import annotations

import numpy as np

from ..core.engine.final import Estimates
from ..core.engine.kernel import RunResult
from .reliability import thin_regions, thin_regions_message, warn_user


def _visible_pairs(n_laws: int, n_visible: int, n_regions: int) -> np.ndarray:
    """Indices of the user's (law, output) pairs among the law-major pairs the core estimated."""
    width = n_visible + n_regions
    return (np.arange(n_laws)[:, None] * width + np.arange(n_visible)[None, :]).ravel()


def without_regions(result: RunResult, n_laws: int, n_visible: int, n_regions: int) -> RunResult:
    """The run's result for the user's outputs alone: estimates, diagnostics and final outputs."""
    if n_regions == 0:
        return result
    keep = _visible_pairs(n_laws, n_visible, n_regions)
    est = result.estimates
    estimates = Estimates(est.mean[keep], est.mcse[keep], est.cov[np.ix_(keep, keep)], est.n, est.df)
    diagnostics = {k: np.asarray(v)[keep] for k, v in result.diagnostics.items()}
    final = result.final
    final = final._replace(phi=final.phi[:, :n_visible], pair_summands=final.pair_summands[:, keep])
    return result._replace(estimates=estimates, diagnostics=diagnostics, final=final)


def warn_thin_regions(result: RunResult, layout, law_names: list[str]) -> None:
    """A :class:`ReliabilityWarning` per event whose final draws reach some of its regions through few draws.

    A region that fewer than ``MIN_EFFECTIVE_DRAWS`` effective final draws reach, beside
    one that more reach, is barely in the shared sample: the event's probability then
    rests on the other regions and may miss that region's share, with an error bar that
    cannot show it. No warning when every region is thin (the event's own diagnostics
    say so) or when the event was never reached.
    """
    labels, all_labels = layout.labels, layout.all_labels
    n_visible, width = len(labels), len(all_labels)
    ess = np.asarray(result.diagnostics["ess_integrand"]).reshape(len(law_names), width)
    mean = np.asarray(result.estimates.mean).reshape(len(law_names), width)
    weighted_as = layout.weighted_as(width)
    for law, law_name in enumerate(law_names):
        for event in range(n_visible):
            regions = np.flatnonzero(weighted_as[n_visible:] == event) + n_visible
            thin = thin_regions(ess[law, regions]) if regions.size and mean[law, event] > 0 else None
            if thin is None:
                continue
            label = labels[event] if len(law_names) == 1 else f"{labels[event]} under {law_name}"
            names = [all_labels[r] for r in regions[thin]]
            warn_user(thin_regions_message(label, "regions", regions.size, names))


def warn_thin_parts(result: RunResult, model_problem, law_names: list[str]) -> None:
    """The same warning for a union of single comparisons, whose parts are left to the event's own fit.

    Each part's effective final draws, ``(sum w 1_part)^2 / sum (w 1_part)^2`` with
    ``w = f / g``, are read off the final draws (the parts' indicators at them,
    computed from the expression: no model run); a part thin beside well-sampled ones
    was barely reached. Parts are numbered in the order the expression lists them. A
    part that cannot happen, or whose probability is negligible beside the others', is
    never reached either and warns too: the message says so.
    """
    final = result.final
    labels = model_problem.labels
    mean = np.asarray(result.estimates.mean).reshape(len(law_names), len(labels))
    for start, parts in model_problem.union_parts(final.x):  # parts (n, elements, R)
        for law, law_name in enumerate(law_names):
            with np.errstate(invalid="ignore"):
                log_w = final.log_f[:, law] - final.log_q
            log_w = np.where(np.isnan(log_w), -np.inf, log_w)
            for element in range(parts.shape[1]):
                column = start + element
                if not mean[law, column] > 0:
                    continue
                ess = np.array([_kish(log_w[part != 0]) for part in parts[:, element, :].T])
                thin = thin_regions(ess)
                if thin is None:
                    continue
                label = labels[column] if len(law_names) == 1 else f"{labels[column]} under {law_name}"
                names = [f"{labels[column]}: part {r}" for r in np.flatnonzero(thin)]
                message = thin_regions_message(label, "parts", parts.shape[2], names)
                message += (
                    " A part that cannot happen or is negligible is never reached either: "
                    "if so, leave it out of the expression."
                )
                warn_user(message)


def _kish(log_w: np.ndarray) -> float:
    """Kish effective size of the weights ``exp(log_w)``: 0 for none (or none finite)."""
    finite = log_w[np.isfinite(log_w)]
    if finite.size == 0:
        return 0.0
    w = np.exp(finite - finite.max())
    return float(np.square(w.sum()) / np.square(w).sum())

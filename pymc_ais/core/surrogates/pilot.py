"""The one pilot-growth rule of the chaos controls: double while the final variance falls.

A chaos fitted on a pilot controls the rest of the run, whose variance goes as the
chaos's relative leave-one-out error over the runs left after the pilot. The pilot
therefore doubles (its new runs spent either way) while some fit is not yet at rounding
level and the predicted variance, ``sum of errors / runs left``, keeps falling; it
never grows beyond ``limit`` runs. The same rule serves the outputs of
:func:`pymc_ais.estimate` (:mod:`~pymc_ais.core.surrogates.output_chaos`) and the
model output behind the pick-freeze integrands of :func:`pymc_ais.sobol`
(:mod:`~pymc_ais.core.surrogates.pick_freeze_chaos`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .tuning import CHAOS_EXACT


def predicted_variance(errors: np.ndarray, runs_left: int, cap: float = np.inf) -> float:
    """Sum over the fits of the final relative variance, up to a constant.

    A fit's relative variance is its leave-one-out error, at most ``cap`` (an output
    left alone keeps its own variance: 1); all are spread over the runs left.
    """
    return float(np.sum(np.minimum(errors, cap))) / max(runs_left, 1)


def grow_pilot[Fits](
    size: int,
    limit: int,
    total: int,
    add_runs: Callable[[int], None],
    refit: Callable[[Fits | None], Fits],
    errors: Callable[[Fits], np.ndarray],
    cap: float = np.inf,
) -> tuple[Fits, int]:
    """Fit on a pilot of ``size`` runs, then double it while that pays.

    ``add_runs(n)`` evaluates ``n`` more pilot runs; ``refit(previous)`` fits on every
    pilot run so far (``previous`` the fits before the doubling, None at first);
    ``errors(fits)`` gives their leave-one-out errors. Returns the last fits and the
    pilot's size in runs, out of ``total`` runs for the whole estimate.
    """
    fits = refit(None)
    # double even when nothing is fitted yet: x^12 of a normal input has an error of 1
    # on 600 points and is exact on 2,400 (a chaos that never fits wastes one doubling)
    while 2 * size <= limit and np.any(errors(fits) > CHAOS_EXACT):
        before = predicted_variance(errors(fits), total - size, cap)
        add_runs(size)
        size *= 2
        fits = refit(fits)
        if predicted_variance(errors(fits), total - size, cap) >= before:
            break
    return fits, size

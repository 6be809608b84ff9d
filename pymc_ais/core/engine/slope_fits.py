"""Event fits that follow their score's slope and keep the score's spread.

A fit far in a tail is as narrow as the law truncated there along the score's slope
(a variance of about ``1 / t^2`` beyond ``t`` sigma); below half of the law's variance
the weights of the draws deeper in the tail have an infinite variance. Two kinds of
runs had such fits, and :class:`SlopeFits` widens both along the score's slope
(:func:`~pymc_ais.core.engine.score_trend.score_slopes`) to
:data:`SCORE_VARIANCE_FLOOR` times a reference law's variance.

**A posterior's events** (:func:`event_references`). A fit on a few weighted points
keeps a reference law along the directions the points do not resolve
(:func:`~pymc_ais.core.densities.informed_subspace.informed_fit`, and the shrinkage of
:func:`~pymc_ais.core.densities.gaussian_mixture.fit_gaussian`). For input laws that
reference is the initial law, which is the law itself. For a posterior it is the
starting law: Student-t, widened, with the priors mixed in. An event in the
posterior's tail is reached by a few draws of the first block, and its fit kept that
wide law along every direction those draws do not resolve: in 30 dimensions the
weights of its draws spread over orders of magnitude. Here the targets of an event
output in a posterior run (the event, and its complement when the output is centred)
take as reference the posterior's own fit to the pooled draws (weights ``f / h``,
thousands of effective draws), and the score's slope as the direction their mean moves
along. The plain fit stays for outputs whose score has no linear trend (a union's
score, the max of its parts'), and for whole runs over one input (no direction is left
to the reference), with diagonal covariances (``covariance="diag"``: the informed fit
needs full ones) or of the mixture family, and for a law whose own fit rests on too few
draws (a vague prior beside another, :data:`LAW_DRAWS_PER_INPUT`).

**Events over one or two inputs under an input law** (:func:`few_input_widening`).
There a level's draws scattered so little past it that a climb to 1e-6 over one input
ran out of adaptive blocks in a third of the runs, and the intervals of ``P(x > 2)``
covered 0.80 of the time. Every event target's Gaussian fit keeps the score's variance
at least the floor times the initial block's (which stands for the law's). Over ten
inputs the same floor cost ``P(S > t)`` at 1e-6 2.5 times its relative error (the
shrinkage toward the law and the informed fits keep those fits wider), so runs over
more than :data:`FEW_INPUTS` inputs are left as they were, as are events without a
linear trend (a ring, a union of regions), the Gaussians of separate failure regions,
the mixture family and runs under several laws.
"""

from __future__ import annotations

import numpy as np

from ..densities import gaussian_mixture as gm
from .score_trend import score_slopes
from .settings import Settings
from .state import State

SCORE_VARIANCE_FLOOR = 0.5
"""Least variance of the event score under an event's fit, relative to the law's fit (a
posterior's) or to the initial block's (input laws over one or two inputs).
The cross-entropy fit of a posterior truncated to a half-space far in its tail has a
variance along the slope far below the law's; below half of it the weights ``f / g`` of
the draws deeper in the tail have an infinite variance, and the run leans on the wide
starting law. At half the law's variance and a mean shifted into the event, the
weights stay square-integrable; their fourth moment, which the error bar's own
precision rests on, needs three quarters."""

FEW_INPUTS = 2
"""Inputs up to which the Gaussian fit of every event target of an input law is widened
(:func:`few_input_widening`)."""

LAW_DRAWS_PER_INPUT = 4.0
"""Least Kish size of a law's weights, per input plus one, for its fit to be a reference:
below it, a full covariance from so few draws is noisier than the starting law it
replaces (a vague prior's fit beside a narrower one)."""


def event_references(
    state: State, settings: Settings, slopes: np.ndarray | None, posterior_run: bool
) -> SlopeFits | None:
    """The references of a posterior run's event fits (one full Gaussian per target, two inputs or more), else None."""
    if not posterior_run or state.score is None or state.x.shape[1] < 2:
        return None
    if settings.covariance != "full" or settings.family != "gaussian":
        return None
    return SlopeFits(state, settings, slopes)


def few_input_widening(state: State, settings: Settings) -> SlopeFits | None:
    """The widening of the event fits of a run over one or two inputs under one input law, else None.

    None without a score, over more than :data:`FEW_INPUTS` inputs, over two inputs
    with diagonal fits (the widening is not diagonal), or under several laws (the
    initial block's covariance, which stands for the law's, is then the laws'
    mixture's).
    """
    d = state.x.shape[1]
    if state.score is None or d > FEW_INPUTS or (d > 1 and settings.covariance != "full"):
        return None
    if np.any(state.targets.law != 0):
        return None
    return SlopeFits(state, settings)


class SlopeFits:
    """Each output's score slope and each law's reference fit, computed once a block, when asked."""

    def __init__(self, state: State, settings: Settings, slopes: np.ndarray | None = None) -> None:
        self._state = state
        self._settings = settings
        self._slopes = slopes
        self._laws: dict[int, gm.GaussianMixture | None] = {}

    def _slope_of(self, output: int) -> np.ndarray:
        """The output's score slope as fitted (NaN where it has none)."""
        if self._slopes is None:
            score = self._state.score
            assert score is not None
            self._slopes = score_slopes(self._state.x, score)
        return self._slopes[output]

    def slope(self, output: int) -> np.ndarray | None:
        """The output's score slope (unit length), or None where it has no score or no linear trend."""
        state = self._state
        if state.score is None or not np.isfinite(state.score[:, output]).any():
            return None
        slope = self._slope_of(output)
        length = float(np.linalg.norm(slope))
        if not (np.isfinite(length) and length > 0):
            return None
        return slope / length

    def law_fit(self, law: int) -> gm.GaussianMixture | None:
        """The law's Gaussian fit to the pooled draws (weights ``f / h``), or None where it rests on too few.

        None when the weights' Kish size is below :data:`LAW_DRAWS_PER_INPUT` times
        ``d + 1`` (or every weight vanishes): such a fit is noisier than the starting law.
        """
        if law not in self._laws:
            state, settings = self._state, self._settings
            log_w = state.log_f[:, law] - state.log_h
            w = gm.normalised_weights(log_w)
            enough = w.any() and gm.kish_ess(w) >= LAW_DRAWS_PER_INPUT * (state.x.shape[1] + 1)
            self._laws[law] = (
                gm.fit_gaussian(state.x, log_w, state.reference_cov, settings.covariance, None, state.floor)
                if enough
                else None
            )

        return self._laws[law]

    def event_fit(self, target: int, log_omega: np.ndarray) -> gm.GaussianMixture | None:
        """The target's fit with its law's fit as reference, along its score's slope; None if it has neither.

        The score's variance under the fit is kept at least :data:`SCORE_VARIANCE_FLOOR`
        times its variance under the law's fit (:func:`with_score_variance`).
        """
        state = self._state
        slope = self.slope(int(state.targets.output[target]))
        if slope is None:
            return None
        law = self.law_fit(int(state.targets.law[target]))
        if law is None:
            return None
        cov = law.chols[0] @ law.chols[0].T - np.diag(state.floor)  # the fit adds the floor once more
        fit = gm.fit_gaussian(state.x, log_omega, cov, "full", None, state.floor, law.means[0], slope)
        return None if fit is None else with_score_variance(fit, cov, slope, SCORE_VARIANCE_FLOOR)

    def widened(self, fit: gm.GaussianMixture | None, output: int) -> gm.GaussianMixture | None:
        """``fit`` with the score variance of ``output`` along its slope raised to the floor of the initial block's.

        Unchanged where the output has no slope (or there is no fit).
        """
        if fit is None:
            return None
        slope = self._slope_of(output)
        if np.isnan(slope).any():
            return fit
        return with_score_variance(fit, self._state.reference_cov, slope, SCORE_VARIANCE_FLOOR)


def with_score_variance(
    fit: gm.GaussianMixture, law_cov: np.ndarray, slope: np.ndarray, floor: float
) -> gm.GaussianMixture:
    """One Gaussian ``fit`` whose variance of ``slope . x`` is raised to ``floor`` times its variance under ``law_cov``.

    The variance is added along ``law_cov @ slope``, the direction in which the law's
    draws move with the score. Returned unchanged when it is already that large, or
    when the score does not vary under ``law_cov``.

    >>> fit = gm.gaussian(np.zeros(2), np.diag([0.1, 1.0]))
    >>> wider = with_score_variance(fit, np.eye(2), np.array([1.0, 0.0]), 0.5)
    >>> np.round(wider.chols[0] @ wider.chols[0].T, 6).tolist()
    [[0.5, 0.0], [0.0, 1.0]]
    """
    scale = float(slope @ law_cov @ slope)
    if not (np.isfinite(scale) and scale > 0):
        return fit
    fitted = fit.chols[0] @ fit.chols[0].T
    short = floor - float(slope @ fitted @ slope) / scale
    if short <= 0:
        return fit
    direction = law_cov @ slope / np.sqrt(scale)
    return gm.gaussian(fit.means[0], fitted + short * np.outer(direction, direction))

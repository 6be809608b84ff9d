"""Settings of the algorithm, validated on construction."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

WEIGHT_SCHEMES = ("relative", "absolute")
FAMILIES = ("gaussian", "mixture")
COVARIANCES = ("full", "diag")
SAMPLERS = ("rqmc", "stratified", "mc")
CONTROL_VARIATES = ("full", "single")
CV_FITS = ("auto", "adaptive", "crossfit", "guarded")
TARGET_SHARE_PER_DIMENSION = 0.01  # default target_share per input dimension (see Settings.rare_target_share)
TARGET_SHARE_RANGE = (0.1, 0.3)
FIT_FLOOR = 1e-6  # diagonal added to every fitted covariance, relative to the initial block's variances
CLIMB_EXTENSION = 1.5
"""How far past the adaptive cap, as a multiple of it, the adaptive phase may go while a
climb towards an unreached event is under way and in reach
(:func:`~pymc_ais.core.engine.adaptation.stop_reason`): three quarters of the budget by
default. Each level lies at most ``1 / LEVEL_STEP`` times below the last
(:mod:`~pymc_ais.core.engine.climbing`), so at 2·10^4 runs the five blocks of the cap
climb to about 1e-8; beyond it a climb cut at the cap left the final phase with a
proposal that never saw the event (``P(x > t)`` over one input: relative error 0.06 at
1e-10 and 0.2 at 1e-12, estimates of 0 at 1e-14)."""


@dataclass(frozen=True)
class Settings:
    """Tuning of the algorithm; validated on construction.

    Parameters
    ----------
    budget
        total number of model evaluations.
    weights
        "relative" (w_j = 1 / I_j^2 from running estimates), "absolute" (w_j = 1),
        or an array with one positive weight per expectation.
    family
        "gaussian" (one Gaussian per target) or "mixture" (Gaussian mixture).
    covariance
        "full" or "diag" covariance matrices.
    n_components
        components per target with ``family="mixture"``.
    block_fraction
        size of each adaptive block, as a fraction of the budget.
    adaptive_fraction
        cap of the adaptive phase, as a fraction of the budget; a block at the cap
        that is the first drawn at failure regions the run climbed to gets one more
        refit and block beyond it, and a climb towards an unreached event that is in
        reach of it goes on up to half as far again (three quarters of the budget by
        default; :attr:`climb_cap`).
    sampler
        how the final phase samples the mixture: "rqmc" (replicates of a scrambled
        Sobol' net whose first coordinate picks the component), "stratified"
        (deterministic counts per component, i.i.d. inside) or "mc" (i.i.d. draws of
        the mixture). See :mod:`pymc_ais.core.densities.mixture_sampling`. The adaptive blocks are
        i.i.d. in every mode: quasi-random blocks gave slightly smaller variances but
        intervals that covered less than their nominal level on high moments. A
        rare-event run of input laws over more than ten inputs samples its final
        phase as "mc" when this is "rqmc" (:func:`~pymc_ais.core.engine.final.final_settings`).
    replicates
        independent randomizations of the final phase for "rqmc" and
        "stratified"; the standard errors come from their spread (Student-t intervals).
    final_trim
        with "rqmc", the smallest components adding up to at most this weight, each
        with a handful of points per replicate, are left out of the final mixture,
        unless alone at their region or costly to lose (see ``engine.trimming``).
    qmc_preference
        with "rqmc" and a quantile map of the initial law, the final phase samples the
        initial law alone when its predicted variance is at most this multiple of the
        best adapted proposal's and its tails are light (see :func:`best_proposal`).
    control_variates
        "full" (regress each target on every mixture component's
        ``g_k / g_alpha - 1`` whose weight is not negligible, as Owen & Zhou) or
        "single" (each target on its own component, as the published method).
    cv_fit
        "adaptive": the final estimator uses the coefficients fitted on the chosen
        proposal's adaptive block; "crossfit": each half of the final sample uses the
        adaptive coefficients, no control variate, or a refit on every sampled
        component, whichever the other half scores best (see
        :func:`pymc_ais.core.engine.control_variates.crossfit`); "guarded": the adaptive
        coefficients or none, per target, whichever the other half's points give the
        smaller variance (:func:`pymc_ais.core.engine.control_variates.guarded`); "auto" (default) means
        "crossfit" for the replicate samplers ("rqmc", "stratified"), where the score is
        the spread of replicate means, and "adaptive" for "mc". Under randomized QMC a
        control variate fitted for i.i.d. points can multiply the variance tenfold
        (Gaussian moments) or divide it tenfold (the cantilever's 100 laws): only the
        replicates can tell.
    alpha_floor
        lower bound of every component's weight; ``None`` means
        ``min(1e-3, 0.1 / K)`` for K components. A floor bounds every control variate by
        ``1 / alpha_floor``.
    defensive
        lower bound of the weight of the initial law, which is always a
        component of the mixture: importance weights ``f / g_alpha`` stay below
        ``1 / defensive`` (a defensive mixture), so no fit can make the variance explode.
    max_control_variates
        cap of the number of control variates in "full" mode
        (default: a twentieth of a block).
    min_cv_points
        a component is a control variate in "full" mode only if its weight
        times the block size reaches this count.
    max_components
        cap of the adapted components of a proposal: with more targets, targets whose
        fits nearly coincide share one (see :mod:`pymc_ais.core.engine.component_sharing`),
        which keeps the cost of a run near-linear in the number of expectations.
        ``None``: one component per target, whatever their number.
    target_share
        in rare-event runs (some event missed by the first block) and in runs of input
        laws over more than ten inputs, the least weight all targets' own components hold
        together, split evenly among them: the weight optimiser sees
        the rarest events through a handful of draws and would otherwise starve them,
        or starve a frequent event beside them, of draws. ``None``: see
        :meth:`rare_target_share`.
    """

    budget: int
    weights: object = "relative"
    family: str = "gaussian"
    covariance: str = "full"
    n_components: int = 2
    block_fraction: float = 0.1
    adaptive_fraction: float = 0.5
    sampler: str = "rqmc"
    replicates: int = 8
    final_trim: float = 0.1
    qmc_preference: float = 4.0
    cv_fit: str = "auto"
    control_variates: str = "full"
    alpha_floor: float | None = None
    defensive: float = 0.01
    max_control_variates: int | None = None
    min_cv_points: float = 30.0
    max_components: int | None = 128
    target_share: float | None = None

    def __post_init__(self):
        _check_choice("family", self.family, FAMILIES)
        _check_choice("covariance", self.covariance, COVARIANCES)
        _check_choice("sampler", self.sampler, SAMPLERS)
        _check_choice("control_variates", self.control_variates, CONTROL_VARIATES)
        _check_choice("cv_fit", self.cv_fit, CV_FITS)
        if not (0 <= self.defensive < 1):
            raise ValueError("defensive must be in [0, 1)")
        if isinstance(self.weights, str):
            _check_choice("weights", self.weights, WEIGHT_SCHEMES)
        else:
            w = np.asarray(self.weights, dtype=np.float64)
            if w.ndim != 1 or not np.all(np.isfinite(w)) or np.any(w <= 0):
                raise ValueError("weights must be 'relative', 'absolute' or a 1-d array of positive finite numbers")
        if not (0 < self.block_fraction <= self.adaptive_fraction < 1):
            raise ValueError("need 0 < block_fraction <= adaptive_fraction < 1")
        if self.target_share is not None and not 0 <= self.target_share < 1 - self.defensive:
            raise ValueError("target_share must be in [0, 1 - defensive)")
        if not 0 <= self.final_trim < 1:
            raise ValueError("final_trim must be in [0, 1)")
        if self.sampler != "mc" and int(self.replicates) < 2:
            raise ValueError("replicates must be at least 2 (the standard error comes from their spread)")
        if int(self.n_components) < 1:
            raise ValueError("n_components must be at least 1")
        if self.max_components is not None and int(self.max_components) < 1:
            raise ValueError("max_components must be at least 1, or None (one component per target)")
        if self.budget < self.minimum_budget:
            raise ValueError(
                f"draws={self.budget} is too small: the adaptive phase needs blocks of at least 2 "
                f"points (block = {self.block_fraction:g} x draws) and the final phase at least "
                f"{self.final_minimum}; use draws >= {self.minimum_budget}"
            )

    @property
    def final_minimum(self) -> int:
        """Fewest final-phase points: two per replicate (two in all for i.i.d. draws)."""
        return 2 if self.sampler == "mc" else 2 * int(self.replicates)

    @property
    def minimum_budget(self) -> int:
        """The smallest budget these settings can run with."""
        final_share = 1 - self.adaptive_fraction
        budget = max(int(np.ceil(2 / self.block_fraction)), int(np.ceil(self.final_minimum / final_share)))
        while (
            int(budget * self.block_fraction) < 2 or budget - int(budget * self.adaptive_fraction) < self.final_minimum
        ):
            budget += 1
        return budget

    @property
    def final_cv_fit(self) -> str:
        """``cv_fit`` with "auto" resolved for the sampler."""
        if self.cv_fit != "auto":
            return self.cv_fit
        return "adaptive" if self.sampler == "mc" else "crossfit"

    @property
    def block(self) -> int:
        """Points per adaptive block."""
        return int(self.budget * self.block_fraction)

    @property
    def adaptive_cap(self) -> int:
        """Most points the adaptive phase may use."""
        return int(self.budget * self.adaptive_fraction)

    @property
    def climb_cap(self) -> int:
        """Most points the adaptive phase may use while it climbs towards an unreached event.

        :data:`CLIMB_EXTENSION` times the adaptive cap, leaving the final phase at least
        its fewest points.
        """
        climb = min(int(self.budget * self.adaptive_fraction * CLIMB_EXTENSION), self.budget - self.final_minimum)
        return max(self.adaptive_cap, climb)

    def floor_for(self, n_components: int) -> float:
        """Lower bound of every mixture weight with ``n_components`` components."""
        if self.alpha_floor is not None:
            return float(self.alpha_floor)
        return min(1e-3, 0.1 / n_components)

    def rare_target_share(self, dim: int) -> float:
        """``target_share`` of a rare-event or high-dimensional run in ``dim`` dimensions.

        By default ``TARGET_SHARE_PER_DIMENSION * dim`` within ``TARGET_SHARE_RANGE``
        (0.1 up to ten dimensions, 0.3 from thirty on), and at most half of what the
        defensive component leaves. The optimiser weighs components by variances
        estimated on the pooled draws; beyond ten dimensions the fits of frequent
        events (a Gaussian in d dimensions from a few dozen draws) and those estimates
        are noisy, and it starved those targets: P(S > 2) over 100 inputs came out
        less precise than plain Monte Carlo.
        """
        if self.target_share is not None:
            return float(self.target_share)
        low, high = TARGET_SHARE_RANGE
        return min(float(np.clip(TARGET_SHARE_PER_DIMENSION * dim, low, high)), 0.5 * (1.0 - self.defensive))

    @property
    def cv_cap(self) -> int:
        """Most control variates per target in "full" mode."""
        if self.max_control_variates is not None:
            return int(self.max_control_variates)
        return max(1, self.block // 20)


def _check_choice(name, value, options):
    if value not in options:
        raise ValueError(f"unknown {name}={value!r}; valid options are {', '.join(map(repr, options))}")


def alpha_lower_bounds(settings: Settings, n_components: int) -> np.ndarray:
    """Lower bounds of the K = n_components + 1 mixture weights (defensive component first)."""
    k = n_components + 1
    floor = settings.floor_for(k)
    lower = np.full(k, floor)
    lower[0] = max(floor, settings.defensive)
    return lower

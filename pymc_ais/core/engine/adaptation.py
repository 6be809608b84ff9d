"""The adaptive phase: the first block, then propose a block from refitted densities and update."""

from __future__ import annotations

import numpy as np

from ..densities import gaussian_mixture as gm
from ..densities.failure_regions import SPANNING_SHARE, fit_regions
from ..densities.informed_subspace import denoised_reference
from ..engine.climbing import BRIDGE_SHARE, CLIMB_SHARE, CLUSTER_FLOOR, _last_climbing_fit, climbing_levels, elite_count
from ..engine.proposals import component_matrix, mixture_logpdf, proposals_logpdf, sample_proposal, summands
from ..engine.state import Batch, Evaluations, Proposal, State, StepInfo, criterion_weights
from ..problem import Problem
from .component_sharing import share_components
from .control_variates import control_variate_coef, regression_beta
from .mixture_weights import optimise_alpha
from .score_trend import score_slopes
from .settings import FIT_FLOOR, Settings, alpha_lower_bounds
from .slope_fits import event_references, few_input_widening
from .targets import integrand_log_abs, make_targets, weighted_terms

INFORMED_MIN_DIM = 10
"""Inputs beyond which a run of normalised laws fits like a rare-event run: informed fits
that keep the initial law along the directions their points do not resolve, and a share
of the mixture for every target's component (``Settings.target_share``). Fits of a full
covariance from a few hundred points in d = 100 scattered the draws, and the optimiser,
which weighs components by variances estimated on the pooled draws, gave one target's
component 0.98 of the mixture (E[exp(2 S)] beside E[S^2]): over 30 inputs 2 runs in 20
came out 5 to 15 times less precise than plain Monte Carlo, over 100 inputs every run
did, and P(S > 2) over 100 inputs 8 times. Up to ten inputs no run of 20 did."""
SLOPE_DRAWS_PER_INPUT = 2.0  # over ten inputs, climbing fits follow score slopes below this many elite draws per input
HELPER_SHARE = 0.45
"""Least mixture weight of the targets that stand for regions of an event (an event's
intersections, weighted as the event), shared evenly, in an informed run. The optimiser
judges each region by variances estimated on a few pooled draws: over 30 inputs it gave
one intersection of "two of three" 6 % of the mixture and the others 31 % and 50 %, and
that intersection came out 20 to 40 % low."""


def initial_batch(problem: Problem, settings: Settings, rng: np.random.Generator) -> Batch:
    """The first block: i.i.d. draws from the initial law ``h0``."""
    n = settings.block
    x = np.asarray(problem.sample_initial(rng, n), dtype=np.float64)
    if x.shape != (n, problem.dim):
        raise ValueError(f"initial sampler returned shape {x.shape}, expected {(n, problem.dim)}")
    return Batch(x, None)


def init(problem: Problem, settings: Settings, batch: Batch, evaluations: Evaluations, weight_scale=None) -> State:
    """The state after the first block: targets, running estimates and criterion weights.

    ``weight_scale`` see :func:`~pymc_ais.core.engine.state.criterion_weights`.
    """
    x, n = batch.x, batch.x.shape[0]
    log_f, phi = evaluations.log_f, evaluations.phi
    score = batch_scores(evaluations)
    log_h0 = problem.initial_log_density(x, log_f)
    targets = make_targets(
        phi, problem.n_laws, initial_centres(problem, log_f, phi, log_h0), criterion_references(problem, phi)
    )
    y = weighted_terms(targets, log_f, phi, log_h0)
    estimates = y.mean(axis=0)
    sigma2 = y.var(axis=0, ddof=1)
    if weight_scale is not None:
        weight_scale = np.asarray(weight_scale, dtype=np.float64)
        if not np.all(np.isfinite(weight_scale)):
            raise ValueError("weight_scale must hold finite numbers")
    weights = criterion_weights(settings, targets, estimates, weight_scale)
    alpha = np.zeros(targets.size + 1)
    alpha[0] = 1.0
    reference_cov = np.atleast_2d(np.cov(x, rowvar=False))
    variances = np.diag(reference_cov).copy()
    if not np.all(variances > 0):
        raise ValueError("the initial sample has a coordinate with zero variance; the input law is degenerate")
    initial = Proposal(alpha, None, np.zeros(targets.size), np.zeros((targets.size + 1, targets.size)), sigma2, np.nan)
    state = State(
        targets,
        x,
        log_f,
        phi,
        log_h0[:, None],
        np.array([n]),
        (initial,),
        estimates,
        weights,
        reference_cov,
        FIT_FLOOR * variances,
        weight_scale,
        score,
    )
    blind = np.isfinite(climbing_levels(state))  # events the initial block did not reach
    if not blind.any() and not (problem.normalised and problem.dim > INFORMED_MIN_DIM):
        return state
    # a rare-event run, or one over many inputs: its fits rest on few points per
    # dimension, and their reference drops the sample's noise correlations (in d = 100
    # they are of order 0.05 on 2,000 points)
    climbed = blind if blind.any() else None
    return state._replace(
        proposals=(initial._replace(climbed=climbed),), reference_cov=denoised_reference(x), informed=True
    )


def batch_scores(evaluations: Evaluations) -> np.ndarray | None:
    """The event scores of a batch shaped like its outputs, or None when no output has one."""
    score = evaluations.score
    if score is None or not np.isfinite(score).any():
        return None
    return np.asarray(score, dtype=np.float64).reshape(evaluations.phi.shape)


def criterion_references(problem: Problem, phi: np.ndarray) -> np.ndarray | None:
    """The output whose criterion weight each output takes (None: each its own)."""
    if problem.weighted_as is None:
        return None
    given = problem.weighted_as(phi.shape[1]) if callable(problem.weighted_as) else problem.weighted_as
    index = np.asarray(given, dtype=np.int64)
    if index.shape != (phi.shape[1],) or np.any((index < 0) | (index >= phi.shape[1])):
        raise ValueError(f"weighted_as must name one of the {phi.shape[1]} outputs for each of them")
    return index


def initial_centres(problem: Problem, log_f: np.ndarray, phi: np.ndarray, log_h0: np.ndarray) -> np.ndarray | None:
    """Each (law, output) pair's centre: the self-normalised mean over the initial block, or 0.

    None when the problem centres no output.
    """
    if problem.centred is None:
        return None
    centred = problem.centred(phi.shape[1]) if callable(problem.centred) else problem.centred
    mask = np.asarray(centred, dtype=bool)
    if mask.shape != (phi.shape[1],):
        raise ValueError(f"centred has {mask.size} entries but there are {phi.shape[1]} outputs")
    centres = np.zeros((problem.n_laws, phi.shape[1]))
    for law in range(problem.n_laws):
        w = gm.normalised_weights(log_f[:, law] - log_h0)
        centres[law] = np.where(mask, w @ phi, 0.0)
    return centres.ravel()


def _fit_components(
    state: State,
    settings: Settings,
    levels: np.ndarray | None = None,
    slopes: np.ndarray | None = None,
    posterior_run: bool = False,
) -> tuple:
    """Cross-entropy fit of every target's auxiliary density on all pooled points.

    A target still climbing towards its event (a level in ``levels``) is fitted to
    ``1{score >= level} f`` instead of ``|phi| f``, which no draw has reached yet, and
    that level set also gets a weighted kernel estimate
    (:func:`~pymc_ais.core.densities.gaussian_mixture.fit_kernel`): one Gaussian follows the
    direction most draws above the level lie in, the kernels keep every direction. The
    kernels' share is the one under which the plain kernel estimate best predicts the
    level set (:func:`~pymc_ais.core.densities.gaussian_mixture.kernel_share`); the
    kernels then sample with their clusters balanced (``CLUSTER_FLOOR``), so a region
    few elite draws reached still gets draws. Judged with the balanced weights, a raised
    cluster predicts the elite draws poorly and the share falls to 0, which loses the
    region it was raised for (a straight branch of the four-branch system). The level
    set's single Gaussian also becomes a Gaussian per region when its draws form
    regions (:func:`_per_region`): single linkage sees one cluster where regions touch
    (the arms of "at least two of three" sums above a level), and one Gaussian then
    drifts onto the arms it favours and loses the others on the way up.
    A target that has reached its event keeps its last kernel estimate as a share of
    its density (:func:`_last_climbing_fit`). ``slopes`` (outputs, d), each output's
    score slope (:func:`~pymc_ais.core.engine.score_trend.score_slopes`, NaN rows for
    none), steer the event targets' informed fits (which ones: :func:`_slope_for`). In a
    run of unnormalised laws (``posterior_run``) the Gaussian fits of an event output's
    targets take their law's own fit as reference instead of the starting law
    (:func:`~pymc_ais.core.engine.slope_fits.event_references`). Returns the fitted densities, the
    kernel estimates (``None`` for targets not climbing) and each target's number of
    failure regions (:func:`_per_region`; 0 for none).
    """
    log_abs, _ = integrand_log_abs(state.targets, state.log_f, state.phi)
    log_omega = log_abs - state.log_h[:, None]
    if levels is not None and state.score is not None:
        for climbing in np.flatnonzero(np.isfinite(levels)):
            above = state.score[:, state.targets.output[climbing]] >= levels[climbing]
            law = state.targets.law[climbing]
            log_omega[:, climbing] = np.where(above, state.log_f[:, law] - state.log_h, -np.inf)
    previous = state.proposals[-1].components
    reference = _reference_mean(state)
    posterior = event_references(state, settings, slopes, posterior_run)
    few_inputs = None if posterior_run else few_input_widening(state, settings)
    plain = tuple(
        gm.fit_kernel(state.x, log_omega[:, t], state.reference_cov, settings.covariance, state.floor, reference)
        if levels is not None and np.isfinite(levels[t])
        else None
        for t in range(state.targets.size)
    )
    kernels = tuple(None if k is None else gm.balance_clusters(k, CLUSTER_FLOOR) for k in plain)
    fitted = []
    regions = np.zeros(state.targets.size, dtype=np.intp)
    for t in range(state.targets.size):
        if settings.family == "mixture":
            g = gm.fit_mixture(
                state.x,
                log_omega[:, t],
                state.reference_cov,
                settings.n_components,
                settings.covariance,
                floor=state.floor,
            )
        else:
            g = None if posterior is None else posterior.event_fit(t, log_omega[:, t])
            if g is None:  # not an event of a posterior run, or no slope to follow
                climbs = levels is not None and bool(np.isfinite(levels[t]))
                slope = _slope_for(state, slopes, t, climbs)
                g = gm.fit_gaussian(
                    state.x,
                    log_omega[:, t],
                    state.reference_cov,
                    settings.covariance,
                    None,
                    state.floor,
                    reference,
                    slope,
                )
                if few_inputs is not None:
                    g = few_inputs.widened(g, int(state.targets.output[t]))
        if g is None:  # no non-zero value yet: keep what we had
            if previous is None:
                g = gm.gaussian(state.x.mean(axis=0), state.reference_cov)
            else:  # the component the target used last (shared components are indexed by owner)
                g = previous[int(state.proposals[-1].owners(state.targets.size)[t]) - 1]
        elif levels is None or not np.isfinite(levels[t]):
            bridge = _last_climbing_fit(state, t)
            if bridge is not None:
                g, regions[t] = _per_region(state, settings, log_omega[:, t], g)
                g = gm.blend(g, bridge, BRIDGE_SHARE)
        elif (estimate := plain[t]) is not None and state.rare:  # climbing: clusters above the level keep kernels
            share = gm.kernel_share(state.x, log_omega[:, t], g, estimate)
            g, _ = _per_region(state, settings, log_omega[:, t], g)
            g = gm.blend(g, gm.balance_clusters(estimate, CLUSTER_FLOOR), share) if share > 0 else g
        fitted.append(g)
    return tuple(fitted), kernels, regions


def _per_region(
    state: State, settings: Settings, log_omega: np.ndarray, single: gm.GaussianMixture
) -> tuple[gm.GaussianMixture, int]:
    """A reached event's or a level set's fit with a Gaussian per region, and their number (0 for ``single`` alone).

    Up to ``INFORMED_MIN_DIM`` inputs and for the Gaussian family
    (:func:`~pymc_ais.core.densities.failure_regions.fit_regions`); the single Gaussian
    keeps ``SPANNING_SHARE`` for regions no draw has reached yet. The four-branch system
    over 50 seeds: relative RMSE 0.011 at 2.2e-3 and 0.028 at 9e-7, against 0.022 and
    0.057 with one Gaussian.
    """
    if settings.family != "gaussian" or state.x.shape[1] > INFORMED_MIN_DIM:
        return single, 0
    regions = fit_regions(state.x, log_omega, state.reference_cov, settings.covariance, state.floor)
    if regions is None:
        return single, 0
    return gm.blend(regions, single, SPANNING_SHARE), regions.n_components


def _event_slopes(state: State) -> np.ndarray | None:
    """Each output's score slope in an informed run where an elite set holds few draws per input, else None.

    An elite set's mean is off the event's direction by a length of about
    ``sqrt(d / ess)``. Slopes are computed where the inputs outnumber an elite set and,
    over ``INFORMED_MIN_DIM`` inputs, where it holds fewer than ``SLOPE_DRAWS_PER_INPUT``
    draws per input (an error of 0.7 or more). In fewer dimensions the elite draws
    resolve the shift themselves (at d = 10 a slope changed nothing measurable over 50
    seeds). Which fits use them: :func:`_slope_for`.
    """
    if not state.informed or state.score is None or not _few_elite_draws(state):
        return None
    return score_slopes(state.x, state.score)


def _few_elite_draws(state: State) -> bool:
    """Whether an elite set holds fewer than one draw per input, or fewer than two over ten inputs."""
    d = state.x.shape[1]
    return _inputs_outnumber_elite(state) or (d > INFORMED_MIN_DIM and d * SLOPE_DRAWS_PER_INPUT > elite_count(state))


def _inputs_outnumber_elite(state: State) -> bool:
    """Whether the inputs outnumber an elite set's draws: there every fit and level follows the slopes."""
    return state.x.shape[1] > elite_count(state)


def _slope_for(state: State, slopes: np.ndarray | None, target: int, climbs: bool) -> np.ndarray | None:
    """The score slope a target's fit keeps its mean along, or None.

    Every fit uses it where the inputs outnumber an elite set. Where an elite set holds
    one to two draws per input, only the fits of a target that climbs or has climbed to
    its event do, which rest on elite sets and on the few draws a climb leaves in the
    event: over 30 inputs an intersection's fit rested on about 20 effective draws and
    its mean lay off the event by a length of about one. An event the first block
    reaches is fitted on hundreds of draws (with a slope, P(S > 2) over 30 inputs lost
    half its precision).
    """
    if slopes is None:
        return None
    slope = slopes[state.targets.output[target]]
    if np.isnan(slope).any():
        return None
    if _inputs_outnumber_elite(state) or climbs or _last_climbing_fit(state, target) is not None:
        return slope
    return None


def _reference_mean(state: State) -> np.ndarray | None:
    """Mean of the initial block in an informed run (:attr:`State.informed`), else None.

    The fits of an event's targets rest on a few elite points, and any fit over many
    inputs on a few points per dimension; with this reference they keep the initial law
    along the directions those points do not resolve
    (:func:`~pymc_ais.core.densities.informed_subspace.informed_fit`): on P(S > 4) with
    S a sum of 100 inputs the fits no longer scatter their draws over random directions,
    and E[S^2] over 100 inputs is no longer estimated 100 times less precisely than by
    plain Monte Carlo.
    """
    if not state.informed:
        return None
    return state.x[: state.counts[0]].mean(axis=0)


def propose(problem: Problem, settings: Settings, state: State, rng: np.random.Generator) -> Batch:
    """The next block: refit every target's density on the pooled draws, choose alpha, draw.

    Returns the points with the draft proposal they come from; its control-variate
    coefficients are fitted by :func:`update` once the points are evaluated.
    """
    targets = state.targets
    last = state.proposals[-1]
    slopes = _event_slopes(state)
    # the levels need fewer draws with a slope only where the inputs outnumber an elite set
    levels = climbing_levels(state, slopes if _inputs_outnumber_elite(state) else None)
    climbing = np.isfinite(levels)
    components, bridges, regions = _fit_components(state, settings, levels, slopes, not problem.normalised)
    components, owner = share_components(components, state.weights, climbing, settings.max_components)
    own = owner if owner is not None else np.arange(1, targets.size + 1)
    k = len(components) + 1
    fresh = last.components is None or last.climbing  # no adapted fit of the current targets yet
    beta = state.estimates if fresh else last.beta
    log_h = state.log_h
    log_c_pool = component_matrix(problem, components, state.x, state.log_f)
    y = weighted_terms(targets, state.log_f, state.phi, log_h)
    B = np.exp(log_c_pool - log_h[:, None])
    a = np.square(y - beta * B[:, own]) @ state.weights
    lower = alpha_lower_bounds(settings, k - 1)
    if state.informed:  # no target starved by an optimiser that sees it in few draws (INFORMED_MIN_DIM)
        lower[own] = np.maximum(lower[own], settings.rare_target_share(state.x.shape[1]) / targets.size)
        helpers = targets.helpers
        if helpers.any():  # every region of an event keeps a share, whatever the optimiser makes of it
            lower[own[helpers]] = np.maximum(lower[own[helpers]], HELPER_SHARE / helpers.sum())
    if climbing.any():  # the climbing components get enough of the block to reach a next level
        lower[own[climbing]] = np.maximum(lower[own[climbing]], CLIMB_SHARE / climbing.sum())
    lower = _floors_that_fit(lower)
    if fresh:  # first fit: alpha_t ∝ sqrt(w_t) |I_t|
        shares = np.sqrt(state.weights) * np.abs(state.estimates)
        start = np.concatenate([[0.0], np.bincount(own - 1, weights=shares, minlength=k - 1)])
    elif owner is None and last.owner is None:
        start = last.alpha
    else:  # the last weights, carried over target by target
        start = np.concatenate([[last.alpha[0]], np.bincount(own - 1, last.target_shares(targets.size), k - 1)])
    alpha, value = optimise_alpha(a, B, _project(start, lower), lower)

    draft = Proposal(
        alpha,
        components,
        beta,
        np.zeros((alpha.size, targets.size)),
        np.zeros(targets.size),
        value,
        climbing,
        bridges,
        owner,
        levels,
        regions,
    )
    x = sample_proposal(draft, problem, rng, settings.block)
    return Batch(x, draft, mixture_logpdf(log_c_pool, alpha))


def update(
    problem: Problem, settings: Settings, state: State, batch: Batch, evaluations: Evaluations
) -> tuple[State, StepInfo]:
    """Take a block's evaluations: fit its control variates and pool it with the earlier draws."""
    targets = state.targets
    draft, x_new = batch.proposal, batch.x
    if draft is None:
        raise ValueError("the first block starts a run (init), it does not update one")
    components, alpha, owner = draft.components, draft.alpha, draft.owner
    own = owner if owner is not None else np.arange(1, targets.size + 1)
    n = x_new.shape[0]
    log_f_new, phi_new = evaluations.log_f, evaluations.phi
    score_new = batch_scores(evaluations) if state.score is not None else None
    log_c_new = component_matrix(problem, components, x_new, log_f_new)
    log_q_new = mixture_logpdf(log_c_new, alpha)
    y_new = weighted_terms(targets, log_f_new, phi_new, log_q_new)
    c_new = np.exp(log_c_new - log_q_new[:, None])
    beta = regression_beta(y_new, c_new[:, own], fallback=state.estimates)
    coef, n_cv = control_variate_coef(
        y_new, c_new, alpha, beta, settings.control_variates, settings.min_cv_points, settings.cv_cap, own
    )
    proposal = draft._replace(beta=beta, coef=coef)
    resid = summands(proposal, targets, log_f_new, phi_new, log_c_new, log_q_new)
    sigma2 = resid.var(axis=0) * n / max(n - 1 - n_cv, 1)
    proposal = proposal._replace(sigma2=sigma2)

    old_at_new = proposals_logpdf(problem, state.proposals, x_new, log_f_new)
    new_at_old = batch.log_q_pooled
    if new_at_old is None:  # a batch built by hand: its proposal's density at the pooled draws
        new_at_old = mixture_logpdf(component_matrix(problem, components, state.x, state.log_f), alpha)
    pooled = state._replace(
        x=np.concatenate([state.x, x_new]),
        log_f=np.concatenate([state.log_f, log_f_new]),
        phi=np.concatenate([state.phi, phi_new]),
        score=None if score_new is None or state.score is None else np.concatenate([state.score, score_new]),
        log_q=np.block([[state.log_q, new_at_old[:, None]], [old_at_new, log_q_new[:, None]]]),
        counts=np.append(state.counts, n),
        proposals=state.proposals + (proposal,),
    )
    estimates = weighted_terms(targets, pooled.log_f, pooled.phi, pooled.log_h).mean(axis=0)
    new_state = pooled._replace(
        estimates=estimates, weights=criterion_weights(settings, targets, estimates, state.weight_scale)
    )
    return new_state, StepInfo(proposal, n, float(new_state.weights @ sigma2))


def predicted_variance(state: State, index: int = -1) -> float:
    """``sum_t w_t sigma2_t`` of a proposal (per point), with the current weights."""
    proposal = state.proposals[index]
    if proposal.climbing:  # its block could not see the events it was climbing to
        return np.inf
    return float(state.weights @ proposal.sigma2)


def stop_reason(state: State, settings: Settings) -> str | None:
    """Why the adaptive phase stops now, or ``None`` to continue.

    The budget rule: after iteration k, stop when
    ``V_{k-1} / (N_max - N_used + n) <= V_k / (N_max - N_used)``: the last block did not
    pay for the evaluations it used. It compares adapted proposals only: the initial
    law's V_0, estimated on possibly heavy-tailed draws, is often far too small, and a
    first adapted proposal fitted on the initial block alone often looks worse than
    it; stopping there wasted the adaptation (on Sobol' indices of the cantilever, two
    runs in a hundred ended 20 to 60 times less precise). While a proposal still climbs
    towards an unreached event the rule waits: only the budget cap stops it, and a
    climb in reach of its event goes on past the cap, up to :attr:`Settings.climb_cap`.
    """
    used, n, budget = state.evaluations, settings.block, settings.budget
    if len(state.proposals) >= 3 and not state.proposals[-1].climbing:
        remaining = budget - used
        if predicted_variance(state, -2) / (remaining + n) <= predicted_variance(state, -1) / remaining:
            return "rule"
    if used + n > settings.adaptive_cap and not (used <= settings.adaptive_cap and _first_block_at_events(state)):
        if used + n <= settings.climb_cap and _climb_in_reach(state, (settings.climb_cap - used) // n):
            return None
        return "budget"
    return None


def _climb_in_reach(state: State, blocks: int) -> bool:
    """Whether a climb cut by the adaptive cap reaches its event within ``blocks`` more blocks.

    The last block was drawn from fits at intermediate levels. The climb goes on when
    some target still climbs (an unreached event, or one reached by a jump, which
    climbs on as :func:`~pymc_ais.core.engine.climbing.climbing_levels` says) and its
    event lies within ``blocks + 1`` steps of the score the last block gained. The one
    step of margin is measured, not derived: a fit widened past its level overshoots
    it, and at 1e-12 over one input the margin is what lets the climb take its second
    extra block. An event no level gets closer to (one of probability 0) stops at the
    cap, and so does a run whose events are all reached by the block at the cap: the
    final phase then draws from the proposals as they are, as before (one more block at
    the events cost "two of three" over 30 inputs 1.5 times its relative variance, the
    final phase being smaller).
    """
    last = state.proposals[-1]
    if not last.climbing or last.levels is None:
        return False
    slopes = _event_slopes(state)
    levels = climbing_levels(state, slopes if _inputs_outnumber_elite(state) else None)  # as the next fit's
    unreached = np.isfinite(levels)
    step = levels - last.levels
    with np.errstate(invalid="ignore"):
        return bool(np.any(unreached & (step > 0) & (-levels <= step * (blocks + 1))))


def _first_block_at_events(state: State) -> bool:
    """Whether the last block is the first drawn from fits at events the blocks before it climbed to, per region.

    Its draws are the first that reach those events in numbers, and the fits at the
    events rest on the few earlier draws inside them; where such a fit has a Gaussian
    per failure region (beside one spanning them), the block gets one refit even past
    the adaptive cap. Without regions a refit can settle on the one region the block
    reached: "two of three sums above 3 sigma" at 6,000 runs then came out 63 % low
    with a 1 % error bar in 2 runs of 20 (at 2·10^4 runs it went from 0.43 to 0.12).
    """
    last = state.proposals[-1]
    return (
        len(state.proposals) >= 3
        and state.proposals[-2].climbing
        and not last.climbing
        and last.regions is not None
        and bool(np.any(last.regions >= 2))
    )


def _floors_that_fit(lower: np.ndarray) -> np.ndarray:
    """The components' floors scaled down together when they add up to more than the defensive one leaves.

    The floors of the targets (``target_share``), of the regions and of the climbing
    components are set one by one; with a large ``target_share`` they may exceed the
    whole mixture. Returned unchanged when they fit.
    """
    total = lower[1:].sum()
    room = 1.0 - lower[0]
    if total <= room:
        return lower
    return np.concatenate([lower[:1], lower[1:] * (room / total)])


def _project(alpha: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Renormalise ``alpha`` onto the simplex with ``alpha >= lower`` componentwise."""
    alpha = np.maximum(alpha, 0.0)
    alpha = alpha / alpha.sum() if alpha.sum() > 0 else np.full_like(alpha, 1.0 / alpha.size)
    free = 1.0 - lower.sum()
    return lower + free * alpha

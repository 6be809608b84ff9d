"""Adaptive importance sampling with control variates (aISCV) for many expectations.

Demange-Chryst, Bachoc and Morio (arXiv 2212.00568). To estimate
``I_j = E_{f_j}[phi_j]`` for j = 1..J from ONE shared sample, draw ``X_i`` from a mixture
``g_alpha = sum_k alpha_k g_k`` of one auxiliary density per expectation and use

    I_j_hat = mean_i [phi_j f_j - beta_j g_j](X_i) / g_alpha(X_i) + beta_j,

unbiased for every ``beta_j`` since ``g_j / g_alpha`` has mean one (a control variate).
With ``g_j ∝ phi_j f_j`` and ``beta_j = I_j`` every estimator has zero variance at once.

The adaptive phase (at most half the budget, blocks of a tenth) alternates:
cross-entropy fits of every ``g_j`` on all points so far (weighted by the balance
heuristic ``H``), the choice of ``alpha`` minimising the estimated weighted variance, a
new block from ``g_alpha``, and the regression update of ``beta``. It stops when one more
block no longer pays for the budget it uses. The final phase draws the remaining budget
fresh from the best proposal found, so the final estimates are unbiased.

The algorithm is written as blackjax writes one: ``init`` builds a plain state,
``step`` returns ``(state, info)``, ``stop_reason`` tests it and ``finalize`` draws the
final phase and forms the estimates; :func:`run` assembles them. Every evaluation goes
through an :class:`~pymc_ais.core.execution.evaluator.Evaluator`; the starting law ``h0`` and its
log-density are the problem's (:meth:`Problem.initial_log_density`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..densities import gaussian_mixture as gm
from ..densities.gaussian_mixture import logsumexp
from ..densities.mixture_sampling import draw_replicates, replicate_means, sample_mixture
from ..execution.evaluator import evaluator_for
from ..problem import Problem
from .component_sharing import share_components
from .control_variates import control_variate_coef, crossfit, guarded, regression_beta
from .diagnostics import LIGHT_TAIL_KHAT, MIN_TAIL_POINTS, diagnostics, pareto_khat
from .mixture_weights import optimise_alpha
from .settings import FIT_FLOOR, Settings, alpha_lower_bounds
from .targets import Targets, integrand_log_abs, make_targets, weighted_terms


class Proposal(NamedTuple):
    """One sampling law of the run: ``g_alpha = alpha_0 h0 + sum_t alpha_t g_t``.

    Component 0 is always the initial law ``h0`` (the defensive component); components
    1..T are the targets' auxiliary densities, or with more targets than
    ``Settings.max_components`` the densities they share (``owner``: see
    :mod:`~pymc_ais.core.engine.component_sharing`). The initial proposal of the run is ``h0``
    alone (``components is None``, ``alpha = e_0``) and uses no control variate.
    """

    alpha: np.ndarray  # (K,) with K = T + 1, or fewer when targets share components
    components: tuple | None  # K - 1 GaussianMixture, or None for the initial law alone
    beta: np.ndarray  # (T,) single control-variate coefficients (used by the criterion)
    coef: np.ndarray  # (K, T) control-variate coefficients of the estimator
    sigma2: np.ndarray  # (T,) per-point variance of the summands, measured on its own block
    criterion: float  # C(alpha) at the optimum (nan for the initial law)
    climbed: np.ndarray | None = None  # (T,) targets whose component climbed towards their event
    bridges: tuple | None = None  # (T,) kernel estimate of each climbing target's level set, else None
    owner: np.ndarray | None = None  # (T,) each target's component (1..K-1); None: target t owns t + 1

    @property
    def climbing(self) -> bool:
        """Fitted while some event was still unreached: never the final proposal."""
        return self.climbed is not None and bool(np.any(self.climbed))

    def owners(self, n_targets: int) -> np.ndarray:
        """Each target's component column (1-based)."""
        return self.owner if self.owner is not None else np.arange(1, n_targets + 1)

    def target_shares(self, n_targets: int) -> np.ndarray:
        """Each target's share of the weight: its component's alpha split among its sharers."""
        own = self.owners(n_targets)
        sharers = np.bincount(own, minlength=self.alpha.size)
        return self.alpha[own] / sharers[own]


class State(NamedTuple):
    """Everything the adaptive phase knows: pooled evaluations and the proposals used."""

    targets: Targets
    x: np.ndarray  # (N, d) pooled points
    log_f: np.ndarray  # (N, L)
    phi: np.ndarray  # (N, M)
    log_q: np.ndarray  # (N, P) log density of each proposal at each pooled point
    counts: np.ndarray  # (P,) points drawn from each proposal
    proposals: tuple  # P Proposal
    estimates: np.ndarray  # (T,) pooled multiple-importance-sampling estimates
    weights: np.ndarray  # (T,) criterion weights (sum to one)
    reference_cov: np.ndarray  # (d, d) covariance of the initial block
    floor: np.ndarray  # (d,) diagonal regulariser of every fit
    weight_scale: np.ndarray | None  # (pairs,) known scale of each expectation, or None
    score: np.ndarray | None = None  # (N, M) event scores of indicator outputs (NaN: none), or None

    @property
    def evaluations(self) -> int:
        """Points evaluated so far."""
        return int(self.counts.sum())

    @property
    def log_h(self) -> np.ndarray:
        """Balance-heuristic mixture of every proposal so far, at the pooled points."""
        return logsumexp(self.log_q + np.log(self.counts / self.counts.sum()), axis=1)


class StepInfo(NamedTuple):
    """What one adaptive step did: the proposal it drew from and the block's size."""

    proposal: Proposal
    block: int
    predicted_variance: float  # sum_t w_t sigma2_t of the new proposal, per point


def criterion_weights(
    settings: Settings, targets: Targets, estimates: np.ndarray, weight_scale: np.ndarray | None = None
) -> np.ndarray:
    """Weights w_t of the criterion, normalised to sum to one.

    "relative" weights are ``1 / scale^2`` with one scale per expectation, shared by
    its targets: ``E|phi|`` (the sum of its parts' running estimates; ``|I|`` for an
    output of constant sign). A signed output's error is relative to its whole mass,
    not to each part: a near-zero negative part weighted by its own ``1 / I_-^2`` would
    take the whole criterion and most of the mixture. ``weight_scale`` (one number per
    expectation) replaces the running scale where it is nonzero: when the sampled
    outputs are residuals of a surrogate their means are near zero, and their own
    relative weight would swamp every other output.
    """
    if isinstance(settings.weights, str):
        if settings.weights == "absolute":
            w = np.ones(targets.size)
        else:
            mass = np.zeros(int(targets.pair.max()) + 1 if targets.size else 0)
            np.add.at(mass, targets.pair, np.abs(estimates))
            reference = mass[targets.pair]
            if weight_scale is not None:
                scale = np.asarray(weight_scale, dtype=np.float64)[targets.pair]
                reference = np.where(scale != 0, scale, reference)
            with np.errstate(divide="ignore"):
                w = np.where(reference != 0, 1.0 / np.square(reference), 0.0)
    else:
        given = np.asarray(settings.weights, dtype=np.float64)
        n_pairs = int(targets.pair.max()) + 1 if targets.size else 0
        if given.shape[0] != n_pairs:
            raise ValueError(f"weights has {given.shape[0]} entries but there are {n_pairs} expectations")
        w = given[targets.pair]
    total = w.sum()
    return w / total if total > 0 else np.full(targets.size, 1.0 / targets.size)


def _project(alpha: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Renormalise ``alpha`` onto the simplex with ``alpha >= lower`` componentwise."""
    alpha = np.maximum(alpha, 0.0)
    alpha = alpha / alpha.sum() if alpha.sum() > 0 else np.full_like(alpha, 1.0 / alpha.size)
    free = 1.0 - lower.sum()
    return lower + free * alpha


def init(problem: Problem, settings: Settings, rng: np.random.Generator, evaluate=None, weight_scale=None) -> State:
    """Draw the first block from the initial law and set up targets and weights.

    ``evaluate`` (default: an :class:`~pymc_ais.core.execution.evaluator.Evaluator` of the
    problem) is called on every batch; ``weight_scale`` see :func:`criterion_weights`.
    """
    evaluate = evaluate or evaluator_for(problem)
    n = settings.block
    x = np.asarray(problem.sample_initial(rng, n), dtype=np.float64)
    if x.shape != (n, problem.dim):
        raise ValueError(f"initial sampler returned shape {x.shape}, expected {(n, problem.dim)}")
    log_f, phi = evaluate(x)
    score = _scores(evaluate, phi)
    log_h0 = problem.initial_log_density(x, log_f)
    targets = make_targets(phi, problem.n_laws, initial_centres(problem, log_f, phi, log_h0))
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
    return state._replace(proposals=(initial._replace(climbed=blind),)) if blind.any() else state


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


def _scores(evaluate, phi: np.ndarray) -> np.ndarray | None:
    """The event scores of the batch just evaluated, if the evaluator has any."""
    score = getattr(evaluate, "last_score", None)
    if score is None or not np.isfinite(score).any():
        return None
    return np.asarray(score, dtype=np.float64).reshape(phi.shape)


ELITE_SHARE = 0.02  # share of the pooled draws above each intermediate level of an unreached event
CLIMB_SHARE = 0.5  # mixture weight given to the components climbing towards unreached events
BRIDGE_SHARE = 0.05  # share of the last climbing fit kept in a target's density once its event is reached


def climbing_levels(state: State) -> np.ndarray:
    """Intermediate level of every target still climbing towards its event; NaN for the others.

    A target climbs when its output is an event with a score (``score > 0`` inside it,
    an indicator ``1{y > t}`` scoring ``y - t``) and fewer pooled draws reach it than
    an elite set holds (``ELITE_SHARE`` of a block). Its level is the score's
    ``1 - ELITE_SHARE`` quantile over the pooled draws, capped at 0 (the event itself),
    as in the multilevel cross-entropy method. Thresholds of one output share their
    elite draws: their levels differ by the thresholds only.
    """
    levels = np.full(state.targets.size, np.nan)
    if state.score is None:
        return levels
    elite = max(int(np.ceil(ELITE_SHARE * state.counts[-1])), 2)
    unreached = np.all(np.isfinite(state.score), axis=0) & (np.count_nonzero(state.phi, axis=0) < elite)
    if not unreached.any():
        return levels
    by_output = np.quantile(state.score[:, unreached], 1.0 - elite / state.score.shape[0], axis=0)
    output_level = np.full(state.score.shape[1], np.nan)
    output_level[unreached] = np.minimum(by_output, 0.0)
    return output_level[state.targets.output]


def _fit_components(state: State, settings: Settings, levels: np.ndarray | None = None) -> tuple:
    """Cross-entropy fit of every target's auxiliary density on all pooled points.

    A target still climbing towards its event (a level in ``levels``) is fitted to
    ``1{score >= level} f`` instead of ``|phi| f``, which no draw has reached yet, and
    that level set also gets a weighted kernel estimate
    (:func:`~pymc_ais.core.densities.gaussian_mixture.fit_kernel`): one Gaussian follows the
    direction most draws above the level lie in, the kernels keep every direction.
    A target that has reached its event keeps its last kernel estimate as a share of
    its density (:func:`_last_climbing_fit`). Returns the fitted densities and the
    kernel estimates (``None`` for targets not climbing).
    """
    log_abs, _ = integrand_log_abs(state.targets, state.log_f, state.phi)
    log_omega = log_abs - state.log_h[:, None]
    if levels is not None and state.score is not None:
        for climbing in np.flatnonzero(np.isfinite(levels)):
            above = state.score[:, state.targets.output[climbing]] >= levels[climbing]
            law = state.targets.law[climbing]
            log_omega[:, climbing] = np.where(above, state.log_f[:, law] - state.log_h, -np.inf)
    previous = state.proposals[-1].components
    kernels = tuple(
        gm.fit_kernel(state.x, log_omega[:, t], state.reference_cov, settings.covariance, floor=state.floor)
        if levels is not None and np.isfinite(levels[t])
        else None
        for t in range(state.targets.size)
    )
    fitted = []
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
            g = gm.fit_gaussian(state.x, log_omega[:, t], state.reference_cov, settings.covariance, floor=state.floor)
        if g is None:  # no non-zero value yet: keep what we had
            g = previous[t] if previous is not None else gm.gaussian(state.x.mean(axis=0), state.reference_cov)
        elif levels is None or not np.isfinite(levels[t]):
            bridge = _last_climbing_fit(state, t)
            if bridge is not None:
                g = gm.blend(g, bridge, BRIDGE_SHARE)
        fitted.append(g)
    return tuple(fitted), kernels


def _last_climbing_fit(state: State, target: int):
    """The kernel estimate of a target's last climbing level, or None if it never climbed.

    A target whose event was reached by climbing keeps it as a share
    (``BRIDGE_SHARE``) of its density: the fits at the event see only the failure
    regions the climb happened to reach first, and a single Gaussian (or a few
    components) then drifts onto those, while the kernels span every region the last
    level saw, so the draws keep reaching the others. On the four-branch system
    (p = 2.2e-3, four failure regions, 2e4 runs, 20 seeds) one Gaussian per target
    then has a relative RMSE of 0.03 instead of 0.09. Climbing with the kernels
    themselves (as nonparametric adaptive importance sampling does) kept more
    directions but let the mixture weights collapse onto the rarest threshold in 3
    runs of 70 on the linear ladder (errors of 20-50 % at 2 sigma).
    """
    for proposal in reversed(state.proposals):
        if proposal.bridges is not None and proposal.bridges[target] is not None:
            return proposal.bridges[target]
    return None


def component_matrix(problem: Problem, components: tuple | None, x: np.ndarray, log_f: np.ndarray) -> np.ndarray:
    """``[log h0(x), log g_1(x), ..., log g_T(x)]``: (n, K); only h0 if no components."""
    log_h0 = problem.initial_log_density(x, log_f)[:, None]
    if components is None:
        return log_h0
    return np.concatenate([log_h0, gm.many_logpdf(components, x)], axis=1)


def mixture_logpdf(log_components: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """``log sum_k alpha_k c_k`` from the component log densities (n, K); zero weights allowed."""
    with np.errstate(divide="ignore"):
        return logsumexp(log_components + np.log(alpha), axis=1)


def proposal_logpdf(problem: Problem, proposal: Proposal, x: np.ndarray, log_f: np.ndarray) -> np.ndarray:
    """Log density of a proposal at ``x``."""
    if proposal.components is None:
        return problem.initial_log_density(x, log_f)
    return mixture_logpdf(component_matrix(problem, proposal.components, x, log_f), proposal.alpha)


def proposals_logpdf(problem: Problem, proposals, x: np.ndarray, log_f: np.ndarray) -> np.ndarray:
    """Log density of each of several proposals at ``x``: (n, len(proposals)).

    The components of all of them go through one
    :func:`~pymc_ais.core.densities.gaussian_mixture.many_logpdf` call, so a kernel estimate
    several proposals carry (a climbed event's) is evaluated once.
    """
    adapted = [g for p in proposals if p.components is not None for g in p.components]
    log_c = component_matrix(problem, tuple(adapted) if adapted else None, x, log_f)
    out = np.empty((x.shape[0], len(proposals)))
    start = 1
    for i, proposal in enumerate(proposals):
        if proposal.components is None:
            out[:, i] = log_c[:, 0]
            continue
        stop = start + len(proposal.components)
        out[:, i] = mixture_logpdf(log_c[:, np.r_[0, start:stop]], proposal.alpha)
        start = stop
    return out


def sample_proposal(proposal: Proposal, problem: Problem, rng: np.random.Generator, n: int) -> np.ndarray:
    """Draw ``n`` i.i.d. points from a proposal (a random component per point)."""
    if proposal.components is None:
        return sample_mixture(np.ones(1), [problem.sample_initial], rng, n)
    samplers = [problem.sample_initial] + [lambda r, m, g=g: gm.sample(g, r, m) for g in proposal.components]
    return sample_mixture(proposal.alpha, samplers, rng, n)


def summands(proposal: Proposal, targets: Targets, log_f, phi, log_components, log_q) -> np.ndarray:
    """Per-point terms of every target's estimator under ``proposal`` (n, T)."""
    y = weighted_terms(targets, log_f, phi, log_q)
    if proposal.components is None:
        return y
    c = np.exp(log_components - log_q[:, None])
    return y - (c - 1.0) @ proposal.coef


def step(
    problem: Problem, state: State, settings: Settings, rng: np.random.Generator, evaluate=None
) -> tuple[State, StepInfo]:
    """One adaptive iteration: fit, choose alpha, draw a block, update the coefficients."""
    evaluate = evaluate or evaluator_for(problem)
    targets = state.targets
    last = state.proposals[-1]
    levels = climbing_levels(state)
    climbing = np.isfinite(levels)
    components, bridges = _fit_components(state, settings, levels)
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
    if climbing.any():  # the climbing components get enough of the block to reach a next level
        lower[own[climbing]] = np.maximum(lower[own[climbing]], CLIMB_SHARE / climbing.sum())
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
    )
    n = settings.block
    x_new = sample_proposal(draft, problem, rng, n)
    log_f_new, phi_new = evaluate(x_new)
    score_new = _scores(evaluate, phi_new) if state.score is not None else None
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
    new_at_old = mixture_logpdf(log_c_pool, alpha)
    pooled = state._replace(
        x=np.concatenate([state.x, x_new]),
        log_f=np.concatenate([state.log_f, log_f_new]),
        phi=np.concatenate([state.phi, phi_new]),
        score=None if score_new is None else np.concatenate([state.score, score_new]),
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
    towards an unreached event the rule waits: only the budget cap stops it.
    """
    used, n, budget = state.evaluations, settings.block, settings.budget
    if len(state.proposals) >= 3 and not state.proposals[-1].climbing:
        remaining = budget - used
        if predicted_variance(state, -2) / (remaining + n) <= predicted_variance(state, -1) / remaining:
            return "rule"
    if used + n > settings.adaptive_cap:
        return "budget"
    return None


def initial_block_tails_are_light(state: State, threshold: float = LIGHT_TAIL_KHAT) -> bool:
    """Whether every target's ``|phi f| / h0`` on the initial block has a light tail.

    Only then is the initial law's predicted variance (estimated on those draws)
    trustworthy: a heavy tail makes a sample variance far too small.
    """
    n0 = int(state.counts[0])
    log_abs, _ = integrand_log_abs(state.targets, state.log_f[:n0], state.phi[:n0])
    log_ratio = log_abs - state.log_q[:n0, 0][:, None]
    khat = [pareto_khat(log_ratio[:, t]) for t in range(state.targets.size)]
    return all(np.isfinite(k) and k < threshold for k in khat)


def best_proposal(state: State, settings: Settings | None = None, quasi_initial: bool = False) -> int:
    """Index of the proposal the final phase samples.

    Normally the adapted proposal with the smallest predicted weighted variance: the
    initial law's predicted variance, estimated on possibly heavy-tailed draws, is the
    least reliable of all, and every adapted proposal contains it as its defensive
    component anyway. Exception: when the initial block's tails are light (so its
    predicted variance can be trusted) and that variance is below the best adapted
    one's, the initial law itself is sampled. With randomized QMC and a quantile map of
    the initial law (``quasi_initial``) the margin is ``settings.qmc_preference``: the
    initial law alone keeps the whole quasi-random structure (no component boundaries).
    When the budget ended while every adapted proposal still climbed, the last one (the
    highest level reached) is sampled.
    """
    if len(state.proposals) == 1:
        return 0
    values = np.array([predicted_variance(state, k) for k in range(1, len(state.proposals))])
    if not np.isfinite(values).any():  # the budget ended during the climb: the highest level reached
        return len(state.proposals) - 1
    best = 1 + int(np.nanargmin(values))
    preference = settings.qmc_preference if quasi_initial and settings is not None else 1.0
    initial_wins = predicted_variance(state, 0) <= preference * predicted_variance(state, best)
    if initial_wins and initial_block_tails_are_light(state):
        return 0
    return best


class FinalSample(NamedTuple):
    """The final-phase draws and everything needed to report on them."""

    proposal_index: int
    x: np.ndarray  # (n, d)
    log_f: np.ndarray  # (n, L)
    phi: np.ndarray  # (n, M)
    log_q: np.ndarray  # (n,) log density of the (realised) sampling law
    target_summands: np.ndarray  # (n, T)
    pair_summands: np.ndarray  # (n, n_pairs)
    replicate: np.ndarray | None  # (n,) replicate index, or None for i.i.d. draws
    alpha: np.ndarray  # (K,) realised mixture weights of the final draws


LAW_POINTS_PER_COEF = 10  # see crossfitted_summands


def crossfitted_summands(
    proposal: Proposal,
    state: State,
    log_f,
    phi,
    log_c,
    log_q,
    replicate,
    normalised: bool = True,
    consume: bool = False,
) -> np.ndarray:
    """Final summands with control variates cross-fitted on the final sample.

    Folds are alternate replicates (alternate points for i.i.d. draws). Candidates: no
    control variate, every sampled component's ``g_k / g_alpha - 1`` and, with several
    normalised input laws, every law's ``f_l / g_alpha - 1`` too (free: log f of every
    law is evaluated anyway), when a fold holds ``LAW_POINTS_PER_COEF`` points per
    coefficient. Unnormalised laws (posteriors) are not control variates: their
    ``f_l / g_alpha`` has mean ``Z_l``, unknown. ``consume=True`` reuses ``log_c``'s
    memory for the control variates (it is overwritten).
    """
    y, c, fold = _terms_and_controls(state, log_f, phi, log_c, log_q, replicate, consume)
    sampled = np.flatnonzero(proposal.alpha > 0)
    candidates = [sampled[:0], sampled]
    coef = proposal.coef
    n_laws = log_f.shape[1]
    if normalised and n_laws > 1 and (sampled.size + n_laws) * LAW_POINTS_PER_COEF <= y.shape[0] // 2:
        c = np.hstack([c, np.exp(log_f - log_q[:, None]) - 1.0])
        coef = np.vstack([coef, np.zeros((n_laws, coef.shape[1]))])
        candidates.append(np.concatenate([sampled, proposal.alpha.size + np.arange(n_laws)]))
    return crossfit(y, c, candidates, fold, state.weights, coef, replicate, overwrite=True)


def _terms_and_controls(state: State, log_f, phi, log_c, log_q, replicate, consume: bool):
    """Importance terms (n, T), control variates ``g_k / g_alpha - 1`` (n, K) and the two folds.

    Folds are alternate replicates (alternate points for i.i.d. draws). ``consume=True``
    computes the control variates in ``log_c``'s memory.
    """
    y = weighted_terms(state.targets, log_f, phi, log_q)
    c = np.subtract(log_c, log_q[:, None], out=log_c if consume else None)
    np.exp(c, out=c)
    c -= 1.0
    fold = (replicate % 2) if replicate is not None else (np.arange(y.shape[0]) % 2)
    return y, c, fold


def replicate_layout(n: int, settings: Settings) -> tuple[int, int]:
    """Points per replicate and number of replicates for a stratified final phase.

    "rqmc" uses a power of two per replicate (Sobol' nets are balanced at powers of two)
    and as many replicates as fit, at least ``settings.replicates``; "stratified" splits
    evenly into ``settings.replicates``.
    """
    per = n // settings.replicates
    if settings.sampler == "rqmc" and per >= 2:
        per = 2 ** int(np.floor(np.log2(per)))
    return per, n // per


def final_phase(
    problem: Problem, state: State, settings: Settings, rng: np.random.Generator, evaluate=None
) -> FinalSample:
    """Draw the remaining budget fresh from the best proposal and form the summands.

    With a stratified sampler the remaining budget is split into replicates (up to one
    replicate's worth of evaluations is left unused), and the realised allocation
    replaces alpha in the estimator; the initial law alone is the one-component case.
    """
    evaluate = evaluate or evaluator_for(problem)
    quasi_initial = settings.sampler == "rqmc" and problem.initial_quantile is not None
    index = best_proposal(state, settings, quasi_initial)
    proposal = state.proposals[index]
    n = settings.budget - state.evaluations
    replicate = None
    if settings.sampler == "mc":
        x = sample_proposal(proposal, problem, rng, n)
    else:
        per, reps = replicate_layout(n, settings)
        components = proposal.components or ()
        alpha = proposal.alpha if proposal.components is not None else np.ones(1)
        x, replicate, weights = draw_replicates(
            alpha,
            components,
            problem.sample_initial,
            problem.initial_quantile,
            rng,
            per,
            reps,
            quasi=settings.sampler == "rqmc",
            trim_mass=settings.final_trim,
            dim=problem.dim,
        )
        if proposal.components is not None:
            coef = np.where((weights > 0)[:, None], proposal.coef, 0.0)
            proposal = proposal._replace(alpha=weights, coef=coef)
    log_f, phi = evaluate(x)
    if getattr(evaluate, "last_score", None) is not None:  # nothing climbs now: free the (n, M) scores
        evaluate.last_score = None
    log_c = component_matrix(problem, proposal.components, x, log_f)
    log_q = mixture_logpdf(log_c, proposal.alpha) if proposal.components is not None else log_c[:, 0]
    if settings.final_cv_fit == "crossfit" and proposal.components is not None:
        terms = crossfitted_summands(
            proposal, state, log_f, phi, log_c, log_q, replicate, problem.normalised, consume=True
        )
    elif settings.final_cv_fit == "guarded" and proposal.components is not None:
        y, c, fold = _terms_and_controls(state, log_f, phi, log_c, log_q, replicate, consume=True)
        terms = guarded(y, c, proposal.coef, fold)
    else:
        terms = summands(proposal, state.targets, log_f, phi, log_c, log_q)
    pairs = pair_sums(terms, state.targets, problem.n_laws * phi.shape[1])
    return FinalSample(index, x, log_f, phi, log_q, terms, pairs, replicate, proposal.alpha)


def pair_sums(terms: np.ndarray, targets: Targets, n_pairs: int) -> np.ndarray:
    """Each (law, output) pair's summands: its targets' terms with their signs, summed.

    When every pair is one positive target (no output changes sign) the terms are
    the pair summands already and are returned as they are, not copied.
    """
    pair, sign = targets.pair, targets.combine_sign
    if pair.size == n_pairs and np.array_equal(pair, np.arange(n_pairs)) and np.all(sign == 1):
        return terms
    pairs = np.zeros((terms.shape[0], n_pairs))
    np.add.at(pairs.T, pair, (terms * sign).T)
    return pairs


POLYNOMIAL_TAIL = 0.3  # k-hat of |x - median|: a tail like |x|^(-1/k), heavier than Student-t(3.3)


class InputTail(NamedTuple):
    """Tail of every (law, output) pair's terms ``|phi| f / h0`` on the i.i.d. initial block."""

    khat: np.ndarray  # (pairs,) Pareto k-hat (NaN with too few finite nonzero terms)
    dominated: np.ndarray  # (pairs,) bool: the input-law component carries the pair's far tail
    tail_points: int = 0  # draws in the fitted tail (PSIS: min(0.2 n, 3 sqrt(n)))

    @property
    def khat_upper(self) -> np.ndarray:
        """k-hat plus one standard error, ``(1 + k) / sqrt(tail points)`` (Pareto fit)."""
        return self.khat + (1.0 + self.khat) / np.sqrt(max(self.tail_points, 1))


def input_tail(problem: Problem, state: State, final: FinalSample) -> InputTail:
    """Pareto k-hat of ``|phi| f / h0`` on the i.i.d. initial block, and where it matters.

    Far out, where no Gaussian component reaches, the final mixture is the defensive
    input law alone and each estimate's terms behave like ``|phi| f / h0`` under the
    input law: a heavy tail there (an output with infinite variance under a Student-t
    prior, say) makes the error bar meaningless, yet a finite final sample, and a
    quasi-random one even more, may never show it. The initial block's draws are
    i.i.d. from the input law, so their k-hat is honest. A pair is ``dominated`` when an
    input coordinate has a polynomial tail (k-hat of its spread above
    ``POLYNOMIAL_TAIL``: far enough out such a law outweighs every Gaussian component,
    however wide), or when the pair's largest initial-block terms lie mostly where the
    input-law component carries more than half of the final mixture.
    """
    n0 = int(state.counts[0])
    log_f, phi = state.log_f[:n0], state.phi[:n0]
    log_h0 = problem.initial_log_density(state.x[:n0], log_f)
    proposal = state.proposals[final.proposal_index]
    with np.errstate(divide="ignore"):
        if proposal.components is None:
            share = np.ones(n0)
        else:
            log_c = component_matrix(problem, proposal.components, state.x[:n0], log_f)
            log_q = mixture_logpdf(log_c, final.alpha)
            share = np.exp(np.log(final.alpha[0]) + log_h0 - log_q)
        log_abs_phi = np.log(np.abs(phi))
    tail = int(np.ceil(min(0.2 * n0, 3.0 * np.sqrt(n0))))
    x0 = state.x[:n0]
    with np.errstate(divide="ignore"):
        spread = np.log(np.abs(x0 - np.median(x0, axis=0)))
    polynomial = any(pareto_khat(spread[:, i]) > POLYNOMIAL_TAIL for i in range(x0.shape[1]))
    # An indicator's terms 1{A} f / h0 have no heavier tail than the weights f / h0: their
    # k-hat, from every draw, replaces the indicator's own, which rests on the few draws
    # in A (on a posterior tail probability of 3 %, about 50 draws: k-hat 0.7-0.95 in a
    # fifth of the runs, whose intervals covered at the nominal rate).
    indicator = np.all((phi == 0.0) | (phi == 1.0), axis=0)
    khat, dominated = [], []
    for law in range(log_f.shape[1]):
        weight_khat = pareto_khat(log_f[:, law] - log_h0)
        for m in range(phi.shape[1]):
            log_y = log_abs_phi[:, m] + log_f[:, law] - log_h0
            finite = np.isfinite(log_y)
            if finite.sum() < MIN_TAIL_POINTS:
                khat.append(np.nan)
                dominated.append(False)
                continue
            top = np.flatnonzero(finite)[np.argsort(log_y[finite])[-tail:]]
            dominated.append(bool(polynomial or np.mean(share[top] > 0.5) >= 0.5))
            khat.append(weight_khat if indicator[m] else pareto_khat(log_y[finite]))
    return InputTail(np.array(khat), np.array(dominated, dtype=bool), tail)


def weight_bound(problem: Problem, alpha0: float) -> float:
    """An upper bound of every law's weights ``f_l / g_alpha`` over the whole space.

    The defensive component gives ``g_alpha >= alpha_0 h0``; when ``h0`` is the equal
    mixture of the L laws (the default), ``h0 >= f_l / L``, so ``f_l / g_alpha <= L /
    alpha_0``. Infinite otherwise (no bound known).
    """
    if problem.log_initial is not None or alpha0 <= 0:
        return np.inf
    return problem.n_laws / alpha0


def tail_khat(k_final: np.ndarray, tail: InputTail, bound: float, n: int) -> np.ndarray:
    """The k-hat that says whether each estimate's error bar can be trusted.

    The larger of the k-hat over the final draws and, where the input law carries the
    far tail, the initial block's. When the weights are bounded by at most ``sqrt(n)``
    (a single final draw then carries at most a ``1 / sqrt(n)`` share of the estimate)
    and the output's own tail under the input law is light (initial-block k-hat below
    ``LIGHT_TAIL_KHAT`` by one standard error: a k-hat from a few hundred draws is
    uncertain by about 0.2), the estimator's terms are bounded by a light-tailed
    variable: the variance is finite and a high k-hat over the final draws is only the
    plateau of the bounded weights, so the initial block's k-hat is reported instead.
    """
    reported = np.fmax(k_final, np.where(tail.dominated, tail.khat, np.nan))
    bounded = bound <= np.sqrt(n) and bool(np.isfinite(bound))
    if bounded:
        light = np.nan_to_num(tail.khat_upper, nan=np.inf) < LIGHT_TAIL_KHAT
        reported = np.where(light, tail.khat, reported)
    return reported


class Estimates(NamedTuple):
    """Estimates of the expectations with standard errors and covariance."""

    mean: np.ndarray  # (J,)
    mcse: np.ndarray  # (J,)
    cov: np.ndarray  # (J, J)
    n: int  # number of final draws
    df: float  # degrees of freedom of the error estimate (inf: normal intervals)


# Relative precision of the estimates: scrambled Sobol' points lie on a 2^-30 grid
# (scipy's digits), so an integrand the net integrates exactly (a linear one) still
# shows an error of this relative size while its replicates agree to the last digit.
SUMMAND_PRECISION = 2.0**-30


def estimates_from_summands(pair_summands: np.ndarray, replicate: np.ndarray | None = None) -> Estimates:
    """Means, standard errors and covariance of the estimates.

    I.i.d. summands: the usual formula. Replicates: the spread of the R replicate means
    (``cov / R``, R - 1 degrees of freedom). No error bar falls below the numerical
    precision of the summands (``SUMMAND_PRECISION`` times their root mean square): an
    integrand that a quasi-random net integrates exactly gives identical replicates, yet
    its estimate is not exact. The same floor applies to i.i.d. draws, where it is far
    below any statistical error.
    """
    n = pair_summands.shape[0]
    if replicate is None:
        mean = pair_summands.mean(axis=0)
        cov = np.atleast_2d(np.cov(pair_summands, rowvar=False)) / n
        df = np.inf
    else:
        means = replicate_means(pair_summands, replicate)
        r = means.shape[0]
        mean = means.mean(axis=0)
        cov = np.atleast_2d(np.cov(means, rowvar=False)) / r
        df = float(r - 1)
    floor = SUMMAND_PRECISION * np.sqrt(np.einsum("ij,ij->j", pair_summands, pair_summands) / n)
    cov = cov + np.diag(np.square(floor))
    return Estimates(mean, np.sqrt(np.diag(cov)), cov, n, df)


class RunResult(NamedTuple):
    """Everything a run produced: the adaptive state, the final sample, estimates, diagnostics."""

    state: State
    stop_reason: str
    final: FinalSample
    estimates: Estimates
    diagnostics: dict  # ess, ess_weights, pareto_k per expectation (law-major)


def finalize(
    problem: Problem, state: State, settings: Settings, rng: np.random.Generator, stop: str, evaluate=None
) -> RunResult:
    """The final phase, its estimates and per-expectation diagnostics."""
    final = final_phase(problem, state, settings, rng, evaluate)
    estimates = estimates_from_summands(final.pair_summands, final.replicate)
    log_h0 = problem.initial_log_density(final.x, final.log_f)
    # The draws the defensive component carries get their own k-hat when it is an input
    # law, whose tails may be the heaviest anywhere. An unnormalised problem's starting
    # law is built heavier-tailed than its laws (a posterior's Student-t start): there
    # the subset's log-weights fall linearly across the tails, which looks like a
    # Pareto tail (k-hat near 1 on a binomial posterior) although they are bounded; the
    # initial block's own k-hat (input_tail) still checks that the start covers the tails.
    defensive = float(final.alpha[0]) if problem.normalised else 0.0
    diag = diagnostics(final.log_f, final.phi, final.log_q, estimates.mcse, defensive, log_h0)
    bound = weight_bound(problem, float(final.alpha[0]))
    diag["pareto_k"] = tail_khat(diag["pareto_k"], input_tail(problem, state, final), bound, final.x.shape[0])
    return RunResult(state, stop, final, estimates, diag)


def run(
    problem: Problem,
    settings: Settings,
    rng: np.random.Generator,
    callback=None,
    evaluate=None,
    weight_scale=None,
) -> RunResult:
    """Run the adaptive phase then the final phase.

    ``callback(state, info)`` is called after each block (``info`` None after the
    first); ``evaluate`` defaults to an :class:`~pymc_ais.core.execution.evaluator.Evaluator` of
    the problem; ``weight_scale`` see :func:`criterion_weights`.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> from pymc_ais.core import Problem, Settings, run
    >>> problem = Problem(1, lambda rng, n: rng.standard_normal((n, 1)),
    ...                   lambda x: (norm.logpdf(x), x**2), ["m2"])
    >>> result = run(problem, Settings(budget=4000), np.random.default_rng(0))
    >>> bool(abs(result.estimates.mean[0] - 1.0) < 5 * result.estimates.mcse[0])
    True
    """
    evaluate = evaluate or evaluator_for(problem)
    state = init(problem, settings, rng, evaluate, weight_scale)
    if callback is not None:
        callback(state, None)
    reason = stop_reason(state, settings)
    while reason is None:
        state, info = step(problem, state, settings, rng, evaluate)
        if callback is not None:
            callback(state, info)
        reason = stop_reason(state, settings)
    return finalize(problem, state, settings, rng, reason, evaluate)

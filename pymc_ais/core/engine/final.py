"""The final phase: fresh draws from the best proposal, cross-fitted summands and the estimates."""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np

from ..densities.mixture_sampling import draw_replicates, replicate_means
from ..engine.adaptation import INFORMED_MIN_DIM, predicted_variance
from ..engine.proposals import component_matrix, mixture_logpdf, sample_proposal, summands
from ..engine.state import Evaluations, Proposal, State
from ..problem import Problem
from .control_variates import crossfit, guarded
from .diagnostics import LIGHT_TAIL_KHAT, pareto_khat
from .settings import Settings
from .targets import Targets, integrand_log_abs, weighted_terms
from .trimming import final_weights


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
    reused: int = 0  # leading draws taken from the initial block (see :func:`final_sample`), not drawn anew


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


class FinalBatch(NamedTuple):
    """The final phase's points: drawn fresh from the best proposal, in replicates or i.i.d."""

    x: np.ndarray  # (n, d)
    proposal: Proposal  # the sampled proposal, its alpha the realised allocation
    proposal_index: int  # its place among the state's proposals
    replicate: np.ndarray | None  # (n,) replicate index, or None for i.i.d. draws


def final_settings(settings: Settings, state: State, problem: Problem) -> Settings:
    """The settings of the final phase: i.i.d. draws for a rare-event run of input laws over more than ten inputs.

    There randomized QMC gains little on events (sums of many coordinates, a boundary
    crossing every cell), and the spread of a handful of replicate means of rare,
    large weights understates the error: with cut sets over 99 inputs (a simulator's
    limit states and ``system=``) two runs in 20 came out 25 to 30 % low at five error
    bars. I.i.d. draws take their error bar from every draw. Runs over ten inputs or
    fewer, where the nets' strata are fine along every input, keep ``"rqmc"``, and so
    do posteriors, whose tail events were calibrated with it.
    """
    rare_and_wide = state.rare and state.x.shape[1] > INFORMED_MIN_DIM
    if settings.sampler == "rqmc" and rare_and_wide and problem.normalised:
        return dataclasses.replace(settings, sampler="mc")
    return settings


def final_batch(problem: Problem, settings: Settings, state: State, rng: np.random.Generator) -> FinalBatch:
    """Draw the remaining budget fresh from the best proposal.

    With a stratified sampler the remaining budget is split into replicates (up to one
    replicate's worth of evaluations is left unused), and the realised allocation
    replaces alpha in the estimator; the initial law alone is the one-component case.
    The initial law alone with no quantile map (a posterior's start) has no stratified
    or quasi-random form: its draws are i.i.d. and their error bars use every draw.
    """
    quasi_initial = settings.sampler == "rqmc" and problem.initial_quantile is not None
    index = best_proposal(state, settings, quasi_initial)
    proposal = state.proposals[index]
    n = settings.budget - state.evaluations
    replicate = None
    # the initial law alone without a quantile map draws i.i.d. points whatever the sampler:
    # replicates would only spread its error estimate over R - 1 degrees of freedom
    plain_initial = proposal.components is None and problem.initial_quantile is None
    if settings.sampler == "mc" or plain_initial:
        x = sample_proposal(proposal, problem, rng, n)
    else:
        per, reps = replicate_layout(n, settings)
        components = proposal.components or ()
        quasi = settings.sampler == "rqmc"
        alpha = proposal.alpha if proposal.components is not None else np.ones(1)
        if quasi and proposal.components is not None:
            # keep_alone: an event's component may be the only one at its region
            alpha = final_weights(problem, state, proposal, settings.final_trim, per, keep_alone=state.rare)
        x, replicate, weights = draw_replicates(
            alpha,
            components,
            problem.sample_initial,
            problem.initial_quantile,
            rng,
            per,
            reps,
            quasi=quasi,
            dim=problem.dim,
        )
        if proposal.components is not None:
            coef = np.where((weights > 0)[:, None], proposal.coef, 0.0)
            proposal = proposal._replace(alpha=weights, coef=coef)
    return FinalBatch(x, proposal, index, replicate)


def final_sample(
    problem: Problem, settings: Settings, state: State, batch: FinalBatch, evaluations: Evaluations
) -> FinalSample:
    """The final draws' summands, with the final control variates chosen by ``settings.final_cv_fit``.

    When the final phase draws i.i.d. from the initial law, the initial block, drawn
    i.i.d. from that same law before any adaptation, joins it: its evaluations are
    paid for already (on a posterior whose start no adapted proposal beat, a quarter
    more draws).
    """
    x, proposal, replicate = batch.x, batch.proposal, batch.replicate
    log_f, phi = evaluations.log_f, evaluations.phi
    reused = 0
    if batch.proposal_index == 0 and proposal.components is None and replicate is None:
        reused = int(state.counts[0])
        pooled = (state.x, state.log_f, state.phi)
        x, log_f, phi = (np.concatenate([old[:reused], new]) for old, new in zip(pooled, (x, log_f, phi)))
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
    return FinalSample(batch.proposal_index, x, log_f, phi, log_q, terms, pairs, replicate, proposal.alpha, reused)


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


# The largest variance gain over i.i.d. draws that randomized QMC is credited with on a
# rare event's probability (see estimates_from_summands).
RARE_EVENT_QMC_CREDIT = 2.0


def estimates_from_summands(
    pair_summands: np.ndarray, replicate: np.ndarray | None = None, limited_credit: np.ndarray | None = None
) -> Estimates:
    """Means, standard errors and covariance of the estimates.

    I.i.d. summands: the usual formula. Replicates: the spread of the R replicate means
    (``cov / R``, R - 1 degrees of freedom). No error bar falls below the numerical
    precision of the summands (``SUMMAND_PRECISION`` times their root mean square): an
    integrand that a quasi-random net integrates exactly gives identical replicates, yet
    its estimate is not exact. The same floor applies to i.i.d. draws, where it is far
    below any statistical error.

    ``limited_credit`` (pairs,) marks estimates whose replicate variance may not fall
    below the i.i.d. formula's over ``RARE_EVENT_QMC_CREDIT``: rare events' probabilities,
    whose importance weights are heavy-tailed, so that the spread of 9 to 15 replicate
    means often falls far short of the truth (runs 4 error bars off), while the
    i.i.d. formula rests on every draw. Randomized QMC gained a median 1.0 to 2.0 over
    that formula on such events. The covariance keeps its correlations.
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
    if replicate is not None and limited_credit is not None and np.any(limited_credit):
        iid = pair_summands.var(axis=0, ddof=1) / n / RARE_EVENT_QMC_CREDIT
        variance = np.diag(cov)
        raised = limited_credit & (iid > variance)  # an event never reached has no spread: kept
        scale = np.ones_like(variance)
        scale[raised] = np.sqrt(iid[raised] / variance[raised])
        cov = cov * scale[:, None] * scale[None, :]
    return Estimates(mean, np.sqrt(np.diag(cov)), cov, n, df)

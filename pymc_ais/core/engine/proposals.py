"""Densities of the mixture proposals at points, draws from them, and the estimator's summands."""

from __future__ import annotations

import numpy as np

from ..densities import gaussian_mixture as gm
from ..densities.gaussian_mixture import logsumexp
from ..densities.mixture_sampling import sample_mixture
from ..engine.state import Proposal
from ..problem import Problem
from .targets import Targets, weighted_terms


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

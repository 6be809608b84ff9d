"""Tail diagnostics: whether each estimate's error bar can be trusted (Pareto k-hat)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..engine.final import FinalSample
from ..engine.proposals import component_matrix, mixture_logpdf
from ..engine.state import State
from ..problem import Problem
from .diagnostics import LIGHT_TAIL_KHAT, MIN_TAIL_POINTS, pareto_khat

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
    indicator = indicator_outputs(phi)
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


def indicator_outputs(phi: np.ndarray) -> np.ndarray:
    """Which outputs (columns of ``phi``) are indicators: 0 or 1 at every draw."""
    return np.all((phi == 0.0) | (phi == 1.0), axis=0)

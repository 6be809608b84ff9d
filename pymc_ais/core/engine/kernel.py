"""Adaptive importance sampling with control variates (aISCV) for many expectations.

Demange-Chryst, Bachoc and Morio (arXiv 2212.00568). To estimate
``I_j = E_{f_j}[phi_j]`` for j = 1..J from ONE shared sample, draw ``X_i`` from a mixture
``g_alpha = sum_k alpha_k g_k`` of one auxiliary density per expectation and use

    I_j_hat = mean_i [phi_j f_j - beta_j g_j](X_i) / g_alpha(X_i) + beta_j,

unbiased for every ``beta_j`` since ``g_j / g_alpha`` has mean one (a control variate).
With ``g_j ∝ phi_j f_j`` and ``beta_j = I_j`` every estimator has zero variance at once.

The adaptive phase (at most half the budget, blocks of a tenth; one block more when the
block at the cap is the first drawn at failure regions climbed to, and up to three
quarters while a climb towards a rare event is in reach of it) alternates:
cross-entropy fits of every ``g_j`` on all points so far (weighted by the balance
heuristic ``H``), the choice of ``alpha`` minimising the estimated weighted variance, a
new block from ``g_alpha``, and the regression update of ``beta``. It stops when one more
block no longer pays for the budget it uses. The final phase draws the remaining budget
fresh from the best proposal found, so the final estimates are unbiased.

The kernel never evaluates a model itself. It is written in ask/tell form over a
plain state (:mod:`~pymc_ais.core.engine.state`): it asks for the points of a block
(:class:`Batch`) and is told their :class:`Evaluations` (log-densities, outputs and
event scores). Whoever answers (in this process, on an executor, from a checkpoint)
lives outside it: :func:`pymc_ais.core.execution.driver.run` is the plain loop.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from threadpoolctl import threadpool_limits

from ..problem import Problem
from . import adaptation, final
from .diagnostics import diagnostics
from .final import Estimates, FinalBatch, FinalSample, estimates_from_summands
from .settings import Settings
from .state import Batch, Evaluations, State, StepInfo
from .tails import indicator_outputs, input_tail, tail_khat, weight_bound


class RunResult(NamedTuple):
    """Everything a run produced: the adaptive state, the final sample, estimates, diagnostics."""

    state: State
    stop_reason: str
    final: FinalSample
    estimates: Estimates
    diagnostics: dict  # ess, ess_weights, pareto_k per expectation (law-major)


class Kernel(NamedTuple):
    """The aISCV kernel of one problem and its settings, as ask/tell functions.

    - ``initial(rng) -> Batch``: the first block, from the initial law;
    - ``init(batch, evaluations) -> State``;
    - ``propose(state, rng) -> Batch``: the next adaptive block;
    - ``update(state, batch, evaluations) -> (State, StepInfo)``;
    - ``stop(state) -> str | None``: why the adaptive phase ends now ("rule" or
      "budget"), or None to go on;
    - ``final(state, rng) -> FinalBatch``: the rest of the budget, drawn fresh;
    - ``finalize(state, batch, evaluations, reason) -> RunResult``.

    Every random draw is in ``initial``, ``propose`` and ``final``, each from the
    generator it is given, so a run is a function of its seed and its evaluations.
    """

    initial: Callable[[np.random.Generator], Batch]
    init: Callable[[Batch, Evaluations], State]
    propose: Callable[[State, np.random.Generator], Batch]
    update: Callable[[State, Batch, Evaluations], tuple[State, StepInfo]]
    stop: Callable[[State], str | None]
    final: Callable[[State, np.random.Generator], FinalBatch]
    finalize: Callable[[State, FinalBatch, Evaluations, str], RunResult]


def build_kernel(problem: Problem, settings: Settings, weight_scale=None) -> Kernel:
    """The kernel of ``problem`` under ``settings``.

    ``weight_scale`` (one number per expectation) replaces the running scale of the
    relative criterion weights (see :func:`~pymc_ais.core.engine.state.criterion_weights`).
    Every kernel function runs with one BLAS thread (:func:`_one_blas_thread`).
    """
    return Kernel(
        initial=_one_blas_thread(lambda rng: adaptation.initial_batch(problem, settings, rng)),
        init=_one_blas_thread(lambda batch, ev: adaptation.init(problem, settings, batch, ev, weight_scale)),
        propose=_one_blas_thread(lambda state, rng: adaptation.propose(problem, settings, state, rng)),
        update=_one_blas_thread(lambda state, batch, ev: adaptation.update(problem, settings, state, batch, ev)),
        stop=_one_blas_thread(lambda state: adaptation.stop_reason(state, settings)),
        final=_one_blas_thread(
            lambda state, rng: final.final_batch(problem, final.final_settings(settings, state, problem), state, rng)
        ),
        finalize=_one_blas_thread(
            lambda state, batch, ev, reason: finalize(
                problem, final.final_settings(settings, state, problem), state, batch, ev, reason
            )
        ),
    )


def _one_blas_thread(function: Callable) -> Callable:
    """``function`` run with one BLAS thread, so that a seed gives the same run on any machine.

    Threaded BLAS splits a product's sums by thread, and their order changes the last
    bits; a rare-event run amplifies those into other levels and other draws (P(S > 4)
    in ten dimensions over 20 seeds: relative RMSE 0.025 with one thread, 0.031 with
    two, from the same seeds). The model's own evaluations are not limited.
    """

    def limited(*args):
        with threadpool_limits(limits=1, user_api="blas"):
            return function(*args)

    return limited


def rare_event_pairs(state: State, sample: FinalSample, normalised: bool = True) -> np.ndarray | None:
    """Which estimates are event probabilities whose randomized-QMC credit is limited: indicator outputs.

    Those of a rare-event run (heavy-tailed weights), and those of a run of
    ``normalised`` input laws over one input whose events have scores: there an event's
    boundary crosses one cell of each replicate's net, whose point falls inside or not,
    a jump of ``w / m`` that nine or ten replicates often never see. ``P(x > 2)`` at
    4,000 runs (``pa.failure_probability``): every replicate 0.15 % low with a spread of
    0.02 %, rms z 5.35 over 30 seeds. Without scores (no climbing, no widened fits) the
    same event's replicates were calibrated over 200 seeds, and so were a
    one-dimensional posterior's events (100 seeds): both stay as they were. None
    otherwise. Pairs are law-major (law * outputs + output).
    """
    one_scored_input = normalised and state.x.shape[1] == 1 and state.score is not None
    if not (state.rare or one_scored_input):
        return None
    return np.tile(indicator_outputs(sample.phi), sample.log_f.shape[1])


def finalize(
    problem: Problem, settings: Settings, state: State, batch: FinalBatch, evaluations: Evaluations, reason: str
) -> RunResult:
    """The final sample's estimates and per-expectation diagnostics."""
    sample = final.final_sample(problem, settings, state, batch, evaluations)
    limited = rare_event_pairs(state, sample, problem.normalised)
    estimates = estimates_from_summands(sample.pair_summands, sample.replicate, limited)
    log_h0 = problem.initial_log_density(sample.x, sample.log_f)
    # The draws the defensive component carries get their own k-hat when it is an input
    # law, whose tails may be the heaviest anywhere. An unnormalised problem's starting
    # law is built heavier-tailed than its laws (a posterior's Student-t start): there
    # the subset's log-weights fall linearly across the tails, which looks like a
    # Pareto tail (k-hat near 1 on a binomial posterior) although they are bounded; the
    # initial block's own k-hat (input_tail) still checks that the start covers the tails.
    defensive = float(sample.alpha[0]) if problem.normalised else 0.0
    diag = diagnostics(sample.log_f, sample.phi, sample.log_q, estimates.mcse, defensive, log_h0)
    bound = weight_bound(problem, float(sample.alpha[0]))
    diag["pareto_k"] = tail_khat(diag["pareto_k"], input_tail(problem, state, sample), bound, sample.x.shape[0])
    return RunResult(state, reason, sample, estimates, diag)

"""A polynomial surrogate of each output as a control variate with a cheaply known mean.

For each output phi_m a surrogate s_m is fitted on a pilot sample of the initial law
(:func:`pymc_ais.core.surrogate.fit_surrogate`). Then

    E_{f_l}[phi_m] = E_{f_l}[phi_m - beta_m s_m] + beta_m E_{f_l}[s_m],

where the first term is what the adaptive sampler estimates (the *residual* output,
far smaller than phi_m when the surrogate is good) and the second costs no model run:
randomized QMC on the surrogate alone, under each input law. The sum is unbiased
whatever the surrogate and beta (the pilot is independent of every later point); a
surrogate that would not cut the variance by ``1 - min_gain`` is not used, nor one with
an implausible coefficient or, for an output heavy-tailed on the pilot, a predicted
gain below tenfold (:func:`pymc_ais.core.surrogate.worth_using`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.stats import qmc

from .problem import Problem, checked_evaluate
from .surrogate import (
    doubling_means,
    fit_surrogate,
    light_tailed,
    scrambled_points,
    worth_using,
)


class OutputControl(NamedTuple):
    """Surrogates of the outputs and the means of their control terms."""

    surrogates: tuple  # per output, a Surrogate or None (not used)
    beta: np.ndarray  # (M,)
    mean: np.ndarray  # (L * M,) beta_m E_{f_l}[s_m], law-major like the pairs
    cov: np.ndarray  # (L * M, L * M) covariance of ``mean``
    relative_error: np.ndarray  # (M,) held-out RMS error / sd of each output
    predicted_ratio: np.ndarray  # (M,) held-out variance with / without the control
    pilot_points: int
    heavy_tailed: tuple = ()  # per output, whether the pilot showed a heavy tail

    def describe(self) -> str:
        parts = []
        for m, s in enumerate(self.surrogates):
            if s is None:
                why = f"held-out variance ratio {self.predicted_ratio[m]:.2g}"
                if self.heavy_tailed and self.heavy_tailed[m]:
                    why += ", heavy tail on the pilot"
                parts.append(f"output {m}: not used ({why})")
            else:
                parts.append(f"output {m}: {s.describe()}, held-out relative error {self.relative_error[m]:.2g}")
        return "; ".join(parts)


def surrogate_means(problem, law_quantile, surrogates, beta, rng, replicates, target) -> tuple[np.ndarray, np.ndarray]:
    """``beta_m E_{f_l}[s_m]`` for every pair, and the covariance of these estimates.

    Per law, replicates of scrambled Sobol' sequences through the law's quantile map
    (i.i.d. draws for one law without one), doubled until every pair's variance is
    below its ``target`` (L * M,); see :func:`pymc_ais.core.surrogate.doubling_means`.
    Laws are independent of each other.
    """
    n_laws, n_out = problem.n_laws, problem.n_outputs
    used = [m for m, s in enumerate(surrogates) if s is not None]
    engines = [[qmc.Sobol(problem.dim, scramble=True, seed=rng) for _ in range(replicates)] for _ in range(n_laws)]

    def add_sums(r, n):
        sums = np.zeros((n_laws, n_out))
        for law in range(n_laws):
            if law_quantile is None:
                x = problem.sample_initial(rng, n)
            else:
                x = law_quantile(law, scrambled_points(engines[law][r], n))
            for m in used:
                sums[law, m] = beta[m] * surrogates[m](x).sum()
        return sums.ravel()

    terms = sum(len(surrogates[m].coef) for m in used) * n_laws
    return doubling_means(add_sums, replicates, n_laws * n_out, lambda cov: np.all(np.diag(cov) <= target), terms)


def output_control(
    problem: Problem,
    law_quantile: Callable[[int, np.ndarray], np.ndarray] | None,
    pilot_points: int,
    rng: np.random.Generator,
    final_points: int,
    replicates: int = 8,
    min_gain: float = 0.9,
    share: float = 0.02,
) -> OutputControl:
    """Fit the surrogates on a pilot and compute the means of their control terms.

    ``law_quantile(l, u)`` maps uniforms (n, dim) to input law l; it may be None for a
    single law (i.i.d. draws then). The coefficient beta_m and the decision to use the
    surrogate are cross-fitted on the pilot (surrogate fitted on one half, scored on the
    other, with each law's importance weight f_l / h0). The surrogate means are refined
    until each pair's error variance is at most ``share`` times the i.i.d. prediction of
    that pair's final estimate (``final_points`` draws of the initial law).
    """
    if law_quantile is None and problem.n_laws > 1:
        raise ValueError("a surrogate with several input laws needs each law's quantile map")
    x = np.asarray(problem.sample_initial(rng, pilot_points), dtype=np.float64)
    log_f, phi = checked_evaluate(problem, x)
    log_h0 = np.logaddexp.reduce(log_f, axis=1) - np.log(problem.n_laws)
    weight = np.exp(log_f - log_h0[:, None])  # (n, L)
    half = rng.permutation(pilot_points) < pilot_points // 2
    n_out = problem.n_outputs
    surrogates, beta = [None] * n_out, np.zeros(n_out)
    errors, ratios = np.full(n_out, np.nan), np.ones(n_out)
    heavy = [False] * n_out
    residual = np.zeros((problem.n_laws, n_out))  # predicted i.i.d. variance per pair and point
    for m in range(n_out):
        y = phi[:, m]
        h = np.empty_like(y)
        for held_out in (half, ~half):
            fitted, _ = fit_surrogate(x[~held_out], y[~held_out], rng)
            h[held_out] = fitted(x[held_out])
        hc, yc = h - h.mean(), y - y.mean()
        b = float(hc @ yc / (hc @ hc)) if hc @ hc > 0 else 0.0
        before = np.var(weight * y[:, None], axis=0, ddof=1)
        after = np.var(weight * (y - b * h)[:, None], axis=0, ddof=1)
        ratios[m] = after.sum() / before.sum() if before.sum() > 0 else 1.0
        heavy[m] = not light_tailed(y)  # the output's own tail: the weights are the same either way
        if worth_using(ratios[m], b, y, min_gain):
            surrogates[m], errors[m] = fit_surrogate(x, y, rng)
            beta[m] = b
            residual[:, m] = after
        else:
            residual[:, m] = np.inf  # no control term, no target
    if not any(s is not None for s in surrogates):
        zeros = np.zeros(problem.n_pairs)
        return OutputControl(tuple(surrogates), beta, zeros, np.zeros((zeros.size, zeros.size)), errors, ratios,
                             pilot_points, tuple(heavy))
    target = share * residual.ravel() / max(final_points, 1)
    mean, cov = surrogate_means(problem, law_quantile, surrogates, beta, rng, replicates, target)
    return OutputControl(tuple(surrogates), beta, mean, cov, errors, ratios, pilot_points, tuple(heavy))


def residual_problem(problem: Problem, control: OutputControl) -> Problem:
    """The same problem with outputs ``phi_m - beta_m s_m``."""
    used = [m for m, s in enumerate(control.surrogates) if s is not None]

    def evaluate(x):
        log_f, phi = problem.evaluate(x)
        phi = np.array(phi, dtype=np.float64).reshape(x.shape[0], -1)
        for m in used:
            phi[:, m] -= control.beta[m] * control.surrogates[m](x)
        return log_f, phi

    return Problem(
        dim=problem.dim, sample_initial=problem.sample_initial, evaluate=evaluate,
        output_names=problem.output_names, law_names=problem.law_names, initial_quantile=problem.initial_quantile,
    )

"""Surrogate control variates: outputs ``phi_m`` become ``phi_m - beta_m h_m`` with known means.

A surrogate ``s`` of the model output, fitted on a pilot sample that no later estimate
uses, gives every output ``phi_m`` of the problem a twin ``h_m`` computed on ``s``
instead of the model (the output itself for :func:`pymc_ais.estimate`, a pick-freeze
integrand for :func:`pymc_ais.sobol`). Then

    E_{f_l}[phi_m] = E_{f_l}[phi_m - beta_m h_m] + beta_m E_{f_l}[h_m].

The sampler estimates the first term (the *residual*, far smaller than ``phi_m`` when
the surrogate is good); the second costs no model run: randomized QMC on the surrogate
alone under each input law (:func:`control_means`), whose error enters the error bars.
The sum is unbiased whatever the surrogate and ``beta``. A control is used only where
the pilot, cross-fitted, predicts a real gain (:func:`pymc_ais.core.surrogates.polynomial.worth_using`).

One convention throughout: :func:`residual_problem` samples ``phi - beta h``,
:func:`add_back` adds ``beta E[h]`` and its covariance to the estimates.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np
from scipy.stats import qmc

from ..engine.diagnostics import diagnostics
from ..engine.kernel import RunResult
from ..engine.settings import Settings
from ..problem import Problem
from ..sensitivity.pick_freeze import pick_freeze_columns, pick_freeze_points
from .polynomial import (
    POINTS_PER_FEATURE,
    doubling_means,
    fit_surrogate,
    light_tailed,
    scrambled_points,
    worth_using,
)
from .tuning import (
    CHAOS_EXACT,
    MAX_PILOT_SHARE,
    MEANS_REPLICATES,
    MEANS_SHARE,
    MIN_GAIN,
    PLAIN_BLOCK_SHARE,
)


class SurrogateControl(NamedTuple):
    """Control variates ``beta_m h_m`` of the M outputs, with the means of their terms."""

    h: Callable[[np.ndarray], np.ndarray]  # points (n, dim) -> surrogate outputs (n, M)
    beta: np.ndarray  # (M,) coefficient of each output's control (0: not used)
    mean: np.ndarray  # (L * M,) beta_m E_{f_l}[h_m], law-major like the pairs
    cov: np.ndarray  # (L * M, L * M) covariance of ``mean``
    pilot_points: int
    predicted_ratio: np.ndarray  # (M,) held-out variance with / without the control
    surrogates: tuple  # the fitted surrogates (None where an output has none)
    relative_error: np.ndarray  # held-out RMS error / sd of the output, per surrogate
    description: str
    # the residual outputs computed otherwise than ``phi - beta h`` (same means; see
    # pymc_ais.core.surrogates.pick_freeze_chaos), or None
    evaluate_residual: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None


def output_label(problem: Problem, m: int) -> str:
    """Output ``m`` by its name where the problem knows it (a hidden region's too), else by its index.

    A black-box output's names are known once it has run: the evaluator reads them then.
    """
    names = getattr(problem.evaluate, "output_names", None) or problem.output_names
    return repr(str(names[m])) if names is not None and m < len(names) else f"output {m}"


def remember_last(h: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """``h`` that returns its last (read-only) result again when called on equal points.

    The final draws go through a control twice, for the residuals and in
    :func:`add_back`: a chaos of hundreds of terms at every draw is worth computing once.
    """
    last: list = []

    def remembered(x: np.ndarray) -> np.ndarray:
        if last and last[0].shape == x.shape and np.array_equal(last[0], x):
            return last[1]
        out = h(x)
        out.flags.writeable = False
        last[:] = [np.array(x), out]
        return out

    return remembered


def pilot_size(fraction: float, points: int, dim: int, values_per_point: int = 1) -> int:
    """Points of a surrogate pilot: ``fraction`` of ``points``, and enough for a linear fit.

    The decision and the coefficients are cross-fitted (halves) and the fit itself
    chooses its degree on halves of a half: a linear fit in ``dim`` inputs needs
    ``4 * POINTS_PER_FEATURE * (dim + 1)`` model values, ``values_per_point`` per point.
    """
    needed = -(-4 * POINTS_PER_FEATURE * (dim + 1) // values_per_point)
    return max(int(fraction * points), needed)


def pilot_fits(pilot: int, points: int) -> bool:
    """Whether a pilot of ``pilot`` points fits in a budget of ``points``."""
    return pilot <= MAX_PILOT_SHARE * points


def cross_fitted_beta(
    g: np.ndarray, h: np.ndarray, weights: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Coefficients, held-out variance ratios and decisions of the controls of ``g`` by ``h``.

    ``g`` (n, M) are pilot values of the outputs, ``h`` (n, M) held-out surrogate
    predictions there (fitted without the point), ``weights`` (n, L) optional
    importance weights ``f_l / h0`` of the pilot points. ``beta_m`` regresses ``g_m`` on
    ``h_m``; the ratio is the variance of the weighted residual over that of the
    weighted output, summed over laws. Returns ``(beta, ratio, used)``, beta zeroed
    where unused.
    """
    gc, hc = g - g.mean(axis=0), h - h.mean(axis=0)
    var_h = np.sum(hc**2, axis=0)
    beta = np.divide(np.sum(gc * hc, axis=0), var_h, out=np.zeros(g.shape[1]), where=var_h > 0)
    w = np.ones((g.shape[0], 1)) if weights is None else weights
    before = np.var(w[:, :, None] * g[:, None, :], axis=0, ddof=1).sum(axis=0)
    after = np.var(w[:, :, None] * (g - beta * h)[:, None, :], axis=0, ddof=1).sum(axis=0)
    ratio = np.divide(after, before, out=np.ones(g.shape[1]), where=before > 0)
    used = np.array([worth_using(ratio[m], beta[m], g[:, m], MIN_GAIN) for m in range(g.shape[1])], dtype=bool)
    return np.where(used, beta, 0.0), ratio, used


def control_means(
    h: Callable[[np.ndarray], np.ndarray],
    beta: np.ndarray,
    law_points: Callable[[int, object, int], np.ndarray],
    n_laws: int,
    dim: int,
    rng: np.random.Generator,
    target: np.ndarray,
    terms_per_point: float,
) -> tuple[np.ndarray, np.ndarray]:
    """``beta_m E_{f_l}[h_m]`` for every pair (law-major) and the covariance of these estimates.

    ``law_points(l, engine, n)`` returns the next ``n`` points of law l from one
    scrambled Sobol' ``engine`` (one per law and replicate). The replicates are doubled
    until every pair's variance is at most its ``target`` (see
    :func:`pymc_ais.core.surrogates.polynomial.doubling_means`). Laws are independent of each other.
    """
    n_out = beta.size
    engines = [[qmc.Sobol(dim, scramble=True, seed=rng) for _ in range(MEANS_REPLICATES)] for _ in range(n_laws)]

    def add_sums(r, n):
        sums = np.zeros((n_laws, n_out))
        for law in range(n_laws):
            sums[law] = beta * h(law_points(law, engines[law][r], n)).sum(axis=0)
        return sums.ravel()

    return doubling_means(
        add_sums, MEANS_REPLICATES, n_laws * n_out, lambda cov: bool(np.all(np.diag(cov) <= target)), terms_per_point
    )


def _quantile_points(problem: Problem, law_quantile, rng):
    """``law_points`` for :func:`control_means`: quantile maps, or i.i.d. draws without one."""

    def points(law, engine, n):
        if law_quantile is None:
            return problem.sample_initial(rng, n)
        return law_quantile(law, scrambled_points(engine, n))

    return points


def output_control(
    problem: Problem,
    law_quantile: Callable[[int, np.ndarray], np.ndarray] | None,
    pilot_points: int,
    rng: np.random.Generator,
    final_points: int,
    evaluate=None,
) -> SurrogateControl:
    """A polynomial surrogate of each output of ``problem`` as its own control variate.

    ``pilot_points`` i.i.d. points of the initial law are evaluated (through
    ``evaluate``, by default ``problem.evaluate``); each output gets a surrogate
    (:func:`~pymc_ais.core.surrogates.polynomial.fit_surrogate`), its coefficient and the decision to
    use it cross-fitted on the pilot with each law's importance weight ``f_l / h0``.
    ``law_quantile(l, u)`` maps uniforms to input law l (None: i.i.d. draws, one law only).
    """
    if law_quantile is None and problem.n_laws > 1:
        raise ValueError("a surrogate with several input laws needs each law's quantile map")
    evaluate = evaluate or problem.evaluate
    x = np.asarray(problem.sample_initial(rng, pilot_points), dtype=np.float64)
    log_f, phi, *_ = evaluate(x)
    log_f, phi = np.asarray(log_f).reshape(pilot_points, -1), np.asarray(phi).reshape(pilot_points, -1)
    weight = np.exp(log_f - problem.initial_log_density(x, log_f)[:, None])  # (n, L)
    half = rng.permutation(pilot_points) < pilot_points // 2
    n_out = phi.shape[1]
    held = np.empty_like(phi)
    for m in range(n_out):
        for held_out in (half, ~half):
            fitted, _ = fit_surrogate(x[~held_out], phi[~held_out, m], rng)
            held[held_out, m] = fitted(x[held_out])
    beta, ratio, used = cross_fitted_beta(phi, held, weight)
    surrogates: list = [None] * n_out
    errors = np.full(n_out, np.nan)
    notes = []
    for m in range(n_out):
        if used[m]:
            surrogates[m], error = fit_surrogate(x, phi[:, m], rng)
            errors[m] = error
            notes.append(f"{output_label(problem, m)}: {surrogates[m].describe()}, held-out relative error {error:.2g}")
        else:
            tail = "" if light_tailed(phi[:, m]) else ", heavy tail on the pilot"
            notes.append(f"{output_label(problem, m)}: not used (held-out variance ratio {ratio[m]:.2g}{tail})")

    def h(points):
        out = np.zeros((points.shape[0], n_out))
        for m, s in enumerate(surrogates):
            if s is not None:
                out[:, m] = s(points)
        return out

    mean, cov = _means(
        problem,
        h,
        beta,
        phi - beta * held,
        weight,
        law_quantile,
        rng,
        final_points,
        sum(len(s.coef) for s in surrogates if s is not None),
    )
    return SurrogateControl(h, beta, mean, cov, pilot_points, ratio, tuple(surrogates), errors, "; ".join(notes))


def _means(problem, h, beta, residual, weight, law_quantile, rng, final_points, terms):
    """Control means to the precision the final estimates need.

    Each pair's error variance is at most ``MEANS_SHARE`` of the pilot's prediction of
    its final variance.
    """
    n_pairs = problem.n_laws * beta.size
    if not np.any(beta):
        return np.zeros(n_pairs), np.zeros((n_pairs, n_pairs))
    predicted = np.var(weight[:, :, None] * residual[:, None, :], axis=0, ddof=1).ravel()  # (L * M,)
    target = np.where(np.repeat(beta[None], problem.n_laws, 0).ravel() != 0, MEANS_SHARE * predicted, np.inf)
    target = target / max(final_points, 1)
    points = _quantile_points(problem, law_quantile, rng)
    return control_means(h, beta, points, problem.n_laws, problem.dim, rng, target, terms * problem.n_laws)


def pick_freeze_control(
    product: Problem,
    base_evaluate: Callable,
    d: int,
    groups: Sequence[np.ndarray],
    indices: Sequence[str],
    pilot_points: int,
    rng: np.random.Generator,
    final_points: int,
) -> SurrogateControl:
    """The polynomial surrogate of the model output, its pick-freeze integrands as control variates.

    (A polynomial chaos, for independent inputs with CDFs, is
    :func:`pymc_ais.core.surrogates.pick_freeze_chaos.pick_freeze_chaos_control`.) The surrogate is
    that of :mod:`pymc_ais.core.surrogates.polynomial`, whose means are integrated by randomized QMC.

    ``product`` is the pick-freeze problem (:func:`pymc_ais.core.sensitivity.pick_freeze.pick_freeze_problem`)
    and ``base_evaluate`` the model's evaluation. Each pilot point of the product law
    costs ``G + 2`` model runs, every one a point of the input law where phi is known:
    the surrogate is fitted on all of them, and integrand j's control is the same
    integrand computed on the surrogate.
    """
    n_groups = len(groups)
    points, phi = _pilot(product, base_evaluate, d, groups, pilot_points, rng)
    g = pick_freeze_columns(phi, indices)
    half = rng.permutation(pilot_points) < pilot_points // 2
    held = np.empty_like(g)
    for held_out in (half, ~half):
        fitted, _ = fit_surrogate(points[:, ~held_out].reshape(-1, d), phi[:, ~held_out].ravel(), rng)
        values = fitted(points[:, held_out].reshape(-1, d)).reshape(n_groups + 2, -1)
        held[held_out] = pick_freeze_columns(values, indices)
    beta, ratio, _ = cross_fitted_beta(g, held)
    surrogate, error = fit_surrogate(points.reshape(-1, d), phi.ravel(), rng)

    def h(z):
        values = surrogate(pick_freeze_points(z, d, groups)).reshape(n_groups + 2, z.shape[0])
        return pick_freeze_columns(values, indices)

    description = (
        f"{surrogate.describe()}; held-out relative error {error:.2g}; "
        f"control variate on {int(np.count_nonzero(beta))} of {beta.size} integrands"
    )
    initial_quantile = product.initial_quantile
    quantile = None if initial_quantile is None else (lambda law, u: initial_quantile(u))
    weight = np.ones((pilot_points, 1))
    mean, cov = _means(
        product, h, beta, g - beta * held, weight, quantile, rng, final_points, len(surrogate.coef) * (n_groups + 2)
    )
    return SurrogateControl(h, beta, mean, cov, pilot_points, ratio, (surrogate,), np.array([error]), description)


def _pilot(product: Problem, base_evaluate, d: int, groups, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """``n`` product-law points evaluated: stacked points (G + 2, n, d) and outputs (G + 2, n)."""
    x = np.asarray(product.sample_initial(rng, n), dtype=np.float64)
    stacked = pick_freeze_points(x, d, groups)
    _, phi, *_ = base_evaluate(stacked)
    return stacked.reshape(len(groups) + 2, n, d), np.asarray(phi)[:, 0].reshape(len(groups) + 2, n)


def residual_problem(problem: Problem, control: SurrogateControl, evaluate=None) -> Problem:
    """The same problem with outputs ``phi_m - beta_m h_m`` (``evaluate``: default the problem's).

    A control with its own ``evaluate_residual`` gives the residual outputs itself.
    """
    evaluate = evaluate or problem.evaluate

    def residual(x):
        log_f, phi, *_ = evaluate(x)
        return log_f, np.asarray(phi, dtype=np.float64).reshape(x.shape[0], -1) - control.beta * control.h(x)

    return Problem(
        dim=problem.dim,
        sample_initial=problem.sample_initial,
        evaluate=control.evaluate_residual or residual,
        output_names=problem.output_names,
        law_names=problem.law_names,
        initial_quantile=problem.initial_quantile,
        log_initial=problem.log_initial,
        weighted_as=problem.weighted_as,
    )


def add_back(result: RunResult, control: SurrogateControl) -> RunResult:
    """Estimates of ``phi`` from those of the residuals: ``+ beta E[h]`` and its covariance.

    The final draws' outputs become ``phi`` again and the ESS refers to ``phi``. A
    controlled output's Pareto k-hat and integrand ESS are those of the envelope
    ``|phi| + |beta s|``, which bounds its residual at every draw: the residual of a
    good fit is near zero almost everywhere and largest at a few draws, so its own
    k-hat and ESS measure how good the fit is, not a heavy tail (on bounded means of
    uniform and beta inputs, k-hat above 0.7 in four runs of six, all of which
    covered). A residual has a heavy tail only if ``phi`` or ``s`` has one. Where the
    fit is exact (held-out error at rounding level, :data:`CHAOS_EXACT`) nothing was
    left to sample: both are NaN, and the error bar is the fit's rounding.
    """
    est = result.estimates
    cov = est.cov + control.cov
    estimates = est._replace(mean=est.mean + control.mean, cov=cov, mcse=np.sqrt(np.diag(cov)))
    final = result.final
    fitted = control.beta * control.h(final.x)
    phi = final.phi + fitted
    diag = {**result.diagnostics, "ess": diagnostics(final.log_f, phi, final.log_q, estimates.mcse)["ess"]}
    controlled = np.tile(control.beta != 0, final.log_f.shape[1])
    if controlled.any():
        envelope = diagnostics(final.log_f, np.abs(phi) + np.abs(fitted), final.log_q, estimates.mcse)
        exact = np.tile((control.beta != 0) & (control.predicted_ratio <= CHAOS_EXACT), final.log_f.shape[1])
        for key in ("pareto_k", "ess_integrand"):
            diag[key] = np.where(exact, np.nan, np.where(controlled, envelope[key], diag[key]))
    return result._replace(estimates=estimates, final=final._replace(phi=phi), diagnostics=diag)


def plain_residual_settings(settings: Settings) -> Settings:
    """Settings that sample a chaos's residual from the input law itself, quasi-randomly.

    The residual of a good chaos is tiny in the bulk and largest at the edges of the
    support; adapted proposals went there and left the bulk to the defensive component
    (Sobol' indices of the Ishigami function at 500 runs: error bars a thousand times
    too small). One small block, then the whole rest as a randomized-QMC sample of the
    initial law: the final phase samples the initial law when nothing was adapted.
    """
    share = max(PLAIN_BLOCK_SHARE, 2.0 / settings.budget)
    plain = dataclasses.replace(settings, block_fraction=share, adaptive_fraction=share)
    return plain if plain.budget >= plain.minimum_budget else settings

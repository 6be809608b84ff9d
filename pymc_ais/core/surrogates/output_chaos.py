"""A polynomial chaos of each output as its own control variate, for :func:`pymc_ais.estimate`.

The input law is one product law of independent inputs read through their CDFs
(see :mod:`pymc_ais.core.surrogates.chaos`). Each output ``phi_m`` gets a sparse chaos ``s_m``
fitted on a pilot of scrambled Sobol' points of that law; ``E_f[s_m]`` is the chaos's
constant coefficient, exactly, so the control costs no integration at all (the
polynomial surrogate of :mod:`pymc_ais.core.surrogates.control` integrates its means by
randomized QMC). The pilot doubles while the predicted final variance, the outputs'
leave-one-out errors over the runs left, keeps falling.

Left alone: an indicator (two values on the pilot: no polynomial follows a jump, and a
rare event needs the adaptive sampler, not a smoother), any output whose chaos has a
relative leave-one-out error above :data:`CHAOS_USE`, and a heavy-tailed output whose
chaos is not exact (:func:`pymc_ais.core.surrogates.polynomial.light_tailed` on the weighted pilot).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.stats import qmc

from ..problem import Problem
from .chaos import Chaos, fit_chaos
from .control import SurrogateControl, output_label, remember_last
from .pilot import grow_pilot
from .polynomial import light_tailed, scrambled_points
from .tuning import CHAOS_EXACT, CHAOS_MAX_PILOT_RUNS, CHAOS_ROUNDING, CHAOS_USE


def is_indicator(values: np.ndarray) -> bool:
    """Whether pilot values take at most two distinct values (an event's indicator)."""
    return np.unique(values).size <= 2


def output_chaos_control(
    problem: Problem,
    germ_map: tuple[Callable[[np.ndarray], np.ndarray], tuple[str, ...]],
    pilot_points: int,
    rng: np.random.Generator,
    total_points: int,
    max_pilot_points: int,
    evaluate: Callable | None = None,
) -> SurrogateControl:
    """Chaos controls of every output of a one-law ``problem`` (see the module docstring).

    ``germ_map`` is ``(x -> germs, kinds)`` of the law's independent inputs
    (:func:`pymc_ais.laws.compile.compile_germ_map`); the pilot starts at ``pilot_points``
    and may double up to ``max_pilot_points`` (and :data:`CHAOS_MAX_PILOT_RUNS`) out of
    ``total_points`` evaluations.

    Examples
    --------
    E[exp(x / 2)] = exp(1/8) for a standard normal x, read off the chaos of the output:

    >>> import numpy as np
    >>> from scipy.special import ndtri
    >>> from scipy.stats import norm
    >>> from pymc_ais.core import Problem
    >>> problem = Problem(
    ...     dim=1,
    ...     sample_initial=lambda rng, n: rng.standard_normal((n, 1)),
    ...     evaluate=lambda x: (norm.logpdf(x), np.exp(x / 2)),
    ...     initial_quantile=ndtri,
    ... )
    >>> germ_map = (lambda x: x, ("hermite",))  # a standard normal input is its own germ
    >>> control = output_chaos_control(problem, germ_map, 64, np.random.default_rng(0), 2000, 512)
    >>> bool(abs(control.mean[0] - np.exp(1 / 8)) < 1e-9), int(control.beta[0])
    (True, 1)
    """
    if problem.n_laws != 1:
        raise ValueError("a chaos control needs a single input law")
    to_germs, germs = germ_map
    evaluate = evaluate or problem.evaluate
    engine = qmc.Sobol(problem.dim, scramble=True, seed=rng)
    quantile = problem.initial_quantile

    def evaluated(n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Pilot points in the germs' space, their outputs and their log weights f / h0."""
        if quantile is None:
            x = np.asarray(problem.sample_initial(rng, n), dtype=np.float64)
        else:
            x = np.asarray(quantile(scrambled_points(engine, n)), dtype=np.float64)
        z = to_germs(x)
        log_f, phi, *_ = evaluate(x)
        log_f = np.asarray(log_f, dtype=np.float64).reshape(n, -1)
        log_w = log_f[:, 0] - problem.log_initial(x, log_f) if problem.log_initial is not None else np.zeros(n)
        return z, np.asarray(phi, dtype=np.float64).reshape(n, -1), log_w

    def fitted(z: np.ndarray, phi: np.ndarray, before: list[Chaos | None] | None = None) -> list[Chaos | None]:
        """A chaos per output; one already at rounding level on the smaller pilot is kept."""
        fits: list[Chaos | None] = []
        for m in range(phi.shape[1]):
            kept = None if before is None else before[m]
            if kept is not None and kept.loo_error <= CHAOS_EXACT:
                fits.append(kept)
            else:
                fits.append(None if is_indicator(phi[:, m]) else fit_chaos(z, phi[:, m], germs))
        return fits

    def errors_of(fits: list[Chaos | None]) -> np.ndarray:
        return np.array([np.inf if c is None else c.loo_error for c in fits])

    limit = min(max(pilot_points, max_pilot_points), CHAOS_MAX_PILOT_RUNS)
    pilot = [evaluated(pilot_points)]

    def refit(before: list[Chaos | None] | None) -> list[Chaos | None]:
        z, phi, _ = (np.concatenate(part) for part in zip(*pilot))
        return fitted(z, phi, before)

    fits, _ = grow_pilot(
        pilot_points, limit, total_points, lambda n: pilot.append(evaluated(n)), refit, errors_of, cap=1.0
    )
    z, phi, log_w = (np.concatenate(part) for part in zip(*pilot))
    errors = errors_of(fits)
    # heavy-tailed weighted pilot terms |phi| f / h0: the variance may be infinite and a
    # leave-one-out error, a ratio of variances, then means nothing (|theta| under a
    # Student-t(1.2) law got errors of 2e-3 and 2e-5 and estimates 16 standard errors
    # off); an exact fit (a polynomial of the germs, x^20) is exact whatever the tails
    heavy = np.array([not light_tailed(phi[:, m], log_w) for m in range(phi.shape[1])])
    used = (errors < CHAOS_USE) & (~heavy | (errors <= CHAOS_EXACT))
    surrogates = tuple(c if ok else None for c, ok in zip(fits, used))
    beta = used.astype(np.float64)

    @remember_last
    def h(x: np.ndarray) -> np.ndarray:
        out = np.zeros((x.shape[0], len(surrogates)))
        if any(s is not None for s in surrogates):
            points = to_germs(x)
            for m, s in enumerate(surrogates):
                if s is not None:
                    out[:, m] = s(points)
        return out

    mean = np.array([0.0 if s is None else s.mean for s in surrogates])
    # exact up to the least-squares fit's rounding, which a residual of zeros cannot see;
    # relative to the chaos's root mean square (sum of squared coefficients), so that a
    # mean of zero keeps an error bar at the rounding level of the output's scale
    scale = np.array([0.0 if s is None else np.sqrt(np.sum(np.square(s.coef))) for s in surrogates])
    cov = np.diag((CHAOS_ROUNDING * scale) ** 2)
    notes = []
    for m, (c, ok) in enumerate(zip(fits, used)):
        name = output_label(problem, m)
        if c is None:
            notes.append(f"{name}: not used (an indicator)")
        elif heavy[m] and not ok and c.loo_error < CHAOS_USE:
            notes.append(
                f"{name}: not used (heavy-tailed on the pilot, so its chaos's leave-one-out error "
                f"{c.loo_error:.2g} says little)"
            )
        elif ok:
            notes.append(
                f"{name}: polynomial chaos of degree {c.degree}, {c.coef.size} terms, "
                f"leave-one-out relative error {c.loo_error:.2g}"
            )
        else:
            notes.append(f"{name}: not used (chaos leave-one-out relative error {c.loo_error:.2g})")
    description = f"polynomial chaos on {phi.shape[0]} pilot runs; " + "; ".join(notes)
    relative_error = np.sqrt(np.where(np.isfinite(errors), errors, np.nan))
    return SurrogateControl(
        h, beta, mean, cov, phi.shape[0], np.minimum(errors, 1.0), surrogates, relative_error, description
    )

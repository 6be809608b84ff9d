"""A polynomial chaos as the control of the pick-freeze integrands, for :func:`pymc_ais.sobol`.

Every pick-freeze numerator (:mod:`pymc_ais.core.sensitivity.pick_freeze`) is a quadratic form
``Q_u(phi)``: the variance ``Var phi`` or the variance ``Var E[phi | x_u]`` of a
conditional mean (first order: ``u`` the group; total: ``V - Q_~u``). With a chaos
``s`` and its residual ``r = phi - s``,

    Q_u(phi) = Q_u(s) + 2 Cov(E[s | x_u], r) + Q_u(r).

``Q_u(s)`` is a sum of squared coefficients, exactly. The middle term is linear in
``r`` and needs no pick-freeze at all: ``E[s | x_u]`` is the chaos's terms in the
inputs of ``u`` only, so it is the mean of ``2 (E[s | x_u](x) - E s) r(x)`` over any
point ``x`` of the input law, and every one of the ``G + 2`` points of a pick-freeze
stack is one. Only ``Q_u(r)``, of second order in the residual, is left to the
pick-freeze integrands of ``r``. Each stack's integrand is therefore

    psi_u = pick-freeze integrand of r + mean over the stack of 2 s_u(x) r(x),

with ``s_u`` the chaos's non-constant terms inside ``u`` (variance: all of them; first
order: those in the group only; total: those touching the group), and its mean is
``Q_u(phi) - Q_u(s)`` whatever the fit, under any sampler of the product law.

The pick-freeze integrands of ``phi - s`` carried the cross term in products of
differences within one stack instead, with a variance of the order of ``Var s Var r``
per stack. On Sobol's g-function in eight inputs (a kink; a chaos with leave-one-out
error 6e-4 on 1,280 runs, 72 i.i.d. stacks left of a 2,000-run budget) the summed error
of the first-order indices fell tenfold, 7.3e-4 to 6.9e-5, and of the totals 3.6-fold;
``pa.sobol`` itself went from 1.1e-3 to 5.3e-5 there (``benchmarks/ishigami_sobol.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from scipy.stats import qmc

from ..sensitivity.pick_freeze import evaluate_stacks, pick_freeze_columns, pick_freeze_points
from .chaos import Chaos, fit_chaos
from .control import SurrogateControl, remember_last
from .pilot import grow_pilot
from .polynomial import scrambled_points
from .tuning import CHAOS_MAX_PILOT_RUNS, CHAOS_ROUNDING, CHAOS_USE


def integrand_terms(chaos: Chaos, groups: Sequence[np.ndarray], indices: Sequence[str]) -> np.ndarray:
    """Which terms (K, J) make ``s_u`` for each pick-freeze integrand, in the problem's order.

    Column 0 (the variance): every non-constant term; then per group, for ``"first"``
    the terms in the group's inputs only, for ``"total"`` those touching the group.
    """
    columns = [(chaos.indices > 0).any(axis=1)]
    for kind in ("first", "total"):
        if kind in indices:
            columns += [chaos.terms_of(cols, total=kind == "total") for cols in groups]
    return np.stack(columns, axis=1)


def chaos_integrand_means(chaos: Chaos, groups: Sequence[np.ndarray], indices: Sequence[str]) -> np.ndarray:
    """Exact means ``Q_u(s)`` of the pick-freeze integrands of a chaos: sums of squared coefficients.

    >>> from pymc_ais.core.surrogates.chaos import Chaos
    >>> s = Chaos(np.array([[0, 0], [1, 0], [1, 1]]), np.array([5.0, 2.0, 1.0]), ("legendre",) * 2, 2, 0.0)
    >>> chaos_integrand_means(s, [np.array([0]), np.array([1])], ("first", "total"))
    array([5., 4., 0., 5., 1.])
    """
    return (chaos.coef[:, None] ** 2 * integrand_terms(chaos, groups, indices)).sum(axis=0)


def residual_integrands(
    base_evaluate: Callable, to_germs: Callable, chaos: Chaos, d: int, groups, indices
) -> tuple[Callable, Callable]:
    """The evaluation of ``psi`` at product-law points, and the chaos's own integrands there.

    Returns ``(evaluate, h)``: ``evaluate(x)`` runs the model on the stacks of ``x``
    (n, 2d) and returns the product law's log-density and ``psi`` (n, J) (see the module
    docstring); ``h(x)`` the pick-freeze integrands of the chaos, so that ``psi + h`` is
    an unbiased integrand of the numerators themselves (what the final draws report).
    Both read one cached evaluation of the chaos's terms at the stacks.
    """
    terms = integrand_terms(chaos, groups, indices)
    weights = np.hstack([chaos.coef[:, None], chaos.coef[:, None] * terms])  # the chaos, then each s_u
    n_stack = len(groups) + 2

    @remember_last
    def at_stacks(x: np.ndarray) -> np.ndarray:
        return chaos.combinations(to_germs(pick_freeze_points(x, d, groups)), weights)

    def h(x: np.ndarray) -> np.ndarray:
        return pick_freeze_columns(at_stacks(x)[:, 0].reshape(n_stack, x.shape[0]), indices)

    def evaluate(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        n = x.shape[0]
        log_f, phi = evaluate_stacks(base_evaluate, x, d, groups)
        values = at_stacks(x)
        r = phi.ravel() - values[:, 0]
        cross = 2.0 * (values[:, 1:] * r[:, None]).reshape(n_stack, n, -1).mean(axis=0)
        return log_f, pick_freeze_columns(r.reshape(n_stack, n), indices) + cross

    return evaluate, h


def pick_freeze_chaos_control(
    product, base_evaluate, germ_map, d, groups, indices, pilot_points, rng, max_pilot_points, total_runs
) -> SurrogateControl:
    """A polynomial chaos of the model output as the control of the pick-freeze integrands.

    The pilot is plain points of the input law, scrambled Sobol' points through its
    quantile map when it has one: ``G + 2`` of them for each product-law point it
    stands for (the same model runs). Pick-freeze stacks share coordinates, and a
    chaos fitted on them looked exact by leave-one-out while oscillating near the
    edges of the cube (on the Ishigami function at 500 runs, index errors of 3e-6 with
    error bars of 2e-9). The pilot doubles, within ``max_pilot_points``, while the
    predicted final variance falls: the first-order part of ``psi``'s variance goes
    as the chaos's corrected leave-one-out error over the runs left for the residual
    (the criterion of :mod:`pymc_ais.core.surrogates.output_chaos`). (With the earlier
    integrands, whose variance did not follow that law, the pilot doubled while error
    times runs left fell; on the g-function at 2,000 and 10,000 runs and the
    cantilever at 20,000 both rules stop at the same size.) The control is used when
    the error is below ``CHAOS_USE``: the final sample then estimates ``psi`` (module
    docstring) and the chaos's exact means are added back, so the estimates stay
    unbiased whatever the fit.
    """
    to_germs, germs = germ_map
    per_point = len(groups) + 2
    limit = min(max(pilot_points, max_pilot_points or pilot_points) * per_point, CHAOS_MAX_PILOT_RUNS)
    engine = qmc.Sobol(d, scramble=True, seed=rng)
    quantile = product.initial_quantile

    def draw(n):
        if quantile is None:
            return np.asarray(product.sample_initial(rng, n), dtype=np.float64)[:, :d]
        u = scrambled_points(engine, n)
        return np.asarray(quantile(np.hstack([u, u])), dtype=np.float64)[:, :d]

    def evaluated(n):
        x = draw(n)
        _, phi, *_ = base_evaluate(x)
        return to_germs(x), np.asarray(phi, dtype=np.float64).reshape(n, -1)[:, 0]  # germs of the points run

    pilot = [evaluated(pilot_points * per_point)]

    def refit(_: Chaos | None) -> Chaos:
        z, y = (np.concatenate(part) for part in zip(*pilot))
        return fit_chaos(z, y, germs)

    chaos, size = grow_pilot(
        pilot_points * per_point,
        limit,
        total_runs,
        lambda n: pilot.append(evaluated(n)),
        refit,
        lambda c: np.array([c.loo_error]),
    )
    y = np.concatenate([part[1] for part in pilot])
    pilot_used = -(-y.size // per_point)  # in product-law points, rounded up
    used = chaos.loo_error < CHAOS_USE
    beta = np.full(1 + len(groups) * len(indices), 1.0 if used else 0.0)
    evaluate, h = residual_integrands(base_evaluate, to_germs, chaos, d, groups, indices)
    mean = beta * chaos_integrand_means(chaos, groups, indices)
    description = (
        f"polynomial chaos of degree {chaos.degree}, {chaos.coef.size} terms, on {y.size} pilot runs; "
        f"leave-one-out relative error {chaos.loo_error:.2g}; "
        + ("control variate on every integrand" if used else f"not used (error above {CHAOS_USE})")
    )
    ratio = np.full(beta.size, chaos.loo_error)
    # the means are exact up to the rounding of the least-squares fit: exact polynomials
    # come back with relative errors near 1e-16, which a residual of zeros cannot see
    cov = np.diag((CHAOS_ROUNDING * np.abs(mean)) ** 2)
    error = np.array([np.sqrt(max(chaos.loo_error, 0.0))])
    return SurrogateControl(
        h, beta, mean, cov, pilot_used, ratio, (chaos,), error, description, evaluate if used else None
    )

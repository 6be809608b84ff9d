"""Sobol' indices as a handful of expectations under a product law (pick-freeze).

With A, B independent draws of the inputs and A_B^(i) equal to A except for group i,
taken from B, and writing y_A = phi(A), y_B = phi(B), y_i = phi(A_B^(i)):

    V      = E[(y_A - y_B)^2] / 2                                   variance
    S_i    = E[(y_A - y_B)^2 - (y_B - y_i)^2] / 2 / V               first order
    S_T,i  = E[(y_A - y_i)^2] / 2 / V                               total (Jansen 1999)

The first-order numerator holds because y_B and y_i share only group i, so
E[(y_B - y_i)^2] / 2 = V - V_i. All three integrands are differences, unchanged by a
shift of phi: unlike Saltelli's (2010) y_B (y_i - y_A), whose variance grows with
E[phi]^2, they need no estimate of the mean. On the cantilever beam (i.i.d. draws,
1.4e5 runs) this cut the sum of the six first-order variances from 1.0e-3 to 2.2e-4.

Every numerator is an expectation under the product law f ⊗ f of (A, B), a point of
which costs G + 2 model runs (A, B and one A_B^(i) per group). All of them are
estimated with ONE adaptive sample of that 2d-dimensional law; the indices and their
standard errors follow from the joint covariance by the delta method.
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np
from scipy.stats import qmc

from .problem import Problem, checked_evaluate
from .surrogate import (
    Surrogate,
    doubling_means,
    fit_surrogate,
    scrambled_points,
    worth_using,
)

INDICES = ("first", "total")


def pick_freeze_points(x: np.ndarray, d: int, groups: Sequence[np.ndarray]) -> np.ndarray:
    """Points (A, B, A_B^(1), ..., A_B^(G)) stacked: ((G + 2) n, d) from x = [A | B] (n, 2d)."""
    a, b = x[:, :d], x[:, d:]
    mixed = []
    for cols in groups:
        ab = a.copy()
        ab[:, cols] = b[:, cols]
        mixed.append(ab)
    return np.concatenate([a, b, *mixed], axis=0)


def pick_freeze_columns(phi: np.ndarray, indices: Sequence[str]) -> np.ndarray:
    """The integrands (n, J) from phi at the stacked points, reshaped (G + 2, n)."""
    pa, pb, pab = phi[0], phi[1], phi[2:]
    spread = (pa - pb) ** 2
    columns = [spread / 2]
    if "first" in indices:
        columns += [(spread - (pb - p) ** 2) / 2 for p in pab]
    if "total" in indices:
        columns += [(pa - p) ** 2 / 2 for p in pab]
    return np.stack(columns, axis=1)


class SurrogateControl(NamedTuple):
    """A surrogate's pick-freeze integrands as control variates (see :func:`surrogate_control`)."""

    surrogate: Surrogate
    beta: np.ndarray  # (J,) coefficient of each integrand's control variate (0: unused)
    mean: np.ndarray  # (J,) beta_j m_j, the estimated mean of the control term
    cov: np.ndarray  # (J, J) covariance of ``mean`` (its randomized-QMC error)
    relative_error: float  # held-out RMS error of the surrogate / sd of phi
    pilot_points: int  # product-law points spent on the pilot
    predicted_ratio: np.ndarray  # (J,) held-out Var[g - beta h] / Var[g]


def _pilot_sample(base: Problem, rng: np.random.Generator, n: int) -> np.ndarray:
    return np.concatenate([base.sample_initial(rng, n), base.sample_initial(rng, n)], axis=1)


def surrogate_control(
    base: Problem,
    groups: Sequence[np.ndarray],
    indices: Sequence[str],
    pilot_points: int,
    rng: np.random.Generator,
    final_points: int,
    replicates: int = 8,
    min_gain: float = 0.9,
    share: float = 0.1,
) -> SurrogateControl:
    """Fit a surrogate of phi on a pilot and turn it into control variates.

    1. ``pilot_points`` points of the product law, i.i.d., cost ``(G + 2)`` model runs
       each; every one of their evaluations is a point of the input law where phi is
       known, so the surrogate is fitted on all of them (:func:`fit_surrogate`).
    2. The coefficient ``beta_j`` of integrand j is cross-fitted on the pilot (surrogate
       fitted on one half of the points, regression on the other); an integrand whose
       held-out variance would fall by less than ``1 - min_gain`` gets no control, nor
       one failing the other checks of :func:`pymc_ais.core.surrogate.worth_using`.
    3. The means ``m_j`` of the surrogate's integrands cost no model run: ``replicates``
       scrambled Sobol' sequences of the product law (i.i.d. draws without a quantile
       map), extended until the variance of their mean is at most ``share`` times the
       predicted variance of the ``final_points``-point estimate (see
       :func:`_surrogate_means`); their spread gives the covariance added to the final
       error bars.

    The control term has mean zero whatever the surrogate, so the estimates stay
    unbiased; the pilot is independent of the points the estimates use.
    """
    d, n_groups = base.dim, len(groups)
    x = _pilot_sample(base, rng, pilot_points)
    _, phi = checked_evaluate(base, pick_freeze_points(x, d, groups))
    phi = phi[:, 0].reshape(n_groups + 2, pilot_points)
    points = pick_freeze_points(x, d, groups).reshape(n_groups + 2, pilot_points, d)
    g = pick_freeze_columns(phi, indices)
    half = rng.permutation(pilot_points) < pilot_points // 2
    h = np.empty_like(g)
    for held_out in (half, ~half):
        fitted, _ = fit_surrogate(points[:, ~held_out].reshape(-1, d), phi[:, ~held_out].ravel(), rng)
        h[held_out] = pick_freeze_columns(fitted(points[:, held_out].reshape(-1, d)).reshape(n_groups + 2, -1), indices)
    gc, hc = g - g.mean(axis=0), h - h.mean(axis=0)
    var_h = np.sum(hc**2, axis=0)
    beta = np.divide(np.sum(gc * hc, axis=0), var_h, out=np.zeros(g.shape[1]), where=var_h > 0)
    var_g = np.sum(gc**2, axis=0)
    ratio = np.divide(np.sum((gc - beta * hc) ** 2, axis=0), var_g, out=np.ones(g.shape[1]), where=var_g > 0)
    used = [worth_using(ratio[j], beta[j], g[:, j], min_gain) for j in range(g.shape[1])]
    beta = np.where(used, beta, 0.0)
    surrogate, error = fit_surrogate(points.reshape(-1, d), phi.ravel(), rng)

    residual = np.sum((gc - beta * hc) ** 2) / (pilot_points - 1) / max(final_points, 1)
    mean, cov = _surrogate_means(base, groups, indices, surrogate, beta, rng, replicates, share * residual)
    return SurrogateControl(surrogate, beta, mean, cov, error, pilot_points, ratio)


def _surrogate_means(base, groups, indices, surrogate, beta, rng, replicates, target) -> tuple[np.ndarray, np.ndarray]:
    """Mean and covariance of ``beta_j h_j`` by randomized QMC on the surrogate alone.

    Replicates of scrambled Sobol' sequences of the product law, doubled until the
    trace of the covariance is below ``target`` (see
    :func:`pymc_ais.core.surrogate.doubling_means`); without a quantile map, i.i.d.
    draws of the same sizes.
    """
    d, n_groups = base.dim, len(groups)
    engines = [qmc.Sobol(2 * d, scramble=True, seed=rng) for _ in range(replicates)]

    def add_sums(r, n):
        if base.initial_quantile is not None:
            u = scrambled_points(engines[r], n)
            z = np.concatenate([base.initial_quantile(u[:, :d]), base.initial_quantile(u[:, d:])], axis=1)
        else:
            z = _pilot_sample(base, rng, n)
        values = surrogate(pick_freeze_points(z, d, groups)).reshape(n_groups + 2, n)
        return beta * pick_freeze_columns(values, indices).sum(axis=0)

    return doubling_means(add_sums, replicates, beta.size, lambda cov: np.trace(cov) <= target,
                          len(surrogate.coef) * (n_groups + 2))


def pick_freeze_problem(
    base: Problem, groups: Sequence[np.ndarray], indices: Sequence[str], control: SurrogateControl | None = None
) -> Problem:
    """The product-law problem whose outputs are the pick-freeze integrands.

    ``base`` must have one law and one scalar output phi. Outputs, in order: the
    variance term, then per group the first-order numerator (if asked), then per group
    the total numerator (if asked). With a ``control`` (see :func:`surrogate_control`)
    each output ``g_j`` becomes ``g_j - beta_j (h_j - m_j)``, where ``h_j`` is the same
    integrand computed on the surrogate and ``m_j`` its mean: same expectation, smaller
    variance when the surrogate is close to phi.
    """
    if base.n_laws != 1 or base.n_outputs != 1:
        raise ValueError("Sobol' indices need one input law and one scalar output")
    for name in indices:
        if name not in INDICES:
            raise ValueError(f"unknown index {name!r}; valid options are {', '.join(map(repr, INDICES))}")
    d, n_groups = base.dim, len(groups)

    def sample_initial(rng, n):
        return np.concatenate([base.sample_initial(rng, n), base.sample_initial(rng, n)], axis=1)

    quantile = None
    if base.initial_quantile is not None:

        def quantile(u):
            return np.concatenate([base.initial_quantile(u[:, :d]), base.initial_quantile(u[:, d:])], axis=1)

    def evaluate(x):
        n = x.shape[0]
        log_f, phi = checked_evaluate(base, pick_freeze_points(x, d, groups))
        columns = pick_freeze_columns(phi[:, 0].reshape(n_groups + 2, n), indices)
        if control is not None:
            columns = columns - control.beta * pick_freeze_columns(
                control.surrogate(pick_freeze_points(x, d, groups)).reshape(n_groups + 2, n), indices
            ) + control.mean
        return log_f[: 2 * n, 0].reshape(2, n).sum(axis=0)[:, None], columns

    names = ["Var[phi]"]
    for kind in ("first", "total"):
        if kind in indices:
            names += [f"{kind}[{i}]" for i in range(n_groups)]
    return Problem(
        dim=2 * d, sample_initial=sample_initial, evaluate=evaluate, output_names=names,
        initial_quantile=quantile,
    )


class Indices(NamedTuple):
    """Sobol' indices with delta-method standard errors; rows follow ``kinds``."""

    kinds: tuple  # e.g. ("first", "total")
    mean: np.ndarray  # (len(kinds), G)
    mcse: np.ndarray  # (len(kinds), G)
    variance: float  # Var[phi] estimate
    variance_mcse: float


def indices_from_estimates(mean: np.ndarray, cov: np.ndarray, n_groups: int, kinds: Sequence[str]) -> Indices:
    """Ratios of the pick-freeze expectations and their delta-method errors."""
    v = mean[0]
    if not v > 0:
        raise ValueError(f"the estimated variance of the output is {v:.3g}: the indices are undefined")
    grad_v = np.zeros(mean.size)
    grad_v[0] = 1.0
    kinds = tuple(k for k in INDICES if k in kinds)
    means, errors = [], []
    for row, _ in enumerate(kinds):
        start = 1 + row * n_groups
        values, ses = [], []
        for g in range(n_groups):
            num = mean[start + g]
            grad = -num / v**2 * grad_v
            grad[start + g] += 1.0 / v
            values.append(num / v)
            ses.append(np.sqrt(max(grad @ cov @ grad, 0.0)))
        means.append(values)
        errors.append(ses)
    return Indices(kinds, np.array(means), np.array(errors), float(v), float(np.sqrt(max(grad_v @ cov @ grad_v, 0.0))))

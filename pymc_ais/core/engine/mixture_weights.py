"""Mixture weights alpha that minimise the estimated variance criterion.

With pooled points x_i drawn from the balance-heuristic mixture H, the weighted sum of
the per-point variances of the control-variate estimators is estimated (up to a term
that does not depend on alpha) by

    C(alpha) = mean_i  a_i / (B_i . alpha),

where a_i = sum_j w_j (phi_j f_j - beta_j g_j)^2(x_i) / H(x_i)^2 and B_ik = g_k(x_i) / H(x_i)
(every ratio is formed in log space before exponentiation). C is convex on the simplex;
its gradient is  dC/dalpha_k = -mean_i a_i B_ik / (B_i . alpha)^2.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize


def criterion(alpha: np.ndarray, a: np.ndarray, B: np.ndarray) -> tuple[float, np.ndarray]:
    """Value and gradient of ``C(alpha)``."""
    mix = B @ alpha
    ratio = a / mix
    value = float(np.mean(ratio))
    grad = -(ratio / mix) @ B / a.shape[0]
    return value, grad


def _on_simplex(alpha: np.ndarray, lower: np.ndarray) -> np.ndarray:
    """Clip to the lower bounds and renormalise the excess onto the free mass."""
    excess = np.maximum(alpha - lower, 0.0)
    total = excess.sum()
    free = 1.0 - lower.sum()
    return lower + (free * excess / total if total > 0 else free / alpha.size)


def _multiplicative(alpha, a, B, lower, n_iter=500, tol=1e-10):
    """Fixed-point iteration alpha_k <- alpha_k (-dC/dalpha_k) / C (stays on the simplex)."""
    value, grad = criterion(alpha, a, B)
    for _ in range(n_iter):
        new = _on_simplex(alpha * (-grad) / value, lower)
        new_value, grad = criterion(new, a, B)
        alpha, done = new, abs(value - new_value) <= tol * abs(value)
        value = new_value
        if done:
            break
    return alpha


def optimise_alpha(a: np.ndarray, B: np.ndarray, alpha0: np.ndarray, lower: np.ndarray) -> tuple[np.ndarray, float]:
    """Minimise ``C`` over the simplex with ``alpha >= lower``, warm-started at ``alpha0``.

    Uses SLSQP with the analytic gradient for up to 100 components, and the
    multiplicative fixed-point iteration beyond that (its cost is linear in the number
    of components) or if SLSQP fails. Never returns a point worse than the warm start.
    Returns ``(alpha, C(alpha))``.
    """
    k = B.shape[1]
    lower = np.asarray(lower, dtype=np.float64)
    alpha0 = _on_simplex(np.asarray(alpha0, dtype=np.float64), lower)
    scale, _ = criterion(alpha0, a, B)
    if k == 1 or not np.isfinite(scale) or scale <= 0.0:
        return alpha0, scale
    alpha = None
    if k <= 100:

        def fun(al):
            v, g = criterion(al, a, B)
            return v / scale, g / scale

        res = minimize(
            fun,
            alpha0,
            jac=True,
            method="SLSQP",
            bounds=list(zip(lower, np.ones(k))),
            constraints=[{"type": "eq", "fun": lambda al: al.sum() - 1.0, "jac": lambda al: np.ones_like(al)}],
            options={"maxiter": 500, "ftol": 1e-12},
        )
        if np.all(np.isfinite(res.x)):
            alpha = _on_simplex(res.x, lower)
    if alpha is None:
        alpha = _multiplicative(alpha0, a, B, lower)
    value = criterion(alpha, a, B)[0]
    if not value <= scale:
        return alpha0, scale
    return alpha, value

"""Estimands: from estimated expectations to the quantities users asked for.

The sampler estimates expectations ``I`` (a vector) with a covariance ``C``. What is
reported may be those expectations themselves or smooth functions of them: Sobol'
indices are ratios of pick-freeze expectations, posterior expectations are ratios of
integrals of the unnormalised posterior, and log evidences are logarithms of them. One delta-method helper,
:func:`delta_method`, turns ``(I, C)`` and a function's value and Jacobian into the
reported values and their covariance; each estimand is a small function built on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from .pick_freeze import INDICES


class Reported(NamedTuple):
    """Reported quantities with their covariance and standard errors."""

    mean: np.ndarray  # (Q,)
    cov: np.ndarray  # (Q, Q)

    @property
    def mcse(self) -> np.ndarray:
        """Standard errors: the square roots of the covariance's diagonal (0 if negative)."""
        return np.sqrt(np.clip(np.diag(self.cov), 0.0, None))


def delta_method(value: np.ndarray, jacobian: np.ndarray, cov: np.ndarray) -> Reported:
    """First-order error propagation: ``value`` (Q,), ``jacobian`` (Q, J), ``cov`` (J, J).

    Examples
    --------
    >>> import numpy as np
    >>> r = delta_method(np.array([2.0]), np.array([[2.0, 0.0]]), np.diag([0.25, 1.0]))
    >>> float(r.mcse[0])
    1.0
    """
    value = np.asarray(value, dtype=np.float64)
    jacobian = np.atleast_2d(np.asarray(jacobian, dtype=np.float64))
    out = jacobian @ cov @ jacobian.T
    return Reported(value, 0.5 * (out + out.T))


def expectations(mean: np.ndarray, cov: np.ndarray) -> Reported:
    """The expectations themselves (the identity estimand)."""
    return Reported(np.asarray(mean, dtype=np.float64), np.asarray(cov, dtype=np.float64))


def ratios(mean: np.ndarray, cov: np.ndarray, numerators: Sequence[int] | np.ndarray, denominator: int) -> Reported:
    """``mean[numerators] / mean[denominator]`` with delta-method covariance."""
    top = np.asarray(numerators, dtype=np.int64)
    v = mean[denominator]
    value = mean[top] / v
    jac = np.zeros((top.size, mean.size))
    jac[np.arange(top.size), top] = 1.0 / v
    jac[:, denominator] -= mean[top] / v**2
    return delta_method(value, jac, cov)


class Posterior(NamedTuple):
    """Posterior expectations (L * M, law-major) and log evidences (L,) with their covariances."""

    expectations: Reported
    log_evidence: Reported


def posterior(
    mean: np.ndarray, cov: np.ndarray, n_laws: int, n_outputs: int, centre: np.ndarray | None = None
) -> Posterior:
    """Posterior expectations and log evidences from integrals of the unnormalised posteriors.

    ``mean`` holds, law-major, ``M + 1`` integrals per law l: ``int (phi_m - c_lm) f_l``
    for the M outputs (``centre`` c, (L * (M + 1),) like ``mean``; zero by default),
    then the evidence ``Z_l = int f_l``, ``f_l = p_l(theta) p_l(y | theta)``. The
    expectations are ``c_lm + mean[l, m] / Z_l`` and the log evidences ``log Z_l``, both
    with delta-method covariances from the joint covariance. A non-positive evidence
    estimate gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> found = posterior(np.array([6.0, 2.0]), np.diag([0.0, 0.04]), n_laws=1, n_outputs=1)
    >>> float(found.expectations.mean[0]), round(float(found.expectations.mcse[0]), 3)
    (3.0, 0.3)
    """
    mean = np.asarray(mean, dtype=np.float64)
    width = n_outputs + 1
    centre = np.zeros_like(mean) if centre is None else np.asarray(centre, dtype=np.float64)
    evidence = mean[np.arange(n_laws) * width + n_outputs]
    with np.errstate(invalid="ignore", divide="ignore"):
        z = np.where(evidence > 0, evidence, np.nan)
        jac = np.zeros((n_laws * n_outputs, mean.size))
        value = np.empty(n_laws * n_outputs)
        for law in range(n_laws):
            for m in range(n_outputs):
                row, top, bottom = law * n_outputs + m, law * width + m, law * width + n_outputs
                value[row] = centre[top] + mean[top] / z[law]
                jac[row, top] = 1.0 / z[law]
                jac[row, bottom] = -mean[top] / z[law] ** 2
        log_jac = np.zeros((n_laws, mean.size))
        log_jac[np.arange(n_laws), np.arange(n_laws) * width + n_outputs] = 1.0 / z
        log_z = np.log(z)
    return Posterior(delta_method(value, jac, cov), delta_method(log_z, log_jac, cov))


class Indices(NamedTuple):
    """Sobol' indices with delta-method standard errors; rows follow ``kinds``."""

    kinds: tuple  # e.g. ("first", "total")
    mean: np.ndarray  # (len(kinds), G)
    mcse: np.ndarray  # (len(kinds), G)
    variance: float  # Var[phi] estimate
    variance_mcse: float


def sobol_indices(mean: np.ndarray, cov: np.ndarray, n_groups: int, kinds: Sequence[str]) -> Indices:
    """Sobol' indices from the pick-freeze expectations (variance first, see pick_freeze_problem).

    A variance estimate that is not positive (a tiny budget, a failed control variate)
    leaves every index undefined: they are NaN, and the caller says why.
    """
    v = mean[0]
    kinds = tuple(k for k in INDICES if k in kinds)
    if not v > 0:
        undefined = np.full((len(kinds), n_groups), np.nan)
        return Indices(kinds, undefined, undefined.copy(), float(v), float(np.sqrt(max(cov[0, 0], 0.0))))
    found = ratios(mean, cov, np.arange(1, 1 + len(kinds) * n_groups), 0)
    shape = (len(kinds), n_groups)
    return Indices(
        kinds, found.mean.reshape(shape), found.mcse.reshape(shape), float(v), float(np.sqrt(max(cov[0, 0], 0.0)))
    )

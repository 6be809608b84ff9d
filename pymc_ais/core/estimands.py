"""Estimands: from estimated expectations to the quantities users asked for.

The sampler estimates expectations ``I`` (a vector) with a covariance ``C``. What is
reported may be those expectations themselves or smooth functions of them: Sobol'
indices are ratios of pick-freeze expectations (and, next, posterior expectations and
evidences are ratios and logarithms of them). One delta-method helper,
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


class Indices(NamedTuple):
    """Sobol' indices with delta-method standard errors; rows follow ``kinds``."""

    kinds: tuple  # e.g. ("first", "total")
    mean: np.ndarray  # (len(kinds), G)
    mcse: np.ndarray  # (len(kinds), G)
    variance: float  # Var[phi] estimate
    variance_mcse: float


def sobol_indices(mean: np.ndarray, cov: np.ndarray, n_groups: int, kinds: Sequence[str]) -> Indices:
    """Sobol' indices from the pick-freeze expectations (variance first, see pick_freeze_problem)."""
    v = mean[0]
    if not v > 0:
        raise ValueError(f"the estimated variance of the output is {v:.3g}: the indices are undefined")
    kinds = tuple(k for k in INDICES if k in kinds)
    found = ratios(mean, cov, np.arange(1, 1 + len(kinds) * n_groups), 0)
    shape = (len(kinds), n_groups)
    return Indices(
        kinds, found.mean.reshape(shape), found.mcse.reshape(shape), float(v), float(np.sqrt(max(cov[0, 0], 0.0)))
    )

"""The plain problem object the core works on, and evaluation with checks.

A problem is: a dimension, a sampler of the initial law (the equal mixture of the input
laws), and one batched function returning, at points ``x`` (n, dim) of flat
coordinates, every log-density ``log f_l(x)`` (n, L) and every output ``phi_m(x)``
(n, M). The expectations are all pairs ``I_{l,m} = E_{f_l}[phi_m]``, flattened law-major
(pair ``l * M + m``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np


class EvaluationError(ValueError):
    """A batch of model evaluations failed a check (NaN, inf, wrong shape).

    The evaluations completed before the failure are kept in ``completed``: a dict with
    ``x`` (flat coordinates), ``log_f`` and ``phi``, so a long run loses nothing.
    """

    def __init__(self, message: str, completed: dict | None = None):
        super().__init__(message)
        self.completed = completed or {}


@dataclass(frozen=True)
class Problem:
    """Input of the core: what to sample first and what to evaluate.

    Parameters
    ----------
    dim : number of flat coordinates.
    sample_initial : ``(rng, n) -> x`` draws n points (n, dim) from the initial law.
    evaluate : ``x -> (log_f, phi)`` with ``log_f`` (n, L) and ``phi`` (n, M).
    output_names : names of the M outputs (used in error messages and results).
    law_names : names of the L input laws.
    initial_quantile : optional ``u -> x`` mapping points of (0, 1)^dim to the initial
        law (inverse CDFs); with it the quasi-Monte Carlo sampler draws the initial law's
        share of the points quasi-randomly too, otherwise with ``sample_initial``.

    Examples
    --------
    Moments of a standard normal, with no PyMC at all:

    >>> import numpy as np
    >>> from scipy.stats import norm
    >>> problem = Problem(
    ...     dim=1,
    ...     sample_initial=lambda rng, n: rng.standard_normal((n, 1)),
    ...     evaluate=lambda x: (norm.logpdf(x), np.hstack([x**2, x**4])),
    ...     output_names=["m2", "m4"],
    ... )
    """

    dim: int
    sample_initial: Callable[[np.random.Generator, int], np.ndarray]
    evaluate: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
    output_names: Sequence[str]
    law_names: Sequence[str] = field(default=("f",))
    initial_quantile: Callable[[np.ndarray], np.ndarray] | None = None

    @property
    def n_laws(self) -> int:
        return len(self.law_names)

    @property
    def n_outputs(self) -> int:
        return len(self.output_names)

    @property
    def n_pairs(self) -> int:
        return self.n_laws * self.n_outputs


def checked_evaluate(problem: Problem, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Evaluate ``problem`` at ``x`` and check shapes and finiteness.

    ``log f = -inf`` is allowed (a point outside a law's support); NaN or ``+inf`` are
    not, nor are non-finite outputs. Errors name the law or output at fault.
    """
    n = x.shape[0]
    log_f, phi = problem.evaluate(x)
    log_f = np.asarray(log_f, dtype=np.float64).reshape(n, -1) if np.ndim(log_f) == 1 else np.asarray(log_f, dtype=np.float64)
    phi = np.asarray(phi, dtype=np.float64)
    if phi.ndim == 1:
        phi = phi[:, None]
    if log_f.shape != (n, problem.n_laws):
        raise EvaluationError(f"log-densities have shape {log_f.shape}, expected {(n, problem.n_laws)}")
    if phi.shape != (n, problem.n_outputs):
        raise EvaluationError(f"outputs have shape {phi.shape}, expected {(n, problem.n_outputs)}")
    bad_f = np.isnan(log_f) | (log_f == np.inf)
    if bad_f.any():
        law = problem.law_names[int(np.argmax(bad_f.any(axis=0)))]
        raise EvaluationError(f"log-density of input law {law!r} is NaN or +inf at {int(bad_f.sum())} point(s)")
    bad_phi = ~np.isfinite(phi)
    if bad_phi.any():
        cols = np.flatnonzero(bad_phi.any(axis=0))
        names = ", ".join(repr(problem.output_names[c]) for c in cols[:5])
        raise EvaluationError(
            f"output {names} is NaN or infinite at {int(bad_phi[:, cols[0]].sum())} of {n} point(s)"
        )
    return log_f, phi

"""The plain problem object the core works on.

A problem is: a dimension, a sampler of the starting law ``h0``, its log-density, and one
batched function returning, at points ``x`` (n, dim) of flat coordinates, every
log-density ``log f_l(x)`` (n, L) and every output ``phi_m(x)`` (n, M). The expectations
are all pairs ``I_{l,m} = E_{f_l}[phi_m]``, flattened law-major (pair ``l * M + m``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .densities.gaussian_mixture import logsumexp


class EvaluationError(ValueError):
    """A batch of model evaluations failed (NaN, inf, wrong shape, an exception).

    The evaluations finished before the failure are kept in ``completed``: a dict with
    ``x`` (the sampler's coordinates: flat ones, or standard normal ones in a rare-event
    run under non-normal inputs), ``log_f`` and ``phi`` and, for a PyMC model, ``draws``
    (natural values per free variable), so a long run loses nothing.
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
    sample_initial : ``(rng, n) -> x`` draws n points (n, dim) from the starting law h0.
    evaluate : ``x -> (log_f, phi)`` with ``log_f`` (n, L) and ``phi`` (n, M).
    output_names : names of the M outputs, or None when they are only known once the
        first batch is evaluated (a black-box output of unknown shape).
    law_names : names of the L input laws.
    initial_quantile : optional ``u -> x`` mapping points of (0, 1)^dim to h0 (inverse
        CDFs); with it the quasi-Monte Carlo sampler draws h0's share of the points
        quasi-randomly too, otherwise with ``sample_initial``.
    log_initial : optional ``(x, log_f) -> log h0(x)``; by default h0 is the equal
        mixture of the input laws, ``logsumexp(log_f) - log L``.
    normalised : whether every ``f_l`` integrates to one. Unnormalised laws (posteriors
        ``p(theta) p(y | theta)``) need a ``log_initial``, and their expectations are
        integrals ``int phi f_l`` (the ratio to ``int f_l`` is formed by the caller).
    centred : optional (M,) booleans, or a function of M giving them: outputs whose
        targets are centred, per law, at
        their self-normalised mean over the initial block (see
        :mod:`~pymc_ais.core.engine.targets`); the estimates are then of ``int (phi - c) f_l``
        and the centres are ``RunResult.state.targets.centre``.
    weighted_as : optional (M,) output indices, or a function of M giving them: each
        output's weight in the adaptive criterion is that of the output it names (its
        running mass as the scale of "relative" weights; its entry of given weights,
        which then name only the outputs that are their own). Outputs that serve only
        to guide the proposal (the regions of a union) are weighed as their event: each
        region's error is measured against the event's mass, not its own, so that a
        region of small mass does not take the criterion. The regions' errors add up to
        about the event's, so an event with regions weighs about twice its own share.

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
    >>> problem.n_laws
    1
    """

    dim: int
    sample_initial: Callable[[np.random.Generator, int], np.ndarray]
    evaluate: Callable[[np.ndarray], tuple]
    output_names: Sequence[str] | None = None
    law_names: Sequence[str] = field(default=("f",))
    initial_quantile: Callable[[np.ndarray], np.ndarray] | None = None
    log_initial: Callable[[np.ndarray, np.ndarray], np.ndarray] | None = None
    normalised: bool = True
    centred: Sequence[bool] | Callable[[int], Sequence[bool]] | None = None
    weighted_as: Sequence[int] | np.ndarray | Callable[[int], Sequence[int] | np.ndarray] | None = None

    def __post_init__(self):
        if not self.normalised and self.log_initial is None:
            raise ValueError("unnormalised laws need the starting law's own log-density (log_initial)")

    @property
    def n_laws(self) -> int:
        """Number of input laws L."""
        return len(self.law_names)

    def initial_log_density(self, x: np.ndarray, log_f: np.ndarray) -> np.ndarray:
        """``log h0`` at points ``x`` where the laws' log-densities are ``log_f`` (n, L)."""
        if self.log_initial is not None:
            return np.asarray(self.log_initial(x, log_f), dtype=np.float64)
        return equal_mixture_log_density(log_f)


def equal_mixture_log_density(log_f: np.ndarray) -> np.ndarray:
    """Log density of the equal mixture of the laws whose log-densities are ``log_f`` (n, L)."""
    return logsumexp(log_f, axis=1) - np.log(log_f.shape[1])

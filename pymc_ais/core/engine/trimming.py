"""Which small components the quasi-random final phase leaves out of its mixture.

In a scrambled Sobol' net a component with a handful of points per replicate is plain
Monte Carlo noise, and dropping the smallest ones helps (see
:func:`~pymc_ais.core.densities.mixture_sampling.trim_small`). But small components may
be all that covers part of an integrand: the bulk of a posterior beside its tail
events, whose loss every ratio over the evidence feels. So a trim is costed first.
"""

from __future__ import annotations

import numpy as np

from ..densities.mixture_sampling import alone_at_centre, trim_small
from ..problem import Problem
from .mixture_weights import criterion
from .proposals import component_matrix
from .state import Proposal, State
from .targets import weighted_terms

# The largest factor by which a trim may raise the plain second moment (see costly_to_drop).
SPARE_RATIO = 2.0


def final_weights(
    problem: Problem, state: State, proposal: Proposal, mass: float, per_replicate: int, keep_alone: bool
) -> np.ndarray:
    """The mixture weights the quasi-random final phase draws from: ``proposal.alpha`` trimmed.

    The smallest components adding up to at most ``mass``, with fewer than a handful of
    points per replicate, are dropped, except those alone at their centre (with
    ``keep_alone``, see :func:`alone_at_centre`) and those whose loss would raise the
    plain second moment most (:func:`costly_to_drop`).
    """
    alpha = proposal.alpha
    if mass <= 0 or not proposal.components:
        return trim_small(alpha, 0.0)
    keep = alone_at_centre(alpha, proposal.components) if keep_alone else np.zeros(alpha.size, dtype=bool)
    dropped = (trim_small(alpha, mass, per_replicate, keep) == 0) & (alpha > 0)
    if dropped.any():
        keep |= costly_to_drop(problem, state, proposal, dropped)
    return trim_small(alpha, mass, per_replicate, keep)


def costly_to_drop(problem: Problem, state: State, proposal: Proposal, candidates: np.ndarray) -> np.ndarray:
    """(K,) bools: the candidates to keep so that dropping the rest costs at most ``SPARE_RATIO``.

    The cost of dropping a set of components is the ratio of the weighted second moment
    of plain importance sampling, ``mean_i a_i / (B_i . alpha)`` on the pooled draws with
    ``a_i = sum_t w_t y_t(x_i)^2`` (the criterion of
    :mod:`~pymc_ais.core.engine.mixture_weights` without control variates), without them
    and with every component. Candidates are spared in the order of what their loss
    alone costs, the largest first.
    """
    targets = state.targets
    alpha = proposal.alpha
    spared = np.zeros(alpha.size, dtype=bool)
    log_h = state.log_h
    B = np.exp(component_matrix(problem, proposal.components, state.x, state.log_f) - log_h[:, None])
    y = weighted_terms(targets, state.log_f, state.phi, log_h)
    a = np.square(y) @ state.weights
    full = criterion(alpha, a, B)[0]
    if not (np.isfinite(full) and full > 0):
        return spared

    def cost(dropped: np.ndarray) -> float:
        kept = alpha.copy()
        kept[dropped] = 0.0
        with np.errstate(divide="ignore", invalid="ignore"):  # a point no kept component covers
            value = criterion(kept / kept.sum(), a, B)[0]
        return value / full if np.isfinite(value) else np.inf

    left = np.flatnonzero(candidates)
    alone = np.array([cost(np.array([k])) for k in left])
    for k in left[np.argsort(-alone, kind="stable")]:
        if cost(np.flatnonzero(candidates & ~spared)) <= SPARE_RATIO:
            break
        spared[k] = True
    return spared

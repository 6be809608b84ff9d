"""Which small components the quasi-random final phase leaves out of its mixture.

In a scrambled Sobol' net a component with a handful of points per replicate is plain
Monte Carlo noise, and dropping the smallest ones helps (see
:func:`~pymc_ais.core.densities.mixture_sampling.trim_small`). But the small components
may be all that covers part of what is estimated: on a posterior with tail events, the
components fitted to the bulk (the evidence, the complement of each event) get a few
percent of the draws beside the event components, and without them the bulk is left to
the thin defensive share; every probability, a ratio over the evidence, then takes the
evidence's error. So a trim is measured first, by the plain importance-sampling
variance it would cause on the pooled draws, and components are kept until it no
longer costs much.
"""

from __future__ import annotations

import numpy as np

from ..densities.mixture_sampling import alone_at_centre, trim_small
from ..problem import Problem
from .proposals import component_matrix
from .state import Proposal, State
from .targets import weighted_terms

# A trim that multiplies the predicted plain variance by more than this factor spares
# components (the costliest first) until it does not. Dropping a posterior's bulk
# components costs tens; a lower bar also kept components of a handful of points whose
# noise the replicates understated (a truncated posterior's evidence, see the
# benchmarks page), and the control variates' in-sample gains are no safer guide.
SPARE_RATIO = 2.0


def final_weights(
    problem: Problem, state: State, proposal: Proposal, mass: float, per_replicate: int, keep_alone: bool
) -> np.ndarray:
    """The mixture weights the quasi-random final phase draws from: ``proposal.alpha`` trimmed.

    The smallest components adding up to at most ``mass``, with fewer than a handful of
    points per replicate, are dropped, except those alone at their centre (with
    ``keep_alone``, see :func:`alone_at_centre`) and those whose loss would raise the
    plain variance most (:func:`costly_to_drop`).
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

    The cost of a set of dropped components is the ratio of the weighted plain
    importance-sampling variance ``mean_i a_i / (B_i . alpha)`` on the pooled draws,
    ``a_i = sum_t w_t y_t(x_i)^2`` (the criterion of
    :mod:`~pymc_ais.core.engine.mixture_weights` without control variates), with them
    left out over with every component. Candidates are spared in the order of what
    their loss alone costs, the largest first.
    """
    targets = state.targets
    alpha = proposal.alpha
    spared = np.zeros(alpha.size, dtype=bool)
    log_h = state.log_h
    B = np.exp(component_matrix(problem, proposal.components, state.x, state.log_f) - log_h[:, None])
    y = weighted_terms(targets, state.log_f, state.phi, log_h)
    a = np.square(y) @ state.weights
    mix = B @ alpha
    full = float(np.mean(a / mix))
    if not (np.isfinite(full) and full > 0):
        return spared

    def cost(dropped: np.ndarray) -> float:
        remaining = (mix - B[:, dropped] @ alpha[dropped]) / (1.0 - alpha[dropped].sum())
        with np.errstate(divide="ignore", invalid="ignore"):
            value = float(np.mean(a / remaining))
        return np.inf if np.isnan(value) else value / full

    left = np.flatnonzero(candidates)
    alone = np.array([cost(np.array([k])) for k in left])
    for k in left[np.argsort(-alone, kind="stable")]:
        if cost(np.flatnonzero(candidates & ~spared)) <= SPARE_RATIO:
            break
        spared[k] = True
    return spared

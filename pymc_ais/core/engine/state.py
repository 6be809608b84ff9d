"""The plain values the adaptive engine passes around.

:class:`State` is everything the adaptive phase knows (pooled draws, their
evaluations, every proposal used so far, the running estimates and the criterion
weights); :class:`Batch` is a block of points the kernel asks to be evaluated, with the
proposal they were drawn from; :class:`Evaluations` is what comes back: the
log-densities, the outputs and the event scores, explicitly. All are NamedTuples of
numpy arrays, so a state can be saved, compared and replayed.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..densities.gaussian_mixture import logsumexp
from .settings import Settings
from .targets import Targets


class Evaluations(NamedTuple):
    """The model's answer at a batch of points.

    ``score`` (n, M) holds the event scores of indicator outputs (``score > 0`` inside
    the event, NaN for outputs that are not events), or None when no output has one:
    the multilevel start climbs towards events no draw has reached by them.
    """

    log_f: np.ndarray  # (n, L) log-density of every law
    phi: np.ndarray  # (n, M) outputs
    score: np.ndarray | None = None  # (n, M) event scores, or None


class Proposal(NamedTuple):
    """One sampling law of the run: ``g_alpha = alpha_0 h0 + sum_t alpha_t g_t``.

    Component 0 is always the initial law ``h0`` (the defensive component); components
    1..T are the targets' auxiliary densities, or with more targets than
    ``Settings.max_components`` the densities they share (``owner``: see
    :mod:`~pymc_ais.core.engine.component_sharing`). The initial proposal of the run is ``h0``
    alone (``components is None``, ``alpha = e_0``) and uses no control variate.
    """

    alpha: np.ndarray  # (K,) with K = T + 1, or fewer when targets share components
    components: tuple | None  # K - 1 GaussianMixture, or None for the initial law alone
    beta: np.ndarray  # (T,) single control-variate coefficients (used by the criterion)
    coef: np.ndarray  # (K, T) control-variate coefficients of the estimator
    sigma2: np.ndarray  # (T,) per-point variance of the summands, measured on its own block
    criterion: float  # C(alpha) at the optimum (nan for the initial law)
    climbed: np.ndarray | None = None  # (T,) targets whose component climbed towards their event
    bridges: tuple | None = None  # (T,) kernel estimate of each climbing target's level set, else None
    owner: np.ndarray | None = None  # (T,) each target's component (1..K-1); None: target t owns t + 1
    levels: np.ndarray | None = None  # (T,) intermediate level each climbing target was fitted to, else NaN
    regions: np.ndarray | None = None  # (T,) failure regions a reached event's fit has a Gaussian for, else 0

    @property
    def climbing(self) -> bool:
        """Fitted while some event was still unreached (or reached by a jump): never the final proposal."""
        return self.climbed is not None and bool(np.any(self.climbed))

    def owners(self, n_targets: int) -> np.ndarray:
        """Each target's component column (1-based)."""
        return self.owner if self.owner is not None else np.arange(1, n_targets + 1)

    def target_shares(self, n_targets: int) -> np.ndarray:
        """Each target's share of the weight: its component's alpha split among its sharers."""
        own = self.owners(n_targets)
        sharers = np.bincount(own, minlength=self.alpha.size)
        return self.alpha[own] / sharers[own]


class State(NamedTuple):
    """Everything the adaptive phase knows: pooled evaluations and the proposals used."""

    targets: Targets
    x: np.ndarray  # (N, d) pooled points
    log_f: np.ndarray  # (N, L)
    phi: np.ndarray  # (N, M)
    log_q: np.ndarray  # (N, P) log density of each proposal at each pooled point
    counts: np.ndarray  # (P,) points drawn from each proposal
    proposals: tuple  # P Proposal
    estimates: np.ndarray  # (T,) pooled multiple-importance-sampling estimates
    weights: np.ndarray  # (T,) criterion weights (sum to one)
    reference_cov: np.ndarray  # (d, d) covariance of the initial block
    floor: np.ndarray  # (d,) diagonal regulariser of every fit
    weight_scale: np.ndarray | None  # (pairs,) known scale of each expectation, or None
    score: np.ndarray | None = None  # (N, M) event scores of indicator outputs (NaN: none), or None
    # Fits rest on few points per dimension: a rare-event run, or a run of normalised
    # laws over more than ten inputs (adaptation.INFORMED_MIN_DIM). Its fits are informed
    # ones, steered by its event scores' slopes where an elite set holds few draws per input,
    # and every target's component keeps a share of the mixture (Settings.target_share).
    informed: bool = False

    @property
    def evaluations(self) -> int:
        """Points evaluated so far."""
        return int(self.counts.sum())

    @property
    def rare(self) -> bool:
        """Whether the first block missed some event, so the run climbs towards it.

        Such a run fits its densities on a few elite draws: it is :attr:`informed`, and
        its final phase keeps components alone at their centre.
        """
        return self.proposals[0].climbing

    @property
    def log_h(self) -> np.ndarray:
        """Balance-heuristic mixture of every proposal so far, at the pooled points."""
        return logsumexp(self.log_q + np.log(self.counts / self.counts.sum()), axis=1)


class Batch(NamedTuple):
    """Points the kernel asks to be evaluated, and the proposal they were drawn from.

    The proposal is a draft: its control-variate coefficients and variances are fitted
    once the batch's evaluations come back (:func:`~pymc_ais.core.engine.adaptation.update`).
    For the first block it is the initial law alone.
    """

    x: np.ndarray  # (n, d) points in flat coordinates
    proposal: Proposal | None  # None: the initial law, for the first block
    log_q_pooled: np.ndarray | None = None  # (N,) the proposal's log density at the pooled draws


class StepInfo(NamedTuple):
    """What one adaptive step did: the proposal it drew from and the block's size."""

    proposal: Proposal
    block: int
    predicted_variance: float  # sum_t w_t sigma2_t of the new proposal, per point


def criterion_weights(
    settings: Settings, targets: Targets, estimates: np.ndarray, weight_scale: np.ndarray | None = None
) -> np.ndarray:
    """Weights w_t of the criterion, normalised to sum to one.

    "relative" weights are ``1 / scale^2`` with one scale per expectation, shared by
    its targets: ``E|phi|`` (the sum of its parts' running estimates; ``|I|`` for an
    output of constant sign). A signed output's error is relative to its whole mass,
    not to each part: a near-zero negative part weighted by its own ``1 / I_-^2`` would
    take the whole criterion and most of the mixture. ``weight_scale`` (one number per
    expectation) replaces the running scale where it is nonzero: when the sampled
    outputs are residuals of a surrogate their means are near zero, and their own
    relative weight would swamp every other output.
    """
    own = targets.pair if targets.reference is None else targets.reference
    if isinstance(settings.weights, str):
        if settings.weights == "absolute":
            w = np.ones(targets.size)
        else:
            mass = np.zeros(int(targets.pair.max()) + 1 if targets.size else 0)
            np.add.at(mass, targets.pair, np.abs(estimates))
            reference = mass[own]
            if weight_scale is not None:
                scale = np.asarray(weight_scale, dtype=np.float64)[own]
                reference = np.where(scale != 0, scale, reference)
            with np.errstate(divide="ignore"):
                w = np.where(reference != 0, 1.0 / np.square(reference), 0.0)
    else:
        w = _given_weights(np.asarray(settings.weights, dtype=np.float64), targets, own)
    total = w.sum()
    return w / total if total > 0 else np.full(targets.size, 1.0 / targets.size)


def _given_weights(given: np.ndarray, targets: Targets, own: np.ndarray) -> np.ndarray:
    """The user's weights per target: one per pair, or one per pair that is its own reference."""
    n_pairs = int(targets.pair.max()) + 1 if targets.size else 0
    if given.shape[0] == n_pairs:
        return given[targets.pair]
    referenced = np.unique(own)
    if given.shape[0] == referenced.size:
        return given[np.searchsorted(referenced, own)]
    raise ValueError(f"weights has {given.shape[0]} entries but there are {referenced.size} expectations")

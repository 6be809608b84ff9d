"""A posterior as a mixture of conditional Laplace approximations along one coordinate.

In a hierarchical model the group effects' posterior changes with the group scale:
given a large scale they follow their data, given a small one they shrink, and both
their centre and their spread move with it. A single Gaussian (or Student-t) in all
dimensions cannot follow that curve; in 52 dimensions (50 groups) its importance
weights keep 2 effective draws in 20,000. The same holds, more mildly, for regression
coefficients beside a noise scale: their spread is proportional to it.

:func:`conditional_grid` lays a grid over one coordinate ``v`` (a scale's logarithm) and
approximates the posterior of the others given each grid value by a Gaussian at their
conditional mode with their conditional curvature; the grid values are weighted by the
Laplace approximation of ``v``'s marginal. This is the grid strategy of integrated
nested Laplace approximations (Rue, Martino & Chopin 2009, section 3.1). A scouting walk
from the approximation's centre first finds where that marginal lives (at the joint
mode of a non-centred hierarchical model the scale is several standard deviations off);
the grid is then laid over it. Along both walks the conditional modes are found by
Newton steps warm-started from the previous grid value, and the curvature is measured
every few grid values (``d`` gradient evaluations each) and interpolated in its matrix
logarithm between them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from . import gaussian_mixture as gm
from . import sparse_hessian
from .gaussian_mixture import logsumexp
from .student_t import positive_definite
from .tempered_refit import effective_share

SCOUT_STEP = 1.0  # the scouting walk's step, in the approximation's standard deviations of the coordinate
SCOUT_POINTS = 16  # at most this many scouting steps on each side; the stride doubles while the marginal climbs
GRID_POINTS = 9  # grid values over GRID_SPAN marginal standard deviations on each side of the marginal's mean, at least
GRID_SPAN = 3.0
MAX_SIDE_POINTS = 20  # at most this many grid values on each side of the centre
EXTRA_SPAN = 1.5  # marginal standard deviations added on a side whose end still carries weight
MISMATCH = 0.1  # variance of the log-weights a component may add by keeping its curvature over its spread
SCOUT_MEASURE_EVERY = 3  # the scout measures the curvature when none is measured within this many of its steps
MEASURE_SPACING = 1.5  # the grid does when none is within this many marginal standard deviations
MAX_WALKS = 3  # the grid is laid again over the marginal it measured, until its centre and spread settle
SETTLED = 0.3  # settled: the centre moved by less than this many spreads, the spread by less than this share
END_DROP = 7.0  # a walk goes on while its log marginal is within this of the largest seen
KEEP_DROP = 11.0  # grid values whose log marginal falls this far below the largest are dropped
TAIL_WIDTH = 2.0  # an end component's spread along the coordinate: this many decay lengths of the marginal there
BANDWIDTH = 0.6  # the spread of a component along the coordinate, in grid spacings
NEWTON_STEPS = 6
NEWTON_TOLERANCE = 0.05  # Newton decrement (whitened step length) at which a conditional mode is found
HESSIAN_STEP = 1e-4  # forward-difference step of the curvature, relative to max(1, |z_i|)
LOG_EIGEN_RANGE = 300.0  # extrapolated precisions keep their eigenvalues within exp(-300) and exp(300)
CHECK_DRAWS = 4000  # draws of the mixture that measure how far it is from one Gaussian


class ConditionalGrid(NamedTuple):
    """Gaussian components along the grid, their weights, and what they cost.

    ``gaussian_share`` is the effective share of draws of the mixture's moment-matched
    Gaussian (``mean``, ``covariance``) weighed by the mixture (no model evaluation):
    near one when the posterior barely curves along the coordinate, so the grid adds
    nothing to one Gaussian.
    """

    coordinate: int
    means: np.ndarray  # (K, d)
    covariances: np.ndarray  # (K, d, d)
    weights: np.ndarray  # (K,)
    mean: np.ndarray  # (d,)
    covariance: np.ndarray  # (d, d)
    evaluations: int
    gaussian_share: float


def grid_cost(dim: int) -> int:
    """Evaluations a grid in ``dim`` dimensions needs at least: six curvatures and the Newton steps.

    Six to ten curvatures are usual (a regression with 100 coefficients: about 610
    evaluations; a scale changing the curvature faster: about ten times ``dim``); a
    grid whose allowance runs out fails with :class:`GridFailure`.
    """
    return 6 * dim + 4 * (SCOUT_POINTS + MAX_SIDE_POINTS)


class _Walker:
    """Conditional modes and curvatures along one coordinate, and their evaluations."""

    def __init__(
        self, logp_and_grad, coordinate: int, mean: np.ndarray, covariance: np.ndarray, budget: int, shifts=None
    ):
        self.logp_and_grad, self.coordinate, self.budget, self.shifts = logp_and_grad, coordinate, budget, shifts
        self.dim = mean.size
        self.rest = np.delete(np.arange(self.dim), coordinate)
        self.slope = covariance[self.rest, coordinate] / covariance[coordinate, coordinate]
        self.anchor = (float(mean[coordinate]), mean[self.rest])
        self.count = 0
        self.modes: dict[float, tuple[np.ndarray, float]] = {}  # v -> (conditional mode, log density there)
        self.precisions: dict[float, np.ndarray] = {}  # v -> measured conditional precision
        self.gradients: dict[float, np.ndarray] = {}  # v -> conditional gradient at the conditional mode
        self.offsets: dict[float, np.ndarray] = {}  # v -> every law's log density minus the first's, at the mode
        self.log_dets: dict[tuple[float, int], float] = {}  # (v, curvatures measured) -> log det of the precision
        self.hessian_plan: sparse_hessian.HessianPlan | None = None  # set by the first curvature
        self.start_precision = positive_definite(np.linalg.inv(covariance)[np.ix_(self.rest, self.rest)], floor=1e-8)

    def evaluate(self, v: float, others: np.ndarray) -> tuple[float, np.ndarray]:
        if self.count >= self.budget:
            raise _OutOfBudget
        z = np.empty(self.dim)
        z[self.coordinate], z[self.rest] = v, others
        self.count += 1
        value, grad = self.logp_and_grad(z)
        grad = np.asarray(grad, dtype=np.float64)[self.rest]
        if not (np.isfinite(value) and np.all(np.isfinite(grad))):
            return -np.inf, grad
        return float(value), grad

    def shifted(self, v: float, others: np.ndarray) -> np.ndarray:
        """Every law's log density minus the first's at ``(v, others)``: one evaluation, or none for one law."""
        if self.shifts is None:
            return np.zeros(1)
        if self.count >= self.budget:
            raise _OutOfBudget
        z = np.empty(self.dim)
        z[self.coordinate], z[self.rest] = v, others
        self.count += 1
        with np.errstate(invalid="ignore"):
            out = np.concatenate([[0.0], np.asarray(self.shifts(z), dtype=np.float64)])
        return np.where(np.isfinite(out), out, -np.inf)

    def precision(self, v: float) -> np.ndarray:
        """The conditional precision at ``v``: interpolated between measured ones, the start's before any."""
        if not self.precisions:
            return self.start_precision
        return _interpolated(self.precisions, v)

    def guess(self, v: float, side: list[float]) -> np.ndarray:
        if len(side) >= 2:
            (a, ma), (b, mb) = (side[-1], self.modes[side[-1]][0]), (side[-2], self.modes[side[-2]][0])
            return ma + (ma - mb) * (v - a) / (a - b)
        known = np.array(sorted(self.modes))
        if known.size:
            nearest = float(known[np.argmin(np.abs(known - v))])
            return self.modes[nearest][0] + self.slope * (v - nearest)
        v0, m0 = self.anchor
        return m0 + self.slope * (v - v0)

    def visit(self, v: float, side: list[float], spacing: float) -> float | None:
        """The conditional mode at ``v`` (curvature measured unless one is within ``spacing``); its log marginal."""
        if v not in self.modes:
            precision = self.precision(v)
            found = self._newton(v, self.guess(v, side), precision)
            if found is None:
                return None
            others, value, grad = found
            self.modes[v] = (others, value)
            self.gradients[v] = grad
            self.offsets[v] = self.shifted(v, others)
            near = [u for u in self.precisions if abs(u - v) < spacing * (1 - 1e-9)]
            if not near or len(self.precisions) < 2:
                self.precisions[v] = self._curvature(v, others, grad)
        return self.log_marginal(v)

    def log_marginals(self, v: float) -> np.ndarray:
        """Every law's Laplace approximation of the coordinate's log marginal.

        That is log p at the conditional mode - log det(P) / 2, with ``P`` the conditional precision.
        """
        key = (v, len(self.precisions))
        if key not in self.log_dets:
            self.log_dets[key] = float(np.linalg.slogdet(self.precision(v))[1])
        return self.modes[v][1] + self.offsets[v] - 0.5 * self.log_dets[key]

    def log_marginal(self, v: float, law: int = 0) -> float:
        return float(self.log_marginals(v)[law])

    def dropped(self, v: float) -> bool:
        """Whether every law's log marginal at ``v`` is more than ``END_DROP`` below the largest it has seen."""
        tops = np.max([self.log_marginals(u) for u in self.modes], axis=0)
        return bool(np.all(self.log_marginals(v) < tops - END_DROP))

    def _newton(self, v: float, guess: np.ndarray, precision: np.ndarray):
        others = guess
        value, grad = self.evaluate(v, others)
        if not np.isfinite(value):
            return None
        try:
            chol = np.linalg.cholesky(precision)
        except np.linalg.LinAlgError:
            return None
        for _ in range(NEWTON_STEPS):
            step = np.linalg.solve(chol.T, np.linalg.solve(chol, grad))
            if float(np.sqrt(max(float(grad @ step), 0.0))) < NEWTON_TOLERANCE:
                break
            for _ in range(4):  # halve a step that does not climb
                trial_value, trial_grad = self.evaluate(v, others + step)
                if trial_value >= value - 1e-9 * abs(value):
                    break
                step = 0.5 * step
            else:
                break
            others, value, grad = others + step, trial_value, trial_grad
        return others, value, grad

    def _curvature(self, v: float, others: np.ndarray, grad: np.ndarray) -> np.ndarray:
        """Minus the conditional Hessian by forward differences; after the first, only as many as its sparsity needs."""

        def gradient_at(moved: np.ndarray) -> np.ndarray | None:
            value, moved_grad = self.evaluate(v, moved)
            return moved_grad if np.isfinite(value) else None

        steps = HESSIAN_STEP * np.maximum(1.0, np.abs(others))
        minus_hessian = sparse_hessian.measure(gradient_at, others, grad, steps, self.hessian_plan)
        if not self.precisions:  # the first, full measurement shows which entries can be non-zero
            self.hessian_plan = sparse_hessian.plan(minus_hessian)
        return positive_definite(np.where(np.isfinite(minus_hessian), minus_hessian, 0.0), floor=1e-8)

    def walk(self, centre: float, step: float, spans: dict, extras: dict, spacing: float) -> None:
        """Visit ``centre + k step`` for ``-spans[-1] <= k <= spans[1]``, and ``extras`` more on a side with weight.

        Curvatures are measured at least every ``spacing``.
        """
        if self.visit(centre, [], spacing) is None:
            return
        for direction in (1, -1):
            side = [centre]
            span = spans[direction]
            for k in range(1, span + extras[direction] + 1):
                if k > span and self.dropped(side[-1]):
                    break
                v = centre + direction * k * step
                if self.visit(v, side, spacing) is None:
                    break
                side.append(v)
            self.measure_end(side[-1], spacing)

    def measure_end(self, v: float, spacing: float) -> None:
        """Measure the curvature at a grid's end unless one is measured within half ``spacing``.

        Beyond the last measured curvature it is extrapolated, and the tails' marginal
        (the weights of the end components) depends on it most.
        """
        if all(abs(u - v) >= 0.5 * spacing for u in self.precisions):
            self.precisions[v] = self._curvature(v, self.modes[v][0], self.gradients[v])

    def scout(self, centre: float, step: float) -> None:
        """Walk both ways from ``centre`` while the log marginal stays within ``END_DROP`` of the largest seen.

        The stride doubles while the log marginal climbs, so a start far from the
        marginal (a narrow Laplace approximation at a biased mode) reaches it in a few steps.
        """
        if self.visit(centre, [], SCOUT_MEASURE_EVERY * step) is None:
            return
        for direction in (1, -1):
            side, stride = [centre], step
            for _ in range(SCOUT_POINTS):
                last = self.log_marginals(side[-1])
                if self.dropped(side[-1]):
                    break
                v = side[-1] + direction * stride
                if self.visit(v, side, SCOUT_MEASURE_EVERY * step) is None:
                    break
                side.append(v)
                if np.any(self.log_marginals(v) > last):
                    stride *= 2.0


class _OutOfBudget(Exception):
    pass


class GridFailure(ValueError):
    """No grid could be laid; ``evaluations`` says what the attempt spent."""

    def __init__(self, message: str, evaluations: int):
        super().__init__(message)
        self.evaluations = evaluations


def conditional_grid(
    logp_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    coordinate: int,
    mean: np.ndarray,
    covariance: np.ndarray,
    rng: np.random.Generator,
    max_evaluations: int | None = None,
) -> ConditionalGrid:
    """Conditional Laplace approximations along ``coordinate`` of the density ``exp(logp)``.

    ``mean`` and ``covariance`` (a Gaussian approximation of the whole posterior, e.g.
    at its mode) start the scouting walk and give the first guesses of the conditional
    modes. Spends at most ``max_evaluations`` (default: no limit). Raises
    :class:`GridFailure` (with the evaluations spent) when the density is not finite
    where the grid needs it or the evaluations run out.

    Examples
    --------
    A scale ``v ~ N(1, 0.25)`` and ``x | v ~ N(0, exp(2 v))`` in 5 dimensions, found from a
    guess at ``v = 0``: the components sit around ``v = 1`` and widen with ``v``, which one
    Gaussian cannot do.

    >>> import numpy as np
    >>> def logp(z):
    ...     v, x = z[0], z[1:]
    ...     value = -2 * (v - 1) ** 2 - 0.5 * np.sum(x**2) * np.exp(-2 * v) - x.size * v
    ...     grad = np.concatenate([[-4 * (v - 1) + np.sum(x**2) * np.exp(-2 * v) - x.size], -x * np.exp(-2 * v)])
    ...     return value, grad
    >>> grid = conditional_grid(logp, 0, np.zeros(6), np.eye(6), np.random.default_rng(0))
    >>> round(float(grid.mean[0]), 1), round(float(np.sqrt(grid.covariance[0, 0])), 1)
    (1.0, 0.5)
    >>> spread = grid.covariances[:, 1, 1]
    >>> bool(spread[-1] > 5 * spread[0]), grid.gaussian_share < 0.9
    (True, True)
    """
    grid = shared_conditional_grids(logp_and_grad, coordinate, mean, covariance, rng, max_evaluations)[0]
    assert grid is not None  # the first law's grid is laid or the call raises
    return grid


def shared_conditional_grids(
    logp_and_grad: Callable[[np.ndarray], tuple[float, np.ndarray]],
    coordinate: int,
    mean: np.ndarray,
    covariance: np.ndarray,
    rng: np.random.Generator,
    max_evaluations: int | None = None,
    shifts: Callable[[np.ndarray], np.ndarray] | None = None,
) -> list[ConditionalGrid | None]:
    """:func:`conditional_grid` for several laws that differ only along ``coordinate``.

    Laws whose log densities differ from the first's (``logp_and_grad``) by a function
    of ``coordinate`` alone, as a hierarchical model under several priors on its scale,
    have the same conditional law of the other variables given it: one walk finds the
    conditional modes and curvatures for all of them, and only the marginals differ.
    ``shifts(z)`` returns the other laws' log densities minus the first's at ``z``,
    as one evaluation. The grid covers every law's marginal; each law gets its
    components, weighted by its marginal (None for another law whose marginal is
    nowhere finite on the grid). Every grid reports the evaluations of the shared walk.
    """
    mean = np.asarray(mean, dtype=np.float64)
    covariance = np.asarray(covariance, dtype=np.float64)
    budget = max_evaluations if max_evaluations is not None else np.iinfo(np.int64).max
    walker = _Walker(logp_and_grad, coordinate, mean, covariance, budget, shifts)
    try:
        scout_step = SCOUT_STEP * float(np.sqrt(covariance[coordinate, coordinate]))
        walker.scout(float(mean[coordinate]), scout_step)
        if len(walker.modes) < 2:
            raise GridFailure("the density is not finite where the scouting walk starts", walker.count)
        n_laws = walker.offsets[next(iter(walker.modes))].size
        moments = [_marginal_moments(walker, sorted(walker.modes), law) for law in range(n_laws)]
        centres = [c for c, _ in moments]
        sds = [max(sd, 0.25 * scout_step) for _, sd in moments]
        laid = None  # the last grid with at least two values: (values, step)
        for _ in range(MAX_WALKS):
            if not all(np.isfinite(centres)):
                break
            step = min(2.0 * GRID_SPAN * min(sds) / (GRID_POINTS - 1), _largest_step(walker.precisions))
            centre = _middle(centres, sds)
            spans, extras = {}, {}
            for direction in (1, -1):
                reach = max(direction * (c - centre) / step + GRID_SPAN * sd / step for c, sd in zip(centres, sds))
                spans[direction] = min(int(np.ceil(reach)), MAX_SIDE_POINTS)
                extras[direction] = min(int(np.ceil(EXTRA_SPAN * max(sds) / step)), MAX_SIDE_POINTS - spans[direction])
            walker.walk(centre, step, spans, extras, MEASURE_SPACING * min(sds))
            vs = np.array([centre + k * step for k in range(-spans[-1] - extras[-1], spans[1] + extras[1] + 1)])
            vs = vs[np.isin(vs, list(walker.modes))]
            if vs.size < 2:
                break
            laid = (vs, step)
            moved = [_marginal_moments(walker, list(vs), law) for law in range(n_laws)]
            if not all(sd > 0 for _, sd in moved):
                break
            settled = all(
                abs(c1 - c0) < SETTLED * s0 and abs(np.log(s1 / s0)) < np.log1p(SETTLED)
                for (c1, s1), c0, s0 in zip(moved, centres, sds)
            )
            if settled:
                break
            centres = [c for c, _ in moved]
            sds = [max(sd, step) for _, sd in moved]
    except _OutOfBudget:
        raise GridFailure("the evaluations allowed ran out", walker.count) from None
    if laid is None:
        raise GridFailure("the density is not finite along the grid", walker.count)
    grids = [_components(walker, laid[0], laid[1], rng, law) for law in range(n_laws)]
    if grids[0] is None:
        raise GridFailure("the density is not finite along the grid", walker.count)
    return grids


def _middle(centres: list[float], sds: list[float]) -> float:
    """The centre, among the laws', nearest the middle of the span the laws' marginals need (one law: its own)."""
    if len(centres) == 1:
        return centres[0]
    low = min(c - GRID_SPAN * sd for c, sd in zip(centres, sds))
    high = max(c + GRID_SPAN * sd for c, sd in zip(centres, sds))
    return min(centres, key=lambda c: abs(c - 0.5 * (low + high)))


def _largest_step(precisions: dict) -> float:
    """The grid step below which a component's fixed curvature adds at most ``MISMATCH`` to the log-weights' variance.

    Over a spread ``h`` of the coordinate, a conditional precision that changes as
    ``exp(L v)`` adds about ``h^2 ||L||_F^2 / 2`` to the variance of the log-weights (a
    precision scaled by ``exp(-2 v)`` in ``n`` dimensions: ``2 n h^2``); ``L`` is measured
    between the curvatures measured so far.
    """
    nodes = sorted(precisions)
    rates = [
        np.linalg.norm(_matrix_log(precisions[b]) - _matrix_log(precisions[a])) / (b - a)
        for a, b in zip(nodes[:-1], nodes[1:])
    ]
    rate = max(rates, default=0.0)
    return np.inf if rate == 0 else float(np.sqrt(2.0 * MISMATCH) / (BANDWIDTH * rate))


def _marginal_moments(walker: _Walker, vs: list[float], law: int = 0) -> tuple[float, float]:
    """Mean and standard deviation of the coordinate under a law's Laplace marginal on the visited values."""
    v = np.array(vs)
    log_m = np.array([walker.log_marginal(u, law) for u in vs])
    if not np.isfinite(log_m.max()):
        return np.nan, np.nan
    edges = np.concatenate([[v[0]], 0.5 * (v[1:] + v[:-1]), [v[-1]]])
    widths = np.maximum(np.diff(edges), 1e-12 * (np.ptp(v) + 1.0))  # each value's share of the line
    log_m = log_m + np.log(widths)
    w = np.exp(log_m - logsumexp(log_m))
    centre = float(w @ v)
    return centre, float(np.sqrt(max(w @ (v - centre) ** 2, 0.0)))


def _components(
    walker: _Walker, vs: np.ndarray, step: float, rng: np.random.Generator, law: int = 0
) -> ConditionalGrid | None:
    log_marginal = np.array([walker.log_marginal(v, law) for v in vs])
    if not np.isfinite(log_marginal.max()):
        return None
    keep = log_marginal >= log_marginal.max() - KEEP_DROP
    vs, log_marginal = vs[keep], log_marginal[keep]
    modes = np.stack([walker.modes[v][0] for v in vs])
    slopes = np.gradient(modes, vs, axis=0) if vs.size > 1 else walker.slope[None]
    spreads = np.full(vs.size, (BANDWIDTH * step) ** 2)
    log_weights = log_marginal.copy()
    if vs.size > 1:  # the ends stand for the tails beyond them: wider, and weighted by the tail's mass too
        for end, inner in ((0, 1), (-1, -2)):
            decay = (log_marginal[inner] - log_marginal[end]) / step
            decay = max(decay, 1.0 / (np.ptp(vs) + step))  # a flat or rising end: at most the grid's width
            spreads[end] = max(spreads[end], (TAIL_WIDTH / decay) ** 2)
            log_weights[end] += np.log1p(1.0 / (decay * step))
    dim, i, rest = walker.dim, walker.coordinate, walker.rest
    means = np.empty((vs.size, dim))
    covariances = np.empty((vs.size, dim, dim))
    for k, (v, m, s, h2) in enumerate(zip(vs, modes, slopes, spreads)):
        means[k, i], means[k, rest] = v, m
        c = np.empty((dim, dim))
        c[np.ix_(rest, rest)] = np.linalg.inv(walker.precision(v)) + h2 * np.outer(s, s)
        c[rest, i] = c[i, rest] = h2 * s
        c[i, i] = h2
        covariances[k] = 0.5 * (c + c.T)
    weights = np.exp(log_weights - logsumexp(log_weights))
    mean = weights @ means
    centred = means - mean
    cov = np.einsum("k,kij->ij", weights, covariances) + (centred * weights[:, None]).T @ centred
    share = _gaussian_share(means, covariances, weights, mean, cov, rng)
    return ConditionalGrid(i, means, covariances, weights, mean, cov, walker.count, share)


def _interpolated(precisions: dict, v: float) -> np.ndarray:
    """The precision at ``v``: linear in the matrix logarithm through the two nearest measured ones.

    Between measured values it interpolates, beyond them it extrapolates. In the
    logarithm, a precision that scales as ``exp(-2 v)`` (coefficients beside a noise
    scale) is exactly linear, and no interpolated matrix can lose definiteness.
    """
    if v in precisions:
        return precisions[v]
    nodes = np.array(sorted(precisions))
    if nodes.size == 1:
        return precisions[float(nodes[0])]
    upper = int(np.clip(np.searchsorted(nodes, v), 1, nodes.size - 1))
    a, b = float(nodes[upper - 1]), float(nodes[upper])
    t = (v - a) / (b - a)
    out = (1 - t) * _matrix_log(precisions[a]) + t * _matrix_log(precisions[b])
    values, vectors = np.linalg.eigh(0.5 * (out + out.T))
    return positive_definite((vectors * np.exp(np.clip(values, -LOG_EIGEN_RANGE, LOG_EIGEN_RANGE))) @ vectors.T, 1e-8)


def _matrix_log(matrix: np.ndarray) -> np.ndarray:
    values, vectors = np.linalg.eigh(matrix)
    return (vectors * np.log(values)) @ vectors.T


def _gaussian_share(
    means: np.ndarray, covariances: np.ndarray, weights: np.ndarray, mean: np.ndarray, cov: np.ndarray, rng
) -> float:
    """Effective share of draws of the moment-matched Gaussian ``(mean, cov)`` weighed by the mixture."""
    single = gm.gaussian(mean, cov)
    mixture = gm.GaussianMixture(
        np.log(weights), means, np.stack([gm.gaussian(m, c).chols[0] for m, c in zip(means, covariances)])
    )
    x = mean + rng.standard_normal((CHECK_DRAWS, mean.size)) @ single.chols[0].T
    return effective_share(gm.logpdf(mixture, x) - gm.logpdf(single, x))

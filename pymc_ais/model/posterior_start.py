"""The starting law of a posterior run: Student-t densities where the posteriors live, and the priors.

The Student-t part is either found (:func:`~pymc_ais.core.densities.mode_search.find_modes`:
Laplace approximations at the modes of the laws' unnormalised posteriors, in the
unconstrained space) or given (``init=``: draws of a posterior, e.g. ``pm.sample``'s,
whose mean and covariance make one component). Along a scale (a scalar variable sampled
as a logarithm), a grid of conditional Laplace approximations
(:func:`~pymc_ais.core.densities.conditional_grid.conditional_grid`) follows the way the
other variables' posterior moves with it and places the scale by its marginal. A
Laplace approximation without a grid that misses its posterior, as at the joint mode of
a model with many coefficients beside a scale, is moved onto it by
:func:`~pymc_ais.core.densities.tempered_refit.refit_laws`, all laws from shared draws.
A :func:`pilot` then sets the share of the laws' priors in the starting law. The search,
the grids, the refits and the pilot are paid from the budget.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import NamedTuple

import numpy as np
import xarray as xr

from ..core.densities import student_t
from ..core.densities.conditional_grid import GridFailure, grid_cost, shared_conditional_grids
from ..core.densities.gaussian_mixture import logsumexp, normalised_weights
from ..core.densities.law_balance import balanced_weights
from ..core.densities.mixture_sampling import sample_mixture
from ..core.densities.mode_search import START_WIDEN, SearchError, find_modes, search_budget, searched_laws, start_df
from ..core.densities.student_t import StudentTMixture, student_t_mixture
from ..core.densities.tempered_refit import effective_share, refit_laws
from ..core.problem import Problem
from ..laws.lawset import LawSet

MIN_INIT_DRAWS = 20  # fewer posterior draws than this cannot give a covariance to start from
PILOT_SHARE = 0.01  # draws of the pilot from each of the two starting candidates, as a share of the budget
MIN_PILOT = 50
PRIOR_SHARE_BOUNDS = (0.02, 0.5)  # the priors' share in the starting law, when they are proper
REFIT_SHARE = 0.3  # the refits of Laplace approximations that miss their posterior may use this share of the budget
GRID_MIN_DIM = 10  # grids only in more dimensions than this
GRID_SHARE = 0.2  # the conditional grids along scale coordinates may use this share of the budget
GRID_USE_BELOW = 0.8  # a grid is used when one Gaussian matched to it keeps less than this share of draws
GRID_KEEP_LAPLACE = 0.1  # the Laplace approximation's share of its law's weight beside a grid
DEFENSIVE_PER_KEPT = 0.5
MAX_DEFENSIVE = 0.3
DEFENSIVE_MIN_DIM = 20
SHARE_GRIDS = False  # off: a shared grid served its laws worse than their own (see along_scales)
# Above this dimension the laws' parts are weighted so that the worst-served law is served best. Below it the
# adapted components carry the run, and balanced parts served them worse (a regression with 5 coefficients under
# four priors: the worst quantity's equivalent draws fell from 19,600 to 8,800 over 20 seeds).
BALANCE_MIN_DIM = 20
BALANCE_SEED = 0
GRID_DF = 30.0  # degrees of freedom of a grid's components: its conditional fits hold in the tails too


class PosteriorStart(NamedTuple):
    """The starting law, the evaluations spent to make it and how it was made.

    The starting law is ``(1 - prior_share) * law + prior_share * (equal mixture of the
    laws' priors)``; ``log_scale`` (L,) is each law's largest log-density seen, which
    the run subtracts so that its integrals stay near one whatever the data's size.
    """

    law: StudentTMixture
    evaluations: int
    origin: str  # "mode search", "mode search and conditional grids along ...", or "init draws"
    prior_share: float
    log_scale: np.ndarray
    kept_share: float = 0.0  # the least effective share of the Student-t part's pilot draws over the laws

    @property
    def defensive(self) -> float:
        """The starting law's least weight in every proposal of the run: more, the better the start fits.

        In many dimensions Gaussian components fitted on a few thousand draws can serve a
        posterior worse than a start that already keeps a large effective share of its
        draws for every law (a grid along a hierarchical scale, a refitted Laplace
        approximation of a logistic regression), while their in-sample criterion prefers
        them; keeping ``DEFENSIVE_PER_KEPT`` of the kept share (at most ``MAX_DEFENSIVE``)
        in every proposal bounds the weights by that multiple of the start's. Only in
        more than ``DEFENSIVE_MIN_DIM`` dimensions: in a few the fitted components follow
        the posterior, and the floor cost the worst quantity of eight schools a quarter of
        its precision and made the error bars of a normal model's tail probabilities too
        small (rms z-score 1.29 against 0.93 over 100 seeds).
        """
        if self.law.means.shape[1] <= DEFENSIVE_MIN_DIM:
            return 0.0
        return float(min(DEFENSIVE_PER_KEPT * self.kept_share, MAX_DEFENSIVE))


def pilot(
    laws: LawSet, law: StudentTMixture, budget: int, rng: np.random.Generator
) -> tuple[float, np.ndarray, int, float]:
    """Measure how much of the posteriors the priors hold that the Student-t start misses.

    Draws the same number of points from the Student-t start and from the laws'
    priors (``PILOT_SHARE`` of the budget each) and weighs them all by ``f_l / h`` with
    ``h`` their equal mixture. The priors' share of the starting law is the largest
    share of weight, over the laws, that the prior draws carry, within
    ``PRIOR_SHARE_BOUNDS``: about one half on eight schools (the Laplace approximation
    at the joint mode misses the bulk of the posterior), the lower bound on a
    regression with informative data (no prior draw lands in the posterior). Improper
    priors are not drawn. Returns the share, each law's largest log-density, the
    evaluations spent and the least effective share of the Student-t draws over the laws
    (weighed by ``f_l`` over the Student-t start alone).
    """
    m = max(MIN_PILOT, int(PILOT_SHARE * budget))
    proper = not laws.improper
    x_t = student_t.sample(law, rng, m)
    x = np.vstack([x_t, laws.sample(rng, m)]) if proper else x_t
    log_f = laws.joint_logp(x)
    with np.errstate(invalid="ignore"):
        top = np.where(np.isfinite(log_f), log_f, -np.inf).max(axis=0)
    log_scale = np.where(np.isfinite(top), top, 0.0)
    log_t = student_t.logpdf(law, x_t)
    kept = min(effective_share(log_f[:m, l] - log_t) for l in range(laws.n_laws))
    if not proper:
        return 0.0, log_scale, x.shape[0], kept
    log_h = np.logaddexp(
        student_t.logpdf(law, x), logsumexp(laws.prior_logp(x), axis=1) - np.log(laws.n_laws)
    ) - np.log(2.0)
    carried = []
    for l in range(laws.n_laws):
        w = normalised_weights(log_f[:, l] - log_h)
        carried.append(w[m:].sum())
    low, high = PRIOR_SHARE_BOUNDS
    return float(np.clip(max(carried), low, high)), log_scale, x.shape[0], kept


def posterior_draws(init, names: list[str]) -> dict:
    """``{name: (n, *shape)}`` from an InferenceData / DataTree with a ``posterior`` group, or a Dataset."""
    group = init
    if isinstance(init, xr.DataTree):
        if "posterior" not in init.children:
            raise ValueError("init has no 'posterior' group: pass the result of pm.sample or its posterior group")
        group = init["posterior"].to_dataset()
    elif hasattr(init, "posterior") and not isinstance(init, xr.Dataset):
        group = init.posterior
    if not isinstance(group, xr.Dataset):
        raise TypeError(f"init must be an InferenceData or DataTree with a posterior group, got {type(init).__name__}")
    out = {}
    for name in names:
        if name not in group:
            raise ValueError(f"init's posterior group has no variable {name!r}, a free variable of the model")
        variable = group[name]
        stacked = [d for d in ("chain", "draw") if d in variable.dims]
        values = variable.transpose(*stacked, ...).values
        out[name] = values.reshape((-1, *values.shape[len(stacked) :]))
    return out


def posterior_start(laws: LawSet, budget: int, rng: np.random.Generator, init=None) -> PosteriorStart:
    """The starting law of a run on posteriors (see the module docstring and :func:`pilot`)."""
    law, evaluations, origin = _student_t_start(laws, budget, init, rng)
    share, log_scale, spent, kept = pilot(laws, law, budget, rng)
    return PosteriorStart(law, evaluations + spent, origin, share, log_scale, kept)


def _student_t_start(laws: LawSet, budget: int, init, rng: np.random.Generator) -> tuple[StudentTMixture, int, str]:
    if init is not None:
        draws = posterior_draws(init, [b.name for b in laws.blocks])
        z = laws.to_unconstrained(draws)
        if z.shape[0] < MIN_INIT_DRAWS:
            raise ValueError(f"init holds {z.shape[0]} posterior draws; at least {MIN_INIT_DRAWS} are needed")
        if not np.all(np.isfinite(z)):
            raise ValueError("init's posterior draws have values outside the model's support (or NaN)")
        cov = np.atleast_2d(np.cov(z, rowvar=False))
        law = student_t_mixture(z.mean(axis=0)[None], START_WIDEN**2 * cov[None], start_df(laws.dim))
        return law, 0, "init draws"
    allowed = search_budget(budget, laws.dim, laws.n_laws)
    try:
        found = find_modes(laws.point_logp(), laws.n_laws, laws.initial_point(), allowed)
    except SearchError as err:
        which = f"law {laws.names[err.law]!r}: " if laws.several and err.law is not None else ""
        raise ValueError(
            f"{which}the posterior's log-density is -inf or NaN at the model's initial point, where the search "
            "of its mode starts: either the observed data are impossible under this prior (zero likelihood "
            "wherever it lives), or the search must start elsewhere: pass init= draws inside the posterior's "
            "support (an InferenceData or DataTree with a posterior group)"
        ) from err
    grids, spent = along_scales(laws, found, budget, rng)
    plain = [i for i, grid in enumerate(grids) if grid is None]
    moved = (
        refit_laws(
            lambda x: laws.joint_logp(x)[:, [searched_laws(laws.n_laws)[i] for i in plain]],
            np.stack([found[i].mode for i in plain]),
            np.stack([found[i].covariance for i in plain]),
            rng,
            int(REFIT_SHARE * budget),
        )
        if plain
        else []
    )
    evaluations = sum(f.evaluations for f in found) + spent + max((r.evaluations for r in moved), default=0)
    refitted = dict(zip(plain, moved))
    means, covariances, weights, dfs = [], [], [], []
    parts: list[int] = []
    share, df = 1.0 / len(found), start_df(laws.dim)
    for i, grid in enumerate(grids):
        if grid is None:
            means.append(refitted[i].mean)
            covariances.append(refitted[i].covariance)
            weights.append(share)
            dfs.append(df)
        elif grid.gaussian_share >= GRID_USE_BELOW:  # the grid's moments, located by its marginal
            means += [grid.mean, found[i].mode]
            covariances += [grid.covariance, found[i].covariance]
            weights += [(1.0 - GRID_KEEP_LAPLACE) * share, GRID_KEEP_LAPLACE * share]
            dfs += [df, df]
        else:
            means += [*grid.means, found[i].mode]
            covariances += [*grid.covariances, found[i].covariance]
            weights += [*((1.0 - GRID_KEEP_LAPLACE) * share * grid.weights), GRID_KEEP_LAPLACE * share]
            dfs += [max(df, GRID_DF)] * grid.weights.size + [df]
        parts += [i] * (len(means) - len(parts))  # the law each component stands for
    scales = START_WIDEN**2 * np.stack(covariances)
    shared_df = len(set(dfs)) == 1  # the draws of a start without grids are as before them
    law = student_t_mixture(
        np.stack(means),
        scales,
        df if shared_df else np.array(dfs),
        None if len(grids) == len(means) else np.array(weights),
    )
    if len(grids) > 1 and laws.dim > BALANCE_MIN_DIM:  # a posterior apart from the others gets more than its share
        # the parts' own draws, from a generator of their own: where no law lies apart, the run is as before
        balanced = balanced_weights(law, np.array(parts), np.random.default_rng(BALANCE_SEED))
        if not np.array_equal(balanced, law.weights):
            law = law._replace(log_weights=np.log(balanced))
    name = {b.start: b.name for b in laws.blocks}  # a scale coordinate is a scalar block's start
    used = sorted({name[grid.coordinate] for grid in grids if grid is not None})
    origin = f"mode search and conditional grids along {', '.join(repr(n) for n in used)}" if used else "mode search"
    return law, evaluations, origin


def along_scales(laws: LawSet, found: list, budget: int, rng: np.random.Generator) -> tuple[list, int]:
    """Each searched law's grid of conditional Laplace approximations along a scale, or None.

    For every scale coordinate (:meth:`LawSet.scale_coordinates`), a grid along it
    (:func:`~pymc_ais.core.densities.conditional_grid.conditional_grid`) from the law's
    Laplace approximation ``found``; the one furthest from a Gaussian is kept. With
    ``SHARE_GRIDS``, when the allowance is too small for a grid per law, laws that differ
    only in the scale's prior (:func:`alike_along`) share one grid's walk
    (:func:`~pymc_ais.core.densities.conditional_grid.shared_conditional_grids`) and
    their allowances. It is off: a shared grid served each law worse than its own (at 30
    groups under two priors, 17 runs in 80 warned against 5; at 16 groups on 3,600
    evaluations, one seed of six missed by 5 mcse), for a cause not yet found. A grid
    also places the posterior better than the mode does (its marginal along the scale), so a law with a grid needs
    no refit: its starting components are the grid (or, when one Gaussian matched to the
    grid keeps at least ``GRID_USE_BELOW`` of its draws, that Gaussian) beside its
    Laplace approximation with ``GRID_KEEP_LAPLACE`` of its weight, a guard against a grid that misses. The
    grids may spend ``GRID_SHARE`` of the budget. In ``GRID_MIN_DIM`` dimensions or
    fewer no grid is laid: there the refitted Laplace start and the adapted Gaussian
    components follow a scale's curve already, and the grids cost eight schools (10
    dimensions) 17 % and a regression with five coefficients 30 % of their worst
    quantity's precision over 50 seeds. Returns the grids and the evaluations spent.
    """
    coordinates = laws.scale_coordinates() if laws.dim > GRID_MIN_DIM else []
    total = int(GRID_SHARE * budget)
    left = total
    point = laws.point_logp()
    searched = searched_laws(laws.n_laws)
    alike = {c: [[i] for i in range(len(found))] for c in coordinates}
    pooled = SHARE_GRIDS and bool(coordinates) and left // (len(found) * len(coordinates)) < grid_cost(laws.dim)
    if pooled and len(found) > 1 and left >= 2 * len(found):  # too little for a grid per law: share where alike
        alike, spent = alike_along(laws, found, coordinates)
        left -= spent
    pending = {(i, c) for i in range(len(found)) for c in coordinates}
    candidates: list[list] = [[] for _ in found]
    for i, laplace in enumerate(found):
        for c in coordinates:
            if (i, c) not in pending:  # laid with an earlier law's grid
                continue
            group = next(g for g in alike[c] if g[0] == i)
            allowed = left * len(group) // len(pending)
            pending -= {(k, c) for k in group}
            if allowed < grid_cost(laws.dim):
                continue
            lead, rest = searched[i], [searched[k] for k in group[1:]]
            shifts = (lambda z, lead=lead, rest=rest: _law_differences(laws, z, lead, rest)) if rest else None
            try:
                grids = shared_conditional_grids(
                    functools.partial(point, which=lead), c, laplace.mode, laplace.covariance, rng, allowed, shifts
                )
            except GridFailure as failed:  # the laws keep their refits
                left -= failed.evaluations
                continue
            left -= next(grid.evaluations for grid in grids if grid is not None)
            for k, grid in zip(group, grids):
                if grid is not None:
                    candidates[k].append(grid)
    grids = [min(found_here, key=lambda g: g.gaussian_share, default=None) for found_here in candidates]
    return grids, total - left


def _law_differences(laws: LawSet, z: np.ndarray, lead: int, others: list[int]) -> np.ndarray:
    """The laws ``others``' log densities minus law ``lead``'s at one point (one joint evaluation)."""
    joint = laws.joint_logp(z[None])[0]
    return joint[others] - joint[lead]


ALIKE_TOLERANCE = 1e-8  # relative gradient difference below which two laws' log densities differ by nothing


def alike_along(laws: LawSet, found: list, coordinates: list[int]) -> tuple[dict, int]:
    """Group the searched laws whose log densities differ by a function of one scale coordinate alone.

    Two such laws (a hierarchical model under two priors on its scale) have the same
    conditional law of the other variables given the scale, so one grid along it serves
    both. Measured at two points, the first law's mode and a point moved off it by its
    standard deviations: the gradients of every law there, whose differences must
    vanish but along the coordinate. Returns, for each coordinate, the groups of
    searched-law indices (each group's first index leads it), and the evaluations spent.
    """
    point = laws.point_logp()
    searched = searched_laws(laws.n_laws)
    mode, sd = found[0].mode, np.sqrt(np.diag(found[0].covariance))
    pattern = np.where(np.arange(mode.size) % 2 == 0, 1.0, -1.0) * (0.5 + 0.25 * (np.arange(mode.size) % 3))
    gradients = []
    for z in (mode, mode + sd * pattern):
        gradients.append(np.stack([np.asarray(point(z, which=law)[1], dtype=np.float64) for law in searched]))
    spent = 2 * len(searched)
    groups: dict[int, list[list[int]]] = {}
    for c in coordinates:
        others = np.delete(np.arange(mode.size), c)
        groups[c] = []
        for i in range(len(found)):
            for group in groups[c]:
                j = group[0]
                same = all(
                    np.all(np.isfinite(g[[i, j]]))
                    and np.max(np.abs(g[i, others] - g[j, others]))
                    <= ALIKE_TOLERANCE * (1.0 + np.max(np.abs(g[[i, j]][:, others])))
                    for g in gradients
                )
                if same:
                    group.append(i)
                    break
            else:
                groups[c].append([i])
    return groups, spent


def shifted(evaluate, log_scale: np.ndarray):
    """``evaluate`` with every law's log-density lowered by its ``log_scale``."""

    def run(z):
        logp, *rest = evaluate(z)
        return (logp - log_scale, *rest)

    return run


def starting_problem(problem: Problem, start: PosteriorStart, laws: LawSet) -> Problem:
    """``problem`` with the starting law (and defensive component) of ``start``."""
    law, share = start.law, start.prior_share

    def sample_initial(rng, n):
        if share == 0:
            return student_t.sample(law, rng, n)
        samplers = [lambda r, m: student_t.sample(law, r, m), laws.sample]
        return sample_mixture(np.array([1.0 - share, share]), samplers, rng, n)

    def log_initial(x, log_f):
        found = student_t.logpdf(law, x)
        if share == 0:
            return found
        log_prior = logsumexp(laws.prior_logp(x), axis=1) - np.log(laws.n_laws)
        return np.logaddexp(np.log1p(-share) + found, np.log(share) + log_prior)

    return dataclasses.replace(
        problem,
        sample_initial=sample_initial,
        log_initial=log_initial,
        initial_quantile=None,
        normalised=False,
        centred=lambda n_outputs: [k < n_outputs - 1 for k in range(n_outputs)],  # every output but the evidence
    )


def posterior_weights(weights, n_laws: int):
    """Criterion weights with one for each law's evidence: the largest of that law's outputs'."""
    if isinstance(weights, str):
        return weights
    table = np.asarray(weights, dtype=np.float64).reshape(n_laws, -1)
    return np.hstack([table, table.max(axis=1, keepdims=True)]).ravel()

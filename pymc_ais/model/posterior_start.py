"""The starting law of a posterior run: Student-t densities where the posteriors live, and the priors.

The Student-t part is either found (:func:`~pymc_ais.core.densities.mode_search.find_modes`:
Laplace approximations at the modes of the laws' unnormalised posteriors, in the
unconstrained space) or given (``init=``: draws of a posterior, e.g. ``pm.sample``'s,
whose mean and covariance make one component). A Laplace approximation that misses its
posterior, as at the joint mode of a model with many coefficients beside a scale, is
moved onto it by :func:`~pymc_ais.core.densities.tempered_refit.refit_laws`, all
laws from shared draws. A :func:`pilot` then sets the share of the laws'
priors in the starting law. The search, the refits and the pilot are paid from the
budget.
"""

from __future__ import annotations

import dataclasses
from typing import NamedTuple

import numpy as np
import xarray as xr

from ..core.densities import student_t
from ..core.densities.gaussian_mixture import logsumexp, normalised_weights
from ..core.densities.mixture_sampling import sample_mixture
from ..core.densities.mode_search import START_WIDEN, SearchError, find_modes, search_budget, searched_laws, start_df
from ..core.densities.student_t import StudentTMixture, student_t_mixture
from ..core.densities.tempered_refit import refit_laws
from ..core.problem import Problem
from ..laws.lawset import LawSet

MIN_INIT_DRAWS = 20  # fewer posterior draws than this cannot give a covariance to start from
PILOT_SHARE = 0.01  # draws of the pilot from each of the two starting candidates, as a share of the budget
MIN_PILOT = 50
PRIOR_SHARE_BOUNDS = (0.02, 0.5)  # the priors' share in the starting law, when they are proper
REFIT_SHARE = 0.3  # the refits of Laplace approximations that miss their posterior may use this share of the budget


class PosteriorStart(NamedTuple):
    """The starting law, the evaluations spent to make it and how it was made.

    The starting law is ``(1 - prior_share) * law + prior_share * (equal mixture of the
    laws' priors)``; ``log_scale`` (L,) is each law's largest log-density seen, which
    the run subtracts so that its integrals stay near one whatever the data's size.
    """

    law: StudentTMixture
    evaluations: int
    origin: str  # "mode search" or "init draws"
    prior_share: float
    log_scale: np.ndarray


def pilot(laws: LawSet, law: StudentTMixture, budget: int, rng: np.random.Generator) -> tuple[float, np.ndarray, int]:
    """Measure how much of the posteriors the priors hold that the Student-t start misses.

    Draws the same number of points from the Student-t start and from the laws'
    priors (``PILOT_SHARE`` of the budget each) and weighs them all by ``f_l / h`` with
    ``h`` their equal mixture. The priors' share of the starting law is the largest
    share of weight, over the laws, that the prior draws carry, within
    ``PRIOR_SHARE_BOUNDS``: about one half on eight schools (the Laplace approximation
    at the joint mode misses the bulk of the posterior), the lower bound on a
    regression with informative data (no prior draw lands in the posterior). Improper
    priors are not drawn. Returns the share, each law's largest log-density and the
    evaluations spent.
    """
    m = max(MIN_PILOT, int(PILOT_SHARE * budget))
    proper = not laws.improper
    x_t = student_t.sample(law, rng, m)
    x = np.vstack([x_t, laws.sample(rng, m)]) if proper else x_t
    log_f = laws.joint_logp(x)
    with np.errstate(invalid="ignore"):
        top = np.where(np.isfinite(log_f), log_f, -np.inf).max(axis=0)
    log_scale = np.where(np.isfinite(top), top, 0.0)
    if not proper:
        return 0.0, log_scale, x.shape[0]
    log_h = np.logaddexp(
        student_t.logpdf(law, x), logsumexp(laws.prior_logp(x), axis=1) - np.log(laws.n_laws)
    ) - np.log(2.0)
    carried = []
    for l in range(laws.n_laws):
        w = normalised_weights(log_f[:, l] - log_h)
        carried.append(w[m:].sum())
    low, high = PRIOR_SHARE_BOUNDS
    return float(np.clip(max(carried), low, high)), log_scale, x.shape[0]


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
    share, log_scale, spent = pilot(laws, law, budget, rng)
    return PosteriorStart(law, evaluations + spent, origin, share, log_scale)


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
            "wherever it lives), or the search must start elsewhere: give the free variables initvals inside "
            "the posterior's support, or pass init= draws of the posterior"
        ) from err
    moved = refit_laws(
        lambda x: laws.joint_logp(x)[:, searched_laws(laws.n_laws)],
        np.stack([f.mode for f in found]),
        np.stack([f.covariance for f in found]),
        rng,
        int(REFIT_SHARE * budget),
    )
    evaluations = sum(f.evaluations for f in found) + max(r.evaluations for r in moved)
    covariances = [r.covariance for r in moved]
    means = [r.mean for r in moved]
    scales = START_WIDEN**2 * np.stack(covariances)
    return student_t_mixture(np.stack(means), scales, start_df(laws.dim)), evaluations, "mode search"


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

"""Which surrogate control a run gets, and the one interface that fits it.

Every surrogate is fitted through ``fit(pilot) -> SurrogateControl``: a
:class:`Pilot` says what to fit (the problem whose outputs are controlled, the first
pilot's size, how far it may grow, the run's budget, the input law's maps) and the kind
says how: a sparse polynomial chaos (exact means; independent inputs with a CDF) or a
polynomial in the inputs (means by randomized QMC; any law with quantile maps).
:class:`PickFreeze` adapts either kind to the pick-freeze integrands of a Sobol'
analysis: the surrogate is of the model output, its integrands are the controls.

:func:`choose` is the one policy every entry point follows: which kind, whether the
budget pays its pilot, what a control that helps nothing leaves behind, and a note for
``attrs["surrogate"]`` saying what was done. The callers differ only in what they
declare: what "auto" falls back to where no chaos applies, and the pick-freeze adapter.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import NamedTuple, Protocol

import numpy as np

from ..densities.widened_law import widened_problem
from ..engine.settings import Settings
from ..problem import Problem
from .control import (
    SurrogateControl,
    output_control,
    pick_freeze_control,
    pilot_fits,
    pilot_size,
    plain_residual_settings,
)
from .output_chaos import output_chaos_control
from .pick_freeze_chaos import pick_freeze_chaos_control
from .tuning import CHAOS_MAX_PILOT_SHARE, CHAOS_MIN_PILOT, MAX_PILOT_SHARE

KINDS = ("auto", "chaos", "polynomial")
"""The values of ``surrogate=`` besides None."""


class InputLaw(Protocol):
    """What a surrogate needs of the input law(s); the maps are built on first use."""

    @property
    def n_laws(self) -> int:
        """How many input laws."""
        ...

    def germ_map(self) -> tuple[Callable[[np.ndarray], np.ndarray], tuple[str, ...]] | None:
        """``(x -> germs, kinds)`` of a single law of independent univariate inputs, or None."""
        ...

    def law_quantile(self) -> Callable[[int, np.ndarray], np.ndarray] | None:
        """``(l, u) -> x``: uniforms to law l through inverse CDFs, or None."""
        ...


@dataclasses.dataclass(frozen=True)
class Pilot:
    """What a surrogate is fitted for; sizes count points of ``problem``."""

    problem: Problem  # the problem whose outputs are controlled, as the sampler will run it
    size: int  # the first pilot
    limit: int  # the most points the pilot may grow to (a chaos's pilot doubles while it pays)
    total: int  # the run's whole budget
    rng: np.random.Generator
    germ_map: tuple | None = None  # a chaos's map to its germs
    law_quantile: Callable[[int, np.ndarray], np.ndarray] | None = None  # a polynomial's quantile maps


def fit_chaos(pilot: Pilot) -> SurrogateControl:
    """A sparse polynomial chaos of each output of the pilot's problem."""
    if pilot.germ_map is None:
        raise ValueError("a chaos needs the input law's germ map")
    return output_chaos_control(pilot.problem, pilot.germ_map, pilot.size, pilot.rng, pilot.total, pilot.limit)


def fit_polynomial(pilot: Pilot) -> SurrogateControl:
    """A polynomial in the inputs of each output of the pilot's problem."""
    return output_control(pilot.problem, pilot.law_quantile, pilot.size, pilot.rng, pilot.total - pilot.size)


@dataclasses.dataclass(frozen=True)
class PickFreeze:
    """The pick-freeze adapter: a surrogate of the model output controls every integrand.

    ``evaluate`` runs the model at points of the input law (``dim`` inputs); each
    product-law point costs ``len(groups) + 2`` runs.
    """

    evaluate: Callable
    dim: int
    groups: Sequence[np.ndarray]
    indices: Sequence[str]

    @property
    def runs_per_point(self) -> int:
        """Model runs per point of the product law."""
        return len(self.groups) + 2

    def germ_map(self, germ_map: tuple) -> tuple:
        """The germ map of the product law: the input law's on each half."""
        to_germs, germs = germ_map
        d = self.dim
        return (lambda x: np.hstack([to_germs(x[:, :d]), to_germs(x[:, d:])])), germs + germs

    def fit_chaos(self, pilot: Pilot) -> SurrogateControl:
        """A chaos of the model output fitted on runs of the input law, ``runs_per_point`` per point."""
        return pick_freeze_chaos_control(
            pilot.problem,
            self.evaluate,
            pilot.germ_map,
            self.dim,
            self.groups,
            self.indices,
            pilot.size,
            pilot.rng,
            pilot.limit,
            pilot.total * self.runs_per_point,
        )

    def fit_polynomial(self, pilot: Pilot) -> SurrogateControl:
        """A polynomial of the model output fitted on the pilot's pick-freeze stacks."""
        return pick_freeze_control(
            pilot.problem, self.evaluate, self.dim, self.groups, self.indices, pilot.size, pilot.rng,
            pilot.total - pilot.size,
        )  # fmt: skip


class Request(NamedTuple):
    """A run's surrogate request and what its entry point declares."""

    kind: str | None  # "auto", "chaos", "polynomial" or None
    fraction: float  # of the budget, the first pilot
    auto_fallback: str | None = None  # what "auto" takes where no chaos applies
    pick_freeze: PickFreeze | None = None  # the controls serve pick-freeze integrands
    posterior: bool = False  # surrogates need the input law itself
    has_scores: bool = False  # some output is an event's indicator
    budget_runs: int | None = None  # the budget as the user gave it, in model runs (for messages)


class Choice(NamedTuple):
    """A run's control, the problem and settings the sampler then runs, and what was done."""

    control: SurrogateControl | None
    problem: Problem
    settings: Settings
    pilot: int  # points spent on the pilot
    note: str | None  # for attrs["surrogate"]; None when no surrogate was asked for


class Unavailable(Exception):
    """No surrogate for this run; a refusal under an explicit request, a note under "auto"."""

    def __init__(self, message: str, fix: str):
        super().__init__(message)
        self.fix = fix


def choose(request: Request, law: InputLaw, problem: Problem, settings: Settings, rng: np.random.Generator) -> Choice:
    """The surrogate control of a run, fitted, and the problem and settings it leaves.

    ``problem`` is the one the sampler runs, ``settings.budget`` its budget in points.
    Under "auto" a run without a surrogate says why in its note; an explicit kind
    that cannot be used raises a ``ValueError`` naming the fix.
    """
    if request.kind is None:
        return Choice(None, problem, settings, 0, None)
    if request.kind not in KINDS:
        raise ValueError(f"surrogate must be {' or '.join(map(repr, KINDS))} or None, got {request.kind!r}")
    try:
        return _choose(request, law, problem, settings, rng)
    except Unavailable as why:
        if request.kind != "auto":
            raise ValueError(f"{why}; {why.fix}") from None
        return Choice(None, problem, settings, 0, f"not used: {why}")


def refuse_for_posterior(request: Request) -> None:
    """Refuse an explicit surrogate for a posterior before anything is run."""
    if request.posterior and request.kind not in (None, "auto"):
        raise ValueError(
            f"surrogate={request.kind!r} is not available for posteriors (models with observed data); "
            "pass surrogate=None"
        )


def _choose(request: Request, law: InputLaw, problem: Problem, settings: Settings, rng) -> Choice:
    if request.posterior:
        refuse_for_posterior(request)
        raise Unavailable("the law is a posterior", "")
    if request.kind == "auto" and request.has_scores:  # an event's indicator (callables are not known to be)
        raise Unavailable(
            "some output is an event's indicator, which no polynomial follows; the adapted draws then serve "
            "the events, and a chaos of the other outputs measured worse for the run as a whole "
            "(surrogate='chaos' asks for it)",
            "",
        )
    germ_map = law.germ_map() if request.kind in ("auto", "chaos") else None
    kind = "chaos" if germ_map is not None else request.kind
    if kind == "auto":
        kind = request.auto_fallback
    if kind is None or (kind == "chaos" and germ_map is None):
        raise Unavailable(
            f"surrogate={request.kind!r} needs independent univariate inputs with a CDF under a single law "
            "(no models= or grid, no multivariate or dependent inputs) for its chaos",
            "use surrogate='polynomial'",
        )
    if kind == "chaos":
        return _chaos(request, germ_map, problem, settings, rng)
    return _polynomial(request, law, problem, settings, rng)


def _too_small(request: Request, kind: str, pilot_runs: int, need: str) -> Unavailable:
    budget = "the budget" if request.budget_runs is None else f"draws={request.budget_runs}"
    return Unavailable(
        f"{budget} is too small for a {kind} surrogate: its pilot needs {pilot_runs} model runs and {need}",
        "raise draws or pass surrogate=None",
    )


def _chaos(request: Request, germ_map, problem: Problem, settings: Settings, rng) -> Choice:
    """A chaos control: pilot and residuals from the law widened in its Hermite germs."""
    points = settings.budget
    adapter = request.pick_freeze
    runs = 1 if adapter is None else adapter.runs_per_point
    size = max(int(request.fraction * points), CHAOS_MIN_PILOT)
    if size > CHAOS_MAX_PILOT_SHARE * points or points - size < settings.minimum_budget:
        need = f"the sampler at least {settings.minimum_budget * runs} more"
        raise _too_small(request, "chaos", size * runs, need)
    law_problem = problem
    problem, tau = widened_problem(problem, germ_map if adapter is None else adapter.germ_map(germ_map))
    limit = min(int(CHAOS_MAX_PILOT_SHARE * points), points - settings.minimum_budget)
    pilot = Pilot(problem, size, limit, points, rng, germ_map=germ_map)
    control = fit_chaos(pilot) if adapter is None else adapter.fit_chaos(pilot)
    settings = dataclasses.replace(settings, budget=points - control.pilot_points)
    if adapter is None and not control.beta.any():  # the pilot is spent; the law need not stay widened
        return Choice(None, law_problem, settings, control.pilot_points, f"not used: {control.description}")
    if adapter is not None or control.beta.all():
        # every output rides on its chaos, or pick-freeze integrands (a rejected chaos
        # leaves the output's own, which adapted proposals only weighted): sample plainly
        settings = plain_residual_settings(settings)
    note = control.description
    if tau > 1:
        note += f"; pilot and residuals drawn with the normal germs scaled by {tau:.3g}"
    return Choice(control, problem, settings, control.pilot_points, note)


def _polynomial(request: Request, law: InputLaw, problem: Problem, settings: Settings, rng) -> Choice:
    """A polynomial control, its means integrated by randomized QMC under every law."""
    points = settings.budget
    adapter = request.pick_freeze
    runs = 1 if adapter is None else adapter.runs_per_point
    size = pilot_size(request.fraction, points, problem.dim if adapter is None else adapter.dim, runs)
    if not pilot_fits(size, points):
        raise _too_small(request, "polynomial", size * runs, f"may take at most {MAX_PILOT_SHARE:g} of the budget")
    law_quantile = law.law_quantile() if adapter is None else None  # pick-freeze: the product law's own
    if adapter is None and law_quantile is None and law.n_laws > 1:
        raise Unavailable(
            f"surrogate={request.kind!r} with several input laws needs every law's quantile map, and some "
            "law has a distribution without an inverse CDF",
            "pass surrogate=None",
        )
    pilot = Pilot(problem, size, size, points, rng, law_quantile=law_quantile)
    control = fit_polynomial(pilot) if adapter is None else adapter.fit_polynomial(pilot)
    settings = dataclasses.replace(settings, budget=points - size)
    if adapter is None and not control.beta.any():
        return Choice(None, problem, settings, size, f"not used: {control.description}")
    return Choice(control, problem, settings, size, control.description)

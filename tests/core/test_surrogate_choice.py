"""The one surrogate policy (core.surrogates.choice) on plain numpy problems, no PyMC."""

import numpy as np
import pytest
from scipy.special import ndtri
from scipy.stats import norm

from pymc_ais.core import Problem, Settings, run
from pymc_ais.core.surrogates.choice import Pilot, Request, choose, fit_chaos, fit_polynomial
from pymc_ais.core.surrogates.control import add_back, residual_problem


class NormalInputs:
    """Independent standard normal inputs: their own germs and quantile map."""

    n_laws = 1

    def __init__(self, dim: int, chaos: bool = True):
        self.dim, self.chaos = dim, chaos

    def germ_map(self):
        return ((lambda x: x), ("hermite",) * self.dim) if self.chaos else None

    def law_quantile(self):
        return lambda law, u: ndtri(u)


def _problem(dim: int, phi) -> Problem:
    return Problem(
        dim=dim,
        sample_initial=lambda rng, n: rng.standard_normal((n, dim)),
        evaluate=lambda x: (norm.logpdf(x).sum(axis=1, keepdims=True), phi(x)),
        initial_quantile=ndtri,
    )


def _smooth(x):
    return np.stack([np.exp(0.3 * x[:, 0]) + x[:, 1] ** 2, x.sum(axis=1)], axis=1)


@pytest.mark.parametrize("fit", [fit_chaos, fit_polynomial])
def test_every_kind_fits_through_one_interface(fit):
    """fit(pilot) -> control, whose means are E[phi] when the fit is good (exact truth known)."""
    dim = 3
    problem = _problem(dim, _smooth)
    law = NormalInputs(dim)
    pilot = Pilot(problem, 200, 800, 4000, np.random.default_rng(1), law.germ_map(), law.law_quantile())
    control = fit(pilot)
    truth = np.array([np.exp(0.045) + 1.0, 0.0])
    assert control.beta.all()
    scale = np.sqrt(np.diag(control.cov)) + 1e-6 * np.abs(truth).max()
    assert np.all(np.abs(control.mean - truth) < 5 * scale + 1e-3)


@pytest.mark.parametrize("dim", [2, 10])
def test_auto_and_an_explicit_kind_agree_on_what_cannot_be_done(dim):
    """Too small a budget: a note under "auto", a ValueError naming the fix otherwise."""
    problem = _problem(dim, _smooth)
    budget = Settings(budget=10**5).minimum_budget + 4  # no room for a chaos's first 8 points
    settings = Settings(budget=budget)
    rng = np.random.default_rng(2)
    for kind in ("chaos", "polynomial"):
        with pytest.raises(ValueError, match=f"too small for a {kind} surrogate.*raise draws"):
            choose(Request(kind, 0.03, budget_runs=budget), NormalInputs(dim), problem, settings, rng)
    auto = choose(Request("auto", 0.03, budget_runs=budget), NormalInputs(dim), problem, settings, rng)
    assert auto.control is None and auto.pilot == 0 and auto.note.startswith(f"not used: draws={budget} is too")
    assert auto.problem is problem and auto.settings is settings


def test_auto_falls_back_as_the_entry_point_declares():
    """Without a chaos, "auto" takes nothing (estimate) or the polynomial (sobol)."""
    problem = _problem(2, _smooth)
    settings = Settings(budget=4000)
    law = NormalInputs(2, chaos=False)
    nothing = choose(Request("auto", 0.03), law, problem, settings, np.random.default_rng(3))
    assert nothing.control is None and "needs independent univariate inputs" in nothing.note
    poly = choose(Request("auto", 0.03, auto_fallback="polynomial"), law, problem, settings, np.random.default_rng(3))
    assert poly.control is not None and poly.note.startswith("output 0: polynomial")
    assert poly.settings.budget == 4000 - poly.pilot


def test_posteriors_and_events_get_no_surrogate():
    problem = _problem(2, _smooth)
    settings = Settings(budget=4000)
    rng = np.random.default_rng(4)
    post = choose(Request("auto", 0.03, posterior=True), NormalInputs(2), problem, settings, rng)
    assert post.control is None and post.note == "not used: the law is a posterior"
    with pytest.raises(ValueError, match="not available for posteriors"):
        choose(Request("chaos", 0.03, posterior=True), NormalInputs(2), problem, settings, rng)
    events = choose(Request("auto", 0.03, has_scores=True), NormalInputs(2), problem, settings, rng)
    assert events.control is None and "event's indicator" in events.note
    assert choose(Request(None, 0.03), NormalInputs(2), problem, settings, rng).note is None


def test_a_chaos_control_run_end_to_end_is_unbiased():
    """The chosen control, the residual run and add_back: E[phi] within the run's own error."""
    dim = 3
    problem = _problem(dim, _smooth)
    choice = choose(Request("auto", 0.03), NormalInputs(dim), problem, Settings(budget=4000), np.random.default_rng(5))
    assert choice.control is not None and choice.settings.budget + choice.pilot == 4000
    result = add_back(
        run(residual_problem(choice.problem, choice.control), choice.settings, np.random.default_rng(6)),
        choice.control,
    )
    truth = np.array([np.exp(0.045) + 1.0, 0.0])
    assert np.all(np.abs(result.estimates.mean - truth) <= 5 * result.estimates.mcse + 1e-12)


def test_an_unknown_kind_is_refused():
    problem = _problem(2, _smooth)
    with pytest.raises(ValueError, match="surrogate must be 'auto' or 'chaos' or 'polynomial' or None"):
        choose(Request("cubic", 0.03), NormalInputs(2), problem, Settings(budget=4000), np.random.default_rng(0))


def test_the_pick_freeze_adapter_controls_every_integrand():
    """A chaos of an additive output through PickFreeze: exact integrand means, every control used."""
    from pymc_ais.core.sensitivity.pick_freeze import pick_freeze_problem
    from pymc_ais.core.surrogates.choice import PickFreeze

    dim = 3
    base = _problem(dim, lambda x: (x[:, 0] + 2 * x[:, 1])[:, None])
    groups = [np.array([i]) for i in range(dim)]
    product = pick_freeze_problem(base, groups, ("first", "total"))
    adapter = PickFreeze(base.evaluate, dim, groups, ("first", "total"))
    request = Request("chaos", 0.03, pick_freeze=adapter, budget_runs=4000 * adapter.runs_per_point)
    choice = choose(request, NormalInputs(dim), product, Settings(budget=4000), np.random.default_rng(7))
    assert choice.control is not None and choice.control.beta.all()
    # variance 5; first-order numerators 1, 4, 0; totals the same (no interaction)
    np.testing.assert_allclose(choice.control.mean, [5.0, 1.0, 4.0, 0.0, 1.0, 4.0, 0.0], atol=1e-8)
    assert choice.settings.budget == 4000 - choice.pilot

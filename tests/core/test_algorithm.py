"""The numpy core on hand-written problems (no PyMC)."""

import numpy as np
import pytest
from conftest import within
from scipy.stats import norm

from pymc_ais.core import EvaluationError, Problem, Settings, run
from pymc_ais.core.densities import gaussian_mixture as gm
from pymc_ais.core.engine.mixture_weights import criterion, optimise_alpha


def test_gaussian_moments_core(gaussian_moments_problem):
    problem, truth = gaussian_moments_problem
    result = run(problem, Settings(20_000), np.random.default_rng(3))
    within(result.estimates.mean, result.estimates.mcse, truth)
    # the method must beat plain Monte Carlo by orders of magnitude on this case
    relative_var = np.sum(result.estimates.mcse**2 / truth**2)
    fourth = np.array([norm.moment(4 * k) for k in range(1, 11)])  # E[X^(4j)]
    mc_relative_var = np.sum((fourth - truth**2) / truth**2) / 20_000
    assert relative_var < mc_relative_var / 100


@pytest.mark.parametrize("family", ["gaussian", "mixture"])
@pytest.mark.parametrize("control_variates", ["full", "single"])
def test_options_stay_unbiased(gaussian_moments_problem, family, control_variates):
    problem, truth = gaussian_moments_problem
    settings = Settings(8_000, family=family, control_variates=control_variates, weights="absolute")
    result = run(problem, settings, np.random.default_rng(11))
    within(result.estimates.mean[:4], result.estimates.mcse[:4], truth[:4])


def test_logpdf_matches_scipy():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    cov = a @ a.T + np.eye(3)
    g = gm.gaussian(np.arange(3.0), cov)
    x = rng.standard_normal((50, 3))
    from scipy.stats import multivariate_normal

    np.testing.assert_allclose(gm.logpdf(g, x), multivariate_normal(np.arange(3.0), cov).logpdf(x), rtol=1e-12)


def test_weighted_fit_recovers_moments():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((200_000, 2))
    # weights exp(x . m - |m|^2/2) tilt N(0, I) to N(m, I)
    m = np.array([1.0, -0.5])
    g = gm.fit_gaussian(x, x @ m, np.eye(2), floor=np.zeros(2))
    np.testing.assert_allclose(g.means[0], m, atol=0.03)
    np.testing.assert_allclose(g.chols[0] @ g.chols[0].T, np.eye(2), atol=0.05)


def test_alpha_gradient_and_optimum():
    rng = np.random.default_rng(2)
    B = rng.uniform(0.1, 2.0, size=(300, 4))
    a = rng.uniform(0.0, 1.0, size=300)
    alpha = np.array([0.1, 0.2, 0.3, 0.4])
    value, grad = criterion(alpha, a, B)
    eps = 1e-7
    numeric = [(criterion(alpha + eps * np.eye(4)[k], a, B)[0] - value) / eps for k in range(4)]
    np.testing.assert_allclose(grad, numeric, rtol=1e-4)
    lower = np.full(4, 1e-6)
    best, best_value = optimise_alpha(a, B, alpha, lower)
    assert best.sum() == pytest.approx(1.0) and np.all(best >= lower * (1 - 1e-12))
    for _ in range(200):  # no random point of the simplex does better
        other = rng.dirichlet(np.ones(4))
        assert criterion(other, a, B)[0] >= best_value * (1 - 1e-6)


def test_signed_output_with_zero_mean():
    problem = Problem(
        dim=2,
        sample_initial=lambda rng, n: rng.standard_normal((n, 2)),
        evaluate=lambda x: (norm.logpdf(x).sum(axis=1), np.stack([x[:, 0], x[:, 0] * x[:, 1] + x[:, 0] ** 2], axis=1)),
        output_names=["x0", "x0x1+x0^2"],
    )
    result = run(problem, Settings(10_000), np.random.default_rng(4))
    within(result.estimates.mean, result.estimates.mcse, [0.0, 1.0])
    assert set(result.state.targets.part.tolist()) == {1, -1}


def test_zero_output_and_very_different_scales():
    problem = Problem(
        dim=1,
        sample_initial=lambda rng, n: rng.standard_normal((n, 1)),
        evaluate=lambda x: (norm.logpdf(x), np.hstack([x**2, 1e9 * x**2, (x > 40.0) * 1.0])),
        output_names=["small", "large", "never"],
    )
    result = run(problem, Settings(6_000), np.random.default_rng(5))
    est = result.estimates
    within(est.mean[:2], est.mcse[:2], [1.0, 1e9])
    np.testing.assert_allclose(est.mcse[0], est.mcse[1] / 1e9, rtol=1e-6)
    assert est.mean[2] == 0.0


def test_nan_output_keeps_completed_evaluations():
    calls = {"n": 0}

    def evaluate(x):
        calls["n"] += 1
        phi = x**2
        if calls["n"] == 3:
            phi[0] = np.nan
        return norm.logpdf(x), phi

    problem = Problem(1, lambda rng, n: rng.standard_normal((n, 1)), evaluate, ["sq"])
    with pytest.raises(EvaluationError, match="'sq' is NaN") as info:
        run(problem, Settings(10_000), np.random.default_rng(6))
    assert info.value.completed["x"].shape == (2_000, 1)
    assert np.all(np.isfinite(info.value.completed["phi"]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"budget": 15}, "too small"),
        ({"budget": 1000, "weights": "relativ"}, "unknown weights='relativ'"),
        ({"budget": 1000, "family": "gauss"}, "unknown family='gauss'"),
        ({"budget": 1000, "weights": [1.0, -1.0]}, "positive"),
    ],
)
def test_settings_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        Settings(**kwargs)


def test_a_target_never_reached_keeps_its_owners_component_when_components_are_shared():
    # five targets share two components; the last one (an event no draw reaches) has no fit,
    # and falls back on the component it shared last time, not on the list's fifth entry
    problem = Problem(
        dim=2,
        sample_initial=lambda rng, n: rng.standard_normal((n, 2)),
        evaluate=lambda x: (
            norm.logpdf(x).sum(axis=1),
            np.column_stack([x[:, 0] ** 2, x[:, 1] ** 2, x[:, 0] ** 4, x[:, 1] ** 4, (x[:, 0] > 40.0) * 1.0]),
        ),
        output_names=["x2", "y2", "x4", "y4", "never"],
    )
    result = run(problem, Settings(6_000, max_components=2), np.random.default_rng(2))
    est = result.estimates
    within(est.mean[:4], est.mcse[:4], [1.0, 1.0, 3.0, 3.0])
    assert est.mean[4] == 0.0
    assert max(len(p.components or ()) for p in result.state.proposals) <= 2


def test_outputs_undefined_where_the_law_has_no_mass_do_not_stop_a_run():
    # E[sqrt(X)] for X ~ Exp(1) is Gamma(3/2); the output is NaN at x < 0, where the density is zero
    # and proposals do put points: those carry no weight, so they must not end the run
    def evaluate(x):
        inside = x[:, 0] >= 0
        return np.where(inside, -x[:, 0], -np.inf), np.where(inside, np.sqrt(np.abs(x[:, 0])), np.nan)

    problem = Problem(dim=1, sample_initial=lambda rng, n: rng.exponential(size=(n, 1)), evaluate=evaluate)
    result = run(problem, Settings(6_000), np.random.default_rng(1))
    assert np.any(result.state.x[:, 0] < 0)  # the case this test is about happened
    within(result.estimates.mean, result.estimates.mcse, [np.sqrt(np.pi) / 2])
    nan_at_mass = lambda x: (norm.logpdf(x[:, 0]), np.where(x[:, 0] > 3.0, np.nan, 1.0))
    with pytest.raises(EvaluationError, match="NaN or infinite"):  # where the law has mass it is still an error
        run(Problem(dim=1, sample_initial=lambda rng, n: rng.standard_normal((n, 1)), evaluate=nan_at_mass),
            Settings(6_000), np.random.default_rng(1))  # fmt: skip


@pytest.mark.parametrize("sampler", ["mc", "rqmc"])
def test_an_iid_final_phase_from_the_initial_law_takes_the_initial_block_in(sampler):
    """Both blocks are i.i.d. draws of h0: the final sample holds the initial block too, counted once."""
    from pymc_ais.core.engine.kernel import build_kernel
    from pymc_ais.core.execution.driver import evaluator_for

    problem = Problem(
        dim=2,
        sample_initial=lambda rng, n: 1.5 * rng.standard_normal((n, 2)),
        evaluate=lambda x: (norm.logpdf(x).sum(axis=1, keepdims=True), np.hstack([x, x**2])),
        output_names=["x0", "x1", "x0^2", "x1^2"],
        log_initial=lambda x, log_f: norm.logpdf(x, scale=1.5).sum(axis=1),
    )
    rng = np.random.default_rng(4)
    kernel, evaluate = build_kernel(problem, Settings(4_000, sampler=sampler)), evaluator_for(problem)
    batch = kernel.initial(rng)
    state = kernel.init(batch, evaluate(batch.x))
    final = kernel.final(state, rng)
    assert final.proposal_index == 0 and final.replicate is None  # no quantile map: i.i.d. whatever the sampler
    result = kernel.finalize(state, final, evaluate(final.x), "test")
    n0 = int(state.counts[0])
    assert result.final.reused == n0 and result.final.x.shape[0] == n0 + final.x.shape[0] == 4_000
    np.testing.assert_array_equal(result.final.x[:n0], state.x[:n0])
    within(result.estimates.mean, result.estimates.mcse, np.array([0.0, 0.0, 1.0, 1.0]))
    # the error bars are those of all 4,000 draws: Var(x_0^2 f/h0) = 3 s^2 / (2 - 1/s^2)^3 - 1 per draw (s = 1.5)
    per_draw = 3 * 1.5**2 / (2 - 1 / 1.5**2) ** 3 - 1
    np.testing.assert_allclose(result.estimates.mcse[2:] ** 2 * 4_000, per_draw, rtol=0.25)

"""Bad input gets a clear error naming what is at fault."""

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest
from scipy.stats import norm

import pymc_ais as pa


def _normal_model():
    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0)
    return model


def test_discrete_free_variable():
    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0)
        pm.Poisson("count", 3.0)
    with pytest.raises(ValueError, match="'count' is discrete"):
        pa.estimate("x", model=model, draws=1_000, progressbar=False)


def test_sobol_of_a_posterior():
    with pm.Model() as model:
        mu = pm.Normal("mu", 0.0, 1.0)
        pm.Normal("y", mu, 1.0, observed=[0.1, 0.2])
    with pytest.raises(ValueError, match="observed data or Potentials \\('y'\\)"):
        pa.sobol(mu, model=model, draws=1_000, progressbar=False)


def test_no_free_variables():
    with pm.Model() as model:
        pm.Data("a", np.array(1.0))
    with pytest.raises(ValueError, match="no free random variables"):
        pa.estimate(lambda d: np.ones(1), model=model, draws=1_000, progressbar=False)


def test_expression_with_foreign_variable():
    model = _normal_model()
    with pm.Model():
        other = pm.Normal("other", 0.0, 1.0)
    with pytest.raises(ValueError, match="'bad' uses the random variable 'other'"):
        pa.estimate({"bad": model["x"] + other}, model=model, draws=1_000, progressbar=False)


def test_expression_with_free_symbolic_input():
    model = _normal_model()
    a = pt.scalar("a")
    with pytest.raises(ValueError, match="'bad' depends on the symbolic input 'a'"):
        pa.estimate({"bad": model["x"] * a}, model=model, draws=1_000, progressbar=False)


def test_unknown_variable_name():
    model = _normal_model()
    with pytest.raises(ValueError, match="no variable named 'y'"):
        pa.estimate({"e": "y"}, model=model, draws=1_000, progressbar=False)


def test_callable_wrong_shape():
    model = _normal_model()
    with pytest.raises(pa.EvaluationError, match="'sim' returned shape"):
        pa.estimate({"sim": lambda d: np.ones(3)}, model=model, draws=1_000, progressbar=False)


def test_callable_nan_and_nothing_lost():
    model = _normal_model()
    calls = {"n": 0}

    def simulator(d):
        calls["n"] += 1
        out = d["x"] ** 2
        if calls["n"] == 4:  # the probe, the first block, one adaptive block (1,000 each), then NaN
            out[3] = np.nan
        return out

    with pytest.raises(pa.EvaluationError, match="'sim' returned NaN or inf at 1 of") as info:
        # surrogate=None: the calls counted are the sampler's (a chaos pilot would come first)
        pa.estimate({"sim": simulator}, model=model, draws=10_000, progressbar=False, random_seed=1, surrogate=None)
    completed = info.value.completed
    assert completed["x"].shape == (3_000, 1)
    np.testing.assert_allclose(completed["phi"][:, 0], completed["draws"]["x"] ** 2)


def test_callable_inf():
    model = _normal_model()
    with pytest.raises(pa.EvaluationError, match="'sim' returned NaN or inf"):
        pa.estimate(
            {"sim": lambda d: np.where(d["x"] > 0, np.inf, d["x"])}, model=model, draws=1_000, progressbar=False
        )


def test_nan_in_graph_output():
    model = _normal_model()
    x = model["x"]
    with pytest.raises(pa.EvaluationError, match="'logx' is NaN"):
        pa.estimate({"logx": pt.log(x)}, model=model, draws=1_000, progressbar=False, random_seed=0)


@pytest.mark.parametrize("form", ["failure_probability", "exceedance", "estimate"])
def test_nan_inside_an_event_expression_is_refused(form):
    """A comparison with NaN reads False: the event would silently drop those points (0 here)."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=2)
    y = pt.switch(x[0] > 2.0, np.nan, x[0])  # NaN on every point of the event y > 4 (and beyond 2)
    run = {"progressbar": False, "random_seed": 0, "draws": 4_000, "model": model}
    with pytest.raises(pa.EvaluationError, match="event .* compares is NaN at .* point"):
        if form == "failure_probability":
            pa.failure_probability(4.0 - y, **run)
        elif form == "exceedance":
            pa.exceedance(y, [3.0, 4.0], **run)
        else:
            pa.estimate({"p": y > 4.0}, **run)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"draws": 15}, ValueError, "draws=15 is too small"),
        ({"draws": 0}, ValueError, "positive integer"),
        ({"draws": 2.5}, ValueError, "positive integer"),
        ({"weights": "relativ"}, ValueError, "unknown weights='relativ'; valid options are 'relative', 'absolute'"),
        ({"family": "gauss"}, ValueError, "unknown family='gauss'; valid options are 'gaussian', 'mixture'"),
        ({"weights": [1.0, 2.0]}, ValueError, "weights has 2 entries but there are 1 expectations"),
        ({"colour": "red"}, TypeError, "unknown option"),
        ({"models": {}}, ValueError, "non-empty mapping"),
        ({"models": {"a": None}}, TypeError, "input law .a. must be a pm.Model"),
    ],
)
def test_argument_errors(kwargs, error, message):
    model = _normal_model()
    kwargs = {"draws": 1_000, **kwargs}
    with pytest.raises(error, match=message):
        pa.estimate({"x": "x"}, model=model, progressbar=False, **kwargs)


def test_empty_expectations():
    with pytest.raises(ValueError, match="no expectation given"):
        pa.estimate({}, model=_normal_model(), draws=1_000, progressbar=False)


def test_constant_expectations_are_refused_by_name():
    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0)
        pm.Deterministic("c", pt.constant(3.0))
    for phi in (pt.constant(3.0), "c"):
        with pytest.raises(ValueError, match="expectation 'c' depends on no free variable"):
            pa.estimate({"c": phi}, model=model, draws=1_000, progressbar=False)


def test_non_broadcasting_expression_names_the_expectation():
    with pm.Model() as model:
        x = pm.Normal("x", pm.Data("mu", np.zeros(3)), 1.0)
        y = pm.Normal("y", pm.Data("nu", np.zeros(2)), 1.0)
    with pytest.raises(ValueError, match="expectation 'bad' cannot be computed"):
        pa.estimate({"bad": x + y}, model=model, draws=1_000, progressbar=False)


def test_complex_callable_output_is_refused():
    model = _normal_model()
    with pytest.raises(pa.EvaluationError, match="'z' returned complex values"):
        pa.estimate({"z": lambda d: d["x"] + 1j}, model=model, draws=1_000, progressbar=False)


def test_swap_priors_refuses_a_registered_variable():
    model = _normal_model()
    with pytest.raises(TypeError, match="is the model variable 'x'.*dist"):
        pa.swap_priors(model, {"x": model["x"]})


def test_integral_float_draws_are_accepted():
    model = _normal_model()
    idata = pa.estimate({"x": "x"}, model=model, draws=2e3, random_seed=3, progressbar=False)
    assert idata.attrs["budget"] == 2_000 and idata.attrs["evaluations"] <= 2_000


def test_sobol_budget_and_index_errors_speak_of_runs_and_indices():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=3)
    with pytest.raises(ValueError, match=r"draws must be an integer >= \d+ \(the total budget of model runs"):
        pa.sobol(x.sum(), model=model, draws=3, progressbar=False)
    with pytest.raises(ValueError, match="unknown index 'second'"):
        pa.sobol(x.sum(), model=model, indices="second", progressbar=False)
    with pytest.raises(ValueError, match="ci_prob must be in"):
        pa.sobol(x.sum(), model=model, ci_prob=95, progressbar=False)


def test_a_name_with_a_slash_is_refused_before_any_run():
    # the result's DataTree reads '/' as a path: xarray refused it once the run had finished
    model = _normal_model()
    calls = []

    def phi(values):
        calls.append(len(values["x"]))
        return values["x"]

    with pytest.raises(ValueError, match="'exp\\(x/2\\)' contains '/'.*'exp\\(x_over_2\\)'"):
        pa.estimate({"exp(x/2)": phi}, model=model, draws=1_000, progressbar=False)
    assert calls == []


def test_an_output_reading_a_grid_container_is_refused():
    """Outputs are shared by every law: one reading a container the grid varies would keep its value."""
    with pm.Model() as model:
        mu = pm.Data("mu", 0.0)
        x = pm.Normal("x", mu, 1.0, shape=3)
    laws = pa.grid(model, {"mu": [0.0, 0.5, 1.0]})
    with pytest.raises(ValueError, match="output 'p' reads the pm.Data container.*'mu' that the grid varies"):
        pa.estimate({"p": (x - mu).sum() > 3.0}, models=laws, draws=2_000, progressbar=False)
    idata = pa.estimate({"p": x.sum() > 3.0}, models=laws, draws=4_000, progressbar=False, random_seed=0)
    est = idata["estimates"].sel(expectation="p")
    truth = norm.sf((3.0 - 3 * np.array([0.0, 0.5, 1.0])) / np.sqrt(3.0))
    assert np.all(np.abs(est["mean"].values - truth) < 4 * est["mcse"].values)


def test_a_grid_of_a_design_parameter_is_refused():
    """A container only in the limit state is not a law: the error says what to do instead."""
    with pm.Model() as model:
        c = pm.Data("c", 3.0)
        x = pm.Normal("x", 0.0, 1.0)
    laws = pa.grid(model, {"c": [3.0, 3.5, 4.0]})
    with pytest.raises(ValueError, match="reads the pm.Data container.*'c'.*one output per value"):
        pa.failure_probability(c - x, models=laws, draws=2_000, progressbar=False)
    with pytest.raises(ValueError, match="grid column.*'c'.*do not enter the input law"):
        pa.estimate({"m": x}, models=laws, draws=2_000, progressbar=False)


def test_a_combined_event_decided_by_a_finite_part_is_not_refused():
    """``(x > 0) & (log(x) > 1)``: NaN where x < 0, where the first part already decides."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    idata = pa.estimate({"p": (x > 0) & (pt.log(x) > 1.0)}, model=model, draws=4_000, random_seed=0, progressbar=False)
    est = idata["estimates"].sel(expectation="p")
    assert abs(float(est["mean"]) - norm.sf(np.e)) < 4 * float(est["mcse"])

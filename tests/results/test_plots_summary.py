"""Plots render headless and show what they claim; summary tables."""

import matplotlib
import numpy as np
import pymc as pm
import pytest

import pymc_ais as pa

matplotlib.use("Agg")  # headless: no figure exists yet, so the backend can still switch


@pytest.fixture(scope="module")
def single():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    return pa.estimate({"m2": x**2, "p": x > 1, "x": x}, model=model, draws=4_000, random_seed=41, progressbar=False)


def test_plot_adaptation(single):
    axes = pa.plot_adaptation(single)
    n_iter = single["adaptation"].sizes["iteration"]
    assert axes[0].get_ylabel() == "predicted weighted variance per point"
    assert len(axes[0].lines[0].get_xdata()) == n_iter
    # one stacked bar per iteration and component
    assert len(axes[1].patches) == n_iter * single["adaptation"].sizes["component"]


def test_plot_weights(single):
    ax = pa.plot_weights(single)
    assert len(ax.lines) == 1 and len(ax.lines[0].get_xdata()) == single["samples"].sizes["draw"]


def test_plot_estimates_single_law(single):
    ax = pa.plot_estimates(single)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["m2", "p", "x"]


def test_plot_estimates_against_a_grid_parameter():
    with pm.Model() as model:
        mu = pm.Data("mu", 0.0)
        x = pm.Normal("x", mu, 1.0)
    laws = pa.sample_grid(model, {"mu": (-1, 1)}, n=7, random_seed=0)
    idata = pa.estimate({"p": x > 1}, models=laws, draws=4_000, random_seed=42, progressbar=False)
    ax = pa.plot_estimates(idata, "p", against="mu")
    xs = ax.lines[0].get_xdata()
    assert ax.get_xlabel() == "mu" and len(xs) == 7 and np.all(np.diff(xs) > 0)
    with pytest.raises(ValueError, match="'sd' is not a law parameter"):
        pa.plot_estimates(idata, "p", against="sd")
    table = pa.summary(idata)
    assert table.index.names == ["model", "expectation"] and len(table) == 7


def test_plot_and_summary_of_sobol():
    with pm.Model() as model:
        a = pm.Normal("a", 0.0, 1.0)
        b = pm.Normal("b", 0.0, 1.0)
    idata = pa.sobol(a + 2 * b, model=model, draws=6_000, random_seed=43, progressbar=False)
    ax = pa.plot_sensitivity(idata)
    assert len(ax.patches) == 4  # 2 inputs x (first, total)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    table = pa.summary(idata)
    assert list(table.index) == [("first", "a"), ("first", "b"), ("total", "a"), ("total", "b")]
    np.testing.assert_allclose(table["mean"].values, idata["sensitivity"]["mean"].values.ravel())


def test_progressbar_on_and_off(monkeypatch, capsys):
    import sys

    from pymc_ais.progress import ProgressReporter

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True, raising=False)
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    reporter_states = []
    original = ProgressReporter.update

    def spy(self, state, info=None):
        reporter_states.append(self._progress is not None)
        return original(self, state, info)

    monkeypatch.setattr(ProgressReporter, "update", spy)
    pa.estimate({"x": x}, model=model, draws=2_000, random_seed=44, progressbar=True)
    assert reporter_states and all(reporter_states)
    reporter_states.clear()
    pa.estimate({"x": x}, model=model, draws=2_000, random_seed=44, progressbar=False)
    assert reporter_states and not any(reporter_states)


def test_plot_exceedance_draws_a_curve_per_law():
    import matplotlib.pyplot as plt
    from conftest import normal_laws

    idata = pa.exceedance(
        lambda v: v["x"].sum(axis=1),
        [1.0, 2.0],
        models=normal_laws({"a": 0.0, "b": 0.5}, 3),
        draws=2_000,
        random_seed=2,
        progressbar=False,
    )
    ax = pa.plot_exceedance(idata)
    lines = [line for line in ax.get_lines() if line.get_label().startswith("P(Y > t)")]
    assert [line.get_label() for line in lines] == ["P(Y > t), a", "P(Y > t), b"]
    for line, law in zip(lines, ("a", "b")):
        np.testing.assert_allclose(line.get_ydata(), idata["exceedance"]["probability"].sel(model=law).values)
    plt.close(ax.figure)


def test_plot_exceedance_draws_the_curve_and_its_quantiles():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=3)
    thresholds = [1.0, 2.0, 3.0]
    idata = pa.exceedance(
        x.sum() / np.sqrt(3),
        thresholds,
        tail_probabilities=[0.01],
        model=model,
        draws=4_000,
        random_seed=2,
        progressbar=False,
    )
    ax = pa.plot_exceedance(idata)
    curve = ax.get_lines()[0]
    np.testing.assert_array_equal(curve.get_xdata(), thresholds)
    np.testing.assert_allclose(curve.get_ydata(), idata["exceedance"]["probability"].values)
    assert ax.get_yscale() == "log" and len(ax.collections) >= 1  # the band


def test_a_plot_of_a_group_the_result_lacks_names_the_function_that_makes_it():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    idata = pa.estimate({"x": x}, model=model, draws=1_000, random_seed=0, progressbar=False)
    with pytest.raises(ValueError, match="no 'sensitivity' group: plot it from a pa.sobol result"):
        pa.plot_sensitivity(idata)
    with pytest.raises(ValueError, match="no 'exceedance' group: plot it from a pa.exceedance result"):
        pa.plot_exceedance(idata)

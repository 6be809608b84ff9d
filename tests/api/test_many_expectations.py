"""Many expectations: shared components beyond the cap, many outputs compiled as one matrix."""

import numpy as np
import pymc as pm
import pytest
from scipy.stats import norm

import pymc_ais as pa
from pymc_ais.model import build
from pymc_ais.model.evaluation import MANY_OUTPUTS


@pytest.fixture(scope="module")
def ladder():
    """80 exceedance probabilities of Y = sum(x) / 3, x ~ N(0, I_9): Y ~ N(0, 1)."""
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=9)
    y = x.sum() / 3.0
    thresholds = np.linspace(-2.0, 2.0, 80)
    assert len(thresholds) > MANY_OUTPUTS  # the outputs take the one-matrix path
    return model, {f"p{k}": y > t for k, t in enumerate(thresholds)}, norm.sf(thresholds)


def test_shared_components_keep_every_estimate_within_its_error(ladder):
    model, expectations, truth = ladder
    idata = pa.estimate(expectations, model=model, draws=8000, random_seed=4, progressbar=False, max_components=8)
    est = idata["estimates"]
    z = (est["mean"].values - truth) / est["mcse"].values
    assert np.all(np.abs(z) < 4.0)
    # the adaptation reports a weight per target: its shared component's, split among its sharers
    alpha = idata["adaptation"]["alpha"].values
    assert alpha.shape[1] == 81 and np.allclose(alpha.sum(axis=1), 1.0)
    shared = alpha[-1, 1:]
    assert len(np.unique(np.round(shared[shared > 0], 12))) <= 8


def test_a_cap_above_the_targets_changes_nothing(ladder):
    model, expectations, _ = ladder
    few = {k: expectations[k] for k in list(expectations)[:6]}
    kw = dict(model=model, draws=3000, random_seed=2, progressbar=False)
    capped = pa.estimate(few, max_components=6, **kw)
    free = pa.estimate(few, max_components=None, **kw)
    assert capped["estimates"]["mean"].values.tobytes() == free["estimates"]["mean"].values.tobytes()
    with pytest.raises(ValueError, match="max_components must be at least 1"):
        pa.estimate(few, max_components=0, **kw)


def test_many_outputs_evaluate_as_their_numpy_values(ladder):
    model, expectations, _ = ladder
    mp = build(expectations, model)
    z = np.random.default_rng(0).normal(size=(50, 9))
    _, phi, scores = mp.evaluate(z)
    y = z.sum(axis=1) / 3.0
    thresholds = np.linspace(-2.0, 2.0, 80)
    assert np.array_equal(phi, (y[:, None] > thresholds).astype(float))
    np.testing.assert_allclose(scores, y[:, None] - thresholds, rtol=1e-12, atol=1e-12)


def test_keep_draws_thins_or_skips_the_draw_groups_not_the_estimates(ladder):
    model, expectations, _ = ladder
    few = {k: expectations[k] for k in list(expectations)[:3]}
    kw = dict(model=model, draws=3000, random_seed=5, progressbar=False)
    full = pa.estimate(few, **kw)
    thin = pa.estimate(few, keep_draws=100, **kw)
    none = pa.estimate(few, keep_draws=False, **kw)
    assert thin["samples"].sizes["draw"] == 100 and thin["log_weights"].sizes["draw"] == 100
    assert "samples" not in none.children and "outputs" not in none.children
    for other in (thin, none):
        assert other["estimates"]["mean"].values.tobytes() == full["estimates"]["mean"].values.tobytes()
    kept = thin["samples"]["x"].values[0]
    assert all((full["samples"]["x"].values[0] == row).all(axis=1).any() for row in kept)
    with pytest.raises(ValueError, match="keep_draws must be"):
        pa.estimate(few, keep_draws=0, **kw)
    with pytest.raises(ValueError, match="need every final draw"):
        pa.exceedance(model["x"].sum(), [1.0], tail_probabilities=[0.1], model=model, keep_draws=False, draws=3000)

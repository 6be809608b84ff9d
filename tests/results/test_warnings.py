"""Each reliability warning, on a case built to trigger it, naming the expectation."""

import pymc as pm
import pytest

import pymc_ais as pa


def _normal():
    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0)
    return model


def test_output_constant_on_every_draw():
    model = _normal()
    with pytest.warns(pa.ReliabilityWarning, match="'never': the output is the same on every final draw"):
        pa.estimate({"never": model["x"] > 50, "m": "x"}, model=model, draws=4_000, random_seed=1, progressbar=False)


def test_small_effective_sample_size():
    model = _normal()
    with pytest.warns(pa.ReliabilityWarning, match="effective sample size below 100 for 'm'"):
        pa.estimate({"m": "x"}, model=model, draws=60, random_seed=2, progressbar=False, sampler="mc")


def test_heavy_tailed_weights():
    # theta^2 under a Cauchy input law has an infinite mean: no error bar can be trusted
    with pm.Model() as model:
        pm.StudentT("theta", nu=1.0, mu=0.0, sigma=1.0)
    with pytest.warns(pa.ReliabilityWarning, match="Pareto k-hat above 0.7 for 'sq'"):
        pa.estimate({"sq": lambda d: d["theta"] ** 2}, model=model, draws=6_000, random_seed=3, progressbar=False)


def test_infinite_variance_hidden_from_the_final_sample():
    # |theta| under Student-t(1.2) has a finite mean (7.90) but an infinite variance; in
    # this run a very wide Gaussian component hides the tail from the final draws
    # (their k-hat is below 0.5, the estimate 5.9 +- 0.03), while the i.i.d. initial
    # draws show it
    with pm.Model() as model:
        theta = pm.StudentT("theta", nu=1.2, mu=0.0, sigma=2.0)
    with pytest.warns(pa.ReliabilityWarning, match="Pareto k-hat above 0.7 for 'abs'"):
        idata = pa.estimate({"abs": abs(theta)}, model=model, draws=20_000, random_seed=2, progressbar=False)
    assert idata["estimates"]["pareto_k"].item() > 0.7


@pytest.mark.parametrize("nu", [30.0, 1e6])
def test_light_enough_tails_do_not_warn(recwarn, nu):
    # |theta| under Student-t(30) or a near-normal law has a finite variance
    with pm.Model() as model:
        theta = pm.StudentT("theta", nu=nu, mu=0.0, sigma=2.0)
    pa.estimate({"abs": abs(theta), "m4": theta**4}, model=model, draws=8_000, random_seed=6, progressbar=False)
    assert not [w for w in recwarn if issubclass(w.category, pa.ReliabilityWarning)]


def test_adaptive_phase_stopped_by_its_cap():
    model = _normal()
    with pytest.warns(pa.ReliabilityWarning, match="adaptive phase used its whole share"):
        pa.estimate(
            {"m": "x"},
            model=model,
            draws=4_000,
            random_seed=4,
            progressbar=False,
            block_fraction=0.25,
            adaptive_fraction=0.3,
        )


def test_a_clean_run_warns_nothing(recwarn):
    model = _normal()
    pa.estimate({"m2": model["x"] ** 2}, model=model, draws=8_000, random_seed=5, progressbar=False)
    assert not [w for w in recwarn if issubclass(w.category, pa.ReliabilityWarning)]

"""Same seed, same result: bitwise, whatever is cached, in this process or another."""

import subprocess
import sys
import textwrap

import numpy as np
import pymc as pm

import pymc_ais as pa


def _model():
    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0)
        pm.LogNormal("s", 0.0, 0.5)
    return model


def _same(a, b):
    for group in ("estimates", "samples", "log_weights", "outputs"):
        if group in a.children:
            assert a[group].to_dataset().equals(b[group].to_dataset()), group


def test_estimate_same_seed_with_a_cache_hit():
    model = _model()
    calls = []

    def simulator(d):
        calls.append(len(d["x"]))
        return d["x"] * d["s"]

    exprs = {"m": "x", "p": model["x"] > 1.0, "sim": simulator}
    first = pa.estimate(exprs, model=model, draws=4_000, random_seed=1, progressbar=False)  # compiles
    runs = sum(calls)
    second = pa.estimate(exprs, model=model, draws=4_000, random_seed=1, progressbar=False)  # cache hit
    _same(first, second)
    # every call of the black box is a counted run: no probe outside the budget
    assert runs == first.attrs["evaluations"] == sum(calls) - runs


def test_sobol_same_seed_with_a_cache_hit():
    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0, shape=2)
    output = pm.math.exp(0.3 * x[0]) + x[1] ** 2
    a = pa.sobol(output, model=model, draws=6_000, random_seed=5, progressbar=False)
    b = pa.sobol(output, model=model, draws=6_000, random_seed=5, progressbar=False)
    assert a["sensitivity"].to_dataset().equals(b["sensitivity"].to_dataset())
    _same(a, b)


SCRIPT = textwrap.dedent(
    """
    import numpy as np, pymc as pm, pymc_ais as pa
    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0)
        pm.LogNormal("s", 0.0, 0.5)
    idata = pa.estimate({"m": "x", "q": model["x"] * model["s"]}, model=model, draws=4_000,
                        random_seed=1, progressbar=False)
    print(repr(idata["estimates"]["mean"].values.tolist()))
    """
)


def test_same_seed_across_processes(tmp_path):
    """Two fresh processes, the first with a cold compile cache of its own, the second warm."""
    env_flags = f"base_compiledir={tmp_path / 'compiledir'}"
    runs = [
        subprocess.run(
            [sys.executable, "-c", SCRIPT],
            capture_output=True,
            text=True,
            check=True,
            env={**__import__("os").environ, "PYTENSOR_FLAGS": env_flags},
        )
        for _ in range(2)
    ]
    first, second = (eval(r.stdout.strip().splitlines()[-1]) for r in runs)
    assert first == second
    assert np.isfinite(first).all()

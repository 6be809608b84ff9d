"""Checkpoints never serve a stale or damaged evaluation, and resume every entry point."""

import json
import subprocess
import sys
import warnings

import numpy as np
import pymc as pm
import pytensor.tensor as pt
import pytest

import pymc_ais as pa

ARGS = dict(draws=2000, progressbar=False, chunk_size=100)


@pytest.fixture
def model():
    with pm.Model() as m:
        pm.Normal("x", 0.0, 1.0, shape=2)
    return m


def _same(a, b, group="estimates", names=("mean", "mcse")):
    return all(a[group][n].values.tobytes() == b[group][n].values.tobytes() for n in names)


def sim1(v):
    return v["x"][:, 0] ** 2 + v["x"][:, 1]


def sim2(v):
    return 2.0 * v["x"][:, 0] ** 2 + v["x"][:, 1]


def test_a_changed_simulator_is_refused_by_name_never_read_back(model, tmp_path):
    path = tmp_path / "c"
    pa.estimate({"s": sim1}, model=model, checkpoint=path, random_seed=5, **ARGS)
    with pytest.raises(pa.CheckpointMismatch, match="expectation 's'"):
        pa.estimate({"s": sim2}, model=model, checkpoint=path, random_seed=5, **ARGS)
    fresh = pa.estimate({"s": sim2}, model=model, random_seed=5, **ARGS)
    restarted = pa.estimate(
        {"s": sim2}, model=model, checkpoint=pa.Checkpoint(path, on_mismatch="restart"), random_seed=5, **ARGS
    )
    assert _same(restarted, fresh)
    assert abs(float(fresh["estimates"]["mean"].sel(expectation="s")) - 2.0) < 0.2


def test_a_changed_closure_model_data_or_setting_is_named(tmp_path):
    with pm.Model() as m:
        mu = pm.Data("mu", 0.0)
        pm.Normal("x", mu, 1.0)
    scale = 1.0

    def sim(v):
        return scale * v["x"] ** 2

    path = tmp_path / "c"
    first = pa.estimate({"s": sim}, model=m, checkpoint=path, random_seed=1, **ARGS)
    scale = 3.0  # the closure's value changed: another computation
    with pytest.raises(pa.CheckpointMismatch, match="expectation 's'"):
        pa.estimate({"s": sim}, model=m, checkpoint=path, random_seed=1, **ARGS)
    scale = 1.0
    pm.set_data({"mu": 0.5}, model=m)
    with pytest.raises(pa.CheckpointMismatch, match="model"):
        pa.estimate({"s": sim}, model=m, checkpoint=path, random_seed=1, **ARGS)
    pm.set_data({"mu": 0.0}, model=m)
    with pytest.raises(pa.CheckpointMismatch, match="draws"):
        pa.estimate({"s": sim}, model=m, checkpoint=path, random_seed=1, **{**ARGS, "draws": 2500})
    with pytest.raises(pa.CheckpointMismatch, match="pymc_ais.estimate, not pymc_ais.sobol"):
        pa.sobol(sim, model=m, checkpoint=path, random_seed=1, draws=3000, progressbar=False)
    again = pa.estimate({"s": sim}, model=m, checkpoint=path, random_seed=1, **ARGS)  # the same call reads back
    assert json.loads(again.attrs["checkpoint"])["evaluations_read"] == first.attrs["evaluations"]
    assert _same(again, first)


@pytest.mark.parametrize("damage", ["truncated", "tampered"])
def test_a_damaged_chunk_is_reported_by_path_and_run_again(model, tmp_path, damage):
    path = tmp_path / "c"
    first = pa.estimate({"s": sim1}, model=model, checkpoint=path, random_seed=3, **ARGS)
    chunks = sorted((path / "chunks").glob("*.npz"))
    victim = chunks[len(chunks) // 2]
    if damage == "truncated":  # a full disk or a killed copy
        victim.write_bytes(victim.read_bytes()[:100])
    else:  # a readable file whose values are not those that were computed
        with np.load(victim) as data:
            fields = {k: data[k] for k in data.files}
        fields["value"] = fields["value"] + 1.0
        np.savez(victim, **fields)
    rows = [int(p) for p in victim.stem.split("-")[2:]]
    with pytest.warns(pa.CheckpointWarning, match=victim.name) as caught:
        again = pa.resume(path, progressbar=False)
    assert {w.filename for w in caught} == {__file__}  # the user's line, not the library's
    read = json.loads(again.attrs["checkpoint"])["evaluations_read"]
    assert read == first.attrs["evaluations"] - (rows[1] - rows[0])  # only the damaged chunk ran again
    assert _same(again, first)
    assert victim.exists() and victim.with_suffix(".damaged").exists()


def test_a_finished_run_with_a_callable_resumes_to_its_result(model, tmp_path):
    def sim(v):
        return np.stack([sim1(v), v["x"][:, 1] > 1.0], axis=1)

    path = tmp_path / "c"
    first = pa.estimate({"s": sim}, model=model, checkpoint=path, random_seed=4, **ARGS)
    with warnings.catch_warnings():
        warnings.simplefilter("error", pa.CheckpointWarning)
        again = pa.resume(path, progressbar=False)
    assert json.loads(again.attrs["checkpoint"])["evaluations_read"] == first.attrs["evaluations"]  # no model run
    assert _same(again, first)
    assert list(again["estimates"].expectation.values) == ["s[0]", "s[1]"]


def test_sobol_with_a_callable_resumes_when_finished(tmp_path):
    with pm.Model() as m:
        pm.Uniform("a", -np.pi, np.pi, shape=2)

    def sim(v):
        return np.sin(v["a"][:, 0]) + 3.0 * np.sin(v["a"][:, 1]) ** 2

    path = tmp_path / "c"
    first = pa.sobol(sim, model=m, draws=2000, random_seed=6, progressbar=False, checkpoint=path, surrogate=None)
    again = pa.resume(path, progressbar=False)
    assert _same(again, first, "sensitivity")


def test_exceedance_resumes_with_its_groups(model, tmp_path):
    path = tmp_path / "c"
    y = model["x"].sum()
    kwargs = dict(model=model, draws=3000, random_seed=7, progressbar=False, tail_probabilities=[0.01])
    first = pa.exceedance(y, [1.0, 3.0], checkpoint=path, **kwargs)
    again = pa.resume(path, progressbar=False)
    assert {"exceedance", "quantiles"} <= set(again.children)
    assert _same(again, first, "exceedance", ("probability", "mcse"))
    assert _same(again, first, "quantiles", ("quantile", "mcse"))
    with pytest.raises(pa.CheckpointMismatch, match="thresholds"):
        pa.exceedance(y, [1.0, 3.5], checkpoint=path, **kwargs)


def test_a_checkpoint_of_an_expression_model_is_bound_to_the_graph(model, tmp_path):
    path = tmp_path / "c"
    x = model["x"]
    pa.estimate({"p": pt.sum(x) > 1.0}, model=model, checkpoint=path, random_seed=8, **ARGS)
    with pytest.raises(pa.CheckpointMismatch, match="expectation 'p'"):
        pa.estimate({"p": pt.sum(x) > 1.5}, model=model, checkpoint=path, random_seed=8, **ARGS)


def test_a_damaged_manifest_or_call_is_explained(model, tmp_path):
    path = tmp_path / "c"
    pa.estimate({"s": sim1}, model=model, checkpoint=path, random_seed=9, **ARGS)
    (path / "call.pkl").write_bytes(b"\x80\x05garbage")
    with pytest.raises(pa.CheckpointMismatch, match="call.pkl cannot be loaded"):
        pa.resume(path, progressbar=False)
    (path / "manifest.json").write_text('{"format": 2, "funct')
    with pytest.raises(pa.CheckpointMismatch, match="manifest.json is damaged"):
        pa.estimate({"s": sim1}, model=model, checkpoint=path, random_seed=9, **ARGS)


SCRIPT = """
import json, sys
import numpy as np, pymc as pm, pytensor.tensor as pt
import pymc_ais as pa

with pm.Model() as m:
    mu = pm.Data("mu", 0.3)
    x = pm.Normal("x", mu, 1.0, shape=2)
    s = pm.LogNormal("s", 0.0, 0.5)
offset = np.array([1.0, 2.0])

def sim(v):
    return np.sin(v["x"] + offset).sum(axis=1) * v["s"]

idata = pa.estimate({"sim": sim, "p": pt.sum(x) > 1.0, "E_s": "s"}, model=m, draws=2000, random_seed=11,
                    progressbar=False, chunk_size=250, checkpoint=sys.argv[1])
print(json.dumps({"read": json.loads(idata.attrs["checkpoint"])["evaluations_read"],
                  "runs": idata.attrs["evaluations"], "mean": idata["estimates"]["mean"].values.tolist()}))
"""


def test_the_same_script_run_again_in_a_new_process_matches_its_checkpoint(tmp_path):
    script = tmp_path / "run.py"
    script.write_text(SCRIPT)
    runs = [
        subprocess.run([sys.executable, str(script), str(tmp_path / "c")], capture_output=True, text=True)
        for _ in range(2)
    ]
    for done in runs:
        assert done.returncode == 0, done.stderr[-2000:]
    first, second = (json.loads(done.stdout.strip().splitlines()[-1]) for done in runs)
    assert first["read"] == 0 and second["read"] == second["runs"]  # everything read back, nothing refused
    assert second["mean"] == first["mean"]

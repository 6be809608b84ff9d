"""Checkpoint and resume: a run killed with SIGKILL continues to the uninterrupted result."""

import json
import os
import runpy
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import pymc_ais as pa

SCRIPT = textwrap.dedent(
    '''
    import os
    import sys

    import numpy as np
    import pymc as pm

    import pymc_ais as pa

    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0, shape=2)
        pm.LogNormal("s", 0.0, 0.5)


    def simulator(v):
        """Counts the rows it finishes in ROWS_LOG; kills its process on reaching KILL_AT."""
        n = len(v["s"])
        log = os.environ.get("ROWS_LOG")
        done = 0
        if log and os.path.exists(log):
            with open(log) as f:
                done = int(f.read())
        if done + n > int(os.environ.get("KILL_AT", "-1")) >= 0:
            os.kill(os.getpid(), 9)  # SIGKILL mid-chunk: nothing of this chunk is written
        if log:
            with open(log, "w") as f:
                f.write(str(done + n))
        return np.sin(v["x"][:, 0]) * v["s"] + v["x"][:, 1] ** 2


    ARGS = dict(model=model, draws=3000, surrogate="polynomial", surrogate_pilot=0.1, chunk_size=64,
                progressbar=False)

    if __name__ == "__main__":
        pa.estimate({"y": simulator}, checkpoint=sys.argv[1], **ARGS)
    '''
)


def _rows(log):
    if not os.path.exists(log):
        return 0
    with open(log) as f:
        return int(f.read())


@pytest.fixture(scope="module")
def script(tmp_path_factory):
    path = tmp_path_factory.mktemp("kill") / "run.py"
    path.write_text(SCRIPT)
    return path


@pytest.fixture(scope="module")
def reference(script, tmp_path_factory):
    defs = runpy.run_path(str(script), run_name="definitions")
    log = tmp_path_factory.mktemp("ref") / "rows"
    os.environ["ROWS_LOG"] = str(log)
    try:
        idata = pa.estimate({"y": defs["simulator"]}, random_seed=123, **defs["ARGS"])
    finally:
        del os.environ["ROWS_LOG"]
    return idata, _rows(log)


@pytest.mark.slow
@pytest.mark.parametrize("phase", ["pilot", "adaptive", "final"])
def test_resume_after_sigkill_equals_the_uninterrupted_run(phase, script, reference, tmp_path, monkeypatch):
    ref, total_rows = reference
    ledger = {k: ref.attrs[f"evaluations_{k}"] for k in ("pilot", "adaptive", "final")}
    assert ledger["pilot"] > 0 and total_rows == sum(ledger.values())
    before = {"pilot": 0, "adaptive": ledger["pilot"], "final": ledger["pilot"] + ledger["adaptive"]}[phase]
    kill_at = before + ledger[phase] // 2
    checkpoint, log = tmp_path / "run.ckpt", tmp_path / "rows_killed"
    env = {**os.environ, "KILL_AT": str(kill_at), "ROWS_LOG": str(log)}
    code = "import runpy, sys; import pymc_ais as pa; d = runpy.run_path(sys.argv[1]); "
    code += "pa.estimate({'y': d['simulator']}, checkpoint=sys.argv[2], random_seed=123, **d['ARGS'])"
    done = subprocess.run([sys.executable, "-c", code, str(script), str(checkpoint)], env=env, capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr.decode()[-2000:]
    killed_rows = _rows(log)
    assert kill_at - 64 < killed_rows <= kill_at

    monkeypatch.setenv("ROWS_LOG", str(tmp_path / "rows_resumed"))
    resumed = pa.resume(checkpoint, progressbar=False)
    assert killed_rows + _rows(tmp_path / "rows_resumed") == total_rows  # no finished evaluation run again
    for name in ("mean", "mcse", "covariance"):
        assert resumed["estimates"][name].values.tobytes() == ref["estimates"][name].values.tobytes()
    assert resumed["samples"]["x"].values.tobytes() == ref["samples"]["x"].values.tobytes()


def test_a_finished_checkpoint_gives_its_result_without_running_the_model(tmp_path):
    import pymc as pm

    log = tmp_path / "calls"  # the simulator's closure holds a path only: the same call each time

    def simulator(v):
        with open(log, "a") as f:
            f.write(f"{len(v['x'])}\n")
        return v["x"] ** 2

    def calls():
        return [int(line) for line in log.read_text().split()] if log.exists() else []

    with pm.Model() as model:
        pm.Normal("x", 0.0, 1.0)
    first = pa.estimate({"m2": simulator}, model=model, draws=2000, progressbar=False, checkpoint=tmp_path / "c")
    n_calls = len(calls())
    again = pa.estimate({"m2": simulator}, model=model, draws=2000, progressbar=False, checkpoint=tmp_path / "c")
    assert len(calls()) == n_calls  # the seed was stored; every evaluation read back
    record = json.loads(again.attrs["checkpoint"])
    assert record["evaluations_read"] == sum(calls()) and record["path"] == str(tmp_path / "c")
    assert json.loads(first.attrs["checkpoint"])["evaluations_read"] == 0
    assert again["estimates"]["mean"].values.tobytes() == first["estimates"]["mean"].values.tobytes()
    with pytest.raises(ValueError, match="belongs to a run with random_seed="):
        pa.estimate({"m2": simulator}, model=model, draws=2000, random_seed=5, checkpoint=tmp_path / "c")
    with pytest.raises(pa.CheckpointMismatch, match="draws differ"):
        pa.estimate({"m2": simulator}, model=model, draws=2500, progressbar=False, checkpoint=tmp_path / "c")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(FileExistsError, match="not a checkpoint"):
        pa.estimate({"m2": simulator}, model=model, draws=2000, checkpoint=tmp_path / "other")
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        pa.resume(tmp_path / "nowhere")
    assert np.isfinite(first["estimates"]["mean"].values).all()

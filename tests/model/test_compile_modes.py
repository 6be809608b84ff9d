"""Every compile mode runs without killing the interpreter and agrees with the default mode.

The runs happen in a child process, so that a C-level abort (as PyTensor's whole-graph
C linker gave on the slice of an intermediate result) fails a test instead of
killing pytest. One child runs every mode in turn and reports each as it finishes;
when it dies, the mode it was running is marked as the culprit and the others run in
a fresh child. The compile cache is the user's, so a warm run takes seconds a mode.
"""

import importlib.util
import json
import signal
import subprocess
import sys

import pytest

import pymc_ais as pa
from pymc_ais.model.evaluation import COMPILE_MODES, check_compile_kwargs

CHILD = r"""
import json
import sys

import pymc as pm
import pytensor

import pymc_ais as pa

with pm.Model() as model:
    x = pm.Normal("x", 0.0, 1.0, shape=3)  # x[0] slices an intermediate result: what aborted mode "C"
    s = pm.HalfNormal("s", 1.0)  # a value transform and its Jacobian
outputs = {"m2": (x**2).sum() * s, "p": x[0] > 2}


def compile_kwargs(name):
    if name == "default":
        return None
    if name == "Mode(linker='c')":
        return {"mode": pytensor.compile.mode.Mode(linker="c", optimizer="fast_run")}
    return {"mode": name}


for name in sys.argv[1:]:
    print("@@" + json.dumps({"start": name}), flush=True)
    try:
        idata = pa.estimate(
            outputs, model=model, draws=4000, random_seed=1, progressbar=False, compile_kwargs=compile_kwargs(name)
        )
    except Exception as error:  # reported, and the next mode runs
        print("@@" + json.dumps({"mode": name, "error": repr(error)}), flush=True)
        continue
    est = idata["estimates"]
    values = {k: [float(v).hex() for v in est[k].values] for k in ("mean", "mcse", "ci_lower", "ci_upper")}
    print("@@" + json.dumps({"mode": name, **values}), flush=True)
"""

EXACT = {"CVM", "C", "Mode(linker='c')"}
"""Modes with the default's arithmetic: "C" runs as "CVM" (the same C code of every
operation after the same rewrites), and "CVM" is the default."""

CLOSE = {"NUMBA", "FAST_RUN", "FAST_COMPILE", "JAX"}
"""Modes whose arithmetic may differ in the last bits, held to 1e-12 relative: numba's
LLVM code and XLA (JAX) have math kernels of their own (NUMBA measured 2e-15 relative
off the default on this model), and "FAST_COMPILE" runs numpy's implementations
without the default's rewrites (no fusion or algebraic rewriting, so operations may
be ordered differently). "FAST_RUN" is "NUMBA" under PyTensor's default linker."""

MODES = ["CVM", "C", "Mode(linker='c')", "NUMBA", "FAST_RUN", "FAST_COMPILE", "JAX"]


def _installed(package: str) -> bool:
    return importlib.util.find_spec(package) is not None


def _run(names: list[str]) -> tuple[dict, dict]:
    """Results per mode, and how each mode that killed its child died."""
    results: dict = {}
    deaths: dict = {}
    todo = list(names)
    while todo:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, *todo], capture_output=True, text=True, timeout=900, check=False
        )
        running = None
        for line in done.stdout.splitlines():
            if not line.startswith("@@"):
                continue
            record = json.loads(line[2:])
            if "start" in record:
                running = record["start"]
            else:
                results[record["mode"]] = record
        todo = [name for name in todo if name not in results]
        if not todo:
            break
        culprit = running if running in todo else todo[0]
        code = done.returncode
        how = f"signal {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"
        deaths[culprit] = f"the child process died ({how}) in mode {culprit!r}:\n{done.stderr[-3000:]}"
        todo.remove(culprit)
    return results, deaths


@pytest.fixture(scope="module")
def runs():
    names = ["default", *(m for m in MODES if m != "JAX" or _installed("jax"))]
    return _run(names)


def _estimates(record: dict) -> dict:
    return {k: [float.fromhex(v) for v in values] for k, values in record.items() if k not in ("mode", "error")}


@pytest.mark.parametrize("mode", MODES)
def test_mode_runs_and_agrees_with_default(mode, runs):
    if mode == "JAX" and not _installed("jax"):
        # an optional backend that the test extra does not install; when it is present the
        # mode runs and must agree with the default like the others
        pytest.skip("jax is not installed")
    results, deaths = runs
    assert mode not in deaths, deaths.get(mode)
    assert "default" in results and "error" not in results["default"], results.get("default")
    assert "error" not in results[mode], results[mode]["error"]
    reference, got = _estimates(results["default"]), _estimates(results[mode])
    if mode in EXACT:
        assert got == reference
    else:
        assert mode in CLOSE
        for key, values in reference.items():
            for a, b in zip(got[key], values):
                assert abs(a - b) <= 1e-12 * abs(b), (key, a, b)


def test_every_named_mode_is_covered():
    tested = {m for m in MODES if not m.startswith("Mode(")}
    untested = set(COMPILE_MODES) - tested
    assert untested == {"PYTORCH", "MLX"}  # neither backend is a dependency; both are refused when absent
    for mode in untested:
        if not _installed({"PYTORCH": "torch", "MLX": "mlx"}[mode]):
            with pytest.raises(ValueError, match="not installed"):
                check_compile_kwargs({"mode": mode})


@pytest.mark.parametrize(
    "compile_kwargs, match",
    [
        ("C", "must be a dict"),
        ([("mode", "C")], "must be a dict"),
        ({"mode": "CVN"}, "unknown compile mode 'CVN'.*'CVM', 'C', 'NUMBA', 'JAX'"),
        ({"mode": 3}, "unknown compile mode 3"),
        ({"mdoe": "C"}, "unknown or reserved option 'mdoe'"),
        ({"on_unused_input": "raise"}, "reserved option 'on_unused_input'"),
    ],
)
def test_bad_compile_kwargs_are_refused(compile_kwargs, match):
    with pytest.raises(ValueError, match=match):
        check_compile_kwargs(compile_kwargs)


def test_mode_names_are_normalised():
    assert check_compile_kwargs(None) == {}
    assert check_compile_kwargs({"mode": None, "profile": False}) == {"profile": False}
    assert check_compile_kwargs({"mode": "numba"}) == {"mode": "NUMBA"}
    assert check_compile_kwargs({"mode": "c"}) == {"mode": "CVM"}


def test_estimate_refuses_an_unknown_mode():
    import pymc as pm

    with pm.Model() as model:
        x = pm.Normal("x", 0.0, 1.0)
    with pytest.raises(ValueError, match="unknown compile mode 'CC'"):
        pa.estimate(
            {"p": x > 2}, model=model, draws=1000, random_seed=1, progressbar=False, compile_kwargs={"mode": "CC"}
        )

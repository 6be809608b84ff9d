"""Every example runs end to end in its quick mode (so none of them rots)."""

import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.mark.parametrize(
    "script, extra, expected",
    [
        ("quickstart.py", [], "identical = True"),
        ("prior_sensitivity.py", ["--plot", "{tmp}/prior.png"], "plot saved"),
        ("posterior_prior_sensitivity.py", [], "log Bayes factors against the half-Cauchy(5) prior"),
        ("sobol_indices.py", ["--plot", "{tmp}/sobol.png"], "plot saved"),
    ],
)
def test_example_runs(script, extra, expected, tmp_path):
    args = [a.format(tmp=tmp_path) for a in extra]
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--quick", *args],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert expected in done.stdout
    for plot in tmp_path.glob("*.png"):
        assert plot.stat().st_size > 10_000

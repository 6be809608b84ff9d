"""Regenerate the figures of the user guide (committed under docs/_static)."""

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import pymc_ais as pa  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from quickstart import beam_model  # noqa: E402

beam = beam_model()
idata = pa.estimate(
    {"mean_D": beam["D"], "p_D_above_0.07": beam["D"] > 0.07},
    model=beam,
    draws=20_000,
    random_seed=1,
    progressbar=False,
)
axes = pa.plot_adaptation(idata)
axes[0].figure.savefig(Path(__file__).parent / "_static" / "adaptation.png", dpi=90)

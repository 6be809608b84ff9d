"""Run information written into the ``attrs`` of every result, in one format."""

from __future__ import annotations

import datetime
import json

import numpy as np
import xarray as xr


def versions() -> dict:
    """Versions of the libraries a result depends on."""
    import arviz
    import pymc
    import pytensor
    import scipy

    from .. import __version__

    return {
        "pymc_ais": __version__,
        "pymc": pymc.__version__,
        "pytensor": pytensor.__version__,
        "arviz": arviz.__version__,
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "xarray": xr.__version__,
    }


def _plain(value):
    if isinstance(value, (str, int, float, bool, type(None))):
        return value
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return np.asarray(value).tolist()


def write_attrs(tree: xr.DataTree, *, method: str, ledger: dict, random_seed, stop_reason: str, settings: dict) -> None:
    """Write the run's attrs: method, budget ledger (model runs), seed, settings, versions.

    ``ledger`` holds ``budget``, ``evaluations`` and its parts ``evaluations_pilot``,
    ``evaluations_adaptive`` and ``evaluations_final`` (all in model runs), plus any
    count a method adds (``runs_per_point``, ``final_draws_reused``).
    """
    tree.attrs.update(
        inference_library="pymc_ais",
        method=method,
        created_at=datetime.datetime.now(datetime.UTC).isoformat(),
        **{k: int(v) for k, v in ledger.items()},
        random_seed=str(random_seed),
        stop_reason=stop_reason,
        settings=json.dumps(_plain(settings)),
        versions=json.dumps(versions()),
    )

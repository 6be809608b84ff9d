"""The one door every run goes through: check, open the checkpoint, dispatch, run."""

from __future__ import annotations

import pathlib

import xarray as xr

from ..core.execution.dispatch import Dispatcher
from .checkpoint import open_checkpoint, stored_call
from .registry import find
from .request import RunRequest, Session


def execute(request: RunRequest) -> xr.DataTree:
    """Run one request: its arguments checked first, then its checkpoint, then its entry point's steps."""
    entry = find(request.entry)
    arguments = entry.check(dict(request.arguments))
    store, seed = open_checkpoint(request.checkpoint, request.entry, arguments, trusted=request.resuming)
    dispatcher = Dispatcher(request.executor, request.chunk_size, arguments.get("on_error", "raise"), store)
    return entry.run({**arguments, "random_seed": seed}, Session(dispatcher, seed, request.progressbar))


def resume(checkpoint, *, executor=None, chunk_size: int | None = None, progressbar: bool = True) -> xr.DataTree:
    """Continue a run that was stopped (killed, crashed, interrupted) from its checkpoint.

    The result is bitwise the one the uninterrupted run would have given; only the
    model evaluations that had not finished are run. A finished run's checkpoint gives
    its result again without running the model. Works for every entry point
    (:func:`pymc_ais.estimate`, :func:`pymc_ais.sobol`, :func:`pymc_ais.exceedance`).

    A checkpoint directory holds the call as a pickle, which runs code when loaded:
    resume only checkpoints from a trusted source.

    Parameters
    ----------
    checkpoint : path (or :class:`pymc_ais.Checkpoint`) given as ``checkpoint=`` to the run.
    executor, chunk_size : optional
        Where to run the unfinished evaluations (an executor is not stored with the run).
    progressbar : bool

    Examples
    --------
    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0, 1)
    >>> path = getfixture("tmp_path") / "run"
    >>> first = pa.estimate({"m2": lambda v: v["x"] ** 2}, model=m, draws=3000, random_seed=2,
    ...                     progressbar=False, checkpoint=path)
    >>> again = pa.resume(path, progressbar=False)
    >>> bool((again["estimates"]["mean"] == first["estimates"]["mean"]).all())
    True
    """
    path = pathlib.Path(getattr(checkpoint, "path", checkpoint))
    entry, arguments = stored_call(path)
    request = RunRequest(
        entry,
        arguments,
        executor=executor,
        chunk_size=chunk_size,
        progressbar=progressbar,
        checkpoint=path,
        resuming=True,
    )
    return execute(request)

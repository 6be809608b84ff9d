"""The run pipeline: one front door behind every public entry point.

A public call (:func:`pymc_ais.estimate`, :func:`pymc_ais.sobol`,
:func:`pymc_ais.exceedance`) binds its arguments into a :class:`RunRequest` and hands
it to :func:`execute`, which checks the arguments, opens the checkpoint, sets up the
evaluations' dispatcher and runs the entry point's own steps, found in a registry by
name: so :func:`resume` can run any entry point again from its stored call. The steps
every entry shares (sampling with a progress bar, the budget ledger, the result's last
touches) are in :mod:`~pymc_ais.pipeline.stages`.
"""

from .checkpoint import Checkpoint, CheckpointMismatch, CheckpointWarning
from .execute import execute, resume
from .request import RunRequest, Session

__all__ = ["Checkpoint", "CheckpointMismatch", "CheckpointWarning", "RunRequest", "Session", "execute", "resume"]

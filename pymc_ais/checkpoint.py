"""Checkpoint and resume: a killed run continues without re-running a finished model evaluation.

A run with ``checkpoint=path`` writes every finished chunk of black-box evaluations to
the directory ``path`` as it completes (one ``.npz`` file per chunk, written to a
temporary name and renamed, so a kill leaves either the whole chunk or nothing), and
the call itself (cloudpickled) for :func:`resume`.

Resuming replays the run from its seed: every random draw and every adaptive fit is
made again, bitwise as before, and each black-box chunk whose inputs match a stored one
(a fingerprint of the inputs is kept with it) is read instead of run. So the resumed
result is bitwise the uninterrupted one, only the unfinished evaluations are run, and no
adaptive state needs storing: it is a function of the seed and the evaluations. The
replay's own cost is the sampler's arithmetic and the PyTensor-compiled parts
(log-densities and graph outputs, recomputed: milliseconds next to a simulator).
"""

from __future__ import annotations

import json
import os
import pathlib
import tempfile

import cloudpickle
import numpy as np
import pymc as pm

from ._version import __version__

FORMAT = 1
_MANIFEST = "manifest.json"
_CALL = "call.pkl"
_CHUNKS = "chunks"


def _job_id(name: str) -> str:
    return name.encode().hex()[:64]


class CheckpointStore:
    """The finished chunks of a run, on disk (the store of a dispatcher)."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.chunks = path / _CHUNKS
        self.chunks.mkdir(parents=True, exist_ok=True)
        self._index: dict = {}
        for file in self.chunks.glob("*.npz"):
            batch, job, a, b = file.stem.split("-")
            self._index.setdefault((int(batch), job), {})[int(a), int(b)] = file

    def load(self, batch: int, job: str) -> dict:
        """Stored chunks of one callable in one batch: ``{rows: (fingerprint, values, failed)}``."""
        found = {}
        for rows, file in self._index.get((batch, _job_id(job)), {}).items():
            with np.load(file) as data:
                found[rows] = (str(data["key"]), data["value"], data["failed"])
        return found

    def save(self, batch: int, job: str, rows: tuple[int, int], key: str, value, failed) -> None:
        """Write one finished chunk atomically."""
        final = self.chunks / f"{batch:06d}-{_job_id(job)}-{rows[0]}-{rows[1]}.npz"
        fd, tmp = tempfile.mkstemp(dir=self.chunks, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, key=np.array(key), value=value, failed=failed)
        os.replace(tmp, final)
        self._index.setdefault((batch, _job_id(job)), {})[rows] = final


class CheckpointMismatch(ValueError):
    """A checkpoint was written by another run (another seed, model, outputs or settings)."""


def open_checkpoint(path, function: str, expectations, arguments: dict):
    """The store at ``path`` (created, or reopened to resume) and the seed the run must use.

    A new checkpoint records the call (for :func:`resume`) and its seed, drawn here when
    the caller gave none, so that a replay makes the same draws. Reopening takes the
    stored seed when none is given and refuses another one.
    """
    if path is None:
        return None, arguments.get("random_seed")
    path = pathlib.Path(path)
    manifest_file = path / _MANIFEST
    seed = arguments.get("random_seed")
    if manifest_file.exists():
        manifest = json.loads(manifest_file.read_text())
        stored = manifest.get("random_seed")
        if seed is None:
            if stored is None:
                raise CheckpointMismatch(
                    f"checkpoint {str(path)!r} was started with a numpy Generator as random_seed; pass the same "
                    "seed again, or resume it with pymc_ais.resume"
                )
            seed = stored
        elif stored is not None and _seed_value(seed) != stored:
            raise CheckpointMismatch(
                f"checkpoint {str(path)!r} belongs to a run with random_seed={stored}, not {seed!r}; resume it "
                "with pymc_ais.resume, or choose another path"
            )
        return CheckpointStore(path), seed
    if path.exists() and any(path.iterdir()):
        raise FileExistsError(f"checkpoint path {str(path)!r} exists and is not a checkpoint; choose another path")
    if seed is None:
        seed = int(np.random.SeedSequence().entropy % (1 << 63))
    store = CheckpointStore(path)
    call = {**arguments, "random_seed": seed}
    if call.get("model") is None and call.get("models") is None:
        call["model"] = pm.modelcontext(None)
    reason = None
    try:
        payload = cloudpickle.dumps((function, expectations, call))
    except Exception as err:  # noqa: BLE001 - the run goes on; resume() explains
        reason, payload = f"{type(err).__name__}: {err}", None
    if payload is not None:
        _atomic_write(path / _CALL, payload)
    manifest = {
        "format": FORMAT,
        "function": function,
        "random_seed": _seed_value(seed),
        "pymc_ais": __version__,
        "call_not_stored": reason,
    }
    _atomic_write(manifest_file, json.dumps(manifest, indent=1).encode())
    return store, seed


def _seed_value(seed):
    """An int seed as stored in the manifest (None for a Generator or a SeedSequence)."""
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        return int(seed)
    return None


def _atomic_write(file: pathlib.Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=file.parent, suffix=".tmp")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, file)


def resume(checkpoint, *, executor=None, chunk_size: int | None = None, progressbar: bool = True):
    """Continue a run that was stopped (killed, crashed, interrupted) from its checkpoint.

    The result is bitwise the one the uninterrupted run would have given; only the
    model evaluations that had not finished are run. A finished run's checkpoint gives
    its result again without running the model.

    Parameters
    ----------
    checkpoint : path given as ``checkpoint=`` to :func:`pymc_ais.estimate` or
        :func:`pymc_ais.sobol`.
    executor, chunk_size : optional
        Where to run the unfinished evaluations (an executor is not stored with the run).
    progressbar : bool

    Examples
    --------
    >>> import pymc as pm, pymc_ais as pa
    >>> with pm.Model() as m:
    ...     x = pm.Normal("x", 0, 1)
    >>> path = getfixture("tmp_path") / "run"
    >>> first = pa.estimate({"m2": x**2}, model=m, draws=3000, random_seed=2, progressbar=False,
    ...                     checkpoint=path)
    >>> again = pa.resume(path, progressbar=False)
    >>> bool((again["estimates"]["mean"] == first["estimates"]["mean"]).all())
    True
    """
    from .estimate import estimate
    from .sobol import sobol

    path = pathlib.Path(checkpoint)
    if not (path / _MANIFEST).exists():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r} (no {_MANIFEST})")
    manifest = json.loads((path / _MANIFEST).read_text())
    if not (path / _CALL).exists():
        raise CheckpointMismatch(
            f"checkpoint {str(path)!r} holds no call: its arguments could not be pickled "
            f"({manifest.get('call_not_stored')}); call {manifest['function']} again with the same arguments "
            f"and checkpoint={str(path)!r} to resume it"
        )
    function, expectations, call = cloudpickle.loads((path / _CALL).read_bytes())
    call.update(progressbar=progressbar, chunk_size=chunk_size if chunk_size is not None else call.get("chunk_size"))
    run = {"estimate": estimate, "sobol": sobol}[function]
    return run(expectations, checkpoint=path, executor=executor, **call)

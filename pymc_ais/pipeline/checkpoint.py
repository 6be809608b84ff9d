"""Checkpoints: a killed run continues without re-running a finished model evaluation.

A run with ``checkpoint=path`` writes every finished chunk of black-box evaluations to
the directory ``path`` as it completes (one ``.npz`` file per chunk, written to a
temporary name and renamed, so a kill leaves either the whole chunk or nothing), and
the call itself (cloudpickled) for :func:`resume`.

Resuming replays the run from its seed: every random draw and every adaptive fit is
made again, bitwise as before, and each black-box chunk is read instead of run. The
resumed result is bitwise the uninterrupted one, and no adaptive state needs storing:
it is a function of the seed and the evaluations.

What makes a stored value trustworthy:

- the manifest holds a fingerprint of the call (:mod:`~pymc_ais.pipeline.fingerprint`):
  a checkpoint reopened by a different call (another simulator, expectation, model,
  data, setting or library version) raises :class:`CheckpointMismatch` naming what
  differs, or, with ``Checkpoint(path, on_mismatch="restart")``, starts afresh;
- every chunk is stored with a digest of the points it was run at (a replay that asks
  for other points is refused) and a checksum of its contents: a damaged or unreadable
  chunk is reported by path (a :class:`CheckpointWarning`), set aside and run again.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pathlib
import shutil
import tempfile
from dataclasses import dataclass

import cloudpickle
import numpy as np

from .._version import __version__
from ..results.reliability import warn_user
from .fingerprint import call_fingerprint, differences

FORMAT = 2
MANIFEST = "manifest.json"
CALL = "call.pkl"
CHUNKS = "chunks"
ON_MISMATCH = ("raise", "restart")


class CheckpointMismatch(ValueError):
    """A checkpoint was written by another run (another seed, call, model or version)."""


class CheckpointWarning(UserWarning):
    """A stored chunk could not be read (damaged, truncated) and is run again."""


@dataclass(frozen=True)
class Checkpoint:
    """Where a run keeps its finished evaluations, and what to do if the call has changed.

    Parameters
    ----------
    path : str or path
        The checkpoint directory.
    on_mismatch : "raise" or "restart"
        When the directory holds a run of another call: raise
        :class:`CheckpointMismatch` naming the difference (default), or discard its
        stored evaluations and start afresh.

    Examples
    --------
    >>> import pymc_ais as pa
    >>> pa.Checkpoint("runs/beam", on_mismatch="restart")
    Checkpoint(path=PosixPath('runs/beam'), on_mismatch='restart')
    """

    path: pathlib.Path
    on_mismatch: str = "raise"

    def __post_init__(self):
        object.__setattr__(self, "path", pathlib.Path(self.path))
        if self.on_mismatch not in ON_MISMATCH:
            raise ValueError(
                f"on_mismatch must be one of {', '.join(map(repr, ON_MISMATCH))}, got {self.on_mismatch!r}"
            )

    @classmethod
    def of(cls, checkpoint) -> Checkpoint | None:
        """A Checkpoint from what the user passed as ``checkpoint=`` (a path, a Checkpoint or None)."""
        if checkpoint is None or isinstance(checkpoint, Checkpoint):
            return checkpoint
        if isinstance(checkpoint, (str, os.PathLike)):
            return cls(pathlib.Path(checkpoint))
        raise TypeError(f"checkpoint must be a path or a pymc_ais.Checkpoint, got {type(checkpoint).__name__}")


def _job_id(name: str) -> str:
    return hashlib.sha256(name.encode()).hexdigest()[:32]


def _checksum(key: str, value: np.ndarray, failed: np.ndarray) -> str:
    h = hashlib.sha256(key.encode())
    for array in (value, failed):
        h.update(f"{array.dtype.str}:{array.shape};".encode())
        h.update(np.ascontiguousarray(array).tobytes())
    return h.hexdigest()


class CheckpointStore:
    """The finished chunks of a run, on disk: what a dispatcher reads and writes."""

    def __init__(self, path: pathlib.Path):
        self.path = path
        self.chunks = path / CHUNKS
        self.chunks.mkdir(parents=True, exist_ok=True)
        self._index: dict = {}
        for file in sorted(self.chunks.glob("*.npz")):
            parts = file.stem.split("-")
            if len(parts) != 4 or not all(p.isdigit() for p in (parts[0], parts[2], parts[3])):
                continue  # not a chunk of ours
            batch, job, a, b = parts
            self._index.setdefault((int(batch), job), {})[int(a), int(b)] = file

    def load(self, batch: int, job: str) -> dict:
        """Stored chunks of one callable in one batch: ``{rows: (key, values, failed)}``.

        A chunk that cannot be read or whose checksum does not match is set aside
        (renamed ``*.damaged``) with a :class:`CheckpointWarning`, and left out: it is
        run again.
        """
        found = {}
        for rows, file in list(self._index.get((batch, _job_id(job)), {}).items()):
            chunk = self._read(file)
            if chunk is None:
                del self._index[batch, _job_id(job)][rows]
                continue
            found[rows] = chunk
        return found

    def _read(self, file: pathlib.Path):
        try:
            with np.load(io.BytesIO(file.read_bytes()), allow_pickle=False) as data:
                key, value, failed = str(data["key"]), data["value"], data["failed"]
                stored = str(data["checksum"])
            problem = None if stored == _checksum(key, value, failed) else "its checksum does not match its contents"
        except Exception as err:  # noqa: BLE001 - any unreadable file is a damaged chunk
            problem = f"it cannot be read ({type(err).__name__}: {err})"
        if problem is None:
            return key, value, failed
        damaged = file.with_suffix(".damaged")
        os.replace(file, damaged)
        warn_user(
            f"checkpoint chunk {str(file)!r} is damaged: {problem}; it was moved to {damaged.name!r} and its "
            "evaluations are run again",
            CheckpointWarning,
        )
        return None

    def save(self, batch: int, job: str, rows: tuple[int, int], key: str, value, failed) -> None:
        """Write one finished chunk atomically, with its checksum."""
        value, failed = np.asarray(value), np.asarray(failed)
        final = self.chunks / f"{batch:06d}-{_job_id(job)}-{rows[0]}-{rows[1]}.npz"
        fd, tmp = tempfile.mkstemp(dir=self.chunks, suffix=".tmp")
        with os.fdopen(fd, "wb") as handle:
            np.savez(handle, key=np.array(key), value=value, failed=failed, checksum=_checksum(key, value, failed))
        os.replace(tmp, final)
        self._index.setdefault((batch, _job_id(job)), {})[rows] = final


def open_checkpoint(checkpoint, entry: str, arguments: dict, trusted: bool = False):
    """The store (created, or reopened to resume) and the seed the run must use.

    A new checkpoint records the call (for :func:`resume`), its fingerprint and its
    seed, drawn here when the caller gave none, so that a replay makes the same draws.
    Reopening takes the stored seed when none is given, refuses another one, and
    compares the call's fingerprint with the stored one (unless ``trusted``: the call
    is the stored one, as in :func:`~pymc_ais.pipeline.resume`).
    """
    seed = arguments.get("random_seed")
    checkpoint = Checkpoint.of(checkpoint)
    if checkpoint is None:
        return None, seed
    path = checkpoint.path
    fingerprint = {} if trusted else call_fingerprint(arguments, __version__)
    manifest_file = path / MANIFEST
    if manifest_file.exists():
        manifest = _read_manifest(path)
        mismatch = _mismatch(manifest, entry, {} if trusted else fingerprint, seed, trusted)
        if mismatch is None:
            return CheckpointStore(path), seed if seed is not None else manifest["random_seed"]
        if checkpoint.on_mismatch == "raise":
            raise CheckpointMismatch(
                f"checkpoint {str(path)!r} {mismatch}; resume it with pymc_ais.resume, choose another path, or "
                "pass checkpoint=pymc_ais.Checkpoint(path, on_mismatch='restart') to discard it"
            )
        shutil.rmtree(path / CHUNKS, ignore_errors=True)
        for name in (MANIFEST, CALL):
            (path / name).unlink(missing_ok=True)
    elif path.exists() and any(path.iterdir()):
        raise FileExistsError(f"checkpoint path {str(path)!r} exists and is not a checkpoint; choose another path")
    if seed is None:
        seed = int(np.random.default_rng().integers(1 << 63))
    store = CheckpointStore(path)
    reason = None
    try:
        payload = cloudpickle.dumps((entry, {**arguments, "random_seed": seed}))
    except Exception as err:  # noqa: BLE001 - the run goes on; resume() explains
        reason, payload = f"{type(err).__name__}: {err}", None
    if payload is not None:
        _atomic_write(path / CALL, payload)
    manifest = {
        "format": FORMAT,
        "function": entry,
        "random_seed": _seed_value(seed),
        "pymc_ais": __version__,
        "fingerprint": fingerprint,
        "call_not_stored": reason,
    }
    _atomic_write(manifest_file, json.dumps(manifest, indent=1).encode())
    return store, seed


def _mismatch(manifest: dict, entry: str, fingerprint: dict, seed, trusted: bool) -> str | None:
    """How the stored run differs from this call, or None when it is the same run."""
    if manifest.get("format") != FORMAT:
        return (
            f"was written in checkpoint format {manifest.get('format')} (pymc_ais {manifest.get('pymc_ais')}), "
            f"which records no fingerprint of its call; this version writes format {FORMAT}"
        )
    if manifest.get("function") != entry:
        return f"belongs to a run of pymc_ais.{manifest.get('function')}, not pymc_ais.{entry}"
    stored = manifest.get("random_seed")
    if seed is None and stored is None:
        return "was started with a numpy Generator as random_seed; pass the same seed again"
    if seed is not None and stored is not None and _seed_value(seed) != stored:
        return f"belongs to a run with random_seed={stored}, not {seed!r}"
    changed = [] if trusted else differences(manifest.get("fingerprint", {}), fingerprint)
    if changed:
        return f"belongs to another call: {', '.join(changed)} differ(s) from the stored run's"
    return None


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


def stored_call(path: pathlib.Path) -> tuple[str, dict]:
    """The entry point and arguments a checkpoint was started with."""
    if not (path / MANIFEST).exists():
        raise FileNotFoundError(f"no checkpoint at {str(path)!r} (no {MANIFEST})")
    manifest = _read_manifest(path)
    if manifest.get("format") != FORMAT:
        raise CheckpointMismatch(
            f"checkpoint {str(path)!r} was written in format {manifest.get('format')} by pymc_ais "
            f"{manifest.get('pymc_ais')}; this version ({__version__}) reads format {FORMAT}: run the call again "
            "with another path"
        )
    if not (path / CALL).exists():
        raise CheckpointMismatch(
            f"checkpoint {str(path)!r} holds no call: its arguments could not be pickled "
            f"({manifest.get('call_not_stored')}); call {manifest['function']} again with the same arguments "
            f"and checkpoint={str(path)!r} to resume it"
        )
    try:
        entry, arguments = cloudpickle.loads((path / CALL).read_bytes())
    except Exception as err:  # noqa: BLE001 - a damaged or foreign file, explained
        raise CheckpointMismatch(
            f"checkpoint {str(path)!r}: its stored call {CALL} cannot be loaded ({type(err).__name__}: {err}); "
            f"call {manifest['function']} again with the same arguments and checkpoint={str(path)!r}"
        ) from err
    return entry, arguments


def _read_manifest(path: pathlib.Path) -> dict:
    """The manifest of a checkpoint, or a CheckpointMismatch saying it is damaged."""
    try:
        manifest = json.loads((path / MANIFEST).read_text())
    except (OSError, ValueError) as err:
        raise CheckpointMismatch(
            f"checkpoint {str(path)!r}: its {MANIFEST} is damaged ({type(err).__name__}: {err}); choose another path"
        ) from err
    if not isinstance(manifest, dict):
        raise CheckpointMismatch(f"checkpoint {str(path)!r}: its {MANIFEST} is not a checkpoint manifest")
    return manifest

"""Writing a model version into a serving base path, atomically and at most once.

Under an exclusive lock on the base path, the model is copied into a hidden temporary sibling
(``.pushing-<version>-<random>``, a name servers ignore) and renamed to ``<version>`` in one
step. A pusher killed halfway leaves only the hidden folder, which the next push removes. A
model whose files equal an existing version's is not copied again.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from pipelinekit.errors import RunError
from pipelinekit.orchestration import path_fingerprint

__all__ = ["PushDestinationError", "push_version", "version_folders"]

TEMP_PREFIX = ".pushing-"
PROBE_PREFIX = ".pipelinekit-probe-"  # outside TEMP_PREFIX: a lock holder's cleanup must not remove a probe
LOCK_FILE = ".pipelinekit-push.lock"


class PushDestinationError(RunError):
    """The push destination cannot be written; the message names the field and the path."""


def version_folders(base: str) -> dict[int, str]:
    """``{version: folder}`` for every all-digit folder under ``base`` (what a server loads)."""
    if not os.path.isdir(base):
        return {}
    return {int(n): os.path.join(base, n) for n in os.listdir(base) if n.isdigit() and os.path.isdir(os.path.join(base, n))}


def push_version(source: str, base: str) -> tuple[int, bool]:
    """Copy ``source`` to ``base/<version>``; return the version and whether it was copied
    (``False`` when an identical version already exists and is returned instead)."""
    _make_base(base)
    with _locked(base):
        _remove_abandoned(base)
        identical = _identical_version(source, base)
        if identical is not None:
            return identical, False
        versions = version_folders(base)
        version = max(int(time.time()), max(versions, default=0) + 1)
        temp = os.path.join(base, f"{TEMP_PREFIX}{version}-{uuid.uuid4().hex[:8]}")
        try:
            shutil.copytree(source, temp)
            os.rename(temp, os.path.join(base, str(version)))
        except BaseException:
            shutil.rmtree(temp, ignore_errors=True)
            raise
    return version, True


def _make_base(base: str) -> None:
    """Create ``base`` and prove this process can write it, before taking the lock (a probe
    folder made outside the lock, so its name is one that no pusher's cleanup removes)."""
    try:
        os.makedirs(base, exist_ok=True)
        probe = os.path.join(base, f"{PROBE_PREFIX}{uuid.uuid4().hex[:8]}")
        os.mkdir(probe)
        os.rmdir(probe)
    except OSError as error:
        raise PushDestinationError(
            f"push_destination.filesystem.base_directory {base!r} is not writable ({error.strerror or error}); "
            "choose a folder this process may create and write"
        ) from error


@contextmanager
def _locked(base: str) -> Iterator[None]:
    with open(os.path.join(base, LOCK_FILE), "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_abandoned(base: str) -> None:
    """Temporary folders of pushers that died mid-copy (only lock holders write them)."""
    for name in os.listdir(base):
        if name.startswith(TEMP_PREFIX):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)


def _identical_version(source: str, base: str) -> int | None:
    wanted = path_fingerprint(source)
    for version, folder in sorted(version_folders(base).items(), reverse=True):
        if path_fingerprint(folder) == wanted:
            return version
    return None

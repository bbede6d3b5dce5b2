"""Returning the memory of unloaded model versions to the operating system.

A loaded SavedModel is a web of reference cycles (tf.Module trackables, concrete functions),
so dropping the last reference frees nothing until a full garbage collection; and glibc keeps
freed heap pages unless asked to trim them. Without both, every version swap keeps the old
version's weights resident.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import os
from functools import cache

__all__ = ["freeze_loaded", "release_memory", "resident_bytes"]

logger = logging.getLogger(__name__)


def freeze_loaded() -> None:
    """Collect, then freeze what is left (``gc.freeze``): the libraries and the versions loaded
    so far. Later collections walk only what requests make, instead of stopping every request
    thread for a full collection over TensorFlow's objects (200-430 ms, every 300-600 requests
    on two cores). Call it once a version is loaded and warmed up."""
    gc.collect()
    gc.freeze()


def release_memory() -> None:
    """Collect garbage cycles, frozen ones too (an unloaded version was frozen when it loaded),
    freeze the rest again, then give free heap pages back to the OS (glibc only)."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def resident_bytes(pid: int | str = "self") -> int:
    """The resident set size of a process, from /proc (Linux)."""
    with open(f"/proc/{pid}/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@cache
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return ctypes.CDLL(name).malloc_trim if name else None
    except (OSError, AttributeError):  # not glibc (musl, macOS): nothing to trim
        logger.debug("malloc_trim is not available; freed heap pages stay with the process")
        return None

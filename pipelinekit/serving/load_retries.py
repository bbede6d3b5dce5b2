"""Retrying failed version loads, as TF Serving's ``--max_num_load_retries`` and ``--load_retry_interval_micros``.

A version caught half-written (its folder renamed into place before every file was there, or
copied in place file by file) fails its first load; retried after the interval, it loads. A
version that failed every attempt stays failed until its folder is replaced (deleted and
written again), which is then loaded afresh.
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass

__all__ = ["LoadAttempts", "LoadRetryPolicy"]


@dataclass(frozen=True)
class LoadRetryPolicy:
    """How often to retry a failed load, and how long to wait between tries (TF Serving's defaults)."""

    max_retries: int = 5
    interval_s: float = 60.0


@dataclass
class _Attempt:
    count: int  # attempts started so far
    folder: tuple[int, int] | None  # (inode, mtime) of the version folder when last tried
    retry_at: float | None = None  # monotonic time of the next retry, if one is scheduled


class LoadAttempts:
    """Per (model, version): how many loads were tried, when to retry, which folder was tried."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._attempts: dict[tuple[str, int], _Attempt] = {}

    def start(self, name: str, version: int, path: str) -> int:
        """Record a load attempt of the folder at ``path``; return how many came before it."""
        with self._lock:
            attempt = self._attempts.get((name, version))
            count = attempt.count if attempt is not None else 0
            self._attempts[(name, version)] = _Attempt(count + 1, _identity(path))
            return count

    def schedule_retry(self, name: str, version: int, delay_s: float) -> None:
        with self._lock:
            self._attempts[(name, version)].retry_at = time.monotonic() + delay_s

    def retry_due(self, name: str, version: int) -> bool:
        """Whether a version waiting for a retry may be tried now (also when its record was dropped)."""
        with self._lock:
            attempt = self._attempts.get((name, version))
            if attempt is None:
                return True
            return attempt.retry_at is not None and time.monotonic() >= attempt.retry_at

    def next_due(self) -> float | None:
        """The monotonic time of the earliest scheduled retry, or None."""
        with self._lock:
            times = [a.retry_at for a in self._attempts.values() if a.retry_at is not None]
        return min(times) if times else None

    def succeeded(self, name: str, version: int) -> None:
        """Forget a version's attempts: it loaded (or is no longer wanted)."""
        with self._lock:
            self._attempts.pop((name, version), None)

    def failed(self, name: str, version: int) -> None:
        """No retry left: keep the folder's identity, so a replaced folder is loaded afresh."""
        with self._lock:
            self._attempts[(name, version)].retry_at = None

    def replaced(self, name: str, version: int, path: str) -> bool:
        """Whether a failed version's folder differs from the one last tried; if so, start over."""
        with self._lock:
            attempt = self._attempts.get((name, version))
            if attempt is None or attempt.folder == _identity(path):
                return attempt is None
            del self._attempts[(name, version)]
            return True

    def forget_missing(self, name: str, on_disk: dict[int, str]) -> None:
        """Drop the record of versions whose folder is gone; when one comes back, it is loaded afresh."""
        with self._lock:
            for key in [k for k in self._attempts if k[0] == name and k[1] not in on_disk]:
                del self._attempts[key]


def _identity(path: str) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_ino, stat.st_mtime_ns

"""Which process owns a RUNNING execution or run, and whether that process is still alive.

An execution records its host, process id and the process's start time (in clock ticks since
boot, from /proc), so a later run can tell a live owner from one that was killed, even when the
process id has since been reused.
"""

from __future__ import annotations

import os
import socket
import time
from typing import Any

__all__ = ["current_owner", "owner_is_gone", "process_start_time"]


def _start_ticks(pid: int | str) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return int(handle.read().rsplit(")", 1)[1].split()[19])
    except (OSError, ValueError, IndexError):
        return None


def process_start_time() -> float:
    """When this process started, as a Unix time (Linux: from /proc; elsewhere: now)."""
    ticks = _start_ticks("self")
    try:
        with open("/proc/uptime") as handle:
            uptime = float(handle.read().split()[0])
    except (OSError, ValueError):
        return time.time()
    return time.time() if ticks is None else time.time() - uptime + ticks / os.sysconf("SC_CLK_TCK")


def current_owner() -> dict[str, Any]:
    """Custom properties naming this process as the owner of an execution or a run."""
    return {"owner_host": socket.gethostname(), "owner_pid": os.getpid(), "owner_start_ticks": _start_ticks("self") or 0}


def owner_is_gone(properties: dict[str, Any]) -> bool:
    """True when the recorded owner ran on this host and that process no longer exists; False when
    it is alive or cannot be judged from here (another host, no owner recorded)."""
    if properties.get("owner_host") != socket.gethostname() or "owner_pid" not in properties:
        return False
    pid = int(properties["owner_pid"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    recorded = int(properties.get("owner_start_ticks") or 0)
    current = _start_ticks(pid)
    return bool(recorded and current is not None and current != recorded)

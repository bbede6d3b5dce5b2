"""Paths of the test model and small helpers shared by the serving tests."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable

import pytest

HALF_PLUS_TWO = os.path.join(os.path.dirname(__file__), os.pardir, "data", "half_plus_two")
HALF_PLUS_TWO_VERSION = os.path.join(HALF_PLUS_TWO, "00000123")
METADATA_JSON = os.path.join(HALF_PLUS_TWO, "half_plus_two_model_metadata.json")


def push_version(base_path: str, version: int, source: str = HALF_PLUS_TWO_VERSION) -> str:
    """Copy a SavedModel into ``base_path/version`` the way a pusher does: a temp sibling, then a rename."""
    os.makedirs(base_path, exist_ok=True)
    staging = os.path.join(base_path, f".tmp-{version}")
    shutil.copytree(source, staging)
    target = os.path.join(base_path, str(version))
    os.rename(staging, target)
    return target


def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` every 50 ms until it holds; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}")

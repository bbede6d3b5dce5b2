"""Shared fixtures: a fresh pipeline root per test, and quiet logs from the heavy libraries."""

from __future__ import annotations

import logging
import os
import sys

import pytest

# The toy components live with the examples, so tests, benchmarks and users share one copy.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "examples", "toy"))


@pytest.fixture(autouse=True, scope="session")
def _quiet_libraries() -> None:
    for name in ("apache_beam", "absl", "tensorflow"):
        logging.getLogger(name).setLevel(logging.ERROR)


@pytest.fixture
def pipeline_root(tmp_path):
    """A pipeline root folder that does not exist yet, as for a first run."""
    return str(tmp_path / "root")

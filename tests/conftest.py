"""Shared fixtures: a fresh pipeline root per test, and quiet logs from the heavy libraries."""

from __future__ import annotations

import logging
import os
import signal
import sys

import pytest

# The toy components live with the examples, so tests, benchmarks and users share one copy.
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "examples", "toy"))


# Started in the background by a shell without job control (`nohup cmd &` in a script), the
# suite inherits SIGINT ignored: Python then raises no KeyboardInterrupt and every child process
# inherits the ignore too, so the Ctrl-C tests would test nothing. Restore Python's own handler;
# children exec'd from here get the default action.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)


@pytest.fixture(autouse=True, scope="session")
def _quiet_libraries() -> None:
    for name in ("apache_beam", "absl", "tensorflow"):
        logging.getLogger(name).setLevel(logging.ERROR)


@pytest.fixture
def pipeline_root(tmp_path):
    """A pipeline root folder that does not exist yet, as for a first run."""
    return str(tmp_path / "root")

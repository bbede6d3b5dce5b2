"""Fixtures for the registry tests: a store holding recorded pipeline runs and their pushes.

The serving helpers (half_plus_two) and the penguin model fixtures are reused from their folders.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable

import pytest

HERE = os.path.dirname(__file__)
for folder in ("serving", "components"):
    path = os.path.join(HERE, os.pardir, folder)
    if path not in sys.path:
        sys.path.append(path)


def _serving_fixtures():
    """tests/serving/conftest.py, whose ``start_server`` fixture the serving tests here share."""
    spec = importlib.util.spec_from_file_location("serving_conftest", os.path.join(HERE, os.pardir, "serving", "conftest.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


start_server = _serving_fixtures().start_server


@pytest.fixture
def history(tmp_path) -> Callable[..., object]:
    """``history(*RunSpec)``: record those runs in a fresh store; returns (Registry, serving base)."""
    from registry_records import record_run

    from pipelinekit.registry import Registry

    def make(*specs):
        registry = Registry.open_new(str(tmp_path / "metadata.sqlite"))
        base = str(tmp_path / "serving" / "penguin")
        for spec in specs:
            record_run(registry.store, str(tmp_path / "runs"), base, spec)
        return registry, base

    return make

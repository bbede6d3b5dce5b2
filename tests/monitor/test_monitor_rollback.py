"""The rollback action: ``pipelinekit models rollback`` of the model registry, as the monitor."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.slow

def test_a_rollback_that_fails_is_an_error_naming_the_command(tmp_path):
    from pipelinekit.errors import ServingError
    from pipelinekit.monitor.actions import rollback_production_alias

    with pytest.raises(ServingError, match="pipelinekit models rollback nosuchmodel. failed"):
        rollback_production_alias("nosuchmodel", "test", str(tmp_path / "missing.sqlite"))


def test_rollback_moves_production_back_to_the_previous_version(tmp_path):
    from pipelinekit.monitor.actions import rollback_production_alias
    from pipelinekit.registry import Registry

    records = _registry_records()
    RunSpec, record_run = records.RunSpec, records.record_run

    registry = Registry.open_new(str(tmp_path / "metadata.sqlite"))
    for number in (1, 2):
        record_run(registry.store, str(tmp_path / "runs"), str(tmp_path / "serving"), RunSpec(f"run{number}", number))
    [model] = registry.models()
    registry.move_alias(model, "production", 1, "first")
    registry.move_alias(model, "production", 2, "second")
    rollback_production_alias(model, "accuracy below 0.8", str(tmp_path / "metadata.sqlite"))
    moved = Registry.open(str(tmp_path / "metadata.sqlite")).aliases(model)["production"]
    assert moved.version == 1 and "monitor: accuracy below 0.8" in moved.reason


def _registry_records():
    """The registry tests' store helper, loaded by its path: ``tests`` is not a package, and an
    installed distribution's own top-level ``tests`` package can shadow the folder's name."""
    import importlib.util
    import pathlib
    import sys

    path = pathlib.Path(__file__).parents[1] / "registry" / "registry_records.py"
    spec = importlib.util.spec_from_file_location("registry_records_for_monitor", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module

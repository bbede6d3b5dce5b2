"""What a standard executor's cache key and reload cover: its own package's modules, never
pipelinekit's core (reloading ``pipelinekit.errors`` in a long-lived process would make two copies
of its classes, and ``except``/``isinstance`` checks against the old ones would stop matching)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pipelinekit.orchestration.fingerprint import module_sources


@pytest.mark.parametrize(
    ("executor", "package"),
    [
        ("pipelinekit.components.trainer.executor", "pipelinekit.components"),
        ("pipelinekit.components.statistics_gen.executor", "pipelinekit.components"),
        ("pipelinekit.monitor.executor", "pipelinekit.monitor"),
    ],
)
def test_an_executors_closure_is_its_own_package(executor, package):
    names = set(module_sources(executor))
    assert executor in names
    assert all(name.startswith(package + ".") for name in names), sorted(names)


def test_the_closure_is_found_before_the_components_package_is_imported():
    code = (
        "import sys\n"
        "from pipelinekit.orchestration.fingerprint import module_sources\n"
        "names = module_sources('pipelinekit.components.transform.executor')\n"
        "print('pipelinekit.components.transform.executor' in names, 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


def test_names_imported_from_a_module_are_not_looked_up_by_importing_it():
    """``from ...inference import SavedModelHandler`` names a class, not a submodule: finding the
    BulkInferrer's closure must not import ``inference`` (it imports Beam, 3 s of a cached run)."""
    code = (
        "import sys\n"
        "from pipelinekit.orchestration.fingerprint import module_sources, source_file\n"
        "names = module_sources('pipelinekit.components.bulk_inferrer.executor')\n"
        "print('pipelinekit.components.bulk_inferrer.inference' in names,\n"
        "      source_file('pipelinekit.components.bulk_inferrer.inference.SavedModelHandler'),\n"
        "      'apache_beam' in sys.modules, 'tensorflow' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "None", "False", "False"]

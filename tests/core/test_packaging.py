"""The built wheel installs the standard components as ``pipelinekit.components`` and no
top-level ``components`` package, so a user's own ``components`` package is never taken for ours."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The project built as a wheel (from a copy, so the checkout gets no build folders) and unpacked."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "setup.py", "setup.cfg", "README.md"):
        shutil.copy(os.path.join(REPO, name), source / name)
    for folder in ("pipelinekit", "components"):
        shutil.copytree(os.path.join(REPO, folder), source / folder, ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(work / "dist"), str(source)],
        check=True,
        capture_output=True,
    )
    (wheel,) = (work / "dist").glob("pipelinekit-*.whl")
    site = work / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    return str(site)


@pytest.mark.slow
def test_wheel_has_no_top_level_components_package(installed_wheel: str) -> None:
    top_level = {entry for entry in os.listdir(installed_wheel) if not entry.endswith(".dist-info")}
    assert top_level == {"pipelinekit"}
    assert os.path.isfile(os.path.join(installed_wheel, "pipelinekit", "components", "trainer", "executor.py"))
    assert os.path.isfile(os.path.join(installed_wheel, "pipelinekit", "proto", "pusher.proto"))


@pytest.mark.slow
def test_a_users_components_package_is_not_mistaken_for_ours(installed_wheel: str, tmp_path) -> None:
    user = tmp_path / "user"
    (user / "components").mkdir(parents=True)
    (user / "components" / "__init__.py").write_text("OWNER = 'user'\n")
    code = (
        "import components, pipelinekit.components as ours\n"
        "from pipelinekit.components import CsvExampleGen\n"
        f"print(components.OWNER, ours.__file__.startswith({installed_wheel!r}), CsvExampleGen.__module__)"
    )
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(user), installed_wheel])}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["user", "True", "pipelinekit.components.example_gen.component"]

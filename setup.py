"""Package layout only (metadata lives in pyproject.toml).

The top-level ``components/`` folder installs as ``pipelinekit.components``: no top-level package
named ``components`` is installed, so a user's own ``components`` package is never taken for ours.
"""

from setuptools import find_packages, setup

setup(
    packages=find_packages(include=["pipelinekit", "pipelinekit.*"])
    + ["pipelinekit.components"]
    + [f"pipelinekit.components.{name}" for name in find_packages("components")],
    package_dir={"pipelinekit.components": "components"},
    package_data={"pipelinekit": ["proto/*.proto", "report/templates/*", "ui/templates/*"]},
)

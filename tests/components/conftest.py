"""Fixtures for the standard components' tests: the penguin data and Transform module as files,
and one session-wide run of the data components on them that many tests inspect."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from data_fixtures import PENGUIN_MODULE, data_pipeline, penguins_csv_text


@dataclass
class DataRun:
    """The session run: its pipeline root, input folder, module file and RunResult."""

    root: str
    data: str
    module_file: str
    result: Any

    def output(self, node: str, key: str) -> Any:
        return self.result.output(node, key)


@pytest.fixture(scope="session")
def penguin_data(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("penguins") / "span-1"
    folder.mkdir()
    (folder / "penguins.csv").write_text(penguins_csv_text())
    return str(folder.parent)


@pytest.fixture(scope="session")
def penguin_module(tmp_path_factory) -> str:
    path = tmp_path_factory.mktemp("module") / "penguin_transform.py"
    path.write_text(PENGUIN_MODULE)
    return str(path)


@pytest.fixture(scope="session")
def data_run(tmp_path_factory, penguin_data, penguin_module) -> DataRun:
    from pipelinekit import LocalDagRunner

    root = str(tmp_path_factory.mktemp("data_run") / "root")
    result = LocalDagRunner().run(data_pipeline(root, penguin_data, penguin_module))
    result.raise_for_failure()
    return DataRun(root, penguin_data, penguin_module, result)

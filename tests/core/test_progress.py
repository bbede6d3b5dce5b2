"""The live progress table, on a terminal and off it; node text is never read as rich markup."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from pipelinekit.cli.progress import LiveProgress
from pipelinekit.orchestration.result import NodeResult


@pytest.mark.parametrize("terminal", [True, False])
def test_progress_shows_each_node_and_survives_brackets(terminal):
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=terminal, width=120)
    with LiveProgress(["gen", "train[1]"], console) as progress:
        progress.node_started("gen", "first run of this node")
        progress.node_finished(NodeResult("gen", "ran", "input [/] 'x' changed", started_at=1.0, finished_at=3.5))
        progress.node_finished(NodeResult("train[1]", "cached", "cache hit: same key as execution 4"))
    text = buffer.getvalue()
    assert "train[1]" in text and "input [/] 'x' changed" in text and "2.5" in text

"""A live per-node status table for the terminal, built with rich."""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.live import Live
from rich.table import Table
from rich.text import Text

from pipelinekit.orchestration.result import NodeResult

__all__ = ["LiveProgress"]

_STYLE = {"running": "yellow", "ran": "green", "cached": "cyan", "failed": "bold red", "skipped": "dim"}


class LiveProgress:
    """A RunListener that shows one line per node (running / cached / done with its duration).

    On a terminal the table redraws in place; elsewhere each event prints one line.
    """

    def __init__(self, node_ids: list[str], console: Console | None = None) -> None:
        self.console = console or Console(stderr=True)
        self._rows: dict[str, tuple[str, float, str]] = {n: ("waiting", 0.0, "") for n in node_ids}
        self._started: dict[str, float] = {}
        self._lock = threading.Lock()
        self._live = (
            Live(console=self.console, refresh_per_second=4, get_renderable=self._table) if self.console.is_terminal else None
        )

    def __enter__(self) -> LiveProgress:
        if self._live:
            self._live.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._live:
            self._live.refresh()
            self._live.__exit__(None, None, None)

    def node_started(self, node_id: str, reason: str) -> None:
        with self._lock:
            self._started[node_id] = time.time()
            self._rows[node_id] = ("running", 0.0, reason)
        self._show(node_id)

    def node_finished(self, result: NodeResult) -> None:
        detail = result.reason if result.status != "failed" else str(result.error)
        with self._lock:
            self._rows[result.node_id] = (result.status, result.duration, detail)
        self._show(result.node_id)

    def _show(self, node_id: str) -> None:
        if self._live:
            self._live.refresh()
            return
        status, duration, detail = self._rows[node_id]
        timing = f" {duration:.2f}s" if status not in ("running", "skipped") else ""
        line = Text.assemble((f"{status:>8}", _STYLE.get(status, "")), f" {node_id}{timing}  ", (detail, "dim"))
        self.console.print(line)

    def _table(self) -> Table:
        table = Table(box=None, pad_edge=False)
        for column in ("node", "status", "time", "why"):
            table.add_column(column)
        now = time.time()
        for node_id, (status, duration, detail) in self._rows.items():
            elapsed = now - self._started[node_id] if status == "running" else duration
            shown = f"{elapsed:.1f}s" if status not in ("waiting", "skipped") else ""
            table.add_row(Text(node_id), Text(status, style=_STYLE.get(status, "")), shown, Text(detail, style="dim"))
        return table

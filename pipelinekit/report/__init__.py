"""Run reports: one pipeline run read from ML Metadata and its artifacts, rendered as HTML.

``write_report`` makes the self-contained file of ``pipelinekit report``; the web UI
(:mod:`pipelinekit.ui`) renders the same sections as its run page. Importing this package loads
nothing heavy: protobuf classes, Altair and Jinja are imported where they are used.
"""

from __future__ import annotations

__all__ = ["write_report"]


def __getattr__(name: str) -> object:
    if name == "write_report":
        from pipelinekit.report.render import write_report

        return write_report
    raise AttributeError(name)

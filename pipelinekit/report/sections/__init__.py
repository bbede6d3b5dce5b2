"""The report's sections, one module each. A section module has ``build(run, charts)``, which
returns a :class:`Section` (its template and that template's values) or None when the run has
nothing for it (no Tuner, no Evaluator, ...). The report and the UI's run page render the same list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipelinekit.report.charts import ChartSet
from pipelinekit.report.run_view import RunView

__all__ = ["Section", "SectionBuilder", "build_sections"]


@dataclass
class Section:
    """One part of a run page: an anchor and title for the table of contents, a template and its values."""

    anchor: str
    title: str
    template: str
    values: dict[str, Any] = field(default_factory=dict)


SectionBuilder = Callable[[RunView, ChartSet], "Section | None"]


def build_sections(run: RunView, charts: ChartSet) -> list[Section]:
    """Every section the run has data for, in reading order."""
    from pipelinekit.report.sections import (
        anomalies,
        dag,
        evaluation,
        example_diff,
        lineage,
        pushes,
        schema,
        statistics,
        tuner,
    )

    builders: list[SectionBuilder] = [
        dag.build,
        statistics.build,
        anomalies.build,
        example_diff.build,
        schema.build,
        tuner.build,
        evaluation.build,
        pushes.build,
        lineage.build,
    ]
    return [section for builder in builders if (section := builder(run, charts)) is not None]

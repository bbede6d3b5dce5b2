"""Runs side by side: parameters, metrics, data fingerprints and statistics, read from ML Metadata only.

Each run's executions (its ``pipeline_run`` context) give the parameter values they recorded; the
artifacts they wrote (or reused, for a cached node) give the Evaluator's ``metrics``, ExampleGen's
span and ``input_fingerprint``, and StatisticsGen's ``summary`` (per split and feature).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from pipelinekit.errors import RegistryError
from pipelinekit.metadata.store import PIPELINE_RUN, MetadataStore
from pipelinekit.registry.records import run_context

__all__ = ["RunFacts", "compare_runs", "run_facts"]


@dataclass
class RunFacts:
    """What one run recorded, flattened to ``section -> {row name: value}``."""

    run_id: str
    status: str
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, section: str, name: str, value: Any) -> None:
        self.sections.setdefault(section, {})[name] = value


def run_facts(store: MetadataStore, pipeline: str, run_id: str) -> RunFacts:
    """The parameters, metrics, data and statistics of one run; a RegistryError naming an unknown run."""
    from pipelinekit.metadata.convert import from_value

    context = run_context(store, pipeline, run_id)
    if context is None:
        recent = ", ".join(r.run_id for r in store.runs(pipeline)[:5]) or "none"
        raise RegistryError(f"pipeline {pipeline!r} has no run {run_id!r}; its latest runs: {recent}")
    status = from_value(context.custom_properties["status"]) if "status" in context.custom_properties else "?"
    facts = RunFacts(run_id, str(status))
    executions = store.executions_in_context(PIPELINE_RUN, context.name, ("COMPLETE", "CACHED"), limit=100_000)
    for record in sorted(executions, key=lambda r: r.node_id):
        for name, value in sorted((record.properties.get("parameters") or {}).items()):
            facts.add("parameters", f"{record.node_id}.{name}", _short(value))
        for key, artifacts in store.artifacts_of_execution(record.id, "OUTPUT").items():
            for artifact in artifacts:
                _add_artifact(facts, f"{record.node_id}.{key}", artifact)
    return facts


def _add_artifact(facts: RunFacts, where: str, artifact: Any) -> None:
    custom = artifact.custom_properties
    if custom.get("input_fingerprint"):
        span = artifact.properties.get("span", custom.get("span"))
        facts.add("data", f"{where} span", span)
        facts.add("data", f"{where} fingerprint", custom["input_fingerprint"])
    for name, value in sorted((custom.get("metrics") or {}).items()):
        facts.add("metrics", f"{where} {name}", _number(value))
    for split, summary in sorted((custom.get("summary") or {}).items()):
        facts.add("statistics", f"{where} {split} examples", _number(summary.get("num_examples")))
        for feature, stats in sorted((summary.get("features") or {}).items()):
            for stat, value in sorted(stats.items()):
                facts.add("statistics", f"{where} {split} {feature} {stat}", _number(value))


def _number(value: Any) -> Any:
    return round(value, 6) if isinstance(value, float) else value


def _short(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
    return text if len(text) <= 80 else text[:77] + "..."


def compare_runs(
    store: MetadataStore, pipeline: str, run_ids: list[str]
) -> tuple[list[RunFacts], list[tuple[str, str, list[Any], bool]]]:
    """Each run's facts, and the rows ``(section, name, values per run, differs)`` side by side."""
    if len(run_ids) < 2:
        raise RegistryError(f"runs compare needs at least two run ids, got {len(run_ids)}")
    runs = [run_facts(store, pipeline, run_id) for run_id in run_ids]
    rows = []
    for section in ("parameters", "metrics", "data", "statistics"):
        names = sorted({name for run in runs for name in run.sections.get(section, {})})
        for name in names:
            values = [run.sections.get(section, {}).get(name) for run in runs]
            rows.append((section, name, values, len({json.dumps(v, sort_keys=True) for v in values}) > 1))
    return runs, rows

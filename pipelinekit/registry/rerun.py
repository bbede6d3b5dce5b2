"""The data a version trained on, and the command that runs its pipeline on exactly that data.

ExampleGen's ``range_config`` pins a span (``static_range``); ``pipelinekit run --pin-span
NODE=SPAN`` sets it from the command line, so the rerun reads the files of those spans, and their
``input_fingerprint`` says whether the files are still the ones the version trained on.
"""

from __future__ import annotations

import shlex
from typing import Any

from pipelinekit.metadata.store import MetadataStore
from pipelinekit.registry.records import run_context
from pipelinekit.registry.registry import ModelVersion

__all__ = ["PIPELINE_FILE", "data_lines", "pinned_spans", "rerun_command"]

PIPELINE_FILE = "pipeline_file"
"""The run context property where ``pipelinekit run`` records the pipeline file it ran."""


def pinned_spans(version: ModelVersion) -> dict[str, int]:
    """``{ExampleGen node: span}`` for the raw data the version trained on."""
    return {e["node"]: int(e["span"]) for e in version.raw_examples if e.get("node") and e.get("span") is not None}


def data_lines(version: ModelVersion) -> list[str]:
    """One line per Examples artifact the version trained on, raw data first."""
    examples = sorted(version.record.get("examples", []), key=lambda e: (e.get("role") != "raw", e.get("id", 0)))
    lines = []
    for e in examples:
        facts = [
            f"{name} {int(e[key])}" for name, key in (("span", "span"), ("version", "data_version")) if e.get(key) is not None
        ]
        facts.append(f"splits {'/'.join(e.get('splits') or []) or '?'}")
        if e.get("fingerprint"):
            facts.append(f"fingerprint {e['fingerprint']}")
        lines.append(
            f"{e['role']:<7} Examples #{int(e['id'])} from {e['node'] or '?'} (run {e['run_id'] or '?'}): {', '.join(facts)}, {e['uri']}"
        )
    return lines


def rerun_command(store: MetadataStore, version: ModelVersion) -> str:
    """``pipelinekit run FILE --pin-span NODE=SPAN ...`` for the run that trained the version."""
    pipeline, run_id = version.record.get("pipeline_name", ""), version.record.get("run_id", "")
    pipeline_file = _pipeline_file(store, pipeline, run_id) or f"<the pipeline file of {pipeline or 'the pipeline'}>"
    pins = [f"--pin-span {node}={span}" for node, span in sorted(pinned_spans(version).items())]
    return " ".join(["pipelinekit run", shlex.quote(pipeline_file), *pins])


def _pipeline_file(store: MetadataStore, pipeline: str, run_id: str) -> str:
    if not pipeline or not run_id:
        return ""
    context: Any = run_context(store, pipeline, run_id)
    if context is None or PIPELINE_FILE not in context.custom_properties:
        return ""
    return str(context.custom_properties[PIPELINE_FILE].string_value)

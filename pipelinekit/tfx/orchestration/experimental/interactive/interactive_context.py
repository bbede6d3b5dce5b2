"""TFX's ``InteractiveContext`` signature on pipelinekit's ``InteractiveRunner``: TFX's
constructor arguments, ``run`` returning an ``ExecutionResult``, and ``show``."""

from __future__ import annotations

import html
import os
import tempfile
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from pipelinekit.dsl.node import Channel, Node
from pipelinekit.errors import DefinitionError
from pipelinekit.orchestration.interactive import InteractiveRunner
from pipelinekit.orchestration.result import NodeResult
from pipelinekit.tfx.dsl.pipeline import metadata_config_from_proto
from pipelinekit.types.artifact import Artifact

__all__ = ["InteractiveContext", "ExecutionResult"]


class ExecutionResult:
    """What ``InteractiveContext.run`` returns, as TFX's: the ``component`` (whose output channels
    now hold its artifacts) and the ML Metadata ``execution_id``; ``result`` is pipelinekit's
    NodeResult (status ``ran`` or ``cached``, reason, duration)."""

    def __init__(self, component: Node, result: NodeResult) -> None:
        self.component = component
        self.result = result
        self.execution_id = result.execution_id

    def __repr__(self) -> str:
        return f"ExecutionResult({self.component.id}: {self.result.status}, execution_id={self.execution_id})"


class InteractiveContext(InteractiveRunner):
    """``tfx.orchestration.experimental.interactive.interactive_context.InteractiveContext``.

    As in TFX, ``pipeline_root`` defaults to a new temporary folder and the store to SQLite at
    ``<pipeline_root>/metadata.sqlite``. Unlike TFX, a component whose upstream component was
    not run in this context is refused with an error naming it (TFX fails later, on an empty
    input), and a cached run is reported as ``cached``."""

    def __init__(
        self,
        pipeline_name: str | None = None,
        pipeline_root: str | None = None,
        metadata_connection_config: Any = None,
        beam_pipeline_args: Sequence[str] | None = None,
    ) -> None:
        name = pipeline_name or f"interactive-{datetime.now(UTC).strftime('%Y-%m-%dT%H_%M_%S.%f')}"
        root = pipeline_root or tempfile.mkdtemp(prefix=f"tfx-{name}-")
        metadata = metadata_config_from_proto(metadata_connection_config) if metadata_connection_config else None
        super().__init__(name, root, metadata, beam_pipeline_args or ())

    def run(  # type: ignore[override]  # TFX's return type
        self, component: Node, enable_cache: bool = True, beam_pipeline_args: Sequence[str] | None = None
    ) -> ExecutionResult:
        """Run ``component`` now, its inputs from this context's earlier runs; raises if it fails."""
        result = super().run(component, enable_cache, beam_pipeline_args)
        return ExecutionResult(component, result.nodes[component.id])

    def show(self, item: Channel | Artifact | Sequence[Artifact]) -> None:
        """Show a channel's (or artifacts') type, uri, splits and properties: as HTML in a
        notebook (IPython's display, when running under IPython), printed as text otherwise."""
        artifacts = _artifacts_of(item)
        if _in_ipython():
            from IPython.display import HTML, display

            display(HTML(_html(artifacts)))
        else:
            print(describe_artifacts(artifacts))


def _in_ipython() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    return get_ipython() is not None


def _artifacts_of(item: Any) -> list[Artifact]:
    if isinstance(item, Channel):
        return item.get()
    if isinstance(item, Artifact):
        return [item]
    if isinstance(item, Sequence) and all(isinstance(a, Artifact) for a in item):
        return list(item)
    raise DefinitionError(f"show() takes a channel (component.outputs[key]) or artifacts, got {type(item).__name__} {item!r}")


def _rows(artifact: Artifact) -> list[tuple[str, str]]:
    rows = [("type", artifact.TYPE_NAME), ("id", str(artifact.id)), ("uri", artifact.uri)]
    rows += [(key, repr(value)) for key, value in {**artifact.properties, **artifact.custom_properties}.items()]
    if artifact.uri and os.path.isdir(artifact.uri):
        rows.append(("files", ", ".join(sorted(os.listdir(artifact.uri))) or "(empty)"))
    return rows


def describe_artifacts(artifacts: list[Artifact]) -> str:
    """A few lines per artifact: type, id, uri, properties and the files at its uri."""
    if not artifacts:
        return "(no artifacts)"
    return "\n\n".join("\n".join(f"{key}: {value}" for key, value in _rows(a)) for a in artifacts)


def _html(artifacts: list[Artifact]) -> str:
    tables = [
        "<table>"
        + "".join(f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in _rows(a))
        + "</table>"
        for a in artifacts
    ]
    return "".join(tables) or "<p>(no artifacts)</p>"

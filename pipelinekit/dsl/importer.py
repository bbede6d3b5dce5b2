"""``importer``: bring data that already exists (a curated schema, a dataset) into a pipeline
as a typed artifact, registered in ML Metadata where it lies, without copying it."""

from __future__ import annotations

from typing import Any

from pipelinekit.dsl.component import ComponentDefinition
from pipelinekit.dsl.node import Node
from pipelinekit.dsl.spec import ComponentSpec, OutputSpec, ParameterSpec
from pipelinekit.types.annotations import ExternalPath
from pipelinekit.types.artifact import Artifact

__all__ = ["importer"]


def _register(result: Artifact, source_uri: str, properties: dict[str, Any], custom_properties: dict[str, Any]) -> None:
    """Attach the given properties to the imported artifact; its files are left untouched."""
    for key, value in properties.items():
        if key not in result.PROPERTIES:
            raise TypeError(
                f"{result.TYPE_NAME} has no property {key!r} (its properties: {', '.join(result.PROPERTIES) or 'none'})"
            )
        setattr(result, key, value)
    for key, value in custom_properties.items():
        result.set_custom_property(key, value)


def importer(
    source_uri: str,
    artifact_type: type[Artifact],
    properties: dict[str, Any] | None = None,
    custom_properties: dict[str, Any] | None = None,
) -> Node:
    """A node whose output ``"result"`` is the ``artifact_type`` artifact at ``source_uri``.

    The data's content is part of the cache key: change the files and downstream nodes run
    again. Give each importer an id, e.g. ``importer("schema/", Schema).with_id("import_schema")``.
    """
    definition = ComponentDefinition(
        name="Importer",
        spec=ComponentSpec(
            outputs={"result": OutputSpec(artifact_type)},
            parameters={
                "source_uri": ParameterSpec(ExternalPath),
                "properties": ParameterSpec(dict, default={}),
                "custom_properties": ParameterSpec(dict, default={}),
            },
        ),
        executor=_register,
        external_output="source_uri",
    )
    arguments: dict[str, Any] = {"source_uri": source_uri}
    arguments.update({k: v for k, v in (("properties", properties), ("custom_properties", custom_properties)) if v is not None})
    return Node(definition, arguments)

"""``importer``: bring data that already exists (a curated schema, a dataset) into a pipeline
as a typed artifact, registered in ML Metadata where it lies, without copying it."""

from __future__ import annotations

from typing import Any

from pipelinekit.dsl.component import ComponentDefinition
from pipelinekit.dsl.node import Node, did_you_mean
from pipelinekit.dsl.spec import ComponentSpec, OutputSpec, ParameterSpec
from pipelinekit.dsl.user_code import user_path
from pipelinekit.errors import DefinitionError
from pipelinekit.types.annotations import ExternalPath
from pipelinekit.types.artifact import Artifact, check_property

__all__ = ["importer"]


def _register(result: Artifact, source_uri: str, properties: dict[str, Any], custom_properties: dict[str, Any]) -> None:
    """Attach the given properties to the imported artifact; its files are left untouched."""
    for key, value in properties.items():
        setattr(result, key, value)
    for key, value in custom_properties.items():
        result.set_custom_property(key, value)


def _check_properties(artifact_type: type[Artifact], properties: dict[str, Any]) -> None:
    """Reject unknown or ill-typed properties now, not when the node runs."""
    declared = artifact_type.PROPERTIES
    for key, value in properties.items():
        if key not in declared:
            known = ", ".join(declared) or "none"
            raise DefinitionError(
                f"importer of {artifact_type.TYPE_NAME}: it has no property {key!r}{did_you_mean(key, list(declared))} "
                f"(its properties: {known}); put other values in custom_properties"
            )
        try:
            check_property(declared[key], value)
        except TypeError as error:
            raise DefinitionError(f"importer of {artifact_type.TYPE_NAME}: {error}") from None


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
    _check_properties(artifact_type, properties or {})
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
    arguments: dict[str, Any] = {"source_uri": user_path(source_uri) if isinstance(source_uri, str) else source_uri}
    arguments.update({k: v for k, v in (("properties", properties), ("custom_properties", custom_properties)) if v is not None})
    return Node(definition, arguments)

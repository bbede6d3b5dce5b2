"""The names pipelinekit writes to ML Metadata: TFX's, so tools written against a TFX store find
our records (tensorflow/tfx ``dsl/compiler/compiler_utils.py``, ``portable/mlmd/context_lib.py``).

Every execution belongs to three contexts: ``pipeline`` (named after the pipeline),
``pipeline_run`` (named after the run id, a child of its pipeline's context) and ``node`` (named
``<pipeline>.<node id>``). Node ids cannot contain ``.``, so pipelines ``demo`` and ``demo.v2``
never share a node context; runs belong to a pipeline through the parent link, not their name.
Execution types are the component's class path, artifact types the standard type names.
"""

from __future__ import annotations

from pipelinekit.dsl.node import Node

__all__ = ["PIPELINE", "PIPELINE_RUN", "NODE", "NODE_SEPARATOR", "node_context_name", "execution_type_name"]

PIPELINE, PIPELINE_RUN, NODE = "pipeline", "pipeline_run", "node"
NODE_SEPARATOR = "."
"""Joins a pipeline name to a node id in a node context's name, as TFX does."""


def node_context_name(pipeline_name: str, node_id: str) -> str:
    """The name of a node's ``node`` context: ``<pipeline>.<node id>``."""
    return f"{pipeline_name}{NODE_SEPARATOR}{node_id}"


def execution_type_name(node: Node) -> str:
    """The execution type of a node's executions: its component's class path, as TFX's
    ``BaseNode.type`` (``package.module.Trainer``). A node made by a function (``@component``,
    ``importer``) is named after the module that defines the component and the component's name."""
    cls = type(node)
    if cls is not Node:  # a Component subclass, a Resolver
        return f"{cls.__module__}.{cls.__qualname__}"
    executor = node.definition.executor
    module = executor.__module__ if callable(executor) else executor.partition(":")[0]
    return f"{module}.{node.definition.name}"

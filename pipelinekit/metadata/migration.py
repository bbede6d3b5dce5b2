"""Bring a store written by earlier pipelinekit versions to TFX's context names when it is opened,
so its cache and run history carry over.

Those versions named node contexts ``<pipeline>/<node id>`` and run contexts ``<pipeline>/<run
id>``, without parent links. Each such context of a known pipeline is renamed to what
:mod:`pipelinekit.metadata.names` writes now, and each run is linked to its pipeline's context.
A context whose new name is taken keeps its old one (a node id with a ``.``, which cannot run any
more, or a run id two pipelines share); a run is linked to its pipeline all the same. Each step
is idempotent, so a process that stops half-way, or two that open the store at once, leave a
store the next open finishes.
"""

from __future__ import annotations

import logging
from typing import Any

from pipelinekit.metadata.names import NODE, NODE_SEPARATOR, PIPELINE, PIPELINE_RUN, node_context_name

__all__ = ["LEGACY_SEPARATOR", "migrate_legacy_context_names"]

log = logging.getLogger(__name__)

LEGACY_SEPARATOR = "/"


def migrate_legacy_context_names(store: Any) -> int:
    """Rename the legacy contexts of ``store`` (a raw ``ml_metadata`` store) and link legacy runs
    to their pipelines; returns how many contexts were renamed."""
    from ml_metadata import errors
    from ml_metadata.metadata_store import metadata_store
    from ml_metadata.proto import metadata_store_pb2

    query = f"(type = '{NODE}' OR type = '{PIPELINE_RUN}') AND name LIKE '%{LEGACY_SEPARATOR}%'"
    legacy = store.get_contexts(list_options=metadata_store.ListOptions(filter_query=query))
    if not legacy:
        return 0
    pipelines = {c.name: c.id for c in store.get_contexts_by_type(PIPELINE)}
    renamed = 0
    for context in legacy:
        legacy_name = context.name
        pipeline_name, _, rest = legacy_name.partition(LEGACY_SEPARATOR)
        if pipeline_name not in pipelines or not rest or LEGACY_SEPARATOR in rest:
            continue  # not a name pipelinekit wrote
        if context.type == PIPELINE_RUN:
            new_name = rest
            try:
                store.put_parent_contexts(
                    [metadata_store_pb2.ParentContext(child_id=context.id, parent_id=pipelines[pipeline_name])]
                )
            except errors.AlreadyExistsError:
                pass
        elif NODE_SEPARATOR in rest:
            log.info("ML Metadata: node context %r keeps its name: node ids may no longer contain '.'", legacy_name)
            continue
        else:
            new_name = node_context_name(pipeline_name, rest)
        taken = store.get_context_by_type_and_name(context.type, new_name)
        if taken is not None:
            if taken.id != context.id:  # not just renamed by another process opening the store
                log.warning("ML Metadata: context %r keeps its name: %s %r exists already", legacy_name, context.type, new_name)
            continue
        context.name = new_name
        try:
            store.put_contexts([context])
        except errors.StatusError as error:  # another process renamed one to that name a moment ago
            log.warning("ML Metadata: context %r keeps its name: %s", legacy_name, error)
            continue
        renamed += 1
    if renamed:
        log.info("ML Metadata: renamed %d contexts to TFX's names (<pipeline>.<node>, the run id)", renamed)
    return renamed

"""Clean up after runs whose process died (SIGKILL, power loss, ``os._exit``) before finishing.

Before a run starts, executions of the same pipeline still marked RUNNING whose owning process
is gone are marked CANCELED, their staging folders removed, and runs still marked RUNNING by a
dead process are marked ABANDONED. Each is logged, so the user knows what was cleaned.
"""

from __future__ import annotations

import logging
import os
import shutil
import time

from pipelinekit.metadata.store import PIPELINE_RUN, MetadataStore, run_context_name
from pipelinekit.orchestration.ownership import owner_is_gone

__all__ = ["recover_abandoned", "staging_folder"]

log = logging.getLogger(__name__)


def staging_folder(pipeline_root: str, node_id: str, execution_id: int) -> str:
    """Where an execution's outputs are written before they are published."""
    return os.path.join(pipeline_root, node_id, ".staging", str(execution_id))


def recover_abandoned(store: MetadataStore, pipeline_name: str, pipeline_root: str) -> list[str]:
    """Mark the dead runs and executions of a pipeline and remove their staging; returns what was done."""
    done: list[str] = []
    for record, contexts in store.running_executions(pipeline_name):
        if not owner_is_gone(record.properties):
            continue
        node_id, run_id = record.properties.get("node_id", "?"), record.properties.get("run_id", "?")
        reason = f"abandoned: process {record.properties.get('owner_pid')} ended before finishing it (killed?)"
        store.fail_execution(record.id, contexts, {"finished_at": time.time(), "error": reason}, state="CANCELED")
        done.append(f"execution {record.id} of node {node_id!r} (run {run_id}) was left RUNNING by a dead process: marked CANCELED")
    for run in store.running_runs(pipeline_name):
        if owner_is_gone(run.properties):
            store.update_context(PIPELINE_RUN, run_context_name(pipeline_name, run.run_id), {"status": "ABANDONED"})
            done.append(f"run {run.run_id} was left RUNNING by a dead process: marked ABANDONED")
    removed = _remove_finished_staging(store, pipeline_root)
    if removed:
        done.append(f"removed {removed} staging folder(s) left by unfinished executions")
    for line in done:
        log.warning("%s", line)
    return done


def _remove_finished_staging(store: MetadataStore, pipeline_root: str) -> int:
    """Remove staging folders whose execution is no longer RUNNING (or unknown to this store);
    a concurrent run's live staging is left alone."""
    folders: dict[int, str] = {}
    try:
        node_folders = [e.path for e in os.scandir(pipeline_root) if e.is_dir()]
    except OSError:
        return 0
    for node_folder in node_folders:
        staging_root = os.path.join(node_folder, ".staging")
        if os.path.isdir(staging_root):
            folders.update({int(e.name): e.path for e in os.scandir(staging_root) if e.name.isdigit()})
    if not folders:
        return 0
    running = {r.id for r in store.executions_by_id(sorted(folders)) if r.state == "RUNNING"}
    removed = 0
    for execution_id, path in folders.items():
        if execution_id not in running:
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
            try:
                os.rmdir(os.path.dirname(path))
            except OSError:
                pass
    return removed

"""A parallel-tuning worker process: rebuild the FnArgs, call ``tuner_fn`` and run trials that
the parent's oracle hands out (``python -m components.tuner.worker REQUEST.json PARENT_PID``)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from typing import Any

__all__ = ["main"]


def _exit_with_parent(parent_pid: int) -> None:
    """Stop this worker when the executor process is gone (killed mid-run), so no trial outlives it."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(1.0)
        os._exit(3)

    threading.Thread(target=watch, daemon=True).start()


def _artifact(record: dict[str, Any]) -> Any:
    from pipelinekit.types.artifact import artifact_class_for

    artifact = artifact_class_for(record["type"])(record["uri"])
    artifact.properties.update(record["properties"])
    artifact.custom_properties.update(record["custom_properties"])
    return artifact


def main(argv: list[str]) -> int:
    request_path, parent_pid = argv[0], int(argv[1])
    _exit_with_parent(parent_pid)
    from pipelinekit.components.util.keras3 import use_keras3

    use_keras3()
    from pipelinekit.components.trainer.user_code import UserFunction
    from pipelinekit.components.tuner.executor import call_tuner_fn, tuner_fn_args

    from pipelinekit.orchestration import frozen_heap

    with open(request_path) as handle:
        request = json.load(handle)
    inputs = {key: None for key in ("examples", "schema", "transform_graph", "base_model")}
    inputs.update(
        {
            key: [_artifact(r) for r in record] if isinstance(record, list) else _artifact(record)
            for key, record in request["inputs"].items()
        }
    )
    # Each worker keeps its trials' files in its own folder, so no worker's tuner (even one made
    # with overwrite=True) can delete another's; the trials themselves live in the parent's oracle.
    settings = request["settings"]
    settings["working_dir"] = os.path.join(settings["working_dir"], os.environ["KERASTUNER_TUNER_ID"])
    user_fn = UserFunction("tuner_fn", settings["module_file"], settings["tuner_fn"])
    result = call_tuner_fn(user_fn, tuner_fn_args(inputs, settings))
    with frozen_heap():
        result.tuner.search(**result.fit_kwargs)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

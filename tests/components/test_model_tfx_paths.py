"""The legacy import paths TFX module files use for the Trainer's and the Tuner's classes: the
same objects as the v1 names, and importing them loads no TensorFlow."""

from __future__ import annotations

import os
import subprocess
import sys

_IMPORTS = """
import sys
import pipelinekit
from pipelinekit.tfx.components.trainer.executor import TrainerFnArgs
from pipelinekit.tfx.components.tuner.component import TunerFnResult
from pipelinekit.tfx.components import FnArgs, TunerFnResult as V1TunerFnResult
assert TrainerFnArgs is FnArgs and TunerFnResult is V1TunerFnResult
print(sorted({m.split('.')[0] for m in sys.modules} & {"tensorflow", "keras", "keras_tuner", "tfx_bsl", "apache_beam"}))
"""


def test_legacy_trainer_and_tuner_paths_are_the_v1_classes_and_load_lightly():
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    done = subprocess.run([sys.executable, "-c", _IMPORTS], capture_output=True, text=True, cwd=root, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "[]"


def test_trainer_fn_args_builds_as_fn_args():
    from pipelinekit.tfx.components.trainer.executor import TrainerFnArgs

    fn_args = TrainerFnArgs(train_files=["a/*"], custom_config={"epochs": 1})
    assert fn_args.train_files == ["a/*"] and fn_args.serving_model_dir is None

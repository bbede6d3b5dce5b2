"""Paths of the test model and small helpers shared by the serving tests."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections.abc import Callable

import pytest

HALF_PLUS_TWO = os.path.join(os.path.dirname(__file__), os.pardir, "data", "half_plus_two")
HALF_PLUS_TWO_VERSION = os.path.join(HALF_PLUS_TWO, "00000123")
METADATA_JSON = os.path.join(HALF_PLUS_TWO, "half_plus_two_model_metadata.json")


def push_version(base_path: str, version: int, source: str = HALF_PLUS_TWO_VERSION) -> str:
    """Copy a SavedModel into ``base_path/version`` the way a pusher does: a temp sibling, then a rename."""
    os.makedirs(base_path, exist_ok=True)
    staging = os.path.join(base_path, f".tmp-{version}")
    shutil.copytree(source, staging)
    target = os.path.join(base_path, str(version))
    os.rename(staging, target)
    return target


def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0, what: str = "condition") -> None:
    """Poll ``condition`` every 50 ms until it holds; fail the test after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out after {timeout_s} s waiting for {what}")


def save_typed_model(version_dir: str) -> None:
    """A SavedModel with one signature per input dtype, to test TF Serving's JSON type rules.

    Signatures ``float``, ``int32``, ``int64``, ``bool`` and ``string`` each take ``v`` of that
    dtype (any shape) and answer ``y``: v + 1, v + 1, not v, v + 1, and v with "!" appended.
    ``scalar_string`` takes a float ``x`` and answers a scalar string ``label``.
    """
    import tensorflow as tf

    module = tf.Module()

    def unary(dtype: tf.DType, body: Callable) -> object:
        return tf.function(lambda v: {"y": body(v)}, input_signature=[tf.TensorSpec(None, dtype, name="v")])

    signatures = {
        "float": unary(tf.float32, lambda v: v + 1),
        "int32": unary(tf.int32, lambda v: v + 1),
        "int64": unary(tf.int64, lambda v: v + 1),
        "bool": unary(tf.bool, tf.logical_not),
        "string": unary(tf.string, lambda v: tf.strings.join([v, "!"])),
        "scalar_string": tf.function(
            lambda x: {"label": tf.constant("hello")}, input_signature=[tf.TensorSpec(None, tf.float32, name="x")]
        ),
    }
    for key, function in signatures.items():
        setattr(module, key, function)
    tf.saved_model.save(module, version_dir, signatures=signatures)


def grow_model(version_dir: str, megabytes: int) -> None:
    """A SavedModel whose one variable holds ``megabytes`` of float32 weights; predict sums x and w[0]."""
    import tensorflow as tf

    module = tf.Module()
    module.weights = tf.Variable(tf.ones([megabytes * 1024 * 256], tf.float32))
    module.serve = tf.function(
        lambda x: {"y": x + module.weights[0]}, input_signature=[tf.TensorSpec(None, tf.float32, name="x")]
    )
    tf.saved_model.save(module, version_dir, signatures={"serving_default": module.serve})


class BackgroundThreads:
    """Runs each target in a daemon thread for the length of a ``with`` block; targets loop until ``stop`` is set."""

    def __init__(self, *targets: Callable[[], None]) -> None:
        self.stop = threading.Event()
        self._threads = [threading.Thread(target=target, daemon=True) for target in targets]

    def __enter__(self) -> BackgroundThreads:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop.set()
        for thread in self._threads:
            thread.join(timeout=30)


def save_slow_model(version_dir: str) -> None:
    """A SavedModel whose predict takes time: ``x[0]`` rounds of a 200x200 matmul (about 0.15 ms each); y = x."""
    import tensorflow as tf

    module = tf.Module()

    def serve(x: tf.Tensor) -> dict[str, tf.Tensor]:
        def step(i: tf.Tensor, m: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
            return i + 1, tf.linalg.matmul(m, m) / 200.0

        _, m = tf.while_loop(lambda i, m: i < tf.cast(x[0], tf.int32), step, (0, tf.ones([200, 200])))
        return {"y": x + tf.reduce_sum(m) * 0}

    module.serve = tf.function(serve, input_signature=[tf.TensorSpec(None, tf.float32, name="x")])
    tf.saved_model.save(module, version_dir, signatures={"serving_default": module.serve})

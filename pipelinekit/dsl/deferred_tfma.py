"""Defer TFMA's package import while a pipeline file is defined.

Pipeline files (TFX's own among them) ``import tensorflow_model_analysis as tfma`` only to build
``tfma.EvalConfig`` and its parts, but TFMA's ``__init__`` imports TensorFlow and Beam: seconds
that a fully cached run never needs. Deferred, the package is registered without running its
``__init__``; its configuration names resolve from ``tensorflow_model_analysis/proto/config_pb2.py``
alone (protobuf only), and any other name runs the real ``__init__`` first. Every name is the very
object a plain import gives, so executors and results are unchanged.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import sys
import threading
from types import ModuleType
from typing import Any

__all__ = ["defer_tfma", "CONFIG_NAMES"]

logger = logging.getLogger(__name__)

_PACKAGE = "tensorflow_model_analysis"
_CONFIG_MODULE = f"{_PACKAGE}.proto.config_pb2"
CONFIG_NAMES = frozenset(
    {
        "AggregationOptions", "BinarizationOptions", "ConfidenceIntervalOptions", "CrossSliceMetricThreshold",
        "CrossSliceMetricThresholds", "CrossSlicingSpec", "EvalConfig", "ExampleWeightOptions",
        "GenericChangeThreshold", "GenericValueThreshold", "MetricConfig", "MetricDirection", "MetricsSpec",
        "MetricThreshold", "ModelSpec", "Options", "PaddingOptions", "PerSliceMetricThreshold",
        "PerSliceMetricThresholds", "RepeatedInt32Value", "RepeatedStringValue", "SlicingSpec",
    }
)  # fmt: skip
"""The names TFMA's ``sdk`` re-exports from ``proto.config_pb2`` (TFMA 0.47): only these resolve
without the full package, so a name TFMA does not export at the top fails as it would anyway."""


def defer_tfma() -> None:
    """Make a later ``import tensorflow_model_analysis`` in this process cheap (see the module
    docstring); does nothing when TFMA is already imported or not installed. ``absl.logging``,
    which a plain TFMA import brings along (tens of milliseconds), is imported here."""
    if _PACKAGE in sys.modules:
        return
    try:
        spec = importlib.util.find_spec(_PACKAGE)
    except (ImportError, ValueError):
        spec = None
    if spec is None or spec.loader is None or spec.submodule_search_locations is None:
        return
    # A plain TFMA import imports absl.logging (TensorFlow does), and files lean on it: TFX's
    # penguin example does ``import absl`` and then ``absl.logging.set_verbosity(...)``.
    importlib.import_module("absl.logging")
    module = importlib.util.module_from_spec(spec)
    module.__getattr__ = _Completion(module)  # type: ignore[method-assign]  # PEP 562: names not yet set
    sys.modules[_PACKAGE] = module


class _Completion:
    """The deferred package's ``__getattr__``: configuration names from ``config_pb2``, anything
    else after running the package's real ``__init__`` (once, whichever thread asks first)."""

    def __init__(self, module: ModuleType) -> None:
        self._module = module
        self._lock = threading.RLock()
        self._loading_thread: int | None = None

    def __call__(self, name: str) -> Any:
        if name in CONFIG_NAMES:
            return getattr(importlib.import_module(_CONFIG_MODULE), name)
        with self._lock:
            if self._loading_thread == threading.get_ident():
                # The package's own __init__ asked for a name it has not set yet: as without deferral.
                raise AttributeError(f"module {_PACKAGE!r} has no attribute {name!r}")
            if self._module.__dict__.get("__getattr__") is self:
                self._complete()
        if name in self._module.__dict__:
            return self._module.__dict__[name]
        raise AttributeError(f"module {_PACKAGE!r} has no attribute {name!r}")

    def _complete(self) -> None:
        logger.debug("importing %s in full for a name beyond its configuration protos", _PACKAGE)
        spec = self._module.__spec__
        assert spec is not None and spec.loader is not None
        self._loading_thread = threading.get_ident()
        try:
            spec.loader.exec_module(self._module)
        finally:
            self._loading_thread = None
            self._module.__dict__.pop("__getattr__", None)

"""Load a function from a user module file (Transform's preprocessing_fn, Trainer's run_fn,
Tuner's tuner_fn), or from TFX's dotted ``"package.module.fn"`` form.

A module file is loaded fresh on each call, under a private name, with its folder on
``sys.path`` so sibling helpers import (``import penguin_utils_base as base``); siblings
already imported from that folder are dropped first, so an edited helper is re-read too.
Every failure names the file and says what to fix.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Callable
from types import ModuleType
from typing import Any

from pipelinekit.components.util.errors import UserModuleError

__all__ = ["load_function", "function_from", "load_module_file"]


def load_function(fn_name: str, module_file: str | None = None, dotted_path: str | None = None) -> Callable[..., Any]:
    """``fn_name`` from ``module_file``, or the function that ``dotted_path`` names."""
    if dotted_path:
        return _from_dotted(dotted_path, fn_name)
    if not module_file:
        raise UserModuleError(f"no module_file and no {fn_name}= path was given; set one of them")
    return function_from(load_module_file(module_file), fn_name)


def function_from(module: ModuleType, fn_name: str) -> Callable[..., Any]:
    """``fn_name`` from an already loaded module file, or an error naming the file.

    Take every hook of one run from one load: loading the file again replaces the module,
    and functions kept from the first load may then lose their globals."""
    function = getattr(module, fn_name, None)
    if not callable(function):
        defined = sorted(n for n, v in vars(module).items() if callable(v) and getattr(v, "__module__", "") == module.__name__)
        raise UserModuleError(
            f"module file {module.__file__} defines no function {fn_name!r} (it defines: {', '.join(defined) or 'nothing callable'}); "
            f"add `def {fn_name}(...)` to it"
        )
    return function


def load_module_file(path: str) -> ModuleType:
    """Execute the Python file at ``path`` as a fresh module and return it."""
    path = os.path.abspath(path)
    if not os.path.isfile(path):
        raise UserModuleError(f"module file {path} does not exist; check the module_file argument (relative paths are risky)")
    folder = os.path.dirname(path)
    _forget_modules_from(folder)
    if folder not in sys.path:
        sys.path.insert(0, folder)
    name = "user_module_" + hashlib.sha256(path.encode()).hexdigest()[:12]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as error:
        raise UserModuleError(
            f"module file {error.filename or path}, line {error.lineno}: syntax error: {error.msg}; fix the file and rerun"
        ) from error
    except ImportError as error:
        raise UserModuleError(
            f"module file {path} cannot import {error.name or ''}: {error}; install the package or put the helper next to the file"
        ) from error
    except Exception as error:
        raise UserModuleError(f"module file {path} raised {type(error).__name__} while loading: {error}") from error
    return module


def _from_dotted(dotted_path: str, fn_name: str) -> Callable[..., Any]:
    module_name, _, attribute = dotted_path.rpartition(".")
    if not module_name:
        raise UserModuleError(f"{fn_name}={dotted_path!r} must be a dotted path 'package.module.{fn_name}'")
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise UserModuleError(f"{fn_name}={dotted_path!r}: cannot import module {module_name!r}: {error}") from error
    function = getattr(module, attribute, None)
    if not callable(function):
        raise UserModuleError(f"{fn_name}={dotted_path!r}: module {module_name!r} ({module.__file__}) has no function {attribute!r}")
    return function


def _forget_modules_from(folder: str) -> None:
    """Drop top-level modules loaded from ``folder`` (the siblings a module file imports) so
    the next import reads the files again; package modules are left alone."""
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if "." not in name and file and os.path.dirname(os.path.abspath(file)) == folder:
            del sys.modules[name]

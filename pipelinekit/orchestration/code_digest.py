"""Digests of the code a node will actually run, taken from the loaded objects, not from files.

A function component is hashed from its compiled bytecode, its defaults, its closure cells and
everything it reaches through the globals it names: helpers and classes from the user's own
modules (any file outside the standard library and installed packages), the user submodules it
names (``mypkg.sub.f()``), the code held in containers (``{"a": helper}``), partials and
decorator wrappers (``functools.cache``), the classes of user-defined instances, and constants
of any type. Line numbers and file names are left out, so editing one component in a file with several
re-keys only that one. Libraries the code reaches are returned by distribution name, so their
versions can join the key; only names the code uses count, never whatever else a module imported.
"""

from __future__ import annotations

import builtins
import dis
import functools
import hashlib
import inspect
import logging
import sys
import types
from collections.abc import Callable
from typing import Any

from pipelinekit.dsl.user_code import is_user_module, module_kind, top_level_kind
from pipelinekit.orchestration.canonical import Unfingerprintable, canonical_json
from pipelinekit.orchestration.fingerprint import imported_libraries, module_sources

__all__ = ["function_digest"]

log = logging.getLogger(__name__)


def function_digest(fn: Callable[..., Any]) -> tuple[str, set[str]]:
    """``(digest, libraries)``: a digest of ``fn`` and all the user code and constants it reaches,
    and the top-level names of the third-party packages it uses."""
    walker = _Walker()
    walker.visit(fn)
    return walker.hexdigest(), walker.libraries


class _Walker:
    """Collects the digest parts of everything a function reaches, each object once."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self._seen: set[int] = set()
        self.libraries: set[str] = set()

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def _add(self, *parts: str | bytes) -> None:
        for part in parts:
            data = part.encode() if isinstance(part, str) else part
            self._hash.update(len(data).to_bytes(8, "big") + data)

    def visit(self, obj: Any, name: str = "", used: frozenset[str] = frozenset()) -> None:
        """Add ``obj`` (a function, class, module or value named ``name`` in some namespace);
        ``used`` are the attribute names the code reaching a module mentions (its submodules)."""
        if isinstance(obj, types.ModuleType) and module_kind(obj.__name__) == "user":
            self._visit_named_members(obj, used)
        if id(obj) in self._seen:
            self._add("seen", name)
            return
        if isinstance(obj, (types.FunctionType, type, types.ModuleType, types.MethodType, functools.partial)):
            self._seen.add(id(obj))
        owner = _owner_module(obj)
        if owner is not None and module_kind(owner) != "user":
            self._add("ref", name, f"{owner}:{getattr(obj, '__qualname__', getattr(obj, '__name__', ''))}")
            if module_kind(owner) == "library":
                self.libraries.add(owner.split(".")[0])
            return
        if isinstance(obj, types.MethodType):
            self.visit(obj.__func__, name)
            self.visit(obj.__self__, "__self__")  # the instance (or class) the method is bound to
        elif isinstance(obj, types.FunctionType):
            self._visit_function(obj)
        elif isinstance(obj, type):
            self._visit_class(obj)
        elif isinstance(obj, types.ModuleType):
            self._visit_module(obj)
        elif isinstance(obj, functools.partial):
            self._add("partial", name)
            self.visit(obj.func, "func")
            self._visit_value(obj.args, "args")
            self._visit_value(obj.keywords, "keywords")
        elif callable(obj) and not isinstance(getattr(obj, "__wrapped__", None), (type(None), types.ModuleType)):
            self._add("wrapper", name, type(obj).__qualname__)  # functools.cache, lru_cache and the like
            self.visit(obj.__wrapped__, name)
        else:
            self._visit_value(obj, name)

    def _visit_function(self, fn: types.FunctionType) -> None:
        self._add("function", fn.__qualname__, *_code_parts(fn.__code__))
        self._visit_value(fn.__defaults__, "__defaults__")
        self._visit_value(fn.__kwdefaults__, "__kwdefaults__")
        wrapped = getattr(fn, "__wrapped__", None)
        if callable(wrapped):  # a decorator's wrapper: the wrapped code runs too
            self.visit(wrapped, "__wrapped__")
        for cell_name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
            try:
                self.visit(cell.cell_contents, cell_name)
            except ValueError:  # an empty cell: the variable was never assigned
                self._add("empty cell", cell_name)
        for module_name in sorted(_imports_in_body(fn.__code__)):
            self._visit_imported(module_name, frozenset(_names_used(fn.__code__)))
        namespace = fn.__globals__
        used = frozenset(_names_used(fn.__code__))
        for global_name in sorted(used):
            if global_name in namespace:
                self._add("global", global_name)
                self.visit(namespace[global_name], global_name, used)
            elif not hasattr(builtins, global_name):
                self._add("unbound", global_name)

    def _visit_class(self, cls: type) -> None:
        self._add("class", cls.__qualname__)
        for base in cls.__bases__:
            self.visit(base, "base")
        for attribute, value in sorted(vars(cls).items()):
            if attribute.startswith("__") and not callable(value):
                continue  # __dict__, __doc__, dataclass bookkeeping: derived from the code above
            if isinstance(value, (staticmethod, classmethod)):
                value = value.__func__
            if isinstance(value, property):
                value = (value.fget, value.fset, value.fdel)
            self._add("attribute", attribute)
            self.visit(value, attribute)

    def _visit_module(self, module: types.ModuleType) -> None:
        """A user module used as a namespace (``import helpers; helpers.f()``): all it defines."""
        self._add("module", module.__name__)
        for attribute, value in sorted(vars(module).items()):
            if attribute.startswith("__") or isinstance(value, types.ModuleType):
                continue  # submodules: see _visit_named_members
            if _owner_module(value) not in (None, module.__name__):
                continue  # imported into the module, not defined there: see _visit_named_members
            self._add("member", attribute)
            self.visit(value, attribute)

    def _visit_named_members(self, module: types.ModuleType, used: frozenset[str]) -> None:
        """What the code reaching ``module`` names in it that the module did not define itself:
        its submodules (``import mypkg.sub`` then ``mypkg.sub.f()``) and what it imported
        (``helpers.f`` after ``from other import f`` in helpers). Only names the code uses, so the
        key does not depend on what else happens to be loaded."""
        namespace = vars(module)
        for attribute in sorted(used & namespace.keys()):
            value = namespace[attribute]
            if isinstance(value, types.ModuleType) or _owner_module(value) not in (None, module.__name__):
                self._add("named member", attribute)
                self.visit(value, attribute, used)

    def _visit_imported(self, module_name: str, used: frozenset[str]) -> None:
        """A module imported inside a function body: a library by name (whether or not it is loaded
        yet, so the key does not depend on what ran before), user code by content: the loaded
        module, else the sources of it and the user modules it imports."""
        top = module_name.split(".")[0]
        if top_level_kind(top) == "ignored":
            return
        module = sys.modules.get(module_name)
        if module is not None:
            if module_kind(module_name) == "user":
                self.visit(module, module_name, used)
            else:
                self._add("library import", module_name)
                self.libraries.add(top)
            return
        if top_level_kind(top) == "library":
            self._add("library import", module_name)
            self.libraries.add(top)
            return
        sources = module_sources(module_name)
        if not sources:
            self._add("unresolved import", module_name)
        for name, (_, source) in sorted(sources.items()):
            self._add("imported source", name, source)
        self.libraries |= imported_libraries(sources)

    def _visit_value(self, value: Any, name: str) -> None:
        if isinstance(value, (tuple, list, set, frozenset, dict)) and _holds_code(value):
            self._visit_container(value, name)
            return
        try:
            self._add("value", name, canonical_json(value))
        except Unfingerprintable as error:
            log.warning("cannot fingerprint %r (%s): a change to it will not re-run the node; pass it as a parameter", name, error)
            self._add("opaque", name, type(value).__qualname__)
        value_type = type(value)
        kind = module_kind(value_type.__module__)
        if kind == "user":
            self.visit(value_type, "__class__")  # an instance of a user class: its methods are code it runs
            state = getattr(value, "__dict__", None)
            if isinstance(state, dict) and _holds_code(state):  # self.fn = helper: pickled by name only
                self._visit_container(state, name)
        elif kind == "library":
            self.libraries.add(value_type.__module__.split(".")[0])

    def _visit_container(self, value: tuple[Any, ...] | list[Any] | set[Any] | frozenset[Any] | dict[Any, Any], name: str) -> None:
        """A container holding functions, classes or modules (``HANDLERS = {"a": helper}``):
        each item visited in turn, so the code it holds is hashed, not just its name."""
        if id(value) in self._seen:
            self._add("seen", name)
            return
        self._seen.add(id(value))
        self._add(type(value).__name__, name, str(len(value)))
        if isinstance(value, dict):
            for key, item in sorted(value.items(), key=lambda kv: _order(kv[0])):
                self._add("key", _order(key))
                self.visit(item, name)
        else:
            for item in sorted(value, key=_order) if isinstance(value, (set, frozenset)) else value:
                self.visit(item, name)


def _holds_code(value: Any, depth: int = 0) -> bool:
    """Whether a container holds code (functions, classes, modules, partials, instances of user
    classes), at any depth."""
    if isinstance(value, dict):
        value = list(value.values())
    if not isinstance(value, (tuple, list, set, frozenset)) or depth > 20:
        return False
    return any(_is_code_like(v) or is_user_module(type(v).__module__) or _holds_code(v, depth + 1) for v in value)


def _order(value: Any) -> str:
    """A stable sort key for a dict key or set item: its qualified name when it is code."""
    if _is_code_like(value) and hasattr(value, "__qualname__"):
        return f"{getattr(value, '__module__', '')}:{value.__qualname__}"
    try:
        return canonical_json(value)
    except Unfingerprintable:
        return repr(value)


def _is_code_like(value: Any) -> bool:
    if isinstance(value, (types.FunctionType, type, types.MethodType, types.ModuleType, functools.partial)):
        return True
    return callable(value) and hasattr(value, "__wrapped__")


def _owner_module(obj: Any) -> str | None:
    """The module that defines ``obj`` when it is code (function, class, module, builtin)."""
    if isinstance(obj, types.ModuleType):
        return obj.__name__
    if isinstance(obj, (types.FunctionType, type, types.BuiltinFunctionType, types.MethodType)) or inspect.isroutine(obj):
        return getattr(obj, "__module__", None) or None
    if callable(obj) and isinstance(getattr(obj, "__name__", None), str) and isinstance(getattr(obj, "__module__", None), str):
        return obj.__module__  # named callables such as numpy ufuncs; configured objects are values
    return None


def _code_parts(code: types.CodeType) -> list[str | bytes]:
    """What defines a code object's behaviour, without its file name or line numbers."""
    parts: list[str | bytes] = [
        code.co_name,
        code.co_code,
        code.co_exceptiontable,
        repr((code.co_argcount, code.co_posonlyargcount, code.co_kwonlyargcount, code.co_flags)),
        repr((code.co_names, code.co_varnames, code.co_freevars, code.co_cellvars)),
    ]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            parts += _code_parts(const)
        else:
            parts.append(repr(const))
    return parts


def _imports_in_body(code: types.CodeType) -> set[str]:
    """Modules imported by ``import`` statements inside a code object (absolute imports only)."""
    found: set[str] = set()
    for current in _code_tree(code):
        for instruction in dis.get_instructions(current):
            if instruction.opname == "IMPORT_NAME" and isinstance(instruction.argval, str) and instruction.argval:
                found.add(instruction.argval)
    return found


def _code_tree(code: types.CodeType) -> list[types.CodeType]:
    tree = [code]
    for current in tree:
        tree.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return tree


def _names_used(code: types.CodeType) -> set[str]:
    """Every global or attribute name a code object and its nested code objects mention."""
    names: set[str] = set()
    pending = [code]
    while pending:
        current = pending.pop()
        names.update(current.co_names)
        pending.extend(c for c in current.co_consts if isinstance(c, types.CodeType))
    return names

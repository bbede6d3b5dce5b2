"""The two ways to declare a component: ``@component`` on a typed function, or a ``Component`` class.

Both produce one frozen :class:`ComponentDefinition`; calling the decorated function (or
instantiating the class) with keyword arguments makes a :class:`Node`.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import os
import typing
from collections.abc import Callable, Collection
from dataclasses import dataclass, replace
from typing import Any, ClassVar

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.dsl.function_io import FunctionIO, returned_outputs_of, value_type_of
from pipelinekit.dsl.node import Node
from pipelinekit.dsl.spec import (
    REQUIRED,
    ComponentSpec,
    InputSpec,
    OutputSpec,
    ParameterSpec,
    is_supported_parameter_type,
)
from pipelinekit.dsl.user_code import user_path
from pipelinekit.errors import ComponentDefinitionError
from pipelinekit.types.annotations import ExternalPath, parse_annotation
from pipelinekit.types.artifact import Artifact

__all__ = ["ComponentDefinition", "FunctionComponent", "component", "Component"]

Executor = Callable[..., Any]


@dataclass(frozen=True)
class ComponentDefinition:
    """A component: its name, spec, and the executor that does the work.

    ``executor`` is a callable, or a ``"package.module:function"`` path imported only when the
    node runs, so declaring a pipeline never pays for heavy imports. ``external_output`` names
    the parameter whose path becomes the URI of the single output, registered where it is
    instead of in a fresh folder (how an importer works). ``function_io`` says how a function
    component takes values, returns outputs and gets a Beam pipeline, TFX's conventions.
    """

    name: str
    spec: ComponentSpec
    executor: Executor | str
    context_argument: str | None = None
    libraries: tuple[str, ...] = ()
    external_output: str | None = None
    function_io: FunctionIO | None = None

    def load_executor(self) -> Executor:
        """The executor callable, importing its module if it was given as a path."""
        if callable(self.executor):
            return self.executor
        module_name, _, attribute = self.executor.partition(":")
        try:
            return getattr(_import_fresh(module_name), attribute)
        except (ImportError, AttributeError) as error:
            raise ComponentDefinitionError(f"component {self.name!r}: cannot load executor {self.executor!r}: {error}") from error


_LOADED_MTIMES: dict[str, float] = {}


def _import_fresh(module_name: str) -> Any:
    """Import a module, reloading it if its file changed since it was loaded, so a long-lived
    process (a notebook, a test session) runs the same executor code the cache key was made from."""
    module = importlib.import_module(module_name)
    path = getattr(module, "__file__", None)
    mtime = os.path.getmtime(path) if path and os.path.exists(path) else 0.0
    if _LOADED_MTIMES.setdefault(module_name, mtime) != mtime:
        module = importlib.reload(module)
        _LOADED_MTIMES[module_name] = mtime
    return module


class FunctionComponent:
    """A component made by ``@component``: call it with keyword arguments to make a node.

    The undecorated function stays available as ``.fn`` for unit tests.
    """

    def __init__(self, fn: Callable[..., Any], definition: ComponentDefinition) -> None:
        functools.update_wrapper(self, fn)
        self.fn = fn
        self.definition = definition

    def __call__(self, *args: Any, **arguments: Any) -> Node:
        if args:
            spec = self.definition.spec
            wirable = [*spec.inputs, *spec.parameters][:2]  # outputs are never passed in
            example = ", ".join(f"{n}=..." for n in wirable)
            raise ComponentDefinitionError(
                f"component {self.definition.name!r} takes keyword arguments only, e.g. {self.definition.name}({example})"
            )
        return Node(self.definition, absolute_paths(self.definition.spec, arguments))

    def __repr__(self) -> str:
        return f"<component {self.definition.name}>"


def component(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    libraries: tuple[str, ...] = (),
    use_beam: bool = False,
    component_annotation: Any = None,
) -> Any:
    """Turn a function whose arguments are annotated ``InputArtifact[T]``, ``OutputArtifact[T]`` or
    ``Parameter[T]`` into a component. ``libraries`` names extra distributions whose versions
    belong in the cache key.

    TFX's forms work too: a bare ``int``/``float``/``str``/``bytes``/``bool``/``dict``/``list``
    argument takes the value of an upstream value artifact, ``-> OutputDict(name=type)`` returns
    values as outputs, and a ``BeamComponentParameter`` argument gets a Beam pipeline made from
    the pipeline's ``beam_pipeline_args``. ``use_beam`` and ``component_annotation`` are
    accepted for TFX's sake: a Beam pipeline is given wherever one is declared, and the
    annotation only labels the execution type in TFX."""
    del use_beam, component_annotation

    def wrap(func: Callable[..., Any]) -> FunctionComponent:
        if not inspect.isfunction(func):
            raise ComponentDefinitionError(
                f"@component needs a function written with def, got {type(func).__name__} {func!r}; "
                "for a functools.partial or a callable object, write a small def that calls it with the fixed arguments"
            )
        spec, context_argument, function_io = _spec_from_signature(func)
        definition = ComponentDefinition(
            name or func.__name__, spec, func, context_argument, tuple(libraries), function_io=function_io
        )
        return FunctionComponent(func, definition)

    return wrap(fn) if fn is not None else wrap


def _spec_from_signature(func: Callable[..., Any]) -> tuple[ComponentSpec, str | None, FunctionIO | None]:
    where = f"component {func.__name__!r} ({func.__module__})"
    try:
        hints = typing.get_type_hints(func)
    except Exception as error:  # a NameError in a string annotation, for instance
        raise ComponentDefinitionError(f"{where}: cannot read its annotations: {error}") from error
    spec = ComponentSpec()
    context_argument = None
    value_inputs: list[str] = []
    beam_argument = None
    for argument in inspect.signature(func).parameters.values():
        hint = hints.get(argument.name)
        label = f"{where}, argument {argument.name!r}"
        if hint is ExecutionContext:
            context_argument = argument.name
        elif _add_value_input(spec, label, argument, hint):
            value_inputs.append(argument.name)
        elif _is_beam_parameter(label, argument, hint):
            beam_argument = argument.name
        else:
            _add_argument(spec, label, argument, hint)
    returned = returned_outputs_of(hints.get("return"), where)
    clashes = sorted(set(returned) & set(spec.argument_names()))
    if clashes:
        raise ComponentDefinitionError(f"{where}: returned outputs {clashes} are also arguments; rename one of them")
    spec.outputs.update({name: OutputSpec(value_type) for name, (value_type, _) in returned.items()})
    if not (value_inputs or returned or beam_argument):
        return spec, context_argument, None
    returned_outputs = tuple((name, optional) for name, (_, optional) in returned.items())
    return spec, context_argument, FunctionIO(tuple(value_inputs), returned_outputs, beam_argument)


def _add_value_input(spec: ComponentSpec, label: str, argument: inspect.Parameter, hint: Any) -> bool:
    """Add a TFX value input (``accuracy: float``); ``False`` when ``hint`` is not a value type."""
    value_type = value_type_of(hint)
    if value_type is None:
        return False
    artifact_type, optional = value_type
    has_default = argument.default is not inspect.Parameter.empty
    if has_default and argument.default is not None and value_type_of(type(argument.default)) != (artifact_type, False):
        raise ComponentDefinitionError(
            f"{label}: default {argument.default!r} is not a {hint!r}; use a value of that type or None"
        )
    spec.inputs[argument.name] = InputSpec(artifact_type, optional=optional or has_default)
    return True


def _is_beam_parameter(label: str, argument: inspect.Parameter, hint: Any) -> bool:
    parsed = parse_annotation(hint)
    if parsed is None or parsed.role != "beam":
        return False
    if argument.default not in (None, inspect.Parameter.empty):
        raise ComponentDefinitionError(f"{label}: a BeamComponentParameter may only default to None")
    return True


def _add_argument(spec: ComponentSpec, label: str, argument: inspect.Parameter, hint: Any) -> None:
    parsed = parse_annotation(hint)
    has_default = argument.default is not inspect.Parameter.empty
    if parsed is None:
        raise ComponentDefinitionError(
            f"{label}: annotate it as InputArtifact[T], OutputArtifact[T], Parameter[T], a value type (int, float, str, bytes, "
            f"bool, dict, list), BeamComponentParameter[beam.Pipeline] or ExecutionContext (got {hint!r})"
        )
    if parsed.role != "parameter" and not (isinstance(parsed.value_type, type) and issubclass(parsed.value_type, Artifact)):
        raise ComponentDefinitionError(f"{label}: {parsed.value_type!r} is not an Artifact subclass")
    if parsed.role == "input":
        if has_default and argument.default is not None:
            raise ComponentDefinitionError(f"{label}: an optional input may only default to None")
        spec.inputs[argument.name] = InputSpec(parsed.value_type, optional=parsed.optional or has_default)
    elif parsed.role == "output":
        if has_default or parsed.optional:
            raise ComponentDefinitionError(f"{label}: outputs cannot be optional or have a default")
        spec.outputs[argument.name] = OutputSpec(parsed.value_type)
    else:
        spec.parameters[argument.name] = _parameter_spec(label, parsed.value_type, argument.default if has_default else REQUIRED)


def _parameter_spec(label: str, value_type: Any, default: Any) -> ParameterSpec:
    if not is_supported_parameter_type(value_type):
        raise ComponentDefinitionError(
            f"{label}: Parameter[{value_type!r}] is not supported; use int, float, str, bool, dict, list, ModuleFile or ExternalPath"
        )
    parameter = ParameterSpec(value_type, default)
    problem = None if parameter.required or default is None else parameter.problem_with(default)
    if problem:
        raise ComponentDefinitionError(f"{label}: default {default!r} does not fit: {problem}")
    return parameter


_NODE_ATTRIBUTES = frozenset(
    {"id", "inputs", "outputs", "parameters", "definition", "given_parameters", "with_id", "omit_outputs"}
)
_SPECS = (InputSpec, OutputSpec, ParameterSpec)


class Component(Node):
    """Base of class-declared components. Subclasses list ``InputSpec``, ``OutputSpec`` and
    ``ParameterSpec`` class attributes (inherited from base classes, which subclasses may
    override) and set ``EXECUTOR``, a ``"module:function"`` path of a function called as
    ``executor(context, **arguments)``.

    A constructor with its own signature passes what it was given on to ``super().__init__``:
    relative ``ModuleFile``/``ExternalPath`` parameters are resolved there, and
    ``omit_outputs`` leaves out optional outputs (``OutputSpec(T, optional=True)``)."""

    EXECUTOR: ClassVar[str | Executor]
    LIBRARIES: ClassVar[tuple[str, ...]] = ()
    definition: ComponentDefinition

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared: dict[str, Any] = {}
        for klass in reversed(cls.__mro__):
            declared |= {k: v for k, v in vars(klass).items() if isinstance(v, _SPECS)}
        clashes = sorted(_NODE_ATTRIBUTES & set(declared))
        if clashes:
            raise ComponentDefinitionError(f"component {cls.__name__!r}: {clashes} are reserved names; rename them")
        if not hasattr(cls, "EXECUTOR"):
            raise ComponentDefinitionError(f"component {cls.__name__!r}: set EXECUTOR to 'module:function'")
        spec = ComponentSpec(
            inputs={k: v for k, v in declared.items() if isinstance(v, InputSpec)},
            outputs={k: v for k, v in declared.items() if isinstance(v, OutputSpec)},
            parameters={k: v for k, v in declared.items() if isinstance(v, ParameterSpec)},
        )
        cls.definition = ComponentDefinition(cls.__name__, spec, cls.EXECUTOR, "context", tuple(cls.LIBRARIES))

    def __init__(self, *, omit_outputs: Collection[str] = (), **arguments: Any) -> None:
        definition = type(self).definition
        outputs = definition.spec.outputs
        wrong = sorted(set(omit_outputs) - {k for k, v in outputs.items() if v.optional})
        if wrong:
            optional = ", ".join(k for k, v in outputs.items() if v.optional) or "none"
            raise ComponentDefinitionError(
                f"component {definition.name!r}: outputs {wrong} cannot be omitted; its optional ones: {optional}"
            )
        if omit_outputs:
            spec = replace(definition.spec, outputs={k: v for k, v in outputs.items() if k not in omit_outputs})
            definition = replace(definition, spec=spec)
        super().__init__(definition, absolute_paths(definition.spec, arguments))


def absolute_paths(spec: ComponentSpec, arguments: dict[str, Any]) -> dict[str, Any]:
    """Arguments with relative ``ModuleFile``/``ExternalPath`` parameters resolved against the
    folder of the file that declares the node, not the working directory."""
    resolved = dict(arguments)
    for name, parameter in spec.parameters.items():
        value = arguments.get(name)
        if isinstance(value, str) and isinstance(parameter.type, type) and issubclass(parameter.type, ExternalPath):
            resolved[name] = user_path(value)
    return resolved

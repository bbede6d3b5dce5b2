"""The one exception hierarchy of pipelinekit.

Every error the library raises on purpose derives from :class:`PipelineKitError`, so a
caller can catch them all with one clause. The two main branches separate mistakes found
while a pipeline is being defined or compiled from failures while it runs.
"""

from __future__ import annotations

__all__ = [
    "PipelineKitError",
    "DefinitionError",
    "ComponentDefinitionError",
    "UnknownOutputError",
    "CompileError",
    "RegistryError",
    "RunError",
    "RunInterrupted",
    "ComponentFailedError",
    "MetadataError",
    "ClusterError",
    "MissingDependencyError",
    "ServingError",
]


class PipelineKitError(Exception):
    """Root of every error raised by pipelinekit."""


class DefinitionError(PipelineKitError):
    """A pipeline or component is declared wrongly; nothing has run."""


class ComponentDefinitionError(DefinitionError):
    """A component function or spec cannot be turned into a component."""


class UnknownOutputError(DefinitionError, KeyError):
    """A node has no output of the requested name; also a KeyError, so mapping idioms keep working."""

    __str__ = Exception.__str__


class CompileError(DefinitionError):
    """A pipeline failed to compile; ``problems`` lists every wiring error found."""

    def __init__(self, pipeline_name: str, problems: list[str]) -> None:
        self.pipeline_name = pipeline_name
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"pipeline {pipeline_name!r} has {count} {noun}:\n{lines}")


class RegistryError(DefinitionError):
    """A model registry request names a model, version or alias that does not exist, or asks for a
    move the registry refuses (a version whose files are gone); nothing was changed."""


class RunError(PipelineKitError):
    """Something failed while a pipeline was running."""


class RunInterrupted(KeyboardInterrupt):
    """The run was stopped by Ctrl-C or SIGTERM (``signal_number``); the run is marked INTERRUPTED,
    running nodes CANCELED. A KeyboardInterrupt, so code that handles Ctrl-C handles it too."""

    def __init__(self, message: str = "interrupted", signal_number: int = 2) -> None:
        super().__init__(message)
        self.signal_number = signal_number


class ComponentFailedError(RunError):
    """User or executor code raised inside a node; the original exception is the cause."""

    def __init__(self, node_id: str, run_id: str, execution_id: int | None, cause: BaseException) -> None:
        self.node_id = node_id
        self.run_id = run_id
        self.execution_id = execution_id
        self.cause = cause
        where = f"node {node_id!r} (run {run_id}, execution {execution_id})"
        super().__init__(f"{where} failed: {type(cause).__name__}: {cause}")


class MetadataError(RunError):
    """The ML Metadata store cannot be opened, read or written."""


class ClusterError(RunError):
    """A node's Beam job could not reach its cluster (Flink, a portable job service) or failed
    there; the message names the address or the cluster's job."""


class MissingDependencyError(PipelineKitError):
    """An optional library is not installed; the message names what to install."""

    def __init__(self, module: str, purpose: str, install: str) -> None:
        self.module = module
        super().__init__(f"{purpose} needs the {module!r} module, which is not installed. Install it with: {install}")


class ServingError(PipelineKitError):
    """The model server or the serving client failed; see the subclasses in pipelinekit.serving."""

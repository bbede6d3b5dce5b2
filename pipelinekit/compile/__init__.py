"""Turning a Pipeline into a validated, frozen Plan."""

from pipelinekit.compile.compiler import compile_pipeline
from pipelinekit.compile.plan import InputWiring, Plan

__all__ = ["compile_pipeline", "Plan", "InputWiring"]

"""A class-declared toy component, written the way the standard components are: a small spec
here, the executor in its own module that is imported only when the node runs."""

from toy_components import Numbers

from pipelinekit import Component, InputSpec, OutputSpec, ParameterSpec


class CountAtLeast(Component):
    """Counts the numbers that are at least ``minimum``."""

    numbers = InputSpec(Numbers)
    count = OutputSpec(Numbers)
    minimum = ParameterSpec(float, default=0.0)
    EXECUTOR = "toy_count_executor:run"

"""Small file-based components for tests, benchmarks and trying the framework: they read and
write JSON lists of numbers, so they run in milliseconds and their results are easy to check."""

from __future__ import annotations

import json
import os
import time

from pipelinekit import Artifact, InputArtifact, OutputArtifact, Parameter, component


class Numbers(Artifact):
    """A JSON list of numbers in ``values.json``."""


def write_numbers(artifact: Artifact, values: list[float]) -> None:
    with open(os.path.join(artifact.uri, "values.json"), "w") as handle:
        json.dump(values, handle)


def read_numbers(artifact: Artifact) -> list[float]:
    with open(os.path.join(artifact.uri, "values.json")) as handle:
        return json.load(handle)


@component
def generate(numbers: OutputArtifact[Numbers], count: Parameter[int] = 5) -> None:
    write_numbers(numbers, list(range(count)))


@component
def scale(
    numbers: InputArtifact[Numbers],
    scaled: OutputArtifact[Numbers],
    factor: Parameter[float] = 2.0,
    delay: Parameter[float] = 0.0,
) -> None:
    time.sleep(delay)
    write_numbers(scaled, [v * factor for v in read_numbers(numbers)])


@component
def combine(left: InputArtifact[Numbers], right: InputArtifact[Numbers], total: OutputArtifact[Numbers]) -> None:
    write_numbers(total, [a + b for a, b in zip(read_numbers(left), read_numbers(right))])

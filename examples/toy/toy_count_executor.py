"""Executor of CountAtLeast: called as ``run(context, **arguments)`` with typed artifacts."""

from toy_components import Numbers, read_numbers, write_numbers

from pipelinekit import ExecutionContext


def run(context: ExecutionContext, *, numbers: Numbers, count: Numbers, minimum: float) -> None:
    values = [v for v in read_numbers(numbers) if v >= minimum]
    write_numbers(count, [len(values)])
    context.logger.info("%d of the numbers are at least %s", len(values), minimum)

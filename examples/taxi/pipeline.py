"""The taxi pipeline: span-based ingestion, and drift between spans caught by validation.

CsvExampleGen reads ``data/span-{SPAN}/*.csv``: the latest span by default, or the span that
``TAXI_SPAN`` names. StatisticsGen describes it; ImportSchemaGen brings in the curated schema
(``schema/schema.pbtxt``, with drift comparators) that stays the same from span to span; a
Resolver finds the statistics of the previous span in ML Metadata, and ExampleValidator checks
the new span against the schema and, with that baseline, for drift.

    .venv/bin/python examples/taxi/generate_data.py --rows 100000
    TAXI_SPAN=1 .venv/bin/pipelinekit run examples/taxi/pipeline.py   # span 1: no baseline yet
    .venv/bin/pipelinekit run examples/taxi/pipeline.py               # span 2, against span 1
    .venv/bin/python examples/taxi/show_anomalies.py                  # what ExampleValidator found

Environment: ``TAXI_DATA`` (the folder holding ``span-<n>/``), ``TAXI_ROOT`` (the pipeline
root), ``TAXI_SPAN`` (a span number; unset: the latest).
"""

from __future__ import annotations

import os

from pipelinekit.components import CsvExampleGen, ExampleValidator, ImportSchemaGen, StatisticsGen
from span_baseline import PreviousSpanStrategy

from pipelinekit import Channel, DefinitionError, ExampleStatistics, Pipeline, Resolver
from pipelinekit.tfx import proto

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.environ.get("TAXI_DATA", os.path.join(HERE, "data"))
ROOT = os.environ.get("TAXI_ROOT", os.path.join(HERE, "pipeline_root"))
SPAN = os.environ.get("TAXI_SPAN", "")


if not os.path.isdir(DATA):
    raise DefinitionError(
        f"the taxi data folder {DATA} does not exist; write it with `.venv/bin/python examples/taxi/generate_data.py`"
        " (or point TAXI_DATA at a folder holding span-<n>/ folders)"
    )


def _range_config(span: str) -> proto.RangeConfig | None:
    """Only ``span`` when it is set; otherwise None, so ExampleGen takes the latest span."""
    if not span:
        return None
    if not span.isdigit():
        raise DefinitionError(f"TAXI_SPAN must be a span number such as 1, got {span!r}; unset it to ingest the latest span")
    number = int(span)
    return proto.RangeConfig(static_range=proto.StaticRange(start_span_number=number, end_span_number=number))


example_gen = CsvExampleGen(
    input_base=DATA,
    input_config=proto.Input(splits=[proto.Input.Split(name="single_split", pattern="span-{SPAN}/*.csv")]),
    range_config=_range_config(SPAN),
)
statistics_gen = StatisticsGen(examples=example_gen.outputs["examples"])
schema_gen = ImportSchemaGen(schema_file="schema/schema.pbtxt")
previous_span = Resolver(
    strategy_class=PreviousSpanStrategy,
    current=statistics_gen.outputs["statistics"],
    history=Channel(type=ExampleStatistics, producer_component_id="StatisticsGen", output_key="statistics"),
).with_id("previous_span_statistics")
example_validator = ExampleValidator(
    statistics=statistics_gen.outputs["statistics"],
    schema=schema_gen.outputs["schema"],
    baseline_statistics=previous_span.outputs["history"],
)

pipeline = Pipeline(
    pipeline_name="taxi",
    pipeline_root=ROOT,
    components=[example_validator],
    beam_pipeline_args=["--direct_num_workers=1"],
)

"""A diamond of toy components: generate -> (double, triple) -> combine.

The quickest way to see parallel branches, caching and lineage:
    pipelinekit run examples/toy/pipeline.py          # double and triple run at the same time
    pipelinekit run examples/toy/pipeline.py          # everything cached
    pipelinekit lineage examples/toy/pipeline.py combine.total
"""

import os

from toy_components import combine, generate, scale

from pipelinekit import Pipeline

numbers = generate(count=10)
double = scale(numbers=numbers.outputs["numbers"], factor=2.0, delay=1.0).with_id("double")
triple = scale(numbers=numbers.outputs["numbers"], factor=3.0, delay=1.0).with_id("triple")
total = combine(left=double.outputs["scaled"], right=triple.outputs["scaled"])

pipeline = Pipeline("toy_diamond", os.path.join(os.path.dirname(os.path.abspath(__file__)), "pipeline_root"), [total])

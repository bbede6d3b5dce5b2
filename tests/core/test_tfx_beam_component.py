"""``BeamComponentParameter``, written as TFX's guide writes it (only the import differs): the
function gets a Beam pipeline made from the pipeline's ``beam_pipeline_args``."""

import apache_beam as beam
import pytest

from pipelinekit import tfx


@pytest.mark.slow
def test_a_beam_component_parameter_gets_a_pipeline_with_the_pipelines_beam_args(pipeline_root):
    @tfx.dsl.components.component(use_beam=True)
    def SumSquares(
        n: tfx.dsl.components.Parameter[int],
        beam_pipeline: tfx.dsl.components.BeamComponentParameter[beam.Pipeline] = None,
    ) -> tfx.dsl.components.OutputDict(total=int, workers=int):
        from apache_beam.options.pipeline_options import DirectOptions

        workers = beam_pipeline.options.view_as(DirectOptions).direct_num_workers
        with beam_pipeline as p:
            squares = p | beam.Create(range(n)) | beam.Map(lambda x: x * x) | beam.CombineGlobally(sum)
            squares | beam.Map(_remember)
        return {"total": _REMEMBERED.pop(), "workers": workers}

    pipeline = tfx.dsl.Pipeline(
        pipeline_name="beam_values",
        pipeline_root=pipeline_root,
        components=[SumSquares(n=10)],
        beam_pipeline_args=["--direct_running_mode=in_memory", "--direct_num_workers=3"],
    )
    outputs = tfx.orchestration.LocalDagRunner().run(pipeline).nodes["SumSquares"].outputs
    assert outputs["total"][0].value == sum(x * x for x in range(10))
    assert outputs["workers"][0].value == 3


_REMEMBERED: list[int] = []


def _remember(total: int) -> None:
    _REMEMBERED.append(total)

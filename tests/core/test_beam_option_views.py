"""OptionsWithRememberedViews: one view object per options class, reading and writing the same
values as Beam's own views, and pickled as Beam pickles options."""

from __future__ import annotations

import pickle

import cloudpickle
from apache_beam.options.pipeline_options import DebugOptions, PipelineOptions, SetupOptions, StandardOptions, TypeOptions

from pipelinekit.dsl.beam_option_views import OptionsWithRememberedViews

FLAGS = ["--runner=DirectRunner", "--experiments=a", "--no_pipeline_type_check", "--pickle_library=cloudpickle"]


def test_a_view_is_made_once_per_class_and_reads_what_beams_views_read():
    ours, beams = OptionsWithRememberedViews(FLAGS), PipelineOptions(FLAGS)
    assert ours.view_as(TypeOptions) is ours.view_as(TypeOptions)
    for cls in (TypeOptions, DebugOptions, SetupOptions, StandardOptions):
        assert ours.view_as(cls).get_all_options() == beams.view_as(cls).get_all_options()
    assert ours.get_all_options() == beams.get_all_options()


def test_a_value_written_through_one_view_is_read_through_every_other():
    options = OptionsWithRememberedViews(FLAGS)
    debug = options.view_as(DebugOptions)
    debug.experiments = [*debug.experiments, "b"]
    assert options.view_as(DebugOptions).experiments == ["a", "b"]
    assert PipelineOptions.view_as(options, DebugOptions).experiments == ["a", "b"]  # a fresh view of the same store
    options.view_as(StandardOptions).runner = "FlinkRunner"
    assert options.get_all_options()["runner"] == "FlinkRunner"


def test_it_pickles_and_the_copy_makes_its_own_views():
    options = OptionsWithRememberedViews(FLAGS)
    options.view_as(TypeOptions)
    for dumps in (pickle.dumps, cloudpickle.dumps):
        copy = pickle.loads(dumps(options))
        assert copy.get_all_options() == options.get_all_options()
        assert copy.view_as(TypeOptions) is copy.view_as(TypeOptions) is not options.view_as(TypeOptions)
        assert copy.view_as(TypeOptions).pipeline_type_check is False

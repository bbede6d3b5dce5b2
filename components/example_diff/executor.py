"""ExampleDiff executor: TFDV's ``DetectFeatureSkewImpl`` on each split pair, in one Beam pipeline."""

from __future__ import annotations

import os
from typing import Any

from pipelinekit.components.util.arguments import parse_proto
from pipelinekit.components.util.examples_io import make_tfxio, require_payload
from pipelinekit.components.util.split_pairs import choose_split_pairs, pair_folder, pair_name

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.proto import example_diff_pb2
from pipelinekit.types.standard import Examples, ExamplesDiff

__all__ = ["run_example_diff", "SKEW_STATS", "SAMPLE_PAIRS", "MATCH_STATS", "CONFUSION"]

SKEW_STATS, SAMPLE_PAIRS, MATCH_STATS, CONFUSION = "skew_stats", "sample_pairs", "match_stats", "confusion"
"""TFX's file prefixes in each ``SplitPair-`` folder (TFRecord shards ``<prefix>-NNNNN-of-NNNNN``)."""


def run_example_diff(
    context: ExecutionContext,
    examples: Examples,
    baseline_examples: Examples,
    example_diff_result: ExamplesDiff,
    example_diff_config: str,
    include_split_pairs: str | None = None,
) -> None:
    from tensorflow_data_validation.skew import feature_skew_detector

    for artifact in (examples, baseline_examples):
        require_payload(artifact, "ExampleDiff")
    options = _detector_options(parse_proto(example_diff_config, example_diff_pb2.ExampleDiffConfig))
    pairs = choose_split_pairs(examples, baseline_examples, include_split_pairs, "ExampleDiff", default="all")
    with context.make_beam_pipeline() as pipeline:
        for test, base in pairs:
            name = pair_name(test, base)
            # TFX 1.16 reads each side from the other's files, so its "base" counts are the
            # test data's; here base is the baseline and test the current examples.
            pair = (_read(pipeline, baseline_examples, base, f"base {name}"), _read(pipeline, examples, test, f"test {name}"))
            results = pair | f"Detect[{name}]" >> feature_skew_detector.DetectFeatureSkewImpl(**options)
            _write(results, pair_folder(example_diff_result.uri, test, base), name)
    context.logger.info("ExampleDiff: compared split pairs %s", [pair_name(t, b) for t, b in pairs])


def _read(pipeline: Any, examples: Examples, split: str, label: str) -> Any:
    """The split's tf.Examples, parsed, as TFX's skew detector takes them."""
    import apache_beam as beam
    import tensorflow as tf

    return (
        pipeline
        | f"Read[{label}]" >> make_tfxio(examples, split, telemetry="ExampleDiff").RawRecordBeamSource()
        | f"Parse[{label}]" >> beam.Map(tf.train.Example.FromString)
    )


def _write(results: dict[str, Any], folder: str, name: str) -> None:
    """Each of the detector's results as TFDV's record files under ``folder``."""
    from tensorflow_data_validation.skew import feature_skew_detector as fsd

    sinks = {
        fsd.SKEW_RESULTS_KEY: (SKEW_STATS, fsd.skew_results_sink),
        fsd.SKEW_PAIRS_KEY: (SAMPLE_PAIRS, fsd.skew_pair_sink),
        fsd.MATCH_STATS_KEY: (MATCH_STATS, fsd.match_stats_sink),
        fsd.CONFUSION_KEY: (CONFUSION, fsd.confusion_count_sink),
    }
    for key, (prefix, sink) in sinks.items():
        if key in results:
            _ = results[key] | f"Write[{prefix} {name}]" >> sink(os.path.join(folder, prefix))


def _detector_options(config: Any) -> dict[str, Any]:
    """``DetectFeatureSkewImpl``'s arguments from the config, as TFX maps them (an unset
    ``float_round_ndigits`` is 0: floats are compared rounded to integers, as in TFX)."""
    from tensorflow_data_validation.skew import feature_skew_detector

    skew = config.paired_example_skew
    return {
        "identifier_features": list(skew.identifier_features),
        "features_to_ignore": list(skew.ignore_features),
        "sample_size": skew.skew_sample_size,
        "float_round_ndigits": skew.float_round_ndigits,
        "allow_duplicate_identifiers": skew.allow_duplicate_identifiers,
        "confusion_configs": [feature_skew_detector.ConfusionConfig(c.feature_name) for c in skew.confusion_config],
    }

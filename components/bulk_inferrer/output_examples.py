"""``output_examples``: each input tf.Example plus the prediction columns an OutputExampleSpec names."""

from __future__ import annotations

from typing import Any

__all__ = ["ExampleWriter"]


class ExampleWriter:
    """Turns a PredictionLog back into its input example with prediction features added."""

    def __init__(self, output_example_spec: Any) -> None:
        self.columns = {spec.signature_name or "serving_default": spec for spec in output_example_spec.output_columns_spec}

    def __call__(self, log: Any) -> bytes:
        import tensorflow as tf

        kind = log.WhichOneof("log_type")
        example = tf.train.Example()
        if kind == "predict_log":
            request = log.predict_log.request
            example.ParseFromString(next(iter(request.inputs.values())).string_val[0])
            self._predict(example, request.model_spec.signature_name, log.predict_log.response)
        elif kind in ("classify_log", "regress_log"):
            part = getattr(log, kind)
            example.CopyFrom(part.request.input.example_list.examples[0])
            self._result(example, part.request.model_spec.signature_name, part.response.result, kind == "classify_log")
        else:
            example.CopyFrom(log.multi_inference_log.request.input.example_list.examples[0])
            for result in log.multi_inference_log.response.results:
                classify = result.HasField("classification_result")
                found = result.classification_result if classify else result.regression_result
                self._result(example, result.model_spec.signature_name, found, classify)
        return example.SerializeToString()

    def _spec(self, signature: str) -> Any:
        spec = self.columns.get(signature or "serving_default")
        if spec is None:
            raise ValueError(
                f"output_example_spec has no output_columns_spec for signature {signature!r} "
                f"(it covers: {', '.join(self.columns)})"
            )
        return spec

    def _predict(self, example: Any, signature: str, response: Any) -> None:
        import tensorflow as tf

        spec = self._spec(signature)
        for column in spec.predict_output.output_columns:
            if column.output_key not in response.outputs:
                raise ValueError(f"signature {signature!r} has no output {column.output_key!r} (output_example_spec)")
            values = tf.make_ndarray(response.outputs[column.output_key]).ravel().tolist()
            _set(example, column.output_column, values)

    def _result(self, example: Any, signature: str, result: Any, classify: bool) -> None:
        spec = self._spec(signature)
        if classify:
            entry = result.classifications[0]
            if spec.classify_output.label_column:
                _set(example, spec.classify_output.label_column, [c.label.encode() for c in entry.classes])
            if spec.classify_output.score_column:
                _set(example, spec.classify_output.score_column, [c.score for c in entry.classes])
        elif spec.regress_output.value_column:
            _set(example, spec.regress_output.value_column, [result.regressions[0].value])


def _set(example: Any, name: str, values: list[Any]) -> None:
    feature = example.features.feature[name]
    if values and isinstance(values[0], bytes):
        feature.bytes_list.value.extend(values)
    elif values and isinstance(values[0], int) and not isinstance(values[0], bool):
        feature.int64_list.value.extend(values)
    else:
        feature.float_list.value.extend(float(v) for v in values)

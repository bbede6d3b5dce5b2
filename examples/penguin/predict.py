"""Ask a served penguin model for a prediction with TensorFlow Serving's official gRPC client.

    python examples/penguin/predict.py --server 127.0.0.1:8500 --model_dir examples/penguin/pipeline_root/serving_model/penguin

The request is exactly what a production client sends to TensorFlow Serving: a Predict call on
the ``serving_default`` signature with serialized tf.Examples of raw rows. Species names come
from the vocabulary the Transform step wrote into the model's assets.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import grpc
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc, predict_pb2, prediction_service_pb2_grpc

PENGUINS = [
    {"island": "Torgersen", "bill_length_mm": 39.1, "bill_depth_mm": 18.7, "flipper_length_mm": 181.0, "body_mass_g": 3750.0,
     "sex": "male", "year": 2007},
    {"island": "Biscoe", "bill_length_mm": 47.5, "bill_depth_mm": 14.2, "flipper_length_mm": 209.0, "body_mass_g": 4600.0,
     "sex": "female", "year": 2008},
    {"island": "Dream", "bill_length_mm": 50.9, "bill_depth_mm": 19.1, "flipper_length_mm": 196.0, "body_mass_g": 3550.0,
     "sex": "male", "year": 2009},
]  # fmt: skip


def serialized_example(row: dict[str, object]) -> bytes:
    """A raw row as a tf.Example, with the types the CSV ingestion inferred (floats, ints, bytes)."""
    features = {}
    for key, value in row.items():
        if isinstance(value, float):
            features[key] = tf.train.Feature(float_list=tf.train.FloatList(value=[value]))
        elif isinstance(value, int):
            features[key] = tf.train.Feature(int64_list=tf.train.Int64List(value=[value]))
        else:
            features[key] = tf.train.Feature(bytes_list=tf.train.BytesList(value=[str(value).encode()]))
    return tf.train.Example(features=tf.train.Features(feature=features)).SerializeToString()


def species_names(model_dir: str) -> list[str]:
    """The label vocabulary (index -> species) of the newest pushed version."""
    newest = max((v for v in os.listdir(model_dir) if v.isdigit()), key=int)
    with open(os.path.join(model_dir, newest, "assets", "species")) as handle:
        return [line.strip() for line in handle if line.strip()]


def wait_until_available(channel: grpc.Channel, model_name: str, timeout_s: float) -> None:
    """Poll TF Serving's ModelService until a version of the model is AVAILABLE."""
    stub = model_service_pb2_grpc.ModelServiceStub(channel)
    request = get_model_status_pb2.GetModelStatusRequest()
    request.model_spec.name = model_name
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            states = [v.state for v in stub.GetModelStatus(request, timeout=2).model_version_status]
            if get_model_status_pb2.ModelVersionStatus.AVAILABLE in states:
                return
        except grpc.RpcError as error:  # not listening yet, or no version loaded yet
            if time.monotonic() > deadline:
                raise SystemExit(f"model {model_name!r} did not become available: {error.details()}") from None
        if time.monotonic() > deadline:
            raise SystemExit(f"model {model_name!r} did not become available within {timeout_s:.0f} s")
        time.sleep(0.2)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--server", default="127.0.0.1:8500")
    parser.add_argument("--model_name", default="penguin")
    parser.add_argument("--model_dir", required=True, help="the Pusher's base directory, to read the species names")
    parser.add_argument("--wait_s", type=float, default=60, help="how long to wait for the model to be AVAILABLE")
    args = parser.parse_args()

    request = predict_pb2.PredictRequest()
    request.model_spec.name = args.model_name
    request.model_spec.signature_name = "serving_default"
    request.inputs["examples"].CopyFrom(tf.make_tensor_proto([serialized_example(p) for p in PENGUINS], dtype=tf.string))
    with grpc.insecure_channel(args.server) as channel:
        wait_until_available(channel, args.model_name, args.wait_s)
        response = prediction_service_pb2_grpc.PredictionServiceStub(channel).Predict(request, timeout=10)
    probabilities = tf.make_ndarray(response.outputs["probabilities"])
    names = species_names(args.model_dir)
    version = response.model_spec.version.value
    for penguin, row in zip(PENGUINS, probabilities):
        best = int(row.argmax())
        print(f"{penguin['island']:<10} {penguin['sex']:<7} bill {penguin['bill_length_mm']} mm -> {names[best]} "
              f"({row[best]:.0%}, model version {version})")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())

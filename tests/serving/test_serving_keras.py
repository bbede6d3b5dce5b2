"""A Keras 3 model exported with ``model.export`` (what the Trainer pushes) served over gRPC and REST."""

from __future__ import annotations

import gc

import httpx
import numpy as np
import pytest

from pipelinekit.serving import Client, single_model_config

pytestmark = pytest.mark.slow

FEATURES = ("bill_length_mm", "flipper_length_mm")


@pytest.fixture(scope="module")
def keras_model(tmp_path_factory):
    """A tiny two-input softmax classifier, exported as version 1, and its in-process predictions."""
    import keras

    inputs = {name: keras.Input(shape=(1,), name=name) for name in FEATURES}
    hidden = keras.layers.Dense(4, activation="relu")(keras.layers.Concatenate()(list(inputs.values())))
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax", name="species")(hidden))
    base_path = tmp_path_factory.mktemp("keras") / "penguin"
    model.export(str(base_path / "1"), verbose=False)
    batch = {name: np.array([[40.0], [50.0]], dtype=np.float32) for name in FEATURES}
    return str(base_path), batch, np.asarray(model(batch))


@pytest.fixture(scope="module")
def server(start_server, keras_model):
    server = start_server(single_model_config("penguin", keras_model[0]))
    gc.collect()  # the served model must own its variables, not lean on garbage not yet collected
    return server


def test_grpc_predict_matches_keras(server, keras_model):
    _, batch, expected = keras_model
    with Client(server.grpc_address, "penguin") as client:
        [output] = client.predict(batch).values()
    np.testing.assert_allclose(output, expected, rtol=1e-5)


def test_rest_row_format_matches_keras(server, keras_model):
    _, batch, expected = keras_model
    instances = [{name: batch[name][i].tolist() for name in FEATURES} for i in range(2)]
    response = httpx.post(
        f"{server.rest_url}/v1/models/penguin:predict", json={"instances": instances}, timeout=10
    )
    np.testing.assert_allclose(response.json()["predictions"], expected, rtol=1e-5)


def test_wrong_rank_is_invalid_argument_naming_the_signature(server):
    body = {"inputs": {name: [40.0] for name in FEATURES}}
    response = httpx.post(f"{server.rest_url}/v1/models/penguin:predict", json=body, timeout=10)
    assert response.status_code == 400
    assert "model 'penguin' version 1 signature 'serving_default'" in response.json()["error"]

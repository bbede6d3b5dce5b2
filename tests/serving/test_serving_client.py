"""pipelinekit.serving.Client over gRPC and REST against a real server, and its error classes."""

from __future__ import annotations

import socket

import numpy as np
import pytest
import tensorflow as tf
from serving_helpers import HALF_PLUS_TWO

from pipelinekit.errors import ServingError
from pipelinekit.serving import Client, InvalidInputError, NotFoundError, VersionStatus, single_model_config
from pipelinekit.serving.errors import ServerUnavailableError

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server(start_server):
    config = single_model_config("half_plus_two", HALF_PLUS_TWO)
    config.model_config_list.config[0].version_labels["stable"] = 123
    return start_server(config)


@pytest.fixture(scope="module", params=["grpc", "rest"])
def address(request, server) -> str:
    return server.grpc_address if request.param == "grpc" else server.rest_url


def test_predict(address):
    with Client(address, "half_plus_two") as client:
        outputs = client.predict({"x": np.array([[1.0], [2.0], [5.0]], dtype=np.float32)})
    assert list(outputs) == ["y"]
    assert outputs["y"].dtype == np.float32
    np.testing.assert_allclose(outputs["y"], [[2.5], [3.0], [4.5]])


def test_predict_with_a_pinned_version_and_label(address):
    for pin in ({"version": 123}, {"label": "stable"}):
        with Client(address, "half_plus_two", **pin) as client:
            assert client.predict({"x": [[2.0]]})["y"].tolist() == [[3.0]]


def test_regress_from_dicts_and_tf_examples(address):
    example = tf.train.Example(
        features=tf.train.Features(
            feature={"x": tf.train.Feature(float_list=tf.train.FloatList(value=[4.0]))}
        )
    )
    with Client(address, "half_plus_two") as client:
        assert client.regress([{"x": 2.0}, example], signature_name="regress_x_to_y") == [3.0, 4.0]
        assert client.regress([{}], signature_name="regress_x_to_y", context={"x": 6.0}) == [5.0]


def test_classify(address):
    with Client(address, "half_plus_two") as client:
        assert client.classify([{"x": 2.0}], signature_name="classify_x_to_y") == [[("", 3.0)]]


def test_status_and_metadata(address):
    with Client(address, "half_plus_two") as client:
        assert client.status() == [VersionStatus(123, "AVAILABLE")]
        assert client.wait_until_available(timeout_s=5).version == 123
        metadata = client.metadata()
    assert metadata["model_spec"] == {"name": "half_plus_two", "version": "123", "signature_name": ""}
    assert set(metadata["metadata"]["signature_def"]["signature_def"]) >= {
        "serving_default",
        "classify_x_to_y",
    }


def test_errors_are_pipelinekit_errors_with_the_status_code(address):
    with Client(address, "nope") as client, pytest.raises(NotFoundError, match="nope") as error:
        client.predict({"x": [[1.0]]})
    assert isinstance(error.value, ServingError) and error.value.code == "NOT_FOUND"
    with Client(address, "half_plus_two") as client, pytest.raises(InvalidInputError, match="'z'"):
        client.predict({"z": [[1.0]]})


@pytest.mark.parametrize("scheme", ["", "http://"])
def test_unreachable_server_is_unavailable(scheme):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound but not listening: connections are refused
        with (
            Client(f"{scheme}127.0.0.1:{port}", "m", timeout_s=1) as client,
            pytest.raises(ServerUnavailableError),
        ):
            client.status()


def test_client_argument_mistakes_are_invalid_input(server):
    with pytest.raises(InvalidInputError, match="version or label"):
        Client(server.grpc_address, "half_plus_two", version=1, label="stable")
    with (
        Client(server.rest_url, "half_plus_two") as client,
        pytest.raises(InvalidInputError, match="output_filter"),
    ):
        client.predict({"x": [[1.0]]}, output_filter=["y"])
    with Client(server.grpc_address, "half_plus_two") as client:
        assert list(client.predict({"x": [[1.0]]}, output_filter=["y"])) == ["y"]

"""Fixtures for the model server tests: the half_plus_two test model and servers on free loopback ports.

A server (and TensorFlow) is costly to start, so test modules share one server each
(module-scoped fixtures); tests that change model folders build their own base path in tmp.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest


@pytest.fixture(scope="module")
def start_server() -> Iterator[Callable[..., object]]:
    """A factory that starts ModelServers on free 127.0.0.1 ports and stops them after the module."""
    from pipelinekit.serving import ModelServer, ServerOptions
    from pipelinekit.serving.load_retries import LoadRetryPolicy

    servers = []

    def start(config, **options) -> ModelServer:
        options.setdefault("grpc_port", 0)
        options.setdefault("rest_port", 0)
        options.setdefault("load_retry", LoadRetryPolicy(max_retries=0))  # a broken version fails at once
        server = ModelServer(ServerOptions(config=config, **options)).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop(grace_s=1)

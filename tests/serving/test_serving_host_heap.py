"""A server started inside another process with ``manage_memory=False`` (the InfraValidator's, in a
pipeline run) leaves that process's heap alone: no collection over the host's objects, no freeze
or unfreeze of them when a version loads or when the server stops. The default server does both."""

from __future__ import annotations

import gc

from serving_helpers import HALF_PLUS_TWO

from pipelinekit.serving import Client, ModelServer, ServerOptions, single_model_config
from pipelinekit.serving.load_retries import LoadRetryPolicy


def _serve_once(manage_memory: bool) -> tuple[int, int, int]:
    """The freeze count before start, while serving and after stop."""
    options = ServerOptions(
        single_model_config("half_plus_two", HALF_PLUS_TWO),
        grpc_port=0,
        rest_port=None,
        poll_wait_seconds=0,
        load_retry=LoadRetryPolicy(max_retries=0),
        manage_memory=manage_memory,
    )
    before = gc.get_freeze_count()
    server = ModelServer(options).start()
    try:
        with Client(server.grpc_address, "half_plus_two") as client:
            assert client.predict({"x": [1.0]})["y"].tolist() == [2.5]
        serving = gc.get_freeze_count()
    finally:
        server.stop(grace_s=0)
    return before, serving, gc.get_freeze_count()


def test_a_hosted_server_neither_freezes_nor_unfreezes_its_hosts_heap():
    host = [object() for _ in range(1000)]  # the host's frozen objects, as the launcher's frozen_heap leaves them
    gc.freeze()
    try:
        before, serving, after = _serve_once(manage_memory=False)
        # Frozen objects that die leave the count, so it may shrink a little; a freeze would add
        # the loaded model's objects, an unfreeze would empty it.
        assert serving <= before and after <= before, "a hosted server froze what it loaded"
        assert after > 0.95 * before, "a hosted server unfroze its host's objects"
        before, serving, after = _serve_once(manage_memory=True)
        assert serving > before, "the default server freezes what is loaded once a version serves"
    finally:
        gc.unfreeze()
    del host

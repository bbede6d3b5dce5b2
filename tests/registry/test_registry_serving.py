"""A server started with ``registry_metadata_path`` follows the registry's aliases: the label
``production`` moves (gRPC, REST, routes) once the new version is loaded, under load with no failed
request; a target that cannot load leaves the label where it was, and says why."""

from __future__ import annotations

import json
import os
import urllib.request

import pytest
from label_load import LabelLoad
from registry_records import RunSpec

from pipelinekit.registry import PRODUCTION

pytestmark = pytest.mark.slow


@pytest.fixture
def served(history, start_server, tmp_path):
    from pipelinekit.serving.model_config import single_model_config

    registry, base = history(RunSpec("run-1", 101), RunSpec("run-2", 102, fingerprint="data-2"), RunSpec("run-3", 103))
    registry.move_alias("penguin", PRODUCTION, 101, "first release")
    routes = tmp_path / "routes.yaml"
    routes.write_text("routes:\n  - name: penguin-live\n    split: [{model: penguin, label: production}]\n")
    server = start_server(
        single_model_config("penguin", base),
        route_config_file=str(routes),
        registry_metadata_path=str(tmp_path / "metadata.sqlite"),
        registry_poll_wait_seconds=0.1,
        poll_wait_seconds=0.2,
    )
    return registry, base, server


def _rest(server, path: str, body: dict | None = None) -> dict:
    request = urllib.request.Request(server.rest_url + path, data=None if body is None else json.dumps(body).encode())
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_the_production_label_follows_alias_moves_under_load_with_no_failed_request(served):
    registry, _, server = served
    assert server.manager.available_versions()["penguin"] == [101, 103]  # the alias's version beside the policy's latest
    assert _rest(server, "/v1/models/penguin/labels/production:predict", {"instances": [[1.0]]}) == {"predictions": [[2.5]]}
    with LabelLoad(server.grpc_address, "penguin", PRODUCTION) as load:
        load.wait_for_version(101, timeout_s=10)
        registry.move_alias("penguin", PRODUCTION, 102, "span 2")
        load.wait_for_version(102, timeout_s=10)
        assert server.manager.available_versions()["penguin"] == [101, 102, 103]  # 101 stays loaded for a rollback
        with LabelLoad(server.grpc_address, "penguin-live", "", clients=1) as routed:  # a route to penguin@production
            routed.wait_for_version(102, timeout_s=10)
        registry.rollback("penguin")
        load.wait_for_version(101, timeout_s=10)
    assert load.failures == [] and routed.failures == []
    assert {a.version for a in load.answers} == {101, 102}
    assert server.manager.label_problems() == {}


def test_a_target_that_cannot_load_leaves_the_label_on_the_old_version_and_says_why(served, caplog):
    registry, base, server = served
    with open(os.path.join(base, "102", "saved_model.pb"), "wb") as handle:
        handle.write(b"this is not a SavedModel")
    with LabelLoad(server.grpc_address, "penguin", PRODUCTION, clients=2) as load:
        registry.move_alias("penguin", PRODUCTION, 102, "span 2")
        deadline_answers = len(load.answers)
        from serving_helpers import wait_for

        wait_for(lambda: "penguin@production" in server.manager.label_problems(), timeout_s=20, what="the failed load")
        wait_for(lambda: len(load.answers) > deadline_answers + 20, what="more answers")
    assert load.failures == [] and {a.version for a in load.answers} == {101}
    why = server.manager.label_problems()["penguin@production"]
    assert "failed to load" in why and "saved_model.pb" in why
    assert "label 'production' still answers with version 101: version 102 failed to load" in caplog.text
    statuses = {s["version"]: s for s in _rest(server, "/v1/models/penguin")["model_version_status"]}
    assert statuses["102"]["state"] == "END" and statuses["102"]["status"]["error_code"] != "OK"
    registry.move_alias("penguin", PRODUCTION, 103, "skip the broken one")
    from serving_helpers import wait_for

    wait_for(lambda: server.manager.label_problems() == {}, timeout_s=10, what="the label to move to 103")

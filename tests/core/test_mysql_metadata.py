"""ML Metadata on MySQL (MariaDB in CI): the same runs, cache and lineage as on SQLite.

`.ci/run` starts a throwaway server (scripts/start_test_mysql.sh) and sets
PIPELINEKIT_TEST_MYSQL=host:port:database:user:password; without it these tests are skipped.
"""

from __future__ import annotations

import os
import uuid

import pytest
from test_runners import diamond

from pipelinekit import LocalDagRunner, MetadataError, mysql_metadata
from pipelinekit.metadata import MetadataStore, upstream

SETTINGS = os.environ.get("PIPELINEKIT_TEST_MYSQL")
pytestmark = pytest.mark.skipif(not SETTINGS, reason="PIPELINEKIT_TEST_MYSQL is not set (scripts/start_test_mysql.sh sets it)")


def mysql_config(password: str | None = None):
    host, port, database, user, secret = SETTINGS.split(":")  # type: ignore[union-attr]
    return mysql_metadata(host, database, user, secret if password is None else password, port=int(port))


def test_runs_cache_and_lineage_on_mysql(pipeline_root):
    name = f"mysql_{uuid.uuid4().hex[:8]}"  # the server may outlive one test run

    def pipeline():
        p = diamond(pipeline_root)
        p.pipeline_name = name
        p.metadata = mysql_config()
        return p

    first = LocalDagRunner().run(pipeline())
    assert {r.status for r in first.nodes.values()} == {"ran"}
    second = LocalDagRunner().run(pipeline())
    assert {r.status for r in second.nodes.values()} == {"cached"}
    store = MetadataStore(mysql_config())
    assert [run.properties["status"] for run in store.runs(name)] == ["COMPLETE", "COMPLETE"]
    assert len(upstream(store, second.output("combine", "total").id).artifact_ids()) == 4


def test_a_wrong_password_names_the_server_but_not_the_password():
    with pytest.raises(MetadataError) as caught:
        MetadataStore(mysql_config(password="wrong-secret"))
    message = str(caught.value)
    host, port, database, user, _ = SETTINGS.split(":")  # type: ignore[union-attr]
    assert f"mysql://{user}@{host}:{port}/{database}" in message and "wrong-secret" not in message

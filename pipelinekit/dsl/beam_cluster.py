"""Executors' Beam pipelines on a cluster runner (Flink, or any portable job service).

Before a node submits a job, the addresses in its ``beam_pipeline_args`` are checked (a few
seconds, not the job service's minute of retrying), the job gets a name that says which node
and execution it belongs to, and a failed job is reported with the cluster's own job id.
No Beam import at module level: this is used from ``ExecutionContext.make_beam_pipeline``.
"""

from __future__ import annotations

import argparse
import json
import re
import socket
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from pipelinekit.errors import ClusterError, DefinitionError

__all__ = ["ClusterTarget", "cluster_target", "check_reachable", "cluster_pipeline", "flink_job", "CONNECT_TIMEOUT_S"]

CONNECT_TIMEOUT_S = 3.0
_CLUSTER_RUNNERS = {"flink": "Flink", "portable": "the portable job service", "spark": "Spark"}
_ARGS_HINT = "scripts/flink_cluster.sh args prints a working set for the local cluster"


@dataclass(frozen=True)
class ClusterTarget:
    """Where a cluster runner's job goes: ``addresses`` maps what (e.g. ``--job_endpoint``) to host:port."""

    runner: str
    addresses: dict[str, str]
    flink_rest: str | None

    def describe(self) -> str:
        return f"{self.runner} ({', '.join(f'{flag}={address}' for flag, address in self.addresses.items())})"


def cluster_target(args: Sequence[str]) -> ClusterTarget | None:
    """The cluster that ``args`` send a Beam job to, or None for the DirectRunner (and the
    runners that manage their own service, such as Dataflow)."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    for flag in ("--runner", "--flink_master", "--job_endpoint", "--environment_type", "--environment_config"):
        parser.add_argument(flag)
    known, _ = parser.parse_known_args(list(args))
    kind = (known.runner or "DirectRunner").lower().removesuffix("runner")
    if kind not in _CLUSTER_RUNNERS:
        return None
    environment = (known.environment_type or "").upper()
    if not environment:
        raise DefinitionError(
            f"--runner={known.runner} without --environment_type: Beam would start its SDK workers in Docker containers; "
            f"add --environment_type=EXTERNAL --environment_config=HOST:PORT of a worker pool "
            f"(python -m apache_beam.runners.worker.worker_pool_main), or --environment_type=PROCESS; {_ARGS_HINT}"
        )
    addresses: dict[str, str] = {}
    flink_rest = None
    if known.flink_master and not known.flink_master.startswith("["):
        flink_rest = re.sub(r"^https?://", "", known.flink_master).rstrip("/")
        addresses["--flink_master"] = flink_rest
    if known.job_endpoint and known.job_endpoint != "embed":
        addresses["--job_endpoint"] = known.job_endpoint
    if environment == "EXTERNAL":
        if not known.environment_config:
            raise DefinitionError(
                "--environment_type=EXTERNAL needs --environment_config=HOST:PORT of a Beam worker pool; " + _ARGS_HINT
            )
        addresses["--environment_config"] = known.environment_config
    return ClusterTarget(_CLUSTER_RUNNERS[kind], addresses, flink_rest)


def check_reachable(target: ClusterTarget, node_id: str) -> None:
    """Connect to each address once; the first that does not answer is reported by flag and address."""
    for flag, address in target.addresses.items():
        host, _, port = address.rpartition(":")
        try:
            with socket.create_connection((host or "localhost", int(port)), timeout=CONNECT_TIMEOUT_S):
                pass
        except (OSError, ValueError) as error:
            raise ClusterError(
                f"node {node_id!r}: {flag}={address} does not answer ({error}); the Beam job for {target.runner} cannot be "
                f"submitted. Start the cluster (scripts/flink_cluster.sh start for the local one) or fix {flag}"
            ) from None


def flink_job(rest_address: str, job_name: str) -> dict[str, Any] | None:
    """The newest Flink job called ``job_name`` from the REST API's /jobs/overview (None if
    Flink does not answer or knows no such job)."""
    try:
        with urllib.request.urlopen(f"http://{rest_address}/jobs/overview", timeout=CONNECT_TIMEOUT_S) as response:
            jobs = json.load(response)["jobs"]
    except (OSError, ValueError, KeyError):
        return None
    named = [job for job in jobs if job.get("name") == job_name]
    return max(named, key=lambda job: job.get("start-time", 0)) if named else None


def cluster_pipeline(options: Any, target: ClusterTarget) -> Any:
    """A ``beam.Pipeline`` whose failure, when its ``with`` block ends, is a ClusterError naming
    the cluster's job (its Flink id and state when Flink's REST API knows it)."""
    import apache_beam as beam

    job_name = options.get_all_options()["job_name"]

    class ClusterPipeline(beam.Pipeline):  # type: ignore[misc, name-defined]
        def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
            try:
                super().__exit__(exc_type, exc, tb)
            except Exception as error:
                if exc_type is not None:  # the with block itself failed: that error stands
                    raise
                raise ClusterError(f"{_describe_job(target, job_name)} failed: {error}") from error

    return ClusterPipeline(options=options)


def _describe_job(target: ClusterTarget, job_name: str) -> str:
    job = flink_job(target.flink_rest, job_name) if target.flink_rest else None
    if job is None:
        return f"the Beam job {job_name!r} on {target.describe()}"
    return f"Flink job {job_name!r} (id {job['jid']}, {job['state']}; http://{target.flink_rest}/#/job/{job['jid']}/exceptions)"

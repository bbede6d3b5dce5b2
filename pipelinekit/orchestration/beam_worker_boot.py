"""Boot a Beam Python SDK worker for a PROCESS environment, without Beam's container boot binary.

A Flink TaskManager running a job with ``--environment_type=PROCESS`` starts
``<command> --id=... --provision_endpoint=... --control_endpoint=... --logging_endpoint=...``
for each worker it needs. Beam's own ``boot`` executable ships only in its SDK container; this
does its job for a worker that runs in an existing environment (this project's venv): it asks
the provision service for the job's pipeline options and then becomes
``apache_beam.runners.worker.sdk_worker_main`` with the environment that expects. Staged
artifacts are not installed: the venv must already hold the job's code (it does on the hosts
the cluster script manages; see docs/SCALE.md for other hosts).

Each TaskManager starts its own workers, so several TaskManagers on one host never share one,
as they would share the one worker pool of an EXTERNAL environment (whose workers are keyed by
an id each TaskManager counts from 1, so one TaskManager's stop request kills another's worker).
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--id", required=True)
    parser.add_argument("--provision_endpoint", required=True)
    parser.add_argument("--control_endpoint")
    parser.add_argument("--logging_endpoint")
    parser.add_argument("--artifact_endpoint")
    parser.add_argument("--semi_persist_dir", default=None)
    args, _ = parser.parse_known_args(argv)

    import grpc
    from apache_beam.portability.api import beam_provision_api_pb2, beam_provision_api_pb2_grpc, endpoints_pb2
    from google.protobuf import json_format, text_format

    with grpc.insecure_channel(args.provision_endpoint) as channel:
        info = (
            beam_provision_api_pb2_grpc.ProvisionServiceStub(channel)
            .GetProvisionInfo(beam_provision_api_pb2.GetProvisionInfoRequest(), metadata=[("worker_id", args.id)], timeout=120)
            .info
        )

    def descriptor(provided: endpoints_pb2.ApiServiceDescriptor, url: str | None) -> str:
        return text_format.MessageToString(provided if provided.url else endpoints_pb2.ApiServiceDescriptor(url=url or ""))

    environment = dict(os.environ)
    environment.update(
        WORKER_ID=args.id,
        PIPELINE_OPTIONS=json_format.MessageToJson(info.pipeline_options),
        CONTROL_API_SERVICE_DESCRIPTOR=descriptor(info.control_endpoint, args.control_endpoint),
        LOGGING_API_SERVICE_DESCRIPTOR=descriptor(info.logging_endpoint, args.logging_endpoint),
        RUNNER_CAPABILITIES=" ".join(info.runner_capabilities),
    )
    if args.semi_persist_dir:
        environment["SEMI_PERSISTENT_DIRECTORY"] = args.semi_persist_dir
    sys.stdout.flush()
    os.execve(sys.executable, [sys.executable, "-m", "apache_beam.runners.worker.sdk_worker_main"], environment)


if __name__ == "__main__":
    main()

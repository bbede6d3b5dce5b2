"""The InfraValidator's executor: serve the model in pipelinekit's server, in this process on a
free 127.0.0.1 port, wait for AVAILABLE, send the requests, and write the verdict."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

from pipelinekit.components.infra_validator.requests import (
    RequestBuildError,
    UnreadableModelError,
    build_requests,
    read_examples,
    write_warmup,
)
from pipelinekit.components.util.arguments import parse_proto

from pipelinekit.dsl.context import ExecutionContext
from pipelinekit.proto import infra_validator_pb2
from pipelinekit.types.standard import Examples, InfraBlessing, Model

__all__ = ["run_infra_validator", "ValidationFailure"]

DEFAULT_MODEL_NAME = "infra-validation-model"
DEFAULT_TRIES = 5
DEFAULT_LOADING_S = 300


class ValidationFailure(Exception):
    """One validation try failed; ``retry`` says whether another try could succeed."""

    def __init__(self, message: str, retry: bool) -> None:
        super().__init__(message)
        self.retry = retry


def run_infra_validator(
    context: ExecutionContext,
    model: Model,
    blessing: InfraBlessing,
    serving_spec: str,
    examples: Examples | None = None,
    request_spec: str | None = None,
    validation_spec: str | None = None,
) -> None:
    """Validate ``model`` and write INFRA_BLESSED or INFRA_NOT_BLESSED with the reason."""
    serving = parse_proto(serving_spec, infra_validator_pb2.ServingSpec)
    requests_spec = parse_proto(request_spec, infra_validator_pb2.RequestSpec) if request_spec else None
    validation = parse_proto(validation_spec, infra_validator_pb2.ValidationSpec)
    _note_serving_target(serving, context)
    model_name = serving.model_name or DEFAULT_MODEL_NAME
    model_dir = model.serving_model_dir
    try:
        _check_model_files(model_dir)
        requests = _requests(model_dir, model_name, examples, requests_spec) if examples is not None and requests_spec else []
    except UnreadableModelError as unreadable:
        _not_blessed(blessing, f"the model at {model.uri} cannot be served: {unreadable}", context)
        return
    stamped = os.path.join(blessing.uri, "stamped_model")
    if requests and requests_spec is not None and requests_spec.make_warmup:
        shutil.copytree(model_dir, stamped)
        write_warmup(stamped, requests)
        model_dir = stamped
    error = _validate(model_dir, model_name, requests, validation, context)
    if error is None:
        blessing.mark(True)
        blessing.has_model = int(model_dir == stamped)
        blessing.set_custom_property("reason", f"loaded and answered {len(requests)} request(s)")
        return
    shutil.rmtree(stamped, ignore_errors=True)
    _not_blessed(blessing, error, context)


def _not_blessed(blessing: InfraBlessing, reason: str, context: ExecutionContext) -> None:
    blessing.mark(False)
    blessing.has_model = 0
    blessing.set_custom_property("reason", reason)
    context.logger.warning("InfraValidator: INFRA_NOT_BLESSED: %s", reason)


def _check_model_files(model_dir: str) -> None:
    """A model without a SavedModel folder cannot be served: say so before starting a server."""
    if not os.path.isdir(model_dir):
        raise UnreadableModelError(f"it has no {os.path.basename(model_dir)}/ folder (expected the SavedModel in {model_dir})")
    if not any(os.path.isfile(os.path.join(model_dir, name)) for name in ("saved_model.pb", "saved_model.pbtxt")):
        raise UnreadableModelError(f"{model_dir} holds no saved_model.pb")


def _note_serving_target(serving: Any, context: ExecutionContext) -> None:
    platform = serving.WhichOneof("serving_platform")
    binary = serving.WhichOneof("serving_binary")
    if platform or binary:
        image = serving.tensorflow_serving.image_name or "tensorflow/serving"
        tags = ",".join(serving.tensorflow_serving.tags) or "latest"
        context.logger.info(
            "InfraValidator: serving_spec names %s (%s:%s) on %s; validating with pipelinekit's TF-Serving-compatible "
            "server in this process instead (same gRPC API and model layout, no Docker)",
            binary or "a model server",
            image,
            tags,
            platform or "an unspecified platform",
        )


def _requests(model_dir: str, model_name: str, examples: Examples, spec: Any) -> list[Any]:
    split = spec.split_name or ("eval" if "eval" in examples.splits or not examples.splits else examples.splits[0])
    records = read_examples(examples, split, spec.num_examples or 1)
    if not records:
        raise RequestBuildError(f"request_spec.split_name {split!r} of Examples {examples.uri} holds no examples")
    return build_requests(model_dir, model_name, list(spec.tensorflow_serving.signature_names), records)


def _validate(model_dir: str, model_name: str, requests: list[Any], validation: Any, context: ExecutionContext) -> str | None:
    """``None`` when a try succeeds, else what went wrong in the last try."""
    tries = validation.num_tries or DEFAULT_TRIES
    loading_s = validation.max_loading_time_seconds or DEFAULT_LOADING_S
    message = ""
    for attempt in range(1, tries + 1):
        try:
            _validate_once(model_dir, model_name, requests, loading_s)
            return None
        except ValidationFailure as failure:
            message = f"try {attempt} of {tries}: {failure}"
            context.logger.warning("InfraValidator: %s", message)
            if not failure.retry:
                break
    return message


def _validate_once(model_dir: str, model_name: str, requests: list[Any], loading_s: float) -> None:
    from pipelinekit.serving import ModelServer, ServerOptions, single_model_config
    from pipelinekit.serving.load_retries import LoadRetryPolicy

    with tempfile.TemporaryDirectory(prefix="infra-validation-") as base:
        os.symlink(os.path.abspath(model_dir), os.path.join(base, "1"))
        options = ServerOptions(
            single_model_config(model_name, base),
            grpc_port=0,
            rest_port=None,
            poll_wait_seconds=0,
            load_retry=LoadRetryPolicy(max_retries=0),  # the validator's own tries (num_tries) retry instead
            # The heap is the pipeline process's: stopping must not stop every node's threads for a
            # full collection of TensorFlow's, Beam's and TFMA's objects (about 1 s, under the GIL).
            manage_memory=False,
        )
        try:
            server = ModelServer(options).start()
        except Exception as error:
            raise ValidationFailure(f"the model server did not start: {error}", retry=True) from error
        try:
            _wait_available(server, model_name, model_dir, loading_s)
            _send(server.grpc_address, requests)
        finally:
            server.stop(grace_s=0)


def _wait_available(server: Any, model_name: str, model_dir: str, loading_s: float) -> None:
    from pipelinekit.errors import ServingError
    from pipelinekit.serving import Client, NotFoundError

    deadline = time.monotonic() + loading_s
    with Client(server.grpc_address, model_name, timeout_s=10) as client:
        while time.monotonic() < deadline:
            try:
                status = client.status()
            except NotFoundError as error:  # start() returns after the first load: no version now means none
                raise ValidationFailure(
                    f"the server found no servable version of the model at {model_dir}: {error}", retry=False
                ) from error
            except ServingError as error:
                raise ValidationFailure(
                    f"the server's status for the model at {model_dir} failed: {error}", retry=True
                ) from error
            if any(s.state == "AVAILABLE" for s in status):
                return
            failed = [s for s in status if s.state == "END"]
            if failed:
                raise ValidationFailure(f"the model at {model_dir} failed to load: {failed[0].error_message}", retry=False)
            time.sleep(0.1)
    raise ValidationFailure(f"the model at {model_dir} was not AVAILABLE within {loading_s} s", retry=True)


def _send(address: str, requests: list[Any]) -> None:
    import grpc
    from tensorflow_serving.apis import prediction_service_pb2_grpc

    with grpc.insecure_channel(address) as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)
        for request in requests:
            method = {"PredictRequest": stub.Predict, "ClassificationRequest": stub.Classify}.get(
                type(request).__name__, stub.Regress
            )
            try:
                method(request, timeout=30)
            except grpc.RpcError as error:
                code = error.code()
                raise ValidationFailure(
                    f"{type(request).__name__} to signature {request.model_spec.signature_name!r} failed: "
                    f"{code.name}: {error.details()}",
                    retry=code in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED),
                ) from error

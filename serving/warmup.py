"""Replays a version's warm-up requests (warmup_requests.py) before it serves, as TF Serving does.

Each PredictionLog runs once, in file order, through the same code as the gRPC API (and so through the
batching queues); the first that fails fails the load, and the version is never marked AVAILABLE.
"""
import asyncio
import time

from speech_emotion.serving import errors
from speech_emotion.serving import grpc_api
from speech_emotion.serving import inference
from speech_emotion.serving import metrics as metrics_lib
from speech_emotion.serving import servable as servable_lib
from speech_emotion.serving import warmup_requests

# PredictionLog's log_type -> how its request runs.
_RUNNERS = {
    "predict_log": grpc_api.predict,
    "classify_log": grpc_api.classify,
    "regress_log": grpc_api.regress,
    "multi_inference_log": grpc_api.multi_inference,
}


def warm_up(service: inference.InferenceService, servable: servable_lib.Servable, metrics: metrics_lib.ServerMetrics) -> int:
    """Replays the warm-up requests of `servable`'s version; returns how many ran (0 without a warm-up file).
    Raises ValueError naming the file (and the record) when the file is malformed or a request fails."""
    path = warmup_requests.requests_path(servable.path)
    started = time.monotonic()
    try:
        logs = warmup_requests.read_requests(servable.path)
        if logs:
            asyncio.run(_replay(service, servable, logs, path, metrics))
    except ValueError as error:
        status = error.code_name if isinstance(error, _ReplayError) else "INVALID_ARGUMENT"
        metrics.model_warmup_latency.observe((time.monotonic() - started) * 1e6, path, status)
        raise
    if logs:
        metrics.model_warmup_latency.observe((time.monotonic() - started) * 1e6, path, "OK")
    return len(logs)


class _ReplayError(ValueError):
    def __init__(self, message: str, code_name: str):
        super().__init__(message)
        self.code_name = code_name


async def _replay(service: inference.InferenceService, servable: servable_lib.Servable, logs, path: str,
                  metrics: metrics_lib.ServerMetrics) -> None:
    for index, log in enumerate(logs):
        kind = log.WhichOneof("log_type")
        if kind not in _RUNNERS:
            raise _ReplayError(f"Unsupported log_type for warmup: {kind} (record {index} of {path})", "UNIMPLEMENTED")
        try:
            await _RUNNERS[kind](service, servable, getattr(log, kind).request)
        except errors.ServingError as error:
            raise _ReplayError(f"Warm-up request {index} ({kind}) of {path} failed: {error.message}", error.code.name) from None
        metrics.warmup_request_count.increment(servable.name, kind)

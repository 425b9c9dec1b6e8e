"""TF Serving's gRPC services on grpc.aio: PredictionService (Predict, Classify, Regress, MultiInference,
GetModelMetadata) and ModelService (GetModelStatus), using tensorflow_serving.apis' generated servicers."""
import logging
import math
import time
import typing

import grpc
import numpy as np
import tensorflow as tf
from tensorflow.core.framework import tensor_pb2
from tensorflow_serving.apis import classification_pb2
from tensorflow_serving.apis import inference_pb2
from tensorflow_serving.apis import model_pb2
from tensorflow_serving.apis import model_service_pb2_grpc
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc
from tensorflow_serving.apis import regression_pb2

from speech_emotion.serving import errors
from speech_emotion.serving import inference
from speech_emotion.serving import metrics as metrics_lib
from speech_emotion.serving import servable as servable_lib

ENTRYPOINT = "GRPC"

# The TensorProto field that carries each dtype's values; TF Serving answers in these fields (AsProtoField).
_VALUE_FIELDS = {
    tf.float32: "float_val", tf.float64: "double_val", tf.float16: "half_val", tf.bfloat16: "half_val",
    tf.int8: "int_val", tf.int16: "int_val", tf.int32: "int_val", tf.uint8: "int_val", tf.uint16: "int_val",
    tf.int64: "int64_val", tf.uint32: "uint32_val", tf.uint64: "uint64_val", tf.bool: "bool_val", tf.string: "string_val",
}


def tensor_proto_to_array(proto: tensor_pb2.TensorProto) -> np.ndarray:
    """A request's TensorProto as an array; InvalidArgument for unsupported dtypes and shapes without values."""
    try:
        dtype = tf.as_dtype(proto.dtype)
    except TypeError:
        raise errors.invalid_argument(f"Unsupported tensor dtype {proto.dtype}") from None
    if dtype not in _VALUE_FIELDS:
        raise errors.invalid_argument(f"Unsupported tensor dtype {dtype.name}")
    dims = [dim.size for dim in proto.tensor_shape.dim]
    if proto.tensor_shape.unknown_rank or any(size < 0 for size in dims):
        raise errors.invalid_argument(f"Tensor shape must be fully defined, got {proto.tensor_shape}")
    elements = math.prod(dims)
    if proto.tensor_content and dtype != tf.string:
        provided = len(proto.tensor_content) // dtype.size
    else:
        provided = len(getattr(proto, _VALUE_FIELDS[dtype]))
    # make_ndarray would repeat the last value to fill the shape; a huge shape must not fill memory.
    if elements > provided:
        raise errors.invalid_argument(f"Tensor of shape {dims} needs {elements} values, the request carries {provided}")
    try:
        return tf.make_ndarray(proto)
    except (TypeError, ValueError) as error:
        raise errors.invalid_argument(f"Cannot read tensor: {error}") from None


def array_to_tensor_proto(array: np.ndarray) -> tensor_pb2.TensorProto:
    """An output array as a TensorProto with typed value fields, as TF Serving writes responses."""
    dtype = tf.string if array.dtype == object else tf.as_dtype(array.dtype)
    proto = tensor_pb2.TensorProto(dtype=dtype.as_datatype_enum, tensor_shape=tf.TensorShape(array.shape).as_proto())
    flat = array.reshape(-1)
    if dtype in (tf.float16, tf.bfloat16):
        flat = flat.view(np.uint16)
    getattr(proto, _VALUE_FIELDS[dtype]).extend(flat.tolist())
    return proto


def _version_and_label(model_spec) -> typing.Tuple[typing.Optional[int], typing.Optional[str]]:
    version = model_spec.version.value if model_spec.HasField("version") else None
    return version, model_spec.version_label or None


def _servable(service: inference.InferenceService, model_spec) -> servable_lib.Servable:
    """The loaded version a request's ModelSpec names."""
    return service.manager.servable(model_spec.name, *_version_and_label(model_spec))


# Each runs one request on a resolved servable; the gRPC handlers and the warm-up replay share them.

async def predict(service: inference.InferenceService, servable: servable_lib.Servable,
                  request: predict_pb2.PredictRequest) -> predict_pb2.PredictResponse:
    inputs = {name: tensor_proto_to_array(proto) for name, proto in request.inputs.items()}
    signature_name = request.model_spec.signature_name or servable_lib.DEFAULT_SIGNATURE
    outputs = await service.predict(servable, signature_name, inputs, list(request.output_filter))
    response = predict_pb2.PredictResponse(model_spec=inference.model_spec(servable, signature_name))
    for name, array in outputs.items():
        response.outputs[name].CopyFrom(array_to_tensor_proto(array))
    return response


async def classify(service: inference.InferenceService, servable: servable_lib.Servable,
                   request: classification_pb2.ClassificationRequest) -> classification_pb2.ClassificationResponse:
    signature_name = request.model_spec.signature_name or servable_lib.DEFAULT_SIGNATURE
    result = await service.classify(servable, signature_name, inference.serialized_examples(request.input))
    return classification_pb2.ClassificationResponse(model_spec=inference.model_spec(servable, signature_name), result=result)


async def regress(service: inference.InferenceService, servable: servable_lib.Servable,
                  request: regression_pb2.RegressionRequest) -> regression_pb2.RegressionResponse:
    signature_name = request.model_spec.signature_name or servable_lib.DEFAULT_SIGNATURE
    result = await service.regress(servable, signature_name, inference.serialized_examples(request.input))
    return regression_pb2.RegressionResponse(model_spec=inference.model_spec(servable, signature_name), result=result)


async def multi_inference(service: inference.InferenceService, servable: servable_lib.Servable,
                          request: inference_pb2.MultiInferenceRequest) -> inference_pb2.MultiInferenceResponse:
    return await service.multi_inference(servable, request.tasks, inference.serialized_examples(request.input))


def _multi_inference_model_spec(request: inference_pb2.MultiInferenceRequest) -> model_pb2.ModelSpec:
    """The first task's ModelSpec picks the servable, as in TF Serving; no task: an empty one."""
    return request.tasks[0].model_spec if request.tasks else model_pb2.ModelSpec()


async def _answer(service: inference.InferenceService, metrics: metrics_lib.ServerMetrics, context, api: str,
                  model_name: str, run: typing.Callable[[], typing.Awaitable]):
    """Runs one call; failures become the call's gRPC status, and every call is counted."""
    started = time.monotonic()
    model_name = service.model_label(model_name)
    try:
        response = await run()
    except errors.ServingError as error:
        code, message = error.code, error.message
    except Exception as error:  # noqa: BLE001 - a bug must answer INTERNAL, never kill the server
        logging.exception("gRPC %s failed", api)
        code, message = grpc.StatusCode.INTERNAL, f"Internal error: {error}"
    else:
        metrics.record_request(model_name, api, ENTRYPOINT, grpc.StatusCode.OK.name, time.monotonic() - started)
        return response
    metrics.record_request(model_name, api, ENTRYPOINT, code.name, time.monotonic() - started)
    await context.abort(code, message)


class PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
    """Predict, Classify, Regress, MultiInference and GetModelMetadata."""

    def __init__(self, service: inference.InferenceService, metrics: metrics_lib.ServerMetrics):
        self._service = service
        self._metrics = metrics

    async def _run_on_servable(self, context, api: str, model_spec, request, run):
        async def resolve_and_run():
            return await run(self._service, _servable(self._service, model_spec), request)

        return await _answer(self._service, self._metrics, context, api, model_spec.name, resolve_and_run)

    async def Predict(self, request, context):
        return await self._run_on_servable(context, "predict", request.model_spec, request, predict)

    async def Classify(self, request, context):
        return await self._run_on_servable(context, "classify", request.model_spec, request, classify)

    async def Regress(self, request, context):
        return await self._run_on_servable(context, "regress", request.model_spec, request, regress)

    async def MultiInference(self, request, context):
        return await self._run_on_servable(context, "multi_inference", _multi_inference_model_spec(request), request,
                                           multi_inference)

    async def GetModelMetadata(self, request, context):
        async def run():
            if not request.HasField("model_spec"):
                raise errors.invalid_argument("Missing ModelSpec")
            return self._service.metadata(request.model_spec.name, *_version_and_label(request.model_spec),
                                          list(request.metadata_field))

        return await _answer(self._service, self._metrics, context, "metadata", request.model_spec.name, run)


class ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
    """GetModelStatus; HandleReloadConfigRequest answers UNIMPLEMENTED (restart with a new --model_config_file)."""

    def __init__(self, service: inference.InferenceService, metrics: metrics_lib.ServerMetrics):
        self._service = service
        self._metrics = metrics

    async def GetModelStatus(self, request, context):
        async def run():
            if not request.HasField("model_spec"):
                raise errors.invalid_argument("Missing ModelSpec")
            return self._service.status(request.model_spec.name, *_version_and_label(request.model_spec))

        return await _answer(self._service, self._metrics, context, "status", request.model_spec.name, run)


class _Unparsable(typing.NamedTuple):
    reason: str


class RejectUnparsableRequests(grpc.aio.ServerInterceptor):
    """Answers INVALID_ARGUMENT to request bytes that are not the method's message (gRPC would say UNKNOWN)."""

    async def intercept_service(self, continuation, handler_call_details):
        handler = await continuation(handler_call_details)
        if handler is None or handler.unary_unary is None or handler.request_deserializer is None:
            return handler
        deserialize, behavior = handler.request_deserializer, handler.unary_unary

        def deserialize_or_mark(data: bytes):
            try:
                return deserialize(data)
            except Exception as error:  # noqa: BLE001 - protobuf raises DecodeError and RuntimeWarning-laden variants
                return _Unparsable(str(error))

        async def reject_or_run(request, context):
            if isinstance(request, _Unparsable):
                await context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"Cannot parse the request message: {request.reason}")
            return await behavior(request, context)

        return grpc.unary_unary_rpc_method_handler(reject_or_run, request_deserializer=deserialize_or_mark,
                                                   response_serializer=handler.response_serializer)


def add_servicers(server: grpc.aio.Server, service: inference.InferenceService, metrics: metrics_lib.ServerMetrics) -> None:
    prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(PredictionServicer(service, metrics), server)
    model_service_pb2_grpc.add_ModelServiceServicer_to_server(ModelServicer(service, metrics), server)

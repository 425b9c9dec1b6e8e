"""TF Serving's REST API (api_rest.md) on aiohttp, plus the Prometheus page when monitoring is enabled.

    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]            model status
    GET  /v1/models/{name}[/versions/{v}|/labels/{l}]/metadata   signature defs
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:predict    instances / inputs
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:classify   examples
    POST /v1/models/{name}[/versions/{v}|/labels/{l}]:regress    examples
Every failure answers {"error": message} with TF Serving's HTTP status for the error's code.
Browser pages of other origins may call the API only when the origin policy lists them (cross_origin.py);
the web page is `ser app`'s (serving/app/). A body that has not fully arrived `read_timeout_seconds`
after its headers gets 408; the server's connection keep-alive timeout, the same length, bounds idle
connections and slowly sent headers (model_server.py).
"""
import asyncio
import logging
import re
import time
import typing
import urllib.parse

import grpc
from aiohttp import web
from google.protobuf import json_format
from tensorflow_serving.apis import get_model_metadata_pb2

from speech_emotion.serving import cross_origin
from speech_emotion.serving import errors
from speech_emotion.serving import inference
from speech_emotion.serving import json_tensor
from speech_emotion.serving import metrics as metrics_lib
from speech_emotion.serving import model_manager

# TF Serving's path patterns (model_servers/http_rest_api_util.cc).
_API_PATH = re.compile(r"/v1/.*", re.IGNORECASE)
_PREDICTION_PATH = re.compile(
    r"/v1/models/([^/:]+)(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?:(classify|regress|predict)", re.IGNORECASE)
_STATUS_PATH = re.compile(
    r"/v1/models(?:/([^/:]+))?(?:(?:/versions/([0-9]+))|(?:/labels/([^/:]+)))?(?:/(metadata))?", re.IGNORECASE)
_JSON = "application/json"
ENTRYPOINT = "REST"


class _BodyTimeout(Exception):
    """The request body did not arrive in time."""


class RestApi:
    """Answers REST requests with `service`; bodies over `max_request_bytes` get 413."""

    def __init__(self, service: inference.InferenceService, metrics: metrics_lib.ServerMetrics,
                 max_request_bytes: int, read_timeout_seconds: float, origin_policy: cross_origin.OriginPolicy,
                 prometheus_path: typing.Optional[str] = None):
        self._service = service
        self._metrics = metrics
        self._max_request_bytes = max_request_bytes
        self._read_timeout_seconds = read_timeout_seconds
        self._origin_policy = origin_policy
        self._prometheus_path = prometheus_path

    def application(self) -> web.Application:
        app = web.Application(client_max_size=self._max_request_bytes)
        app.on_response_prepare.append(cross_origin.add_security_headers)
        app.router.add_route("*", "/{path:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.raw_path.split("?", 1)[0]
        if cross_origin.is_preflight(request.method, request.headers):
            return self._preflight(request)
        if self._prometheus_path is not None and path == self._prometheus_path and request.method == "GET":
            return web.Response(text=self._metrics.render(), content_type="text/plain")
        started = time.monotonic()
        call = _Call()
        try:
            body = await self._handle_api(request, path, call)
            status, code = 200, grpc.StatusCode.OK
        except errors.ServingError as error:
            body, status, code = json_tensor.error_response(error.message), error.http_status, error.code
        except web.HTTPRequestEntityTooLarge:
            message = f"Request body exceeds the limit of {self._max_request_bytes} bytes"
            body, status, code = json_tensor.error_response(message), 413, grpc.StatusCode.RESOURCE_EXHAUSTED
        except _BodyTimeout:
            message = (f"The request body did not arrive within {self._read_timeout_seconds:g} s of its headers "
                       "(--rest_api_read_timeout_in_ms)")
            body, status, code = json_tensor.error_response(message), 408, grpc.StatusCode.DEADLINE_EXCEEDED
        except Exception as error:  # noqa: BLE001 - a bug must answer 500, never drop the connection
            logging.exception("REST request %s %s failed", request.method, path)
            body, status, code = json_tensor.error_response(f"Internal error: {error}"), 500, grpc.StatusCode.INTERNAL
        if call.api:
            self._metrics.record_request(self._service.model_label(call.model_name), call.api, ENTRYPOINT, code.name,
                                         time.monotonic() - started)
        return web.Response(text=body, status=status, content_type=_JSON,
                            headers=self._origin_policy.response_headers(request.headers, request.host))

    def _preflight(self, request: web.Request) -> web.Response:
        try:
            headers = self._origin_policy.preflight_headers(request.headers, request.host)
        except errors.ServingError as error:
            return web.Response(text=json_tensor.error_response(error.message), status=error.http_status, content_type=_JSON)
        return web.Response(status=204, headers=headers)

    async def _read_body(self, request: web.Request, path: str) -> bytes:
        try:
            return await asyncio.wait_for(request.read(), self._read_timeout_seconds)
        except asyncio.TimeoutError:
            raise _BodyTimeout() from None
        except ConnectionError:
            # Nothing is wrong with the server, and no one will read the answer: no traceback, no INTERNAL.
            logging.info("REST request %s %s: the client closed the connection before sending the whole body",
                         request.method, path)
            raise errors.ServingError(grpc.StatusCode.CANCELLED, "Client closed the connection") from None

    async def _handle_api(self, request: web.Request, path: str, call: "_Call") -> str:
        if not _API_PATH.fullmatch(path):
            raise errors.not_found(f"Not found: {request.method} {path}")
        malformed = errors.invalid_argument(f"Malformed request: {request.method} {path}")
        if request.method == "POST":
            match = _PREDICTION_PATH.fullmatch(path)
            if not match:
                raise malformed
            name, version, label, method = match.groups()
            call.model_name, call.api = _unquote(name), method.lower()
            self._origin_policy.check(request.headers, request.host)
            version, label = _version(version), _unquote(label) if label else None
            body = await self._read_body(request, path)
            if call.api == "predict":
                return await self._predict(call.model_name, version, label, body)
            if call.api == "regress":
                return await self._regress(call.model_name, version, label, body)
            return await self._classify(call.model_name, version, label, body)
        if request.method == "GET":
            match = _STATUS_PATH.fullmatch(path)
            if not match:
                raise malformed
            name, version, label, metadata = match.groups()
            call.model_name, call.api = _unquote(name or ""), "metadata" if metadata else "status"
            if not call.model_name:
                raise errors.invalid_argument("Missing model name in request.")
            version, label = _version(version), _unquote(label) if label else None
            if metadata:
                return _metadata_json(self._service.metadata(call.model_name, version, label, [inference.SIGNATURE_DEF_FIELD]))
            return json_format.MessageToJson(self._service.status(call.model_name, version, label),
                                             including_default_value_fields=True)
        raise malformed

    async def _predict(self, name, version, label, body: bytes) -> str:
        request = json_tensor.parse_request(body)
        servable = self._service.manager.servable(name, version, label)
        signature = servable.signature(request.signature_name)
        input_dtypes = {input_name: spec.dtype for input_name, spec in signature.inputs.items()}
        inputs, row_format = json_tensor.predict_inputs(request.document, input_dtypes)
        outputs = await self._service.predict(servable, request.signature_name, inputs)
        return json_tensor.predict_response(outputs, row_format)

    async def _classify(self, name, version, label, body: bytes) -> str:
        request = json_tensor.parse_request(body)
        servable = self._service.manager.servable(name, version, label)
        result = await self._service.classify(servable, request.signature_name, json_tensor.serialized_examples(request.document))
        return json_tensor.classification_response(result)

    async def _regress(self, name, version, label, body: bytes) -> str:
        request = json_tensor.parse_request(body)
        servable = self._service.manager.servable(name, version, label)
        result = await self._service.regress(servable, request.signature_name, json_tensor.serialized_examples(request.document))
        return json_tensor.regression_response(result)


class _Call:
    """What a request turned out to be, for its metrics."""

    model_name = ""
    api = ""


def _unquote(text: str) -> str:
    return urllib.parse.unquote(text)


def _version(text: typing.Optional[str]) -> typing.Optional[int]:
    if not text:
        return None
    version = model_manager.parse_version(text)
    if version is None:
        raise errors.invalid_argument(f"Failed to convert version: {text} to numeric.")
    return version


def _metadata_json(response) -> str:
    """TF Serving's layout: model_spec and the unpacked SignatureDefMap, proto field names kept."""
    options = dict(including_default_value_fields=True, preserving_proto_field_name=True)
    signature_def_map = get_model_metadata_pb2.SignatureDefMap()
    response.metadata[inference.SIGNATURE_DEF_FIELD].Unpack(signature_def_map)
    return (f'{{\n"model_spec":{json_format.MessageToJson(response.model_spec, **options)},\n'
            f'"metadata": {{"signature_def": {json_format.MessageToJson(signature_def_map, **options)}}}\n}}\n')

"""The one error type of the model server: a gRPC status code and a message, as TF Serving reports them."""
import http

import grpc

# TF Serving's mapping from status code to HTTP status (model_servers/http_server.cc).
HTTP_STATUS = {
    grpc.StatusCode.OK: http.HTTPStatus.OK,
    grpc.StatusCode.CANCELLED: 499,  # client closed request
    grpc.StatusCode.UNKNOWN: http.HTTPStatus.INTERNAL_SERVER_ERROR,
    grpc.StatusCode.INVALID_ARGUMENT: http.HTTPStatus.BAD_REQUEST,
    grpc.StatusCode.DEADLINE_EXCEEDED: http.HTTPStatus.GATEWAY_TIMEOUT,
    grpc.StatusCode.NOT_FOUND: http.HTTPStatus.NOT_FOUND,
    grpc.StatusCode.ALREADY_EXISTS: http.HTTPStatus.CONFLICT,
    grpc.StatusCode.PERMISSION_DENIED: http.HTTPStatus.FORBIDDEN,
    grpc.StatusCode.RESOURCE_EXHAUSTED: http.HTTPStatus.TOO_MANY_REQUESTS,
    grpc.StatusCode.FAILED_PRECONDITION: http.HTTPStatus.BAD_REQUEST,
    grpc.StatusCode.ABORTED: http.HTTPStatus.CONFLICT,
    grpc.StatusCode.OUT_OF_RANGE: http.HTTPStatus.BAD_REQUEST,
    grpc.StatusCode.UNIMPLEMENTED: http.HTTPStatus.NOT_IMPLEMENTED,
    grpc.StatusCode.INTERNAL: http.HTTPStatus.INTERNAL_SERVER_ERROR,
    grpc.StatusCode.UNAVAILABLE: http.HTTPStatus.SERVICE_UNAVAILABLE,
    grpc.StatusCode.DATA_LOSS: http.HTTPStatus.INTERNAL_SERVER_ERROR,
    grpc.StatusCode.UNAUTHENTICATED: http.HTTPStatus.UNAUTHORIZED,
}

# TensorFlow's error codes are gRPC's codes by number (tensorflow/core/protobuf/error_codes.proto).
_CODES_BY_NUMBER = {code.value[0]: code for code in grpc.StatusCode}


class ServingError(Exception):
    """A request failed with `code` (a grpc.StatusCode); `message` is what the client is told."""

    def __init__(self, code: grpc.StatusCode, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def http_status(self) -> int:
        return int(HTTP_STATUS[self.code])


def invalid_argument(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.INVALID_ARGUMENT, message)


def not_found(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.NOT_FOUND, message)


def permission_denied(message: str) -> ServingError:
    return ServingError(grpc.StatusCode.PERMISSION_DENIED, message)


def from_exception(error: Exception) -> ServingError:
    """Converts what running a model can raise: TensorFlow errors keep their code, bad Python inputs are invalid."""
    if isinstance(error, ServingError):
        return error
    # TensorFlow errors carry an integer error_code; checked by attribute so this module needs no TensorFlow import.
    code_number = getattr(error, "error_code", None)
    if isinstance(code_number, int) and code_number in _CODES_BY_NUMBER:
        return ServingError(_CODES_BY_NUMBER[code_number], _op_error_message(getattr(error, "message", str(error))))
    if isinstance(error, (TypeError, ValueError)):
        return invalid_argument(str(error))
    return ServingError(grpc.StatusCode.INTERNAL, f"{type(error).__name__}: {error}")


def _op_error_message(message: str) -> str:
    """Drops the preamble eager TensorFlow puts before a graph op's own message: a header and a stack trace."""
    lines = message.splitlines()
    if not lines or not lines[0].startswith("Graph execution error"):
        return message
    start = next((index for index, line in enumerate(lines) if line.startswith("Detected at node")), 0) + 1
    while start < len(lines) and (lines[start].startswith(" ") or lines[start] == "<stack traces unavailable>"):
        start += 1
    return "\n".join(lines[start:]) or message

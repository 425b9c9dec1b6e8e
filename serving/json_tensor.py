"""TF Serving's REST JSON formats (tensorflow_serving/util/json_tensor.cc) to and from numpy arrays.

Requests: `instances` (row format: one element per batch row, objects when a signature has several
inputs) or `inputs` (columnar: one value, or an object of named values); bytes as {"b64": "..."}.
Responses: `predictions` for row requests, `outputs` for columnar ones, `results` for classify and regress,
`error` on failure. String outputs whose name ends in `_bytes` are written as {"b64": ...}; floats
are written in their shortest form that reads back to the same float32 or float64.
"""
import base64
import binascii
import json
import math
import typing

import grpc
import numpy as np
from tensorflow.core.example import example_pb2
from tensorflow.core.example import feature_pb2

from speech_emotion.serving import errors

INSTANCES, INPUTS, PREDICTIONS, OUTPUTS = "instances", "inputs", "predictions", "outputs"
SIGNATURE_NAME, EXAMPLES, CONTEXT, RESULTS, ERROR = "signature_name", "examples", "context", "results", "error"
BASE64_KEY = "b64"
_BASE64_ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
BYTES_SUFFIX = "_bytes"
# Deeper nesting than any signature's rank is refused before it is walked.
_MAX_RANK = 64
_DEBUG_CHARS = 200
# std::numeric_limits<T>::max_digits10: digits that always read back to the same value.
_MAX_DIGITS10 = {np.float16: 5, np.float32: 9, np.float64: 17}


class JsonRequest(typing.NamedTuple):
    signature_name: str
    document: dict


def parse_request(body: bytes) -> JsonRequest:
    """Parses a request body that must be a JSON object with an optional string `signature_name`."""
    if not body:
        raise errors.invalid_argument("JSON Parse error: The document is empty")
    try:
        document = json.loads(body)
    except ValueError as error:  # JSONDecodeError and UnicodeDecodeError
        message, offset = getattr(error, "msg", error), getattr(error, "pos", 0)
        raise errors.invalid_argument(f"JSON Parse error: {message} at offset: {offset}") from None
    except RecursionError:
        raise errors.invalid_argument("JSON Parse error: nesting too deep") from None
    if not isinstance(document, dict):
        raise errors.invalid_argument(f"JSON Value: {_debug(document)} Is not object")
    signature_name = document.get(SIGNATURE_NAME, "")
    if not isinstance(signature_name, str):
        raise errors.invalid_argument(
            f"JSON Value: {_debug(document)} not formatted correctly. 'signature_name' key must be a string value.")
    return JsonRequest(signature_name, document)


def predict_inputs(document: dict,
                   input_dtypes: typing.Mapping[str, typing.Any]) -> typing.Tuple[typing.Dict[str, np.ndarray], bool]:
    """Converts `instances` or `inputs` to arrays of the signature's dtypes (tf.DType); True when row format."""
    if not input_dtypes:
        raise errors.invalid_argument("Failed to get input map for signature")
    if INSTANCES in document and INPUTS in document:
        raise errors.invalid_argument(
            f"JSON Value: {_debug(document)} Not formatted correctly expecting only one of 'inputs' or 'instances' "
            "keys to exist ")
    if INSTANCES in document:
        return _from_instances(document, input_dtypes), True
    if INPUTS in document:
        return _from_inputs(document[INPUTS], input_dtypes), False
    raise errors.invalid_argument("Missing 'inputs' or 'instances' key")


def _from_instances(document: dict, input_dtypes) -> typing.Dict[str, np.ndarray]:
    instances = document[INSTANCES]
    if not isinstance(instances, list):
        raise errors.invalid_argument(f"JSON Value: {_debug(document)} Expecting 'instances' to be an list/array")
    if not instances:
        raise errors.invalid_argument(f"JSON Value: {_debug(document)} No values in 'instances' array")
    names = sorted(input_dtypes)
    elements_are_objects = _is_named_object(instances[0])
    if not elements_are_objects and len(names) > 1:
        raise errors.invalid_argument(
            "instances is a plain list, but expecting list of objects as multiple input tensors required as per tensorinfo_map")
    leaves = {name: [] for name in names}
    shapes: typing.Dict[str, tuple] = {}
    for index, element in enumerate(instances):
        if elements_are_objects != _is_named_object(element):
            expected, got = ("object", "list") if elements_are_objects else ("value/list", "object")
            raise errors.invalid_argument(f"Expecting {expected} but got {got} at item {index} of input list")
        named = element if elements_are_objects else {names[0]: element}
        if set(named) != set(names):
            raise errors.invalid_argument(
                f"Failed to process element: {index} of 'instances' list. JSON object: {_debug(element)} "
                f"keys must be equal to: {','.join(names)}")
        for name, value in named.items():
            try:
                shape = _dense_shape(value)
                if shapes.setdefault(name, shape) != shape:
                    raise errors.invalid_argument(f"Expecting shape {list(shapes[name])} but got: {list(shape)}")
                _flatten(value, shape, 0, input_dtypes[name], leaves[name])
            except errors.ServingError as error:
                raise errors.invalid_argument(
                    f"Failed to process element: {index} key: {name} of 'instances' list. Error: {error.message}") from None
    return {name: _array(leaves[name], (len(instances),) + shapes[name], input_dtypes[name]) for name in names}


def _from_inputs(value, input_dtypes) -> typing.Dict[str, np.ndarray]:
    if not _is_named_object(value):
        if len(input_dtypes) > 1:
            raise errors.invalid_argument(
                "inputs is a plain value/list, but expecting an object as multiple input tensors required as per tensorinfo_map")
        return {name: _tensor(value, dtype) for name, dtype in input_dtypes.items()}
    tensors = {}
    for name, dtype in sorted(input_dtypes.items()):
        if name not in value:
            raise errors.invalid_argument(f"Missing named input: {name} in 'inputs' object.")
        tensors[name] = _tensor(value[name], dtype)
    return tensors


def _tensor(value, dtype) -> np.ndarray:
    shape = _dense_shape(value)
    leaves = []
    _flatten(value, shape, 0, dtype, leaves)
    return _array(leaves, shape, dtype)


def _dense_shape(value) -> tuple:
    """The shape implied by the first element at each nesting level, as TF Serving reads it."""
    shape = []
    while isinstance(value, list):
        shape.append(len(value))
        if len(shape) > _MAX_RANK:
            raise errors.invalid_argument(f"JSON value is nested deeper than {_MAX_RANK} levels")
        if not value:
            break
        value = value[0]
    return tuple(shape)


def _flatten(value, shape: tuple, level: int, dtype, leaves: list) -> None:
    if not isinstance(value, list):
        if level != len(shape):
            raise errors.invalid_argument(
                f"JSON Value: {_debug(value)} found at incorrect level: {level + 1} in the JSON DOM. "
                f"Expected at level: {len(shape)}")
        leaves.append(_leaf(value, dtype))
        return
    if level >= len(shape):
        raise errors.invalid_argument(f"Encountered list at unexpected level: {level} expected < {len(shape)}")
    if len(value) != shape[level]:
        raise errors.invalid_argument(
            f"Encountered list at unexpected size: {len(value)} at level: {level} expected size: {shape[level]}")
    for item in value:
        _flatten(item, shape, level + 1, dtype, leaves)


def _leaf(value, dtype):
    if isinstance(value, dict):
        if dtype.name == "string":
            return _decode_base64(value)
        raise _type_error(value, dtype)
    if dtype.name == "string":
        if not isinstance(value, str):
            raise _type_error(value, dtype)
        return value.encode("utf-8", "surrogatepass")
    if dtype.is_bool:
        if not isinstance(value, bool):
            raise _type_error(value, dtype)
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _type_error(value, dtype)
    if dtype.is_floating:
        return value
    if dtype.is_integer:
        if not isinstance(value, int) or not dtype.min <= value <= dtype.max:
            raise _type_error(value, dtype)
        return value
    raise errors.ServingError(grpc.StatusCode.UNIMPLEMENTED,
                              f"Conversion of JSON Value: {_debug(value)} to type: {dtype.name}")


def _array(leaves: list, shape: tuple, dtype) -> np.ndarray:
    if dtype.name == "string":
        array = np.empty(len(leaves), dtype=object)
        array[:] = leaves
        return array.reshape(shape)
    return np.array(leaves, dtype=dtype.as_numpy_dtype).reshape(shape)


def _is_base64_object(value) -> bool:
    return isinstance(value, dict) and len(value) == 1 and isinstance(value.get(BASE64_KEY), str)


def _is_named_object(value) -> bool:
    return isinstance(value, dict) and not _is_base64_object(value)


def _decode_base64(value) -> bytes:
    if not _is_base64_object(value):
        raise errors.invalid_argument(f"JSON Value: {_debug(value)} not formatted correctly for base64 data")
    try:
        encoded = value[BASE64_KEY].encode("ascii")
    except UnicodeEncodeError:
        raise errors.invalid_argument("Unable to base64 decode") from None
    # Padding is optional, as in absl::Base64Unescape.
    padded = encoded + b"=" * (-len(encoded) % 4)
    data = padded.rstrip(b"=")
    # What b64decode(validate=True) checks with a regular expression, in one C pass (a third of its time):
    # only the alphabet, then at most two "=".
    if len(padded) - len(data) > 2 or data.translate(None, _BASE64_ALPHABET):
        raise errors.invalid_argument("Unable to base64 decode")
    try:
        return binascii.a2b_base64(padded)
    except binascii.Error:
        raise errors.invalid_argument("Unable to base64 decode") from None


def _type_error(value, dtype) -> errors.ServingError:
    return errors.invalid_argument(
        f"JSON Value: {_debug(value)} Type: {_json_type(value)} is not of expected type: {dtype.name}")


def _json_type(value) -> str:
    for kind, name in ((type(None), "Null"), (bool, "True" if value is True else "False"), (dict, "Object"),
                       (list, "Array"), (str, "String")):
        if isinstance(value, kind):
            return name
    return "Number"


def _debug(value) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= _DEBUG_CHARS else text[:_DEBUG_CHARS] + "..."


def serialized_examples(document: dict) -> typing.List[bytes]:
    """The classify request's `examples` as serialized tf.Examples, each merged onto `context` if given."""
    context = _example(document[CONTEXT]).SerializeToString() if CONTEXT in document else b""
    if EXAMPLES not in document:
        raise errors.invalid_argument(
            f"JSON Value: {_debug(document)} When method is classify, key 'examples' is expected and was not found")
    examples = document[EXAMPLES]
    if not isinstance(examples, list):
        raise errors.invalid_argument(f"JSON Value: {_debug(document)} Expecting 'examples' value to be an list/array")
    if not examples:
        raise errors.invalid_argument(f"JSON Value: {_debug(document)} 'examples' value is an empty array")
    return [context + _example(example).SerializeToString() for example in examples]


def _example(value) -> example_pb2.Example:
    if not isinstance(value, dict):
        raise errors.invalid_argument(f"Example must be JSON object but got JSON {_json_type(value)}")
    example = example_pb2.Example()
    for name, content in value.items():
        feature = feature_pb2.Feature()
        for item in content if isinstance(content, list) else [content]:
            _add_to_feature(item, name, feature)
        example.features.feature[name].CopyFrom(feature)
    return example


def _add_to_feature(value, name: str, feature: feature_pb2.Feature) -> None:
    if isinstance(value, bool) or (isinstance(value, int) and not isinstance(value, bool)):
        kind, item = "int64_list", int(value)
        if not -2**63 <= item < 2**63:
            raise errors.invalid_argument(f"Feature: {name} has uint64_t element. Only int64_t is supported.")
    elif isinstance(value, float):
        kind, item = "float_list", value
    elif isinstance(value, str):
        kind, item = "bytes_list", value.encode("utf-8", "surrogatepass")
    elif _is_base64_object(value):
        kind, item = "bytes_list", _decode_base64(value)
    else:
        raise errors.invalid_argument(f"Feature: {name} has element with unexpected JSON type: {_json_type(value)}")
    current = feature.WhichOneof("kind")
    if current not in (None, kind):
        raise errors.invalid_argument(
            f"Unexpected element type in feature: {name} expecting type: {current.replace('_list', '')}")
    getattr(feature, kind).value.append(item)


def predict_response(outputs: typing.Mapping[str, np.ndarray], row_format: bool) -> str:
    """`predictions` (row format) or `outputs` (columnar) JSON for the signature's output arrays."""
    if not outputs:
        raise errors.invalid_argument("Cannot convert empty tensor map to JSON")
    names = sorted(outputs)
    single = len(names) == 1
    if not row_format:
        if single:
            body = _tensor_json(outputs[names[0]], _is_bytes_output(names[0]))
        else:
            body = "{" + ", ".join(f"{json.dumps(name)}: {_tensor_json(outputs[name], _is_bytes_output(name))}"
                                   for name in names) + "}"
        return f'{{"{OUTPUTS}": {body}}}'
    batch = None
    for name in names:
        if np.ndim(outputs[name]) == 0:
            raise errors.invalid_argument(f"Tensor name: {name} has no shape information ")
        if batch is not None and len(outputs[name]) != batch:
            raise errors.invalid_argument(
                f"Tensor name: {name} has inconsistent batch size: {len(outputs[name])} expecting: {batch}")
        batch = len(outputs[name])
    columns = {name: _row_json(outputs[name], _is_bytes_output(name)) for name in names}
    if single:
        rows = columns[names[0]]
    else:
        rows = ["{" + ", ".join(f"{json.dumps(name)}: {columns[name][index]}" for name in names) + "}" for index in range(batch)]
    return f'{{"{PREDICTIONS}": [' + ",\n".join(rows) + "]}"


def classification_response(result) -> str:
    """`results` JSON for a tensorflow.serving.ClassificationResult: per example, [label, score] pairs."""
    if not result.classifications:
        raise errors.invalid_argument("Cannot convert empty ClassificationResults to JSON")
    rows = []
    for classifications in result.classifications:
        pairs = ", ".join(f"[{json.dumps(entry.label)}, {format_float(entry.score, np.float32)}]"
                          for entry in classifications.classes)
        rows.append(f"[{pairs}]")
    return f'{{"{RESULTS}": [' + ",\n".join(rows) + "]}"


def regression_response(result) -> str:
    """`results` JSON for a tensorflow.serving.RegressionResult: one number per example."""
    if not result.regressions:
        raise errors.invalid_argument("Cannot convert empty RegressionResults to JSON")
    return f'{{"{RESULTS}": [' + ", ".join(format_float(entry.value, np.float32) for entry in result.regressions) + "]}"


def error_response(message: str) -> str:
    return json.dumps({ERROR: message})


def _is_bytes_output(name: str) -> bool:
    return name.endswith(BYTES_SUFFIX)


def _leaves_json(array: np.ndarray, as_bytes: bool) -> typing.List[str]:
    return [_value_json(value, array.dtype, as_bytes) for value in array.reshape(-1).tolist()]


def _tensor_json(array: np.ndarray, as_bytes: bool) -> str:
    return _nest(_leaves_json(array, as_bytes), array.shape)


def _row_json(array: np.ndarray, as_bytes: bool) -> typing.List[str]:
    """One JSON value per row of the batch dimension."""
    leaves = _leaves_json(array, as_bytes)
    step = math.prod(array.shape[1:])
    return [_nest(leaves[row * step:(row + 1) * step], array.shape[1:]) for row in range(len(array))]


def _nest(leaves: typing.List[str], shape: tuple) -> str:
    if not shape:
        return leaves[0]
    if len(shape) == 1:
        return "[" + ", ".join(leaves) + "]"
    step = math.prod(shape[1:])
    return "[" + ", ".join(_nest(leaves[index * step:(index + 1) * step], shape[1:]) for index in range(shape[0])) + "]"


def _value_json(value, dtype: np.dtype, as_bytes: bool) -> str:
    if dtype == object or dtype.kind == "S":
        if as_bytes:
            return f'{{"{BASE64_KEY}": "{base64.b64encode(value).decode("ascii")}"}}'
        return json.dumps(value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value))
    if dtype.kind == "b":
        return "true" if value else "false"
    if dtype.kind in "iu":
        return str(value)
    if dtype.kind == "f":
        return format_float(value, dtype.type)
    raise errors.invalid_argument(f"Failed to write JSON value for tensor type: {dtype}")


def format_float(value: float, float_type) -> str:
    """TF Serving's WriteDecimal: six significant digits if they read back exactly, else full precision."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "-Infinity" if value < 0 else "Infinity"
    text = f"{value:g}"
    if float_type(text) != float_type(value):
        text = f"{value:.{_MAX_DIGITS10[float_type]}g}"
    if "." not in text and "e" not in text:
        text += ".0"
    return text

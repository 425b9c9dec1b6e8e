"""TF Serving's REST JSON formats: the request and response examples of its api_rest.md and the rules of json_tensor.cc."""
import base64
import json

import speech_emotion  # noqa: F401
import grpc
import numpy as np
import pytest
import tensorflow as tf
from tensorflow.core.example import example_pb2
from tensorflow_serving.apis import classification_pb2

from speech_emotion.serving import errors
from speech_emotion.serving import json_tensor


def _inputs(body, dtypes):
    return json_tensor.predict_inputs(json_tensor.parse_request(json.dumps(body).encode()).document, dtypes)


def _error(body, dtypes) -> errors.ServingError:
    with pytest.raises(errors.ServingError) as raised:
        _inputs(body, dtypes)
    return raised.value


def test_row_format_with_named_inputs_stacks_instances():
    # api_rest.md: three named inputs, a string, a list and a nested list per instance.
    body = {"instances": [{"tag": "foo", "signal": [1, 2, 3, 4, 5], "sensor": [[1, 2], [3, 4]]},
                          {"tag": "bar", "signal": [3, 4, 1, 2, 5], "sensor": [[4, 5], [6, 8]]}]}
    inputs, row_format = _inputs(body, {"tag": tf.string, "signal": tf.int32, "sensor": tf.float32})
    assert row_format
    assert inputs["tag"].tolist() == [b"foo", b"bar"]
    assert inputs["signal"].dtype == np.int32 and inputs["signal"].shape == (2, 5)
    np.testing.assert_array_equal(inputs["sensor"], [[[1, 2], [3, 4]], [[4, 5], [6, 8]]])


def test_columnar_format_and_base64_bytes():
    clip = b"RIFF\x00\xff binary"
    inputs, row_format = _inputs({"inputs": {"audio": [{"b64": base64.b64encode(clip).decode()}, "text"]}},
                                 {"audio": tf.string})
    assert not row_format
    assert inputs["audio"].tolist() == [clip, b"text"]
    single, _ = _inputs({"inputs": [[1.5, 2]]}, {"x": tf.float64})
    assert single["x"].dtype == np.float64 and single["x"].tolist() == [[1.5, 2.0]]


def test_plain_instances_go_to_the_only_input():
    inputs, _ = _inputs({"instances": [{"b64": base64.b64encode(b"\x00\x01").decode()}, {"b64": "AA"}, {"b64": "QUI="}]},
                        {"audio": tf.string})
    assert inputs["audio"].tolist() == [b"\x00\x01", b"\x00", b"AB"]


@pytest.mark.parametrize("body, dtypes, message", [
    ({"instances": [1], "inputs": [1]}, {"x": tf.float32}, "expecting only one of 'inputs' or 'instances'"),
    ({"instances": []}, {"x": tf.float32}, "No values in 'instances' array"),
    ({"instances": {"a": 1}}, {"x": tf.float32}, "Expecting 'instances' to be an list/array"),
    ({"signature_name": 3, "instances": [1]}, {"x": tf.float32}, "'signature_name' key must be a string"),
    ({"instances": [[1], [1, 2]]}, {"x": tf.float32}, "Expecting shape [1] but got: [2]"),
    ({"instances": [1, 2]}, {"x": tf.float32, "y": tf.float32}, "instances is a plain list"),
    ({"instances": [{"x": 1}]}, {"x": tf.float32, "y": tf.float32}, "keys must be equal to: x,y"),
    ({"instances": [{"x": 1, "y": 2}, 3]}, {"x": tf.float32, "y": tf.float32}, "Expecting object but got list at item 1"),
    ({"instances": ["a"]}, {"x": tf.float32}, "Type: String is not of expected type: float32"),
    ({"instances": [True]}, {"x": tf.int32}, "Type: True is not of expected type: int32"),
    ({"instances": [2**40]}, {"x": tf.int32}, "is not of expected type: int32"),
    ({"instances": [1.5]}, {"x": tf.int64}, "is not of expected type: int64"),
    ({"instances": [{"b64": "not base64!"}]}, {"x": tf.string}, "Unable to base64 decode"),
    ({"instances": [{"b64": "QQ==QQ=="}]}, {"x": tf.string}, "Unable to base64 decode"),
    ({"instances": [{"b64": "QUJD="}]}, {"x": tf.string}, "Unable to base64 decode"),
    ({"instances": [{"b64": "QUJDR"}]}, {"x": tf.string}, "Unable to base64 decode"),
    ({"instances": [{"b64": "QUJ\u00e9"}]}, {"x": tf.string}, "Unable to base64 decode"),
    ({"inputs": {"y": [1]}}, {"x": tf.float32}, "Missing named input: x in 'inputs' object."),
    ({"inputs": [[1, 2], 3]}, {"x": tf.float32}, "found at incorrect level"),
    ({"other": 1}, {"x": tf.float32}, "Missing 'inputs' or 'instances' key"),
])
def test_malformed_requests_are_invalid_arguments_with_tf_serving_messages(body, dtypes, message):
    error = _error(body, dtypes)
    assert error.code == grpc.StatusCode.INVALID_ARGUMENT and error.http_status == 400
    assert message in error.message


@pytest.mark.parametrize("body, message", [
    (b"", "The document is empty"),
    (b"{\"instances\": [", "JSON Parse error"),
    (b"\xff\xfe\x00", "JSON Parse error"),
    (b"[" * 100_000, "JSON Parse error"),
    (b"[1, 2]", "Is not object"),
])
def test_unparsable_bodies_are_invalid_arguments(body, message):
    with pytest.raises(errors.ServingError) as raised:
        json_tensor.parse_request(body)
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT and message in raised.value.message


def test_row_response_has_one_object_per_instance_and_bytes_outputs_in_base64():
    outputs = {"scores": np.array([[0.2, 0.8], [0.1, 0.9]], np.float32),
               "label": np.array([b"calm", b"sad"], dtype=object),
               "audio_bytes": np.array([b"\x00\x01", b"\xff"], dtype=object)}
    assert json.loads(json_tensor.predict_response(outputs, row_format=True)) == {"predictions": [
        {"scores": [0.2, 0.8], "label": "calm", "audio_bytes": {"b64": "AAE="}},
        {"scores": [0.1, 0.9], "label": "sad", "audio_bytes": {"b64": "/w=="}},
    ]}


def test_single_output_responses_are_unnamed():
    scores = {"scores": np.array([[1, 2], [3, 4]], np.int64)}
    assert json.loads(json_tensor.predict_response(scores, row_format=True)) == {"predictions": [[1, 2], [3, 4]]}
    assert json.loads(json_tensor.predict_response(scores, row_format=False)) == {"outputs": [[1, 2], [3, 4]]}
    both = dict(scores, flag=np.array([True, False]))
    assert json.loads(json_tensor.predict_response(both, row_format=False)) == {
        "outputs": {"scores": [[1, 2], [3, 4]], "flag": [True, False]}}


def test_floats_are_written_shortest_and_whole_numbers_keep_a_decimal_point():
    values = np.array([0.2, 1 / 3, 3.0, 1e-7, float("nan"), -float("inf")], np.float32)
    text = json_tensor.predict_response({"x": values}, row_format=False)
    assert text == '{"outputs": [0.2, 0.333333343, 3.0, 1e-07, NaN, -Infinity]}'
    assert json_tensor.format_float(0.1, np.float64) == "0.1"
    assert json_tensor.format_float(1 / 3, np.float64) == "0.33333333333333331"


def test_row_response_needs_a_shared_batch_size():
    with pytest.raises(errors.ServingError, match="inconsistent batch size"):
        json_tensor.predict_response({"a": np.zeros((2, 1)), "b": np.zeros((3, 1))}, row_format=True)


def test_classify_examples_become_tf_examples_merged_onto_the_context():
    document = {"context": {"speaker": "f1", "rate": 16000},
                "examples": [{"audio": {"b64": base64.b64encode(b"wav").decode()}, "gain": [0.5, 1.5], "flag": True},
                             {"audio": "text bytes", "rate": 8000}]}
    first, second = [example_pb2.Example.FromString(serialized) for serialized in json_tensor.serialized_examples(document)]
    assert first.features.feature["audio"].bytes_list.value == [b"wav"]
    assert first.features.feature["gain"].float_list.value == [0.5, 1.5]
    assert first.features.feature["flag"].int64_list.value == [1]
    assert first.features.feature["speaker"].bytes_list.value == [b"f1"]
    assert second.features.feature["rate"].int64_list.value == [8000]  # the example's own value wins


@pytest.mark.parametrize("document, message", [
    ({"instances": []}, "key 'examples' is expected"),
    ({"examples": []}, "'examples' value is an empty array"),
    ({"examples": [{"a": [1, "x"]}]}, "Unexpected element type in feature: a expecting type: int64"),
    ({"examples": [{"a": None}]}, "unexpected JSON type: Null"),
    ({"examples": [{"a": [[1]]}]}, "unexpected JSON type: Array"),
    ({"examples": [3]}, "Example must be JSON object"),
])
def test_malformed_classify_requests_are_invalid_arguments(document, message):
    with pytest.raises(errors.ServingError) as raised:
        json_tensor.serialized_examples(document)
    assert raised.value.code == grpc.StatusCode.INVALID_ARGUMENT and message in raised.value.message


def test_classification_results_are_label_score_pairs():
    result = classification_pb2.ClassificationResult()
    for scores in ((0.25, 0.75), (0.5, 0.5)):
        classifications = result.classifications.add()
        for label, score in zip(("happy", "sad"), scores):
            classifications.classes.add(label=label, score=score)
    assert json.loads(json_tensor.classification_response(result)) == {
        "results": [[["happy", 0.25], ["sad", 0.75]], [["happy", 0.5], ["sad", 0.5]]]}

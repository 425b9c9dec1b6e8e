"""MultiInference and Regress over the real gRPC protocol, and REST :regress, against two served models:
the emotion fixture (classify signature, no regression signature: INVALID_ARGUMENT naming the signature,
as TF Serving answers) and a small regression model (regress works end to end)."""
import grpc
import serving_model_fixture as fixture

import numpy as np
import pytest
import requests
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.apis import classification_pb2
from tensorflow_serving.apis import inference_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc
from tensorflow_serving.apis import regression_pb2
from tensorflow_serving.config import model_server_config_pb2

_CLIPS = [fixture.wav_clip(seconds=0.4 + 0.2 * index, amplitude=0.2 + 0.2 * index, seed=index) for index in range(3)]
_REGRESSION_MODEL = "doubler"
_CLASSIFY, _REGRESS = tf.saved_model.CLASSIFY_METHOD_NAME, tf.saved_model.REGRESS_METHOD_NAME


class _Doubler(tf.Module):
    """Regression signature as TF Serving's Regress API wants it: serialized tf.Examples in, one float per example out."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string)])
    def regress(self, inputs):
        x = tf.io.parse_example(inputs, {"x": tf.io.FixedLenFeature([], tf.float32)})["x"]
        return {"outputs": 2.0 * x}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("multi_inference")
    fixture.push_version(root / "emotion", 1)
    doubler = _Doubler()
    tf.saved_model.save(doubler, str(root / _REGRESSION_MODEL / "1"), signatures={"serving_default": doubler.regress})
    config = model_server_config_pb2.ModelServerConfig()
    for name in (fixture.MODEL_NAME, _REGRESSION_MODEL):
        config.model_config_list.config.add(name=name, base_path=str(root / name), model_platform="tensorflow")
    config_file = root / "models.config"
    config_file.write_text(text_format.MessageToString(config))
    with fixture.running_server(root / "emotion", model_config_file=str(config_file)) as running:
        yield running


@pytest.fixture(scope="module")
def prediction(server):
    with grpc.insecure_channel(f"127.0.0.1:{server.grpc_port}") as channel:
        yield prediction_service_pb2_grpc.PredictionServiceStub(channel)


def _audio_examples(clips):
    return [tf.train.Example(features=tf.train.Features(feature={
        "audio": tf.train.Feature(bytes_list=tf.train.BytesList(value=[clip]))})) for clip in clips]


def _x_examples(values):
    return [tf.train.Example(features=tf.train.Features(feature={
        "x": tf.train.Feature(float_list=tf.train.FloatList(value=[value]))})) for value in values]


def _multi_request(tasks, examples):
    request = inference_pb2.MultiInferenceRequest()
    for model_name, signature_name, method_name in tasks:
        task = request.tasks.add(method_name=method_name)
        task.model_spec.name = model_name
        task.model_spec.signature_name = signature_name
    request.input.example_list.examples.extend(examples)
    return request


def test_multi_inference_classify_task_matches_classify(prediction):
    expected = fixture.reference_probabilities(_CLIPS)
    request = _multi_request([(fixture.MODEL_NAME, "classify", _CLASSIFY)], _audio_examples(_CLIPS))
    response = prediction.MultiInference(request, timeout=30)
    assert len(response.results) == 1
    result = response.results[0]
    assert (result.model_spec.name, result.model_spec.signature_name, result.model_spec.version.value) == (
        fixture.MODEL_NAME, "classify", 1)
    scores = [[entry.score for entry in row.classes] for row in result.classification_result.classifications]
    np.testing.assert_allclose(scores, expected, rtol=1e-5)
    assert [entry.label for entry in result.classification_result.classifications[0].classes] == list(fixture.EMOTIONS)

    classify = classification_pb2.ClassificationRequest()
    classify.model_spec.name, classify.model_spec.signature_name = fixture.MODEL_NAME, "classify"
    classify.input.example_list.examples.extend(_audio_examples(_CLIPS))
    assert prediction.Classify(classify, timeout=30).result == result.classification_result


def test_regress_and_multi_inference_regress_task_on_a_regression_model(prediction, server):
    regress = regression_pb2.RegressionRequest()
    regress.model_spec.name = _REGRESSION_MODEL
    regress.input.example_list.examples.extend(_x_examples([1.5, -2.0]))
    response = prediction.Regress(regress, timeout=30)
    assert [entry.value for entry in response.result.regressions] == [3.0, -4.0]
    assert response.model_spec.signature_name == "serving_default" and response.model_spec.version.value == 1

    multi = prediction.MultiInference(_multi_request([(_REGRESSION_MODEL, "", _REGRESS)], _x_examples([0.25])), timeout=30)
    assert [entry.value for entry in multi.results[0].regression_result.regressions] == [0.5]

    answer = requests.post(f"http://127.0.0.1:{server.rest_port}/v1/models/{_REGRESSION_MODEL}:regress",
                           json={"examples": [{"x": 1.5}, {"x": 4.0}]}, timeout=30)
    assert answer.status_code == 200 and answer.json() == {"results": [3.0, 8.0]}


_CLIP_EXAMPLES = _audio_examples(_CLIPS[:1])
_BAD_MULTI = [
    ("regress on a model without a regression signature", [(fixture.MODEL_NAME, "", _REGRESS)], _CLIP_EXAMPLES,
     grpc.StatusCode.INVALID_ARGUMENT, "Expected one output Tensor. Signature serving_default is not a regression signature"),
    ("regress on a one-output signature without regression inputs", [(fixture.MODEL_NAME, "serving_examples", _REGRESS)],
     _CLIP_EXAMPLES, grpc.StatusCode.INVALID_ARGUMENT, "No regression inputs found in SignatureDef serving_examples"),
    ("the same signature twice", [(fixture.MODEL_NAME, "classify", _CLASSIFY)] * 2, _CLIP_EXAMPLES,
     grpc.StatusCode.INVALID_ARGUMENT, "Duplicate evaluation of signature: classify"),
    ("two models", [(fixture.MODEL_NAME, "classify", _CLASSIFY), (_REGRESSION_MODEL, "", _REGRESS)], _CLIP_EXAMPLES,
     grpc.StatusCode.INVALID_ARGUMENT, "must access the same model name"),
    ("unknown signature", [(fixture.MODEL_NAME, "nope", _CLASSIFY)], _CLIP_EXAMPLES,
     grpc.StatusCode.INVALID_ARGUMENT, "Requested signature not found in model graph: nope"),
    ("predict method", [(fixture.MODEL_NAME, "serving_default", tf.saved_model.PREDICT_METHOD_NAME)], _CLIP_EXAMPLES,
     grpc.StatusCode.UNIMPLEMENTED, "Unsupported signature method_name: tensorflow/serving/predict"),
    ("no examples", [(fixture.MODEL_NAME, "classify", _CLASSIFY)], [], grpc.StatusCode.INVALID_ARGUMENT, "Input is empty."),
    ("no tasks", [], _CLIP_EXAMPLES, grpc.StatusCode.NOT_FOUND, "Servable not found"),
]


@pytest.mark.parametrize("what, tasks, examples, code, message", _BAD_MULTI, ids=[row[0] for row in _BAD_MULTI])
def test_bad_multi_inference_gets_tf_servings_code(prediction, what, tasks, examples, code, message):
    with pytest.raises(grpc.RpcError) as raised:
        prediction.MultiInference(_multi_request(tasks, examples), timeout=30)
    assert raised.value.code() == code
    assert message in raised.value.details()


def test_regress_on_the_emotion_model_is_invalid_argument_naming_the_signature(prediction, server):
    request = regression_pb2.RegressionRequest()
    request.model_spec.name = fixture.MODEL_NAME
    request.input.example_list.examples.extend(_CLIP_EXAMPLES)
    with pytest.raises(grpc.RpcError) as raised:
        prediction.Regress(request, timeout=30)
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Signature serving_default is not a regression signature" in raised.value.details()

    url = f"http://127.0.0.1:{server.rest_port}/v1/models/{fixture.MODEL_NAME}:regress"
    answer = requests.post(url, json={"signature_name": "classify", "examples": [{"audio": {"b64": "UklGRg=="}}]}, timeout=30)
    assert answer.status_code == 400
    assert "Expected one output Tensor. Signature classify is not a regression signature" in answer.json()["error"]
    assert server.metrics.request_count.value(fixture.MODEL_NAME, "regress", "REST", "INVALID_ARGUMENT") == 1
    assert server.metrics.request_count.value(fixture.MODEL_NAME, "regress", "GRPC", "INVALID_ARGUMENT") == 1

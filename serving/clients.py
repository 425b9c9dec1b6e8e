"""Clients for the emotion model behind TF Serving's REST or gRPC API (tensorflow_model_server or `ser serve`).

Both send WAV file bytes to the `serving_default` signature and return one EmotionPrediction per clip.
"""
import base64
import dataclasses
import typing

import requests

from speech_emotion.config import MODEL_NAME

DEFAULT_MODEL_NAME = MODEL_NAME
DEFAULT_REST_SERVER = "localhost:8501"
DEFAULT_GRPC_SERVER = "localhost:8500"
SIGNATURE_NAME = "serving_default"
AUDIO_INPUT = "audio"


@dataclasses.dataclass(frozen=True)
class EmotionPrediction:
    label: str
    probabilities: typing.Dict[str, float]  # emotion -> probability, in the model's class order


class PredictionError(RuntimeError):
    """The server refused or failed a request; the message is the server's."""


def _prediction(classes, probabilities, label) -> EmotionPrediction:
    return EmotionPrediction(str(label), {str(emotion): float(p) for emotion, p in zip(classes, probabilities)})


class RestClient:
    """Predicts over HTTP/JSON; `server` is host:port of the REST API."""

    def __init__(self, server: str = DEFAULT_REST_SERVER, model_name: str = DEFAULT_MODEL_NAME,
                 version: typing.Optional[int] = None, timeout_seconds: float = 60.0):
        self._url = f"http://{server}/v1/models/{model_name}" + (f"/versions/{version}" if version is not None else "")
        self._timeout_seconds = timeout_seconds
        self._session = requests.Session()

    def predict(self, wav_clips: typing.Sequence[bytes]) -> typing.List[EmotionPrediction]:
        instances = [{AUDIO_INPUT: {"b64": base64.b64encode(clip).decode("ascii")}} for clip in wav_clips]
        body = self._call("POST", ":predict", {"signature_name": SIGNATURE_NAME, "instances": instances})
        return [_prediction(row["classes"], row["probabilities"], row["label"]) for row in body["predictions"]]

    def status(self) -> dict:
        """The model's version status, as GET /v1/models/{name} answers it."""
        return self._call("GET", "", None)

    def _call(self, method: str, suffix: str, body: typing.Optional[dict]) -> dict:
        try:
            response = self._session.request(method, self._url + suffix, json=body, timeout=self._timeout_seconds)
        except requests.ConnectionError:
            raise PredictionError(f"no server answers at {self._url} (is `ser serve` running?)") from None
        except requests.RequestException as error:
            raise PredictionError(f"cannot reach {self._url}: {error}") from None
        try:
            answer = response.json()
        except ValueError:
            answer = {"error": response.text}
        if response.status_code != 200:
            raise PredictionError(f"HTTP {response.status_code}: {answer.get('error', answer)}")
        return answer

    def close(self) -> None:
        self._session.close()


class GrpcClient:
    """Predicts over gRPC (PredictionService.Predict); `server` is host:port of the gRPC API."""

    def __init__(self, server: str = DEFAULT_GRPC_SERVER, model_name: str = DEFAULT_MODEL_NAME,
                 version: typing.Optional[int] = None, timeout_seconds: float = 60.0):
        # Imported here: TF Serving's protos load TensorFlow (seconds), which the REST client never needs.
        import grpc
        from tensorflow_serving.apis import prediction_service_pb2_grpc

        self._channel = grpc.insecure_channel(server, options=[("grpc.max_receive_message_length", -1)])
        self._stub = prediction_service_pb2_grpc.PredictionServiceStub(self._channel)
        self._model_name = model_name
        self._version = version
        self._timeout_seconds = timeout_seconds

    def predict(self, wav_clips: typing.Sequence[bytes]) -> typing.List[EmotionPrediction]:
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        request.model_spec.name = self._model_name
        request.model_spec.signature_name = SIGNATURE_NAME
        if self._version is not None:
            request.model_spec.version.value = self._version
        request.inputs[AUDIO_INPUT].CopyFrom(tf.make_tensor_proto(list(wav_clips), dtype=tf.string))
        try:
            response = self._stub.Predict(request, timeout=self._timeout_seconds)
        except grpc.RpcError as error:
            raise PredictionError(f"{error.code().name}: {error.details()}") from None
        classes = tf.make_ndarray(response.outputs["classes"])
        probabilities = tf.make_ndarray(response.outputs["probabilities"])
        labels = tf.make_ndarray(response.outputs["label"])
        return [_prediction([emotion.decode() for emotion in row_classes], row_probabilities, label.decode())
                for row_classes, row_probabilities, label in zip(classes, probabilities, labels)]

    def close(self) -> None:
        self._channel.close()

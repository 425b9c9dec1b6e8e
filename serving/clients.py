"""Clients for the emotion model behind TF Serving's REST or gRPC API (tensorflow_model_server or `ser serve`).

Both send WAV file bytes: `predict` to the `serving_default` signature, one EmotionPrediction per clip;
`timeline` to the `timeline` signature, one RecordingPrediction (overall answer and windows) per recording.
"""
import base64
import typing

import requests

from speech_emotion.config import MODEL_NAME
from speech_emotion.serving import recording_predictions
from speech_emotion.serving.recording_predictions import EmotionPrediction

DEFAULT_MODEL_NAME = MODEL_NAME
DEFAULT_REST_SERVER = "localhost:8501"
DEFAULT_GRPC_SERVER = "localhost:8500"
SIGNATURE_NAME = "serving_default"
AUDIO_INPUT = "audio"


class PredictionError(RuntimeError):
    """The server refused or failed a request; the message is the server's. `http_status`: the REST answer's
    status when the server answered one, else None."""

    def __init__(self, message: str, http_status: typing.Optional[int] = None):
        super().__init__(message)
        self.http_status = http_status


def _prediction(classes, probabilities, label) -> EmotionPrediction:
    return EmotionPrediction(str(label), {str(emotion): float(p) for emotion, p in zip(classes, probabilities)})


def _b64(data: bytes) -> dict:
    return {"b64": base64.b64encode(data).decode("ascii")}


class RestClient:
    """Predicts over HTTP/JSON; `server` is host:port of the REST API."""

    def __init__(self, server: str = DEFAULT_REST_SERVER, model_name: str = DEFAULT_MODEL_NAME,
                 version: typing.Optional[int] = None, timeout_seconds: float = 60.0):
        self._url = f"http://{server}/v1/models/{model_name}" + (f"/versions/{version}" if version is not None else "")
        self._timeout_seconds = timeout_seconds
        self._session = requests.Session()

    def predict(self, wav_clips: typing.Sequence[bytes]) -> typing.List[EmotionPrediction]:
        instances = [{AUDIO_INPUT: _b64(clip)} for clip in wav_clips]
        body = self._call("POST", ":predict", {"signature_name": SIGNATURE_NAME, "instances": instances})
        return [_prediction(row["classes"], row["probabilities"], row["label"]) for row in body["predictions"]]

    def timeline(self, wav_recordings: typing.Sequence[bytes]) -> typing.List[recording_predictions.RecordingPrediction]:
        # The columnar format: the padded per-window outputs come back as whole arrays.
        body = self._call("POST", ":predict", {"signature_name": recording_predictions.SIGNATURE_NAME,
                                               "inputs": {recording_predictions.AUDIO_INPUT: [_b64(wav) for wav in wav_recordings]}})
        return recording_predictions.from_outputs(body["outputs"])

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
            raise PredictionError(f"HTTP {response.status_code}: {answer.get('error', answer)}", response.status_code)
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
        outputs = self._predict(SIGNATURE_NAME, wav_clips)
        return [_prediction([emotion.decode() for emotion in row_classes], row_probabilities, label.decode())
                for row_classes, row_probabilities, label in zip(outputs["classes"], outputs["probabilities"], outputs["label"])]

    def timeline(self, wav_recordings: typing.Sequence[bytes]) -> typing.List[recording_predictions.RecordingPrediction]:
        return recording_predictions.from_outputs(self._predict(recording_predictions.SIGNATURE_NAME, wav_recordings))

    def _predict(self, signature_name: str, wav_bytes: typing.Sequence[bytes]) -> dict:
        """The signature's outputs, as arrays, for a batch of WAV bytes."""
        import grpc
        import tensorflow as tf
        from tensorflow_serving.apis import predict_pb2

        request = predict_pb2.PredictRequest()
        request.model_spec.name = self._model_name
        request.model_spec.signature_name = signature_name
        if self._version is not None:
            request.model_spec.version.value = self._version
        request.inputs[AUDIO_INPUT].CopyFrom(tf.make_tensor_proto(list(wav_bytes), dtype=tf.string))
        try:
            response = self._stub.Predict(request, timeout=self._timeout_seconds)
        except grpc.RpcError as error:
            raise PredictionError(f"{error.code().name}: {error.details()}") from None
        return {name: tf.make_ndarray(tensor) for name, tensor in response.outputs.items()}

    def close(self) -> None:
        self._channel.close()

"""A Beam RunInference model handler for the pushed SavedModel's `timeline` signature.

Beam's TFModelHandlerTensor loads Keras models and stacks numeric tensors; the pushed model is a
plain SavedModel whose signature takes a batch of WAV file bytes, so it gets its own handler.
"""
from typing import Any, Iterable, Optional, Sequence

import tensorflow as tf
from apache_beam.ml.inference import base

from speech_emotion.serving import batch_instances
from speech_emotion.serving import recording_predictions


class WavSignatureModelHandler(base.ModelHandler[bytes, base.PredictionResult, Any]):
    """Runs batches of WAV recordings through the signature; each PredictionResult's inference is the
    recording's prediction as JSON (RecordingPrediction.to_batch_json: the overall label and probabilities,
    duration_seconds and the timeline of windows) or an InstanceError.

    The model rejects a whole batch for one malformed clip, so a rejected batch is rerun one clip
    at a time and only the clips the model rejects alone fail. Nothing a clip does raises out of it: the
    pipeline needs no dead-letter output (which Beam's DaskRunner cannot split off).
    """

    def __init__(self, model_dir: str, *, min_batch_size: int = 1, max_batch_size: int = 32):
        super().__init__(min_batch_size=min_batch_size, max_batch_size=max_batch_size)
        self._model_dir = model_dir

    def load_model(self) -> Any:
        # The loaded object owns the signature's variables; the signature is looked up on each call.
        return tf.saved_model.load(self._model_dir)

    def run_inference(self, batch: Sequence[bytes], model: Any,
                      inference_args: Optional[dict] = None) -> Iterable[base.PredictionResult]:
        signature = model.signatures[recording_predictions.SIGNATURE_NAME]
        try:
            predictions = _predict(signature, batch)
        except Exception:  # noqa: BLE001  a bad clip, found when each is run alone
            predictions = [_predict_alone(signature, audio) for audio in batch]
        return [base.PredictionResult(audio, prediction, self._model_dir) for audio, prediction in zip(batch, predictions)]

    def get_num_bytes(self, batch: Sequence[bytes]) -> int:
        return sum(len(audio) for audio in batch)

    def get_metrics_namespace(self) -> str:
        return "BeamML_SER_WavSignature"


def _predict(signature, batch: Sequence[bytes]) -> list:
    outputs = signature(**{recording_predictions.AUDIO_INPUT: tf.constant(list(batch), tf.string)})
    return [prediction.to_batch_json()
            for prediction in recording_predictions.from_outputs({name: value.numpy() for name, value in outputs.items()})]


def _predict_alone(signature, audio: bytes):
    try:
        return _predict(signature, [audio])[0]
    except Exception as error:  # noqa: BLE001  fails this clip alone, INTERNAL unless it is the model's OpError
        return batch_instances.InstanceError.of(error)

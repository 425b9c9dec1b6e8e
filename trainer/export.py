"""Exports the trained model under the serving contract: raw WAV bytes in, emotion probabilities out.

Signatures:
  serving_default     audio: string [batch] (WAV file bytes) -> probabilities, classes, label
  classify            inputs: serialized tf.Example with `audio` -> classes, scores (TF Serving's Classify API)
  serving_examples    examples: serialized tf.Example -> probabilities, label (what the Evaluator calls)
  transform_features  examples: serialized tf.Example -> transformed features (TFMA's label_index)
  features            audio: string [batch] (WAV file bytes) -> log_mel (dB), mfcc, mfcc_delta, mfcc_delta2,
                      chroma, spectral_centroid, zero_crossing_rate, rms: [batch, frames, k], unnormalised
  timeline            audio: string [batch] (WAV recordings of any length up to max_input_seconds) -> one answer per
                      recording and its windows' answers (trainer/timeline.py has the windowing rule); W is the
                      most windows of any recording in the batch, rows past a recording's window_count are padding
                      (0, or "" for labels):
                        probabilities          float32 [batch, W, classes]  each window's, as serving_default's
                        label                  string  [batch, W]
                        start_seconds          float32 [batch, W]           in the recording
                        end_seconds            float32 [batch, W]
                        window_count           int64   [batch]              at least 1
                        overall_probabilities  float32 [batch, classes]     the windows' mean
                        overall_label          string  [batch]
                        duration_seconds       float32 [batch]              at sample_rate
                        classes                string  [batch, classes]
  timeline_examples   examples: serialized tf.Example with `audio` -> the same, overall_label shaped [batch, 1]
                      (what BulkInferrer calls; its RunInference cannot split a [batch] string tensor)
  waveform            waveform: float32 [batch, clip_samples] (decoded, resampled, trimmed, fitted) -> probabilities
The tf.Transform graph (decoding, resampling, trimming, log-mel, normalisation) runs inside the first four and
inside `timeline` for each window;
`features` runs the same front-end with the exported FeatureConfig, without the normalisation; `waveform` and the
saved function `waveform_clip` (batch 1) run the network from the waveform the Transform makes of a clip, in core ops
(trainer/waveform_signature.py): what `ser export` converts for TFLite and ONNX runtimes.
`assets.extra/tf_serving_warmup_requests` holds TF Serving's warm-up requests (serving/warmup_requests.py).
Every signature serves temperature-scaled probabilities, softmax(log p / temperature) (trainer/calibration.py).
"""
import os

import tensorflow as tf
import tensorflow_transform as tft

from speech_emotion.audio import features, frontend
from speech_emotion.config import FeatureConfig
from speech_emotion.data import example_features
from speech_emotion.serving import warmup_requests
from speech_emotion.trainer import calibration
from speech_emotion.trainer import preprocessing
from speech_emotion.trainer import timeline
from speech_emotion.trainer import waveform_signature

FEATURE_CONFIG_ASSET = "feature_config.json"
LABELS_ASSET = "labels.txt"
FEATURES_SIGNATURE = "features"


def _raw_audio(audio: tf.Tensor, spec) -> tf.Tensor:
    """Shapes a [batch] string tensor the way the raw schema parses `audio`."""
    if isinstance(spec, tf.io.VarLenFeature):
        batch = tf.shape(audio, out_type=tf.int64)[0]
        indices = tf.stack([tf.range(batch), tf.zeros([batch], tf.int64)], axis=1)
        return tf.SparseTensor(indices, audio, dense_shape=tf.stack([batch, 1]))
    return tf.reshape(audio, [-1, 1])


def export_serving_model(model: tf.keras.Model, tf_transform_output: tft.TFTransformOutput, emotions, feature_config: FeatureConfig, output_dir: str,
                         temperature: float = 1.0) -> None:
    model.tft_layer = tf_transform_output.transform_features_layer()
    raw_spec = tf_transform_output.raw_feature_spec()
    # The served signatures read the audio alone: a client's examples need no label, corpus or speaker, which
    # the Transform passes through for training only.
    audio_spec = {example_features.AUDIO: raw_spec[example_features.AUDIO]}
    class_names = tf.constant(list(emotions))

    def predict(raw_features):
        probabilities = calibration.scale_probabilities(model(model.tft_layer(raw_features)[preprocessing.LOG_MEL]), temperature)
        batch = tf.shape(probabilities)[0]
        return {
            "probabilities": probabilities,
            "classes": tf.tile(class_names[tf.newaxis, :], [batch, 1]),
            "label": tf.gather(class_names, tf.argmax(probabilities, axis=-1)),
        }

    def predict_audio(audio):
        return predict({example_features.AUDIO: _raw_audio(audio, raw_spec[example_features.AUDIO])})

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="audio")])
    def serve_audio(audio):
        return predict_audio(audio)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def classify(serialized):
        outputs = predict(tf.io.parse_example(serialized, audio_spec))
        return {"classes": outputs["classes"], "scores": outputs["probabilities"]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def serve_examples(serialized):
        outputs = predict(tf.io.parse_example(serialized, audio_spec))
        return {"probabilities": outputs["probabilities"], "label": outputs["label"]}

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="examples")])
    def transform_features(serialized):
        return model.tft_layer(tf.io.parse_example(serialized, raw_spec))

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="audio")])
    def audio_features(audio):
        return features.audio_features(frontend.waveforms_from_wav_batch(audio, feature_config), feature_config)

    def normalised_log_mel(audio):
        return model.tft_layer({example_features.AUDIO: _raw_audio(audio, raw_spec[example_features.AUDIO])})[preprocessing.LOG_MEL]

    scale, offset = waveform_signature.log_mel_normalisation(normalised_log_mel, feature_config)
    serve_waveform, waveform_clip = waveform_signature.waveform_functions(model, scale, offset, feature_config, temperature)
    setattr(model, waveform_signature.WAVEFORM_CLIP_FUNCTION, waveform_clip)

    signatures = {
        "serving_default": serve_audio,
        "classify": classify,
        "serving_examples": serve_examples,
        "transform_features": transform_features,
        FEATURES_SIGNATURE: audio_features,
        **timeline.timeline_signatures(lambda clips: predict_audio(clips)["probabilities"], emotions, feature_config),
        waveform_signature.WAVEFORM_SIGNATURE: serve_waveform,
    }
    model.save(output_dir, save_format="tf", signatures=signatures)
    assets = os.path.join(output_dir, "assets")
    tf.io.gfile.makedirs(assets)
    with tf.io.gfile.GFile(os.path.join(assets, FEATURE_CONFIG_ASSET), "w") as config_file:
        config_file.write(feature_config.to_json())
    with tf.io.gfile.GFile(os.path.join(assets, LABELS_ASSET), "w") as labels_file:
        labels_file.write("\n".join(emotions) + "\n")
    warmup_requests.write_audio_requests(output_dir, feature_config)

"""The served network from a prepared waveform, in core ops: what TFLite and ONNX runtimes run (serving/portable_export.py).

The waveform is what the Transform makes of a clip before its log-mel: mono float32 at the model's sample rate,
silence trimmed, centre-cropped or centre-padded to clip_samples (speech_emotion.audio.frontend.waveform_from_wav).
Decoding stays outside: TFLite and ONNX have no string ops.

  `waveform` signature   waveform: float32 [batch, clip_samples] -> probabilities [batch, num_classes]
  `waveform_clip`        the same function for one clip, traced with a static batch of 1 (tf2onnx converts rfft's
                         magnitude only with static shapes), its LSTMs on Keras's generic recurrence (see below).

The converters turn the LSTMs' own implementation into TFLite's fused UNIDIRECTIONAL_SEQUENCE_LSTM, whose state is
a variable tensor that persists between invocations (each clip would start from the last one's final state unless
the caller resets it) and which the converter can merge with another RNN's zero initial state of the same shape
(the BiGRU behind the BiLSTM then starts from the LSTM's final state). The generic recurrence is the same
arithmetic as a plain loop: a stateless TFLite WHILE, and the same ONNX LSTM op.
"""
import contextlib
from typing import Callable, Tuple

import numpy as np
import tensorflow as tf

from speech_emotion.audio import frontend, wav
from speech_emotion.config import FeatureConfig
from speech_emotion.trainer import calibration

WAVEFORM_SIGNATURE = "waveform"
WAVEFORM_CLIP_FUNCTION = "waveform_clip"
WAVEFORM_INPUT = "waveform"
PROBABILITIES_OUTPUT = "probabilities"
# Levels of the uniform-noise probe clips, 40 dB apart, so every mel band takes two distinct levels.
_PROBE_LEVELS = (0.5, 0.005)
_PROBE_SEED = 0
# How far (in normalised units) the fitted normalisation may stray from the Transform's on the probes.
_NORMALISATION_TOLERANCE = 1e-4


def log_mel_normalisation(normalised_log_mel: Callable[[tf.Tensor], tf.Tensor], config: FeatureConfig) -> Tuple[np.ndarray, np.ndarray]:
    """Per-band (scale, offset), each [n_mels], with which `log_mel * scale + offset` is the Transform's log-mel.

    `normalised_log_mel` maps WAV bytes [batch] to the Transform's normalised log-mel. The statistics that
    tft.mean analysed are folded into the Transform graph as unnamed constants, with no API to read them
    back; the normalisation is affine per band, so a line fitted per band between the front-end's log-mel and
    the Transform's, on probe clips, recovers it. The fit is checked to reproduce the Transform's output.
    """
    rng = np.random.default_rng(_PROBE_SEED)
    probes = tf.constant([
        wav.encode_wav_pcm16(level * rng.uniform(-1.0, 1.0, size=(config.clip_samples, 1)), config.sample_rate)
        for level in _PROBE_LEVELS
    ])
    raw = frontend.log_mel(frontend.waveforms_from_wav_batch(probes, config), config).numpy().reshape(-1, config.n_mels)
    normalised = normalised_log_mel(probes).numpy().reshape(-1, config.n_mels)
    raw, normalised = raw.astype(np.float64), normalised.astype(np.float64)
    raw_centred = raw - raw.mean(axis=0)
    variance = np.sum(raw_centred**2, axis=0)
    # A band no FFT bin reaches sits at the log floor for every input: any scale works there, 0 is exact.
    scale = np.divide(np.sum(raw_centred * normalised, axis=0), variance, out=np.zeros_like(variance), where=variance > 0)
    offset = normalised.mean(axis=0) - scale * raw.mean(axis=0)
    error = np.max(np.abs(raw * scale + offset - normalised))
    if error > _NORMALISATION_TOLERANCE:
        raise ValueError(f"the Transform's log-mel is no per-band affine map of the front-end's (off by {error:.2g})")
    return scale.astype(np.float32), offset.astype(np.float32)


@contextlib.contextmanager
def _lstms_on_generic_recurrence(model: tf.keras.Model):
    """Within it, the model's LSTMs trace Keras's generic recurrence instead of their fused cuDNN/CPU implementation."""
    lstms = [layer for layer in model.submodules if isinstance(layer, tf.keras.layers.LSTM)]
    # tf_keras (2.16) picks the implementation by this attribute at each trace; there is no public switch.
    fused = [lstm._could_use_gpu_kernel for lstm in lstms]
    for lstm in lstms:
        lstm._could_use_gpu_kernel = False
    try:
        yield
    finally:
        for lstm, could_use_fused in zip(lstms, fused):
            lstm._could_use_gpu_kernel = could_use_fused


def waveform_functions(model: tf.keras.Model, scale: np.ndarray, offset: np.ndarray, config: FeatureConfig,
                       temperature: float = 1.0):
    """The `waveform` signature (any batch) and `waveform_clip` function (batch 1) of the served model, serving
    its temperature-scaled probabilities as every signature does."""

    # NumPy arrays become constants of each traced graph; eager tensors would be captures, which tf2onnx turns
    # into extra model inputs.
    def probabilities(waveform):
        return {PROBABILITIES_OUTPUT: calibration.scale_probabilities(model(frontend.log_mel(waveform, config) * scale + offset),
                                                                      temperature)}

    # Inside the traced function, so every trace takes it: saving traces the function again.
    def clip_probabilities(waveform):
        with _lstms_on_generic_recurrence(model):
            return probabilities(waveform)

    def traced(function, batch_size):
        return tf.function(function, input_signature=[tf.TensorSpec([batch_size, config.clip_samples], tf.float32, name=WAVEFORM_INPUT)])

    return traced(probabilities, None), traced(clip_probabilities, 1)

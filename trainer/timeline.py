"""The `timeline` signature's graph, in core TensorFlow ops: one answer per recording, and its windows' answers.

A recording longer than FeatureConfig.clip_seconds is cut into overlapping windows of clip_seconds, starting
every window_hop_seconds, the last one ending with the recording, so every moment is judged in several contexts
and none is left out; a shorter one is one window. Each window is judged as serving_default judges a clip (the
same Transform graph: trimming, crop or pad, normalisation), and the overall probabilities are the windows' mean.

Windows are cut from the recording before its silence is trimmed, and each window is then trimmed as a clip:
the windows' times are then those of the recording as its user hears it, a recording of at most one window is
the very clip serving_default judges (so the answers are equal), and every window gets the trimming and
centring that a training clip got. A window of silence alone is judged like a silent clip.
"""
import typing

import tensorflow as tf

from speech_emotion.audio import frontend
from speech_emotion.config import FeatureConfig
from speech_emotion.data import example_features
from speech_emotion.serving import recording_predictions as names

# WAV clips [clips] to class probabilities [clips, classes], as serving_default computes them.
JudgeClips = typing.Callable[[tf.Tensor], tf.Tensor]


def window_bounds(num_samples: tf.Tensor, config: FeatureConfig) -> typing.Tuple[tf.Tensor, tf.Tensor]:
    """(start, end) sample indices int64 [windows] of a recording of `num_samples` samples at config.sample_rate;
    at least one window, [0, 0) for an empty recording."""
    num_samples = tf.cast(num_samples, tf.int64)
    window, hop = config.clip_samples, config.window_hop_samples
    last_start = tf.maximum(num_samples - window, 0)
    # Starts every hop before the last one, then the last, which ends with the recording.
    starts = tf.concat([tf.range(0, last_start, hop, dtype=tf.int64), last_start[tf.newaxis]], axis=0)
    return starts, tf.minimum(starts + window, num_samples)


def _recording_windows(wav_bytes: tf.Tensor, config: FeatureConfig):
    """One recording's windows as WAV clips [windows], their sample bounds, and its length in samples."""
    waveform = frontend.mono_waveform_from_wav(wav_bytes, config)
    num_samples = tf.size(waveform, out_type=tf.int64)
    starts, ends = window_bounds(num_samples, config)

    def encoded_windows():
        # As `ser predict` sent windows before: 16-bit PCM at the model's rate, which the Transform reads unchanged.
        return tf.map_fn(
            lambda bounds: tf.audio.encode_wav(waveform[bounds[0]:bounds[1], tf.newaxis], config.sample_rate),
            tf.stack([starts, ends], axis=1),
            fn_output_signature=tf.TensorSpec([], tf.string),
        )

    # A recording of at most one window is judged from the bytes it came in, exactly as serving_default judges it:
    # re-encoding resampled audio as 16-bit PCM would round its samples.
    clips = tf.cond(num_samples <= config.clip_samples, lambda: wav_bytes[tf.newaxis], encoded_windows)
    return clips, starts, ends, num_samples


@tf.autograph.experimental.do_not_convert
def timeline_outputs(audio: tf.Tensor, judge_clips: JudgeClips, class_names: typing.Sequence[str],
                     config: FeatureConfig) -> typing.Dict[str, tf.Tensor]:
    """The `timeline` signature's outputs for WAV recordings [batch]; per-window outputs are padded to the
    batch's most windows, `window_count` says how many of each row are real."""
    audio = tf.convert_to_tensor(audio, tf.string)
    ragged_strings = tf.RaggedTensorSpec([None], tf.string, ragged_rank=0)
    ragged_samples = tf.RaggedTensorSpec([None], tf.int64, ragged_rank=0)
    clips, starts, ends, num_samples = tf.map_fn(
        lambda wav_bytes: _recording_windows(wav_bytes, config),
        audio,
        fn_output_signature=(ragged_strings, ragged_samples, ragged_samples, tf.TensorSpec([], tf.int64)),
    )
    probabilities = judge_clips(clips.flat_values)
    # Windows are all full length unless there is one; at least one sample of weight per window, so an empty
    # recording's single window still weighs 1; dividing by the total first makes the weight of a recording's only
    # window exactly 1, its answer exactly the window's.
    weights = tf.cast(tf.maximum(ends - starts, 1), tf.float32)
    weights = (weights / tf.reduce_sum(weights, axis=1, keepdims=True)).flat_values
    overall = tf.reduce_sum(clips.with_flat_values(weights[:, tf.newaxis] * probabilities), axis=1)
    class_names = tf.constant(list(class_names))
    batch = tf.shape(audio)[0]

    def seconds(samples):
        # In float64 first: float32 division by the rate, done as a multiplication, puts 3 s at 3.0000002.
        return tf.cast(tf.cast(samples, tf.float64) / config.sample_rate, tf.float32)

    return {
        names.PROBABILITIES: clips.with_flat_values(probabilities).to_tensor(),
        names.LABEL: clips.with_flat_values(tf.gather(class_names, tf.argmax(probabilities, axis=-1))).to_tensor(default_value=""),
        names.START_SECONDS: tf.ragged.map_flat_values(seconds, starts).to_tensor(),
        names.END_SECONDS: tf.ragged.map_flat_values(seconds, ends).to_tensor(),
        names.WINDOW_COUNT: clips.row_lengths(),
        names.OVERALL_PROBABILITIES: overall,
        names.OVERALL_LABEL: tf.gather(class_names, tf.argmax(overall, axis=-1)),
        names.DURATION_SECONDS: seconds(num_samples),
        names.CLASSES: tf.tile(class_names[tf.newaxis, :], [batch, 1]),
    }


def timeline_signatures(judge_clips: JudgeClips, class_names: typing.Sequence[str],
                        config: FeatureConfig) -> typing.Dict[str, tf.types.experimental.GenericFunction]:
    """The `timeline` (WAV bytes [batch]) and `timeline_examples` (serialized tf.Example [batch] with `audio`;
    overall_label [batch, 1]) signatures, to save with the model that `judge_clips` runs."""

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=names.AUDIO_INPUT)])
    def timeline(audio):
        return timeline_outputs(audio, judge_clips, class_names, config)

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=names.EXAMPLES_INPUT)])
    def timeline_examples(serialized):
        audio = tf.io.parse_example(serialized, {example_features.AUDIO: tf.io.FixedLenFeature([], tf.string)})
        outputs = timeline_outputs(audio[example_features.AUDIO], judge_clips, class_names, config)
        # tfx_bsl's RunInference, which BulkInferrer runs, writes each example's row of every output as a tensor
        # and fails on the row of a [batch] string tensor, a bare string.
        outputs[names.OVERALL_LABEL] = outputs[names.OVERALL_LABEL][:, tf.newaxis]
        return outputs

    return {names.SIGNATURE_NAME: timeline, names.EXAMPLES_SIGNATURE_NAME: timeline_examples}

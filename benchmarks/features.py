"""Feature extraction speed of the embedded TF front-end against librosa, in times real-time per core.

Both run on one core (TensorFlow pinned to one intra- and one inter-op thread, BLAS and OpenMP to one
thread) over the same clips: real speech from ../shared/corpora when present, synthetic otherwise.
Rows: log-mel alone and the full feature set, each from waveforms and from WAV bytes (decoding,
resampling to the config's rate, trimming and cropping included).

    python benchmarks/features.py [--clips 48] [--repeats 3] [--batch 16] [--write-markdown [docs/benchmarks.md]]
"""
import os

for _variable in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_variable] = "1"

import argparse
import io
import pathlib
import time

import speech_emotion  # noqa: F401  (must precede TensorFlow)
import librosa
import numpy as np
import soundfile
import tensorflow as tf

from speech_emotion.audio import features, frontend
from speech_emotion.config import DEFAULT_FEATURE_CONFIG, FeatureConfig
import markdown_report  # benchmarks/markdown_report.py

SHARED_CORPORA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


def load_clips(count: int, config: FeatureConfig):
    """WAV bytes of `count` clips: real speech when the shared corpora are there, else harmonic tones at 44.1 kHz."""
    paths = sorted((SHARED_CORPORA / "emodb" / "wav").glob("*.wav"))[: count // 2] + sorted(
        (SHARED_CORPORA / "ravdess" / "Actor_01").glob("*.wav")
    )[: count - count // 2]
    if len(paths) == count:
        return [path.read_bytes() for path in paths], "real speech (EmoDB 22.05 kHz, RAVDESS 48 kHz)"
    rng = np.random.default_rng(0)
    clips = []
    for _ in range(count):
        time_s = np.arange(int(44100 * config.clip_seconds)) / 44100
        tone = sum(np.sin(2 * np.pi * k * rng.uniform(100, 300) * time_s) / k for k in range(1, 8))
        buffer = io.BytesIO()
        soundfile.write(buffer, (0.2 * tone / np.abs(tone).max()).astype(np.float32), 44100, format="WAV", subtype="PCM_16")
        clips.append(buffer.getvalue())
    return clips, "synthetic harmonic tones (44.1 kHz)"


def librosa_waveform(wav_bytes: bytes, config: FeatureConfig) -> np.ndarray:
    waveform, sample_rate = soundfile.read(io.BytesIO(wav_bytes), dtype="float32", always_2d=True)
    waveform = librosa.resample(waveform.mean(axis=1), orig_sr=sample_rate, target_sr=config.sample_rate, res_type="soxr_hq")
    waveform, _ = librosa.effects.trim(waveform, top_db=config.trim_db)
    return librosa.util.fix_length(waveform, size=config.clip_samples)


def librosa_log_mel(waveform: np.ndarray, config: FeatureConfig) -> np.ndarray:
    mel_power = librosa.feature.melspectrogram(
        y=waveform, sr=config.sample_rate, n_fft=config.n_fft, hop_length=config.hop_length, win_length=config.win_length,
        center=config.center, pad_mode="constant", power=config.power, n_mels=config.n_mels, fmin=config.fmin,
        fmax=config.fmax, htk=config.htk, norm=config.norm,
    )
    return librosa.power_to_db(mel_power, ref=1.0, amin=config.amin, top_db=config.top_db)


def librosa_all_features(waveform: np.ndarray, config: FeatureConfig):
    stft = dict(n_fft=config.n_fft, hop_length=config.hop_length, win_length=config.win_length, center=config.center)
    log_mel = librosa_log_mel(waveform, config)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=config.n_mfcc)
    return (
        log_mel, mfcc, librosa.feature.delta(mfcc), librosa.feature.delta(mfcc, order=2),
        librosa.feature.chroma_stft(y=waveform, sr=config.sample_rate, tuning=0.0, n_chroma=config.n_chroma, **stft),
        librosa.feature.spectral_centroid(y=waveform, sr=config.sample_rate, **stft),
        librosa.feature.zero_crossing_rate(waveform, frame_length=config.n_fft, hop_length=config.hop_length, center=config.center),
        librosa.feature.rms(y=waveform, frame_length=config.n_fft, hop_length=config.hop_length, center=config.center),
    )


def best_seconds(run, repeats: int) -> float:
    run()  # warm-up: tracing, librosa's filterbank and numba caches
    timings = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clips", type=int, default=48)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    markdown_report.add_argument(parser)
    args = parser.parse_args()
    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    config = DEFAULT_FEATURE_CONFIG

    clips, source = load_clips(args.clips, config)
    waveforms = [librosa_waveform(clip, config) for clip in clips]
    audio_seconds = len(clips) * config.clip_seconds
    batches = [slice(start, start + args.batch) for start in range(0, len(clips), args.batch)]
    waveform_spec = tf.TensorSpec([None, config.clip_samples], tf.float32)
    wav_spec = tf.TensorSpec([None], tf.string)
    tf_log_mel = tf.function(lambda w: frontend.log_mel(w, config), input_signature=[waveform_spec])
    tf_all = tf.function(lambda w: features.audio_features(w, config), input_signature=[waveform_spec])
    tf_wav_log_mel = tf.function(lambda a: frontend.log_mel(frontend.waveforms_from_wav_batch(a, config), config), input_signature=[wav_spec])
    tf_wav_all = tf.function(lambda a: features.audio_features(frontend.waveforms_from_wav_batch(a, config), config), input_signature=[wav_spec])
    waveform_batches = [tf.constant(np.stack(waveforms[part])) for part in batches]
    wav_batches = [tf.constant(clips[part]) for part in batches]

    def tf_runner(function, inputs):
        return lambda: [function(batch) for batch in inputs]

    rows = [
        ("log-mel, from waveforms", tf_runner(tf_log_mel, waveform_batches), lambda: [librosa_log_mel(w, config) for w in waveforms]),
        ("full set, from waveforms", tf_runner(tf_all, waveform_batches), lambda: [librosa_all_features(w, config) for w in waveforms]),
        ("log-mel, from WAV bytes", tf_runner(tf_wav_log_mel, wav_batches), lambda: [librosa_log_mel(librosa_waveform(c, config), config) for c in clips]),
        ("full set, from WAV bytes", tf_runner(tf_wav_all, wav_batches), lambda: [librosa_all_features(librosa_waveform(c, config), config) for c in clips]),
    ]
    setting = f"{len(clips)} clips of {config.clip_seconds:g} s, {source}; batch {args.batch}; best of {args.repeats}; one core"
    print(setting)
    print(f"{'features':<26}{'TF front-end':>16}{'librosa':>12}{'TF / librosa':>15}")
    table = []
    for name, tf_run, librosa_run in rows:
        tf_speed = audio_seconds / best_seconds(tf_run, args.repeats)
        librosa_speed = audio_seconds / best_seconds(librosa_run, args.repeats)
        print(f"{name:<26}{tf_speed:>15.0f}x{librosa_speed:>11.0f}x{tf_speed / librosa_speed:>14.2f}x")
        table.append((name, f"{tf_speed:.0f}x", f"{librosa_speed:.0f}x", f"{tf_speed / librosa_speed:.2f}x"))
    if args.write_markdown:
        markdown_report.write_section(args.write_markdown, __file__, markdown_report.section(
            "Feature extraction (`benchmarks/features.py`)",
            "Times real-time per core of the model's embedded TensorFlow front-end and of librosa with the same "
            f"settings: {setting}.",
            markdown_report.table(["features", "TF front-end", "librosa", "TF / librosa"], table)))


if __name__ == "__main__":
    main()

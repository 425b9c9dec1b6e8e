"""The data report's charts, drawn on matplotlib's Agg canvas (no display) and saved as PNG."""
import os
from typing import Sequence

import librosa
import librosa.display
import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from speech_emotion.config import FeatureConfig
from speech_emotion.data import audio_files
from speech_emotion.data import report_survey

_DPI = 100
_HISTOGRAM_BINS = 30


def _save(figure: Figure, path: str) -> None:
    FigureCanvasAgg(figure)
    figure.savefig(path, dpi=_DPI, bbox_inches="tight")


def _no_data(axes, message: str) -> None:
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
    axes.set_axis_off()


def emotion_distribution(surveys: Sequence[report_survey.CorpusSurvey], path: str) -> None:
    """Clips per emotion, one bar per corpus in each emotion's group."""
    emotions = report_survey.emotions_present(surveys)
    figure = Figure(figsize=(max(6.0, 1.1 * len(emotions) + 2.0), 4.5))
    axes = figure.subplots()
    if not emotions:
        _no_data(axes, "no readable clips")
    else:
        width = 0.8 / len(surveys)
        positions = np.arange(len(emotions))
        for index, survey in enumerate(surveys):
            counts = survey.label_counts()
            axes.bar(positions + (index - (len(surveys) - 1) / 2) * width, [counts.get(emotion, 0) for emotion in emotions],
                     width, label=survey.corpus.name)
        axes.set_xticks(positions, emotions, rotation=30, ha="right")
        axes.set_ylabel("clips")
        axes.set_title("Emotion distribution per corpus")
        axes.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _save(figure, path)


def duration_histograms(surveys: Sequence[report_survey.CorpusSurvey], path: str) -> None:
    """One histogram of clip durations per corpus, with its median marked."""
    figure = Figure(figsize=(6.0, 2.6 * len(surveys)))
    for axes, survey in zip(figure.subplots(len(surveys), 1, squeeze=False)[:, 0], surveys):
        durations = survey.durations()
        if durations.size == 0:
            _no_data(axes, f"{survey.corpus.name}: no readable clips")
            continue
        axes.hist(durations, bins=_HISTOGRAM_BINS, color="tab:blue")
        median = float(np.median(durations))
        axes.axvline(median, color="tab:red", linestyle="--", label=f"median {median:.2f} s")
        axes.set_title(f"{survey.corpus.name}: {durations.size} clips")
        axes.set_xlabel("duration (s)")
        axes.set_ylabel("clips")
        axes.legend()
    figure.tight_layout()
    _save(figure, path)


def example_clip(emotion: str, clip: report_survey.Clip, feature_config: FeatureConfig, path: str) -> None:
    """The clip's waveform and its log-mel spectrogram with the model's front-end settings."""
    samples, file_rate = audio_files.decode_audio_file(clip.record.path, feature_config)
    rate = feature_config.sample_rate
    waveform = librosa.resample(audio_files.to_mono(samples), orig_sr=file_rate, target_sr=rate)
    mel = librosa.feature.melspectrogram(
        y=waveform, sr=rate, n_fft=feature_config.n_fft, hop_length=feature_config.hop_length,
        win_length=feature_config.win_length, center=feature_config.center, power=feature_config.power,
        n_mels=feature_config.n_mels, fmin=feature_config.fmin, fmax=feature_config.fmax, htk=feature_config.htk,
        norm=feature_config.norm,
    )
    log_mel = librosa.power_to_db(mel, ref=1.0, amin=feature_config.amin, top_db=feature_config.top_db)

    figure = Figure(figsize=(8.0, 5.5))
    waveform_axes, mel_axes = figure.subplots(2, 1)
    librosa.display.waveshow(waveform, sr=rate, ax=waveform_axes)
    waveform_axes.set_title(f"{emotion}: {os.path.basename(clip.record.path)} (speaker {clip.record.speaker}), "
                            f"{clip.duration_seconds:.2f} s")
    waveform_axes.set_xlabel("")
    image = librosa.display.specshow(log_mel, sr=rate, hop_length=feature_config.hop_length, x_axis="time", y_axis="mel",
                                     fmin=feature_config.fmin, fmax=feature_config.fmax, htk=feature_config.htk, ax=mel_axes)
    mel_axes.set_title(f"log-mel spectrogram ({feature_config.n_mels} mels)")
    figure.colorbar(image, ax=mel_axes, format="%+2.0f dB")
    figure.tight_layout()
    _save(figure, path)

"""The synthetic corpus generator: each layout reads back through its reader, and emotions are audible."""
import collections
import wave

import speech_emotion  # noqa: F401  (must precede any TensorFlow import)
import numpy as np
import pytest

from speech_emotion.data import readers
from speech_emotion.data import synthetic
from speech_emotion.data import taxonomy

EXPECTED_SPEAKERS = {
    "ravdess": {"ravdess:01": "male", "ravdess:02": "female"},
    "tess": {"tess:OAF": "female", "tess:YAF": "female"},
    "savee": {"savee:DC": "male", "savee:JE": "male"},
    "cremad": {"cremad:1001": "male", "cremad:1002": "female"},
    "esd": {"esd:0011": "male", "esd:0015": "female"},
    "emodb": {"emodb:03": "male", "emodb:08": "female"},
    "unlabelled": {"unlabelled:speaker_01": "unknown", "unlabelled:speaker_02": "unknown"},
}
NATIVE_EMOTION_COUNTS = {"ravdess": 8, "tess": 7, "savee": 7, "cremad": 6, "esd": 5, "emodb": 7, "unlabelled": 9}


@pytest.mark.parametrize("layout", synthetic.LAYOUTS)
def test_layout_reads_back_with_the_intended_labels(tmp_path, layout):
    paths = synthetic.write_corpus(layout, str(tmp_path), speakers=2, utterances_per_emotion=2, seed=0, seconds=0.5)

    found, rejected = readers.read_corpus(layout, str(tmp_path))

    assert rejected == []
    assert sorted(record.path for record in found) == paths
    emotions = synthetic.native_emotions(layout)
    assert len(emotions) == NATIVE_EMOTION_COUNTS[layout]
    expected_labels = {"": 2 * 2 * len(emotions)} if layout == "unlabelled" else {e: 2 * 2 for e in emotions}
    assert collections.Counter(record.label for record in found) == expected_labels
    assert {record.speaker: record.gender for record in found} == EXPECTED_SPEAKERS[layout]


@pytest.mark.parametrize("layout", ["ravdess", "cremad", "esd", "emodb"])
def test_chosen_emotions_are_the_ones_labelled(tmp_path, layout):
    chosen = (taxonomy.SAD, taxonomy.ANGRY)
    synthetic.write_corpus(layout, str(tmp_path), speakers=1, utterances_per_emotion=3, seed=0, seconds=0.3,
                           emotions=chosen)

    found, _ = readers.read_corpus(layout, str(tmp_path))

    assert collections.Counter(record.label for record in found) == {taxonomy.SAD: 3, taxonomy.ANGRY: 3}


def test_clips_are_16_bit_mono_wav_of_the_requested_rate_and_length(tmp_path):
    paths = synthetic.write_corpus("emodb", str(tmp_path), speakers=1, utterances_per_emotion=1, seed=0,
                                   sample_rate=22050, seconds=1.5, emotions=(taxonomy.BOREDOM,))

    with wave.open(paths[0]) as clip:
        layout = (clip.getnchannels(), clip.getsampwidth(), clip.getframerate(), clip.getnframes())
        samples = np.frombuffer(clip.readframes(clip.getnframes()), "<i2")
    assert layout == (1, 2, 22050, 33075)
    assert 0.02 < np.abs(samples).max() / 32767 < 1.0


def test_same_seed_writes_identical_files_and_another_seed_different_ones(tmp_path):
    def contents(directory, seed):
        paths = synthetic.write_corpus("esd", str(tmp_path / directory), speakers=2, utterances_per_emotion=1,
                                       seed=seed, seconds=0.5)
        return [open(path, "rb").read() for path in paths]

    first, again, other = contents("a", 7), contents("b", 7), contents("c", 8)

    assert first == again
    assert all(a != b for a, b in zip(first, other))


@pytest.mark.parametrize("arguments, message", [
    (dict(layout="iemocap"), "unknown layout"),
    (dict(layout="ravdess", emotions=(taxonomy.BOREDOM,)), "has no"),
    (dict(layout="tess", speakers=3), "room for 2 speakers"),
    (dict(layout="cremad", utterances_per_emotion=16), "room for 15 utterances"),
    (dict(layout="savee", speakers=0), "at least one speaker"),
    (dict(layout="emodb", sample_rate=4000), "sample_rate"),
])
def test_invalid_requests_are_errors(tmp_path, arguments, message):
    request = dict(layout="ravdess", speakers=1, utterances_per_emotion=1, seed=0) | arguments
    with pytest.raises(ValueError, match=message):
        synthetic.write_corpus(root=str(tmp_path), **request)


def _clip_features(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Level (dB), log spectral centroid, median log2 f0 and log2 f0 spread of a clip's active frames."""
    frame = int(0.032 * sample_rate)
    frames = np.lib.stride_tricks.sliding_window_view(samples, frame)[::frame // 2]
    energy = np.sqrt(np.mean(frames ** 2, axis=1))
    frames = frames[energy > 0.1 * energy.max()]
    level = np.mean(20 * np.log10(energy[energy > 0.1 * energy.max()]))
    spectra = np.abs(np.fft.rfft(frames * np.hanning(frame), axis=1))
    centroid = np.mean(np.log(spectra @ np.fft.rfftfreq(frame, 1 / sample_rate) / spectra.sum(axis=1)))
    autocorrelation = np.fft.irfft(np.abs(np.fft.rfft(frames, n=2 * frame, axis=1)) ** 2, axis=1)
    shortest, longest = sample_rate // 400, sample_rate // 70
    lags = shortest + np.argmax(autocorrelation[:, shortest:longest], axis=1)
    voiced = autocorrelation[np.arange(len(lags)), lags] > 0.5 * autocorrelation[:, 0]
    log_f0 = np.log2(sample_rate / lags[voiced])
    return np.array([level, centroid, np.median(log_f0), np.std(log_f0)])


@pytest.fixture(scope="module")
def ravdess_features(tmp_path_factory):
    root = tmp_path_factory.mktemp("ravdess")
    synthetic.write_corpus("ravdess", str(root), speakers=8, utterances_per_emotion=3, seed=0)
    found, _ = readers.read_corpus("ravdess", str(root))
    features = []
    for record in found:
        with wave.open(record.path) as clip:
            samples = np.frombuffer(clip.readframes(clip.getnframes()), "<i2") / 32768.0
            features.append(_clip_features(samples, clip.getframerate()))
    return np.array(features), np.array([r.label for r in found]), np.array([r.speaker for r in found])


def test_emotions_shift_level_and_pitch_within_every_speaker(ravdess_features):
    features, labels, speakers = ravdess_features

    def mean(emotion, speaker, column):
        return features[(labels == emotion) & (speakers == speaker), column].mean()

    level, _, pitch, pitch_spread = range(4)
    for speaker in set(speakers):
        assert mean("angry", speaker, level) > mean("neutral", speaker, level) > mean("sad", speaker, level)
        assert mean("fearful", speaker, pitch) > mean("neutral", speaker, pitch) > mean("sad", speaker, pitch)
        assert mean("surprised", speaker, pitch_spread) > mean("calm", speaker, pitch_spread)


def test_emotions_are_learnable_on_held_out_speakers_but_not_trivially(ravdess_features):
    features, labels, speakers = ravdess_features
    emotions = sorted(set(labels))
    speaker_ids = sorted(set(speakers))
    correct = 0
    for fold in range(0, len(speaker_ids), 2):
        test = np.isin(speakers, speaker_ids[fold:fold + 2])
        mean, spread = features[~test].mean(axis=0), features[~test].std(axis=0)
        standardized = (features - mean) / spread
        centroids = np.stack([standardized[~test & (labels == e)].mean(axis=0) for e in emotions])
        distances = ((standardized[test][:, np.newaxis] - centroids) ** 2).sum(axis=2)
        correct += np.sum(np.array(emotions)[distances.argmin(axis=1)] == labels[test])
    accuracy = correct / len(labels)

    # Eight emotions: chance is 0.125. A nearest-centroid on four numbers should beat it clearly,
    # yet stay far from perfect, leaving the model something to learn.
    assert 0.25 < accuracy < 0.8


def test_max_clips_keeps_every_speaker_and_emotion(tmp_path):
    paths = synthetic.write_corpus("savee", str(tmp_path), speakers=4, utterances_per_emotion=3, seed=0, seconds=0.2, max_clips=80)

    found, _ = readers.read_corpus("savee", str(tmp_path))

    assert len(paths) == len(found) == 80
    for field in ("speaker", "label"):
        counts = collections.Counter(getattr(record, field) for record in found)
        assert len(counts) == (4 if field == "speaker" else 7)
        assert max(counts.values()) - min(counts.values()) <= 1

"""Readers and decoding on the real RAVDESS, TESS and EmoDB files in ../shared/corpora (skipped when absent)."""
import collections

import speech_emotion  # noqa: F401  (must precede any TensorFlow import)
import numpy as np
import pytest
import soundfile

from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import audio_files
from speech_emotion.data import readers
from speech_emotion.data import taxonomy


@pytest.fixture(scope="module")
def corpora(shared_corpora):
    return {name: readers.read_corpus(name, str(shared_corpora / name)) for name in ("ravdess", "tess", "emodb")}


def test_ravdess_subset(corpora):
    found, rejected = corpora["ravdess"]

    assert rejected == []
    assert len(found) == 1200
    counts = collections.Counter(record.label for record in found)
    assert counts == {emotion: 160 for emotion in taxonomy.CORPUS_LABELS["ravdess"].values()} | {taxonomy.NEUTRAL: 80}
    genders = {record.speaker: record.gender for record in found}
    assert genders == {f"ravdess:{n:02d}": "male" if n % 2 else "female" for n in range(1, 21)}
    assert collections.Counter(record.intensity for record in found) == {"normal": 640, "strong": 560}
    assert collections.Counter(record.path.rsplit(".", 1)[1] for record in found) == {"wav": 60, "flac": 1140}


def test_tess_subset_with_its_malformed_speaker_prefix(corpora):
    found, rejected = corpora["tess"]

    assert rejected == []
    assert len(found) == 564
    assert {record.label for record in found} == set(taxonomy.CORPUS_LABELS["tess"].values())
    assert collections.Counter(record.speaker for record in found) == {"tess:OAF": 282, "tess:YAF": 282}
    malformed = [record for record in found if record.path.endswith("/OA_bite_neutral.wav")]
    assert [(r.speaker, r.label, r.gender) for r in malformed] == [("tess:OAF", taxonomy.NEUTRAL, "female")]


def test_emodb_subset(corpora):
    found, rejected = corpora["emodb"]

    assert rejected == []
    assert len(found) == 107
    assert {record.label for record in found} == set(taxonomy.CORPUS_LABELS["emodb"].values())
    assert {record.speaker: record.gender for record in found} == {"emodb:03": "male", "emodb:08": "female"}
    assert {record.language for record in found} == {"de"}


QUIRKY_FILES = ("/YAF_germ_angry.wav", "/YAF_neat_fear.wav", "/OAF_food_fear.wav", "/OA_bite_neutral.wav")


def test_files_decode_as_libsndfile_reads_them(corpora):
    # Every original 48 kHz WAV (odd-sized chunks, two stereo), the quirky TESS files, and every
    # fifth other file: all formats here, in a fraction of the time decoding all of them takes.
    formats = collections.Counter()
    for name, (found, _) in corpora.items():
        chosen = [record for index, record in enumerate(found)
                  if index % 5 == 0 or "/Actor_01/" in record.path or record.path.endswith(QUIRKY_FILES)]
        for record in chosen:
            samples, sample_rate = audio_files.decode_audio_file(record.path, DEFAULT_FEATURE_CONFIG)
            reference, reference_rate = soundfile.read(record.path, dtype="float32", always_2d=True)
            assert sample_rate == reference_rate, record.path
            np.testing.assert_array_equal(samples, reference, err_msg=record.path)
            formats[(name, sample_rate, samples.shape[1])] += 1

    assert set(formats) == {
        ("ravdess", 48000, 1), ("ravdess", 48000, 2), ("ravdess", 16000, 1),
        ("tess", 24414, 1), ("tess", 96000, 1), ("emodb", 22050, 1),
    }
    assert formats[("ravdess", 48000, 1)] + formats[("ravdess", 48000, 2)] == 60


def test_quirky_files(shared_corpora):
    for name in ("YAF_germ_angry.wav", "YAF_neat_fear.wav"):
        path = shared_corpora / "tess" / name
        assert path.read_bytes()[:4] == b"FORM"  # AIFF-C behind a .wav name
        samples, sample_rate = audio_files.decode_audio_file(str(path), DEFAULT_FEATURE_CONFIG)
        assert sample_rate == 24414 and samples.shape[1] == 1 and len(samples) > 24414

    _, sample_rate = audio_files.decode_audio_file(str(shared_corpora / "tess" / "OAF_food_fear.wav"), DEFAULT_FEATURE_CONFIG)
    assert sample_rate == 96000

    for stem in ("03-01-02-01-01-02-01", "03-01-08-01-02-02-01"):
        path = shared_corpora / "ravdess" / "Actor_01" / f"{stem}.wav"
        stereo, sample_rate = audio_files.decode_audio_file(str(path), DEFAULT_FEATURE_CONFIG)
        assert stereo.shape[1] == 2 and sample_rate == 48000
        mono = audio_files.to_mono(stereo)
        np.testing.assert_allclose(mono, stereo.mean(axis=1), atol=1e-7)

    samples, sample_rate = audio_files.decode_audio_file(str(shared_corpora / "emodb" / "wav" / "03a01Fa.wav"), DEFAULT_FEATURE_CONFIG)
    assert (sample_rate, samples.shape) == (22050, (44100, 1))

    actor_07 = shared_corpora / "ravdess" / "Actor_07"
    first, second = (audio_files.decode_audio_file(str(actor_07 / f"03-01-03-01-02-0{take}-07.flac"), DEFAULT_FEATURE_CONFIG)[0]
                     for take in (1, 2))
    np.testing.assert_array_equal(first, second)


def test_a_subset_assembled_from_symlinks_reads_as_its_folders_do(shared_corpora, corpora, tmp_path):
    actors = ("Actor_01", "Actor_02", "Actor_07")
    for actor in actors:
        (tmp_path / "ravdess" / actor).parent.mkdir(exist_ok=True)
        (tmp_path / "ravdess" / actor).symlink_to(shared_corpora / "ravdess" / actor, target_is_directory=True)
    (tmp_path / "tess").symlink_to(shared_corpora / "tess", target_is_directory=True)

    linked_ravdess, rejected = readers.read_corpus("ravdess", str(tmp_path / "ravdess"))
    linked_tess, _ = readers.read_corpus("tess", str(tmp_path / "tess"))

    assert rejected == []
    original = [record for record in corpora["ravdess"][0] if record.path.split("/")[-2] in actors]
    assert len(linked_ravdess) == len(original) == 180
    assert [(r.label, r.speaker, r.intensity) for r in linked_ravdess] == [(r.label, r.speaker, r.intensity) for r in original]
    assert len(linked_tess) == len(corpora["tess"][0])

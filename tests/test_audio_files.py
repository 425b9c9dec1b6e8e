"""decode_audio_file on audio written here in the containers and sample formats the corpora use."""
import struct
import subprocess
import sys

import speech_emotion  # noqa: F401  (must precede any TensorFlow import)
import numpy as np
import pytest
import soundfile

from speech_emotion.config import DEFAULT_FEATURE_CONFIG, AudioLimitError, FeatureConfig
from speech_emotion.data import audio_files

SAMPLE_RATE = 16000


def _stereo_tones(frames=4000):
    time = np.arange(frames) / SAMPLE_RATE
    return np.stack([0.5 * np.sin(2 * np.pi * 440 * time), -0.3 * np.sin(2 * np.pi * 220 * time)], axis=1)


def _riff_chunk(chunk_id: bytes, payload: bytes) -> bytes:
    # RIFF pads odd-sized chunks with one byte that the size field does not count.
    return chunk_id + struct.pack("<I", len(payload)) + payload + (b"\0" if len(payload) % 2 else b"")


def _wav_with_chunks(path, pcm: np.ndarray, chunks_before_data, chunks_after_data):
    fmt = struct.pack("<HHIIHH", 1, 1, SAMPLE_RATE, 2 * SAMPLE_RATE, 2, 16)
    body = b"WAVE" + _riff_chunk(b"fmt ", fmt) + b"".join(chunks_before_data)
    body += _riff_chunk(b"data", pcm.astype("<i2").tobytes()) + b"".join(chunks_after_data)
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)


# Quantisation step of each format, the most a decoded sample may differ from the written one.
@pytest.mark.parametrize("extension, file_format, subtype, tolerance", [
    ("wav", "WAV", "PCM_U8", 1 / 128),
    ("wav", "WAV", "PCM_16", 1 / 2**15),
    ("wav", "WAV", "PCM_24", 1 / 2**23),
    ("wav", "WAV", "PCM_32", 1 / 2**23),
    ("wav", "WAV", "FLOAT", 1e-7),
    ("wav", "WAV", "DOUBLE", 1e-7),
    ("flac", "FLAC", "PCM_16", 1 / 2**15),
    ("flac", "FLAC", "PCM_24", 1 / 2**23),
    ("aiff", "AIFF", "PCM_16", 1 / 2**15),
    # AIFF and AIFF-C behind a .wav name, as two TESS files are distributed.
    ("wav", "AIFF", "PCM_16", 1 / 2**15),
    ("wav", "AIFF", "FLOAT", 1e-7),
])
def test_decodes_stereo_in_each_format(tmp_path, extension, file_format, subtype, tolerance):
    written = _stereo_tones()
    path = tmp_path / f"{subtype}.{extension}"
    soundfile.write(path, written, SAMPLE_RATE, format=file_format, subtype=subtype)

    samples, sample_rate = audio_files.decode_audio_file(str(path), DEFAULT_FEATURE_CONFIG)

    assert sample_rate == SAMPLE_RATE
    assert samples.dtype == np.float32
    assert samples.shape == written.shape
    np.testing.assert_allclose(samples, written, atol=tolerance)


def test_decodes_mono_at_its_own_rate(tmp_path):
    written = np.linspace(-0.5, 0.5, 2441)[:, np.newaxis]
    path = tmp_path / "tess_rate.wav"
    soundfile.write(path, written, 24414, subtype="PCM_16")

    samples, sample_rate = audio_files.decode_audio_file(str(path), DEFAULT_FEATURE_CONFIG)

    assert sample_rate == 24414
    assert samples.shape == (2441, 1)
    np.testing.assert_allclose(samples, written, atol=1 / 2**15)


@pytest.mark.parametrize("before, after", [
    ([_riff_chunk(b"junk", b"odd")], []),
    ([], [_riff_chunk(b"LIST", b"five!")]),
    ([_riff_chunk(b"FLLR", b"\0" * 4044)],
     [_riff_chunk(b"bext", b"x" * 602), _riff_chunk(b"_PMX", b"<xmp/>" * 9 + b"!")]),
], ids=["odd-chunk-before-data", "odd-chunk-after-data", "ravdess-like"])
def test_decodes_wav_with_extra_and_odd_sized_chunks(tmp_path, before, after):
    pcm = (np.arange(3000) % 400 - 200).astype(np.int16) * 50
    path = tmp_path / "chunks.wav"
    _wav_with_chunks(path, pcm, before, after)

    samples, sample_rate = audio_files.decode_audio_file(str(path), DEFAULT_FEATURE_CONFIG)

    assert sample_rate == SAMPLE_RATE
    np.testing.assert_array_equal(samples[:, 0], pcm / 2.0**15)


def test_decodes_flac_exactly(tmp_path):
    pcm = np.random.default_rng(0).integers(-2**15, 2**15, size=(5000, 1)).astype(np.int16)
    path = tmp_path / "clip.flac"
    soundfile.write(path, pcm, SAMPLE_RATE)

    samples, _ = audio_files.decode_audio_file(str(path), DEFAULT_FEATURE_CONFIG)

    np.testing.assert_array_equal(samples, pcm / 2.0**15)


@pytest.mark.parametrize("content", [
    b"",
    bytes(np.random.default_rng(1).integers(0, 256, size=3000, dtype=np.uint8)),
    b"RIFF\x24\x00\x00\x00WAVEfmt \x10\x00\x00\x00\x01\x00",
    b"RIFF\x10\x00\x00\x00WAVEnot really audio",  # the standard library's wave parser raises RuntimeError
], ids=["empty", "garbage", "truncated-header", "riff-without-chunks"])
def test_unreadable_files_raise_audio_decode_error(tmp_path, content):
    path = tmp_path / "broken.wav"
    path.write_bytes(content)

    with pytest.raises(audio_files.AudioDecodeError, match="soundfile"):
        audio_files.decode_audio_file(str(path), DEFAULT_FEATURE_CONFIG)


def test_file_without_samples_raises_audio_decode_error(tmp_path):
    path = tmp_path / "no_samples.wav"
    _wav_with_chunks(path, np.zeros(0, np.int16), [], [])

    with pytest.raises(audio_files.AudioDecodeError, match="no audio samples"):
        audio_files.decode_audio_file(str(path), DEFAULT_FEATURE_CONFIG)


def test_truncated_audio_data_decodes_the_samples_present(tmp_path):
    pcm = (np.arange(3000) % 400 - 200).astype(np.int16) * 50
    path = tmp_path / "cut.wav"
    _wav_with_chunks(path, pcm, [], [])
    path.write_bytes(path.read_bytes()[:44 + 2 * 1000])

    samples, _ = audio_files.decode_audio_file(str(path), DEFAULT_FEATURE_CONFIG)

    np.testing.assert_array_equal(samples[:, 0], pcm[:1000] / 2.0**15)


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        audio_files.decode_audio_file(str(tmp_path / "absent.wav"), DEFAULT_FEATURE_CONFIG)


def test_to_mono_averages_channels():
    stereo = np.array([[1.0, 0.0], [0.5, -0.5], [-1.0, -0.5]], dtype=np.float32)

    np.testing.assert_allclose(audio_files.to_mono(stereo), [0.5, 0.0, -0.75])
    np.testing.assert_array_equal(audio_files.to_mono(np.ones(3)), np.ones(3, np.float32))
    assert audio_files.to_mono(stereo).dtype == np.float32
    with pytest.raises(ValueError):
        audio_files.to_mono(np.zeros((2, 2, 2)))


def test_importing_the_module_does_not_load_tensorflow_io():
    code = ("import sys; import speech_emotion.data.audio_files; "
            "sys.exit('tensorflow_io' in sys.modules or 'tensorflow' in sys.modules)")
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.parametrize("extension, sample_rate, seconds, message", [
    (".wav", 2000, 0.5, "sample rate 2000 Hz is outside the supported 4000..192000 Hz"),
    (".flac", 16000, 2.5, "audio lasts 2.5 s, longer than the supported 2 s"),
    (".wav", 16000, 2.5, "audio lasts 2.5 s, longer than the supported 2 s"),
])
def test_audio_outside_the_contract_raises_audio_limit_error(tmp_path, extension, sample_rate, seconds, message):
    path = tmp_path / f"clip{extension}"
    soundfile.write(str(path), np.zeros(int(sample_rate * seconds), np.float32), sample_rate)
    with pytest.raises(AudioLimitError, match=message):
        audio_files.decode_audio_file(str(path), FeatureConfig(max_input_seconds=2.0, clip_seconds=1.0))

"""The in-graph front-end (trim, crop/pad, log-mel) against librosa, and inside a reloaded SavedModel."""
import io
import subprocess
import sys
import textwrap

import speech_emotion  # noqa: F401  (must precede TensorFlow)
import librosa
import numpy as np
import pytest
import soundfile
import tensorflow as tf

from speech_emotion.audio import frontend, wav
from speech_emotion.config import DEFAULT_FEATURE_CONFIG, FeatureConfig

CONFIG = DEFAULT_FEATURE_CONFIG
# Non-default settings, to show each one reaches the graph as it reaches librosa.
OTHER_CONFIG = FeatureConfig(
    sample_rate=22050, clip_seconds=1.0, n_fft=1024, win_length=1024, hop_length=256, n_mels=40,
    fmin=60.0, fmax=10000.0, htk=True, norm=None, power=1.0, amin=1e-5, top_db=60.0, trim_db=30.0,
)
REAL_FILES = (
    "ravdess/Actor_01/03-01-01-01-01-01-01.wav",  # 48 kHz, odd-sized trailing chunk
    "ravdess/Actor_01/03-01-02-01-01-02-01.wav",  # 48 kHz stereo
    "tess/OAF_back_disgust.wav",  # 24414 Hz
    "tess/OAF_food_fear.wav",  # 96 kHz
    "emodb/wav/03a01Fa.wav",  # 22050 Hz
)


def _librosa_log_mel(waveform, config):
    mel_power = librosa.feature.melspectrogram(
        y=waveform, sr=config.sample_rate, n_fft=config.n_fft, hop_length=config.hop_length,
        win_length=config.win_length, window="hann", center=config.center, pad_mode="constant",
        power=config.power, n_mels=config.n_mels, fmin=config.fmin, fmax=config.fmax, htk=config.htk,
        norm=config.norm,
    )
    return librosa.power_to_db(mel_power, ref=1.0, amin=config.amin, top_db=config.top_db).T


def _librosa_waveform(wav_bytes, config):
    """What waveform_from_wav should compute, done with soundfile and librosa."""
    waveform, sample_rate = soundfile.read(io.BytesIO(wav_bytes), dtype="float32", always_2d=True)
    waveform = librosa.resample(
        waveform.mean(axis=1), orig_sr=sample_rate, target_sr=config.sample_rate, res_type="soxr_hq"
    )
    waveform, _ = librosa.effects.trim(waveform, top_db=config.trim_db)
    excess = len(waveform) - config.clip_samples
    if excess >= 0:
        return waveform[excess // 2 : excess // 2 + config.clip_samples]
    missing = -excess
    return np.pad(waveform, (missing // 2, missing - missing // 2))


def _log_mel_numpy(waveforms, config):
    return frontend.log_mel(tf.constant(np.asarray(waveforms, np.float32)), config).numpy()


def _waveforms_numpy(wav_bytes_list, config):
    return frontend.waveforms_from_wav_batch(tf.constant(wav_bytes_list), config).numpy()


def _vowel(sample_rate, seconds, f0=150.0, seed=0):
    """A harmonic vowel-like sound: gliding pitch, partials up to 7 kHz shaped by two formants."""
    rng = np.random.default_rng(seed)
    time_s = np.arange(int(sample_rate * seconds)) / sample_rate
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.1 * np.sin(2 * np.pi * 2 * time_s))) / sample_rate
    voice = np.zeros_like(time_s)
    for k in range(1, int(min(7000, 0.45 * sample_rate) / f0)):
        formants = np.exp(-(((k * f0 - 700) / 300) ** 2)) + 0.5 * np.exp(-(((k * f0 - 2200) / 500) ** 2)) + 0.02
        voice += formants * np.sin(k * phase + rng.uniform(0, 2 * np.pi))
    return 0.3 * voice / np.abs(voice).max() * np.hanning(len(voice)) ** 0.25


def _with_silence(voice, sample_rate, lead_seconds, tail_seconds, seed=0):
    """Voice between stretches of faint noise (-80 dB) that trimming should drop."""
    rng = np.random.default_rng(seed)
    lead, tail = (1e-4 * rng.standard_normal(int(s * sample_rate)) for s in (lead_seconds, tail_seconds))
    return np.concatenate([lead, voice, tail])


@pytest.mark.parametrize("config", [CONFIG, OTHER_CONFIG], ids=["default", "other"])
def test_log_mel_matches_librosa_on_harmonic_signals(config):
    waveforms = np.stack(
        [_vowel(config.sample_rate, config.clip_seconds, f0, seed) for seed, f0 in enumerate([110.0, 220.0, 330.0])]
    ).astype(np.float32)
    waveforms[2] += 0.01 * np.random.default_rng(3).standard_normal(waveforms.shape[1]).astype(np.float32)

    features = _log_mel_numpy(waveforms, config)

    assert features.shape == (3, config.num_frames, config.n_mels)
    for waveform, feature in zip(waveforms, features):
        error = np.abs(feature - _librosa_log_mel(waveform, config))
        assert np.median(error) < 0.01
        # Only bins some 120 dB (in power) below the peak, at float32's rounding floor, differ more.
        assert np.percentile(error, 99) < 0.05
        assert error.max() < 0.5


def test_log_mel_floors_each_example_at_its_own_maximum():
    loud = _vowel(CONFIG.sample_rate, CONFIG.clip_seconds)
    quiet = 1e-3 * _vowel(CONFIG.sample_rate, CONFIG.clip_seconds, f0=200.0)
    together = _log_mel_numpy([loud, quiet], CONFIG)
    np.testing.assert_allclose(together[1], _log_mel_numpy([quiet], CONFIG)[0], atol=1e-4)
    # A floor shared by the batch would have lifted these.
    assert together[1].min() < together[0].max() - CONFIG.top_db


def test_log_mel_has_static_frames_and_mels_for_an_unknown_batch():
    traced = tf.function(lambda waveforms: frontend.log_mel(waveforms, CONFIG)).get_concrete_function(
        tf.TensorSpec([None, CONFIG.clip_samples], tf.float32)
    )
    assert traced.structured_outputs.shape.as_list() == [None, CONFIG.num_frames, CONFIG.n_mels]


@pytest.mark.parametrize("lead_seconds, tail_seconds", [(0.0, 0.0), (0.3, 0.7), (1.234, 0.01), (0.05, 2.5)])
def test_trim_silence_matches_librosa(lead_seconds, tail_seconds):
    waveform = _with_silence(_vowel(16000, 0.8), 16000, lead_seconds, tail_seconds).astype(np.float32)
    for top_db in (20.0, 40.0, 60.0):
        trimmed = frontend.trim_silence(tf.constant(waveform), top_db).numpy()
        expected, _ = librosa.effects.trim(waveform, top_db=top_db)
        np.testing.assert_array_equal(trimmed, expected)


def test_trim_silence_keeps_a_silent_waveform_whole():
    assert frontend.trim_silence(tf.zeros([5000]), CONFIG.trim_db).shape == [5000]


@pytest.mark.parametrize("seconds", [0.4, 2.9, 3.0, 3.1, 5.3])
def test_waveform_is_trimmed_then_centre_cropped_or_padded(seconds):
    # Loud from end to end, so trimming keeps it all and only cropping or padding remains.
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(int(seconds * 16000)) / 16000)
    decoded, _ = wav.decode_wav(wav.encode_wav_pcm16(tone, 16000))
    decoded = decoded.numpy()[:, 0]

    waveform = _waveforms_numpy([wav.encode_wav_pcm16(tone, 16000)], CONFIG)[0]

    assert waveform.shape == (CONFIG.clip_samples,)
    excess = len(decoded) - CONFIG.clip_samples
    if excess >= 0:
        np.testing.assert_array_equal(waveform, decoded[excess // 2 : excess // 2 + CONFIG.clip_samples])
    else:
        lead = -excess // 2
        np.testing.assert_array_equal(waveform[lead : lead + len(decoded)], decoded)
        assert not waveform[:lead].any() and not waveform[lead + len(decoded) :].any()


def test_channels_are_averaged():
    tone = 0.5 * np.sin(2 * np.pi * 440 * np.arange(CONFIG.clip_samples) / 16000)
    stereo = wav.encode_wav_pcm16(np.stack([tone, -0.5 * tone], axis=1), 16000)
    mono = wav.encode_wav_pcm16(0.25 * tone, 16000)
    waveforms = _waveforms_numpy([stereo, mono], CONFIG)
    np.testing.assert_allclose(waveforms[0], waveforms[1], atol=2**-15)


@pytest.mark.parametrize("sample_rate", [16000, 44100])
def test_silence_gives_zeros(sample_rate):
    waveform = _waveforms_numpy([wav.encode_wav_pcm16(np.zeros(sample_rate), sample_rate)], CONFIG)[0]
    np.testing.assert_array_equal(waveform, np.zeros(CONFIG.clip_samples))


@pytest.mark.parametrize("sample_rate", [48000, 24414, 22050])
def test_features_from_resampled_wav_match_librosa(sample_rate):
    signal = _with_silence(_vowel(sample_rate, 2.2), sample_rate, 0.4, 0.9)
    wav_bytes = wav.encode_wav_pcm16(signal, sample_rate)

    waveform = _waveforms_numpy([wav_bytes], CONFIG)
    features = _log_mel_numpy(waveform, CONFIG)[0]

    expected_waveform = _librosa_waveform(wav_bytes, CONFIG)
    assert np.abs(waveform[0] - expected_waveform).max() < 1e-3
    assert np.median(np.abs(features - _librosa_log_mel(expected_waveform, CONFIG))) < 0.5


def test_features_of_real_speech_match_librosa(shared_corpora):
    wav_bytes = [(shared_corpora / path).read_bytes() for path in REAL_FILES]
    features = _log_mel_numpy(_waveforms_numpy(wav_bytes, CONFIG), CONFIG)
    for path, one_wav, feature in zip(REAL_FILES, wav_bytes, features):
        error = np.abs(feature - _librosa_log_mel(_librosa_waveform(one_wav, CONFIG), CONFIG))
        assert np.median(error) < 0.5, path
        assert np.percentile(error, 99) < 1.0, path


def test_works_in_a_saved_model_loaded_without_tensorflow_io(tmp_path):
    module = tf.Module()
    module.features = tf.function(
        lambda wav_bytes: frontend.log_mel(frontend.waveforms_from_wav_batch(wav_bytes, CONFIG), CONFIG),
        input_signature=[tf.TensorSpec([None], tf.string)],
    )
    tf.saved_model.save(module, str(tmp_path / "model"))
    wav_paths = []
    for index, (sample_rate, channels) in enumerate([(16000, 1), (48000, 2), (22050, 1)]):
        signal = _with_silence(_vowel(sample_rate, 1.5 + index, seed=index), sample_rate, 0.2, 0.3)
        wav_paths.append(tmp_path / f"clip{index}.wav")
        wav_paths[-1].write_bytes(wav.encode_wav_pcm16(np.stack([signal] * channels, axis=1), sample_rate))
    expected = module.features(tf.constant([path.read_bytes() for path in wav_paths])).numpy()

    reload_script = textwrap.dedent(
        """
        import sys
        import numpy as np
        import tensorflow as tf

        model = tf.saved_model.load(sys.argv[1])
        wavs = [open(path, "rb").read() for path in sys.argv[3:]]
        np.save(sys.argv[2], model.features(tf.constant(wavs)).numpy())
        try:
            model.features(tf.constant([b"RIFF....WAVEnot a wav"]))
            print("accepted bad bytes")
        except tf.errors.InvalidArgumentError:
            print("rejected bad bytes")
        io_loaded = any(module.split(".")[0] == "tensorflow_io" for module in sys.modules)
        print("tensorflow_io loaded" if io_loaded else "core only")
        """
    )
    command = [sys.executable, "-c", reload_script, str(tmp_path / "model"), str(tmp_path / "features.npy")]
    completed = subprocess.run(
        [*command, *map(str, wav_paths)], capture_output=True, text=True, timeout=300, check=False
    )

    assert completed.returncode == 0, completed.stderr[-3000:]
    assert completed.stdout.split() == ["rejected", "bad", "bytes", "core", "only"]
    reloaded = np.load(tmp_path / "features.npy")
    assert reloaded.shape == (3, CONFIG.num_frames, CONFIG.n_mels)
    np.testing.assert_allclose(reloaded, expected, atol=1e-3)


def _declared_wav(sample_rate, num_samples):
    """A 16-bit mono WAV header declaring `sample_rate`, with `num_samples` samples of a ramp."""
    return wav.encode_wav_pcm16(np.linspace(-0.5, 0.5, num_samples), sample_rate)


# Limits small enough to cross with a few kilobytes of audio.
SHORT_LIMITS = FeatureConfig(clip_seconds=0.5, max_input_seconds=1.0)


@pytest.mark.parametrize(
    "sample_rate, num_samples, message",
    [
        (1, 16000, "sample rate"),  # the 32 KB request that once took a server to 10 GB
        (3999, 4000, "sample rate"),
        (192001, 4000, "sample rate"),
        (16000, 16001, "longer than the supported 1 s"),
        (4000, 4001, "longer than the supported 1 s"),
    ],
)
def test_audio_outside_the_contract_raises_invalid_argument(sample_rate, num_samples, message):
    decode = tf.function(lambda wav_bytes: frontend.mono_waveform_from_wav(wav_bytes, SHORT_LIMITS))
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        decode(tf.constant(_declared_wav(sample_rate, num_samples)))


@pytest.mark.parametrize("sample_rate, num_samples", [(4000, 4000), (192000, 192000), (16000, 16000)])
def test_audio_at_the_contract_bounds_is_accepted(sample_rate, num_samples):
    waveform = frontend.mono_waveform_from_wav(tf.constant(_declared_wav(sample_rate, num_samples)), SHORT_LIMITS)
    assert waveform.shape == [SHORT_LIMITS.sample_rate * num_samples // sample_rate]

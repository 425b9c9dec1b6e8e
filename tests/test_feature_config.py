"""FeatureConfig: the model contract's input bounds, their checks, and their place in feature_config.json."""
import json

import pytest

from speech_emotion.config import DEFAULT_FEATURE_CONFIG, AudioLimitError, FeatureConfig


def test_round_trips_through_json_with_the_input_bounds():
    document = json.loads(DEFAULT_FEATURE_CONFIG.to_json())
    assert document["min_input_sample_rate"] == 4000
    assert document["max_input_sample_rate"] == 192000
    assert document["max_input_seconds"] == 600.0
    assert FeatureConfig.from_json(DEFAULT_FEATURE_CONFIG.to_json()) == DEFAULT_FEATURE_CONFIG


def test_a_feature_config_written_before_the_bounds_existed_loads_with_the_defaults():
    document = json.loads(DEFAULT_FEATURE_CONFIG.to_json())
    for name in ("min_input_sample_rate", "max_input_sample_rate", "max_input_seconds"):
        del document[name]
    assert FeatureConfig.from_json(json.dumps(document)) == DEFAULT_FEATURE_CONFIG


@pytest.mark.parametrize("sample_rate, num_samples", [(4000, 4000 * 600), (192000, 1), (16000, 16000)])
def test_audio_within_the_bounds_passes(sample_rate, num_samples):
    DEFAULT_FEATURE_CONFIG.check_input_audio(sample_rate, num_samples)


@pytest.mark.parametrize("sample_rate, num_samples, message", [
    (1, 16000, "sample rate 1 Hz is outside the supported 4000..192000 Hz"),
    (192001, 1, "sample rate 192001 Hz"),
    (4000, 4000 * 600 + 1, "audio lasts 600.0 s, longer than the supported 600 s"),
])
def test_audio_outside_the_bounds_raises(sample_rate, num_samples, message):
    with pytest.raises(AudioLimitError, match=message):
        DEFAULT_FEATURE_CONFIG.check_input_audio(sample_rate, num_samples)


@pytest.mark.parametrize("bounds", [
    dict(min_input_sample_rate=0),
    dict(min_input_sample_rate=22050),
    dict(max_input_sample_rate=8000),
    dict(max_input_seconds=1.0),
])
def test_inconsistent_bounds_are_rejected(bounds):
    with pytest.raises(ValueError):
        FeatureConfig(**bounds)

"""`python -m speech_emotion.serving.saved_model_predict`: the pushed SavedModel's `timeline` signature in-process,
one JSON line per file it reads (as `ser predict --json` prints it) and one error line per file it cannot."""
import json
import subprocess
import sys

import serving_model_fixture as fixture


def test_files_the_model_cannot_read_get_one_line_each_and_the_others_their_prediction(tmp_path):
    base = tmp_path / "models"
    fixture.push_version(base, 3)
    clip, song, missing = tmp_path / "clip.wav", tmp_path / "song.mp3", tmp_path / "missing.wav"
    clip.write_bytes(fixture.wav_clip(seconds=7.0))
    song.write_bytes(b"ID3\x03\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" + bytes(2000))
    completed = subprocess.run(
        [sys.executable, "-m", "speech_emotion.serving.saved_model_predict", str(base), str(song), str(clip), str(missing)],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 1
    assert completed.stderr.splitlines() == [
        f"saved_model_predict: {song}: the model cannot read it: bytes are not a RIFF/WAVE file",
        f"saved_model_predict: No such file or directory: {missing}",
    ]
    [result] = [json.loads(line) for line in completed.stdout.splitlines()]
    [expected] = fixture.reference_timeline([clip.read_bytes()])
    assert result == {"file": str(clip), **expected.to_json()}
    assert [(window["start_seconds"], window["end_seconds"]) for window in result["timeline"]] == [(0.0, 3.0), (1.0, 4.0), (2.0, 5.0), (3.0, 6.0), (4.0, 7.0)]


def test_a_missing_model_is_one_line(tmp_path):
    clip = tmp_path / "clip.wav"
    clip.write_bytes(fixture.wav_clip())
    completed = subprocess.run(
        [sys.executable, "-m", "speech_emotion.serving.saved_model_predict", str(tmp_path / "models"), str(clip)],
        capture_output=True, text=True, timeout=600,
    )
    assert completed.returncode == 1
    assert completed.stderr.splitlines() == [f"saved_model_predict: no model base path: {tmp_path / 'models'}"]

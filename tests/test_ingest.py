"""Ingestion through Beam on a synthetic corpus seeded with the messes real corpora have."""
import glob
import os
import shutil
import wave

import numpy as np
import pytest
import tensorflow as tf

from speech_emotion import cli
from speech_emotion.audio import wav
from speech_emotion.data import corpus_spec
from speech_emotion.data import empty_corpus
from speech_emotion.data import example_features
from speech_emotion.data import ingest
from speech_emotion.data import records
from speech_emotion.data import splits
from speech_emotion.data import synthetic

EMOTIONS = ("neutral", "happy", "sad", "angry")


def _write_pcm16(path, samples, rate, channels=1):
    with wave.open(path, "wb") as out:
        out.setnchannels(channels)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.asarray(samples) * 32767).astype("<i2").tobytes())


@pytest.fixture(scope="module")
def ingested(tmp_path_factory):
    root = tmp_path_factory.mktemp("ingest")
    ravdess, emodb = root / "ravdess", root / "emodb"
    synthetic.write_corpus("ravdess", str(ravdess), speakers=4, utterances_per_emotion=2, seed=3, emotions=EMOTIONS)
    synthetic.write_corpus("emodb", str(emodb), speakers=2, utterances_per_emotion=1, seed=4)
    actor = ravdess / "Actor_01"
    (actor / "03-01-05-02-02-02-01.wav").write_bytes(b"definitely not audio")
    (actor / "03-01-05-02-01-02-01.wav").write_bytes(b"")
    _write_pcm16(str(actor / "03-01-04-02-01-02-01.wav"), np.zeros(16000), 16000)
    # A stereo 48 kHz file: mixed to mono and resampled.
    t = np.arange(48000) / 48000
    tone = 0.3 * np.sin(2 * np.pi * 220 * t)
    _write_pcm16(str(actor / "03-01-03-02-01-02-01.wav"), np.stack([tone, tone], axis=1).reshape(-1), 48000, channels=2)
    # Below the model contract's lowest sample rate.
    _write_pcm16(str(actor / "03-01-06-02-01-02-01.wav"), tone[:2000], 2000)
    first = sorted(glob.glob(str(ravdess / "Actor_02" / "*.wav")))[0]
    shutil.copy(first, ravdess / "Actor_02" / "03-01-01-02-02-02-02.wav")
    (actor / "notes.wav").write_bytes(b"RIFF")
    (actor / "README.txt").write_text("not audio")
    corpora = (corpus_spec.CorpusSpec("ravdess", str(ravdess)), corpus_spec.CorpusSpec("emodb", str(emodb), corpus_spec.TEST_ROLE))
    config = ingest.IngestConfig(corpora=corpora, split=splits.SplitConfig(eval_fraction=0.25))
    out = str(root / "out")
    return ingest.run(config, out), out


def _read_split(out, split):
    files = glob.glob(os.path.join(ingest.split_dir(out, split), "*.gz"))
    return [tf.train.Example.FromString(record.numpy()) for record in tf.data.TFRecordDataset(files, compression_type="GZIP")]


def _value(example, name):
    return example.features.feature[name].bytes_list.value[0].decode()


def test_every_file_is_accounted_for(ingested):
    summary, _ = ingested
    ravdess = summary["corpora"]["ravdess"]
    reasons = {os.path.basename(q["path"]): q["reason"] for q in ravdess["quarantined"]}
    assert reasons["03-01-05-02-02-02-01.wav"].startswith("unreadable")
    assert reasons["03-01-05-02-01-02-01.wav"].startswith(("unreadable", "empty"))
    assert reasons["03-01-04-02-01-02-01.wav"].startswith("silent")
    assert "notes.wav" in reasons
    assert reasons["03-01-06-02-01-02-01.wav"] == "unsupported: sample rate 2000 Hz is outside the supported 4000..192000 Hz"
    assert [os.path.basename(d["path"]) for d in ravdess["duplicates"]] == ["03-01-01-02-02-02-02.wav"]
    written = 4 * 4 * 2 + 1  # synthetic clips plus the stereo tone
    assert ravdess["examples"] == written
    assert ravdess["files"] == written + 5 + 1
    assert summary["corpora"]["emodb"]["examples"] == 14


def test_splits_are_speaker_disjoint_and_hold_what_the_summary_says(ingested):
    summary, out = ingested
    speakers = {}
    for split in ("train", "eval", "test"):
        examples = _read_split(out, split)
        assert len(examples) == summary["splits"][split]["examples"]
        speakers[split] = {_value(e, example_features.SPEAKER) for e in examples}
    assert not speakers["train"] & speakers["eval"]
    assert speakers["eval"] and speakers["train"]
    assert {s.split(":")[0] for s in speakers["test"]} == {"emodb"}


def test_audio_is_16khz_mono_pcm_and_metadata_is_complete(ingested):
    _, out = ingested
    examples = _read_split(out, "train") + _read_split(out, "eval")
    stereo = [e for e in examples if _value(e, example_features.SOURCE_PATH).endswith("03-01-03-02-01-02-01.wav")]
    assert len(stereo) == 1
    waveform, rate = wav.decode_wav(tf.constant(stereo[0].features.feature[example_features.AUDIO].bytes_list.value[0]))
    assert int(rate) == 16000 and waveform.shape[1] == 1
    assert waveform.shape[0] == pytest.approx(16000, abs=2)
    assert stereo[0].features.feature[example_features.DURATION_SECONDS].float_list.value[0] == pytest.approx(1.0, abs=1e-3)
    assert _value(stereo[0], example_features.LABEL) == "happy"
    assert _value(stereo[0], example_features.GENDER) == "male"
    assert _value(stereo[0], example_features.SPEAKER) == "ravdess:01"


def test_test_speakers_of_a_training_corpus_join_the_test_split(tmp_path):
    ravdess, emodb = tmp_path / "ravdess", tmp_path / "emodb"
    synthetic.write_corpus("ravdess", str(ravdess), speakers=4, utterances_per_emotion=1, seed=3, emotions=EMOTIONS)
    synthetic.write_corpus("emodb", str(emodb), speakers=1, utterances_per_emotion=1, seed=4)
    corpora = (corpus_spec.CorpusSpec("ravdess", str(ravdess)), corpus_spec.CorpusSpec("emodb", str(emodb), corpus_spec.TEST_ROLE))
    split = splits.SplitConfig(eval_speakers=("ravdess:03",), test_speakers=("ravdess:04",))
    plan = ingest.make_plan(ingest.IngestConfig(corpora=corpora, split=split))
    speakers_by_split = {}
    for record, split_name in plan.records:
        speakers_by_split.setdefault(split_name, set()).add(record.speaker)
    assert "ravdess:04" in speakers_by_split[splits.TEST]
    assert all(speaker.startswith("emodb:") for speaker in speakers_by_split[splits.TEST] - {"ravdess:04"})
    assert speakers_by_split[splits.EVAL] == {"ravdess:03"}
    assert speakers_by_split[splits.TRAIN] == {"ravdess:01", "ravdess:02"}


def test_a_corpus_assembled_from_symlinked_folders_is_ingested(tmp_path):
    store, subset = tmp_path / "store", tmp_path / "subset"
    written = synthetic.write_corpus("ravdess", str(store), speakers=4, utterances_per_emotion=1, seed=3,
                                     seconds=0.3, emotions=EMOTIONS)
    subset.mkdir()
    for actor in ("Actor_01", "Actor_02", "Actor_03"):
        (subset / actor).symlink_to(store / actor, target_is_directory=True)
    config = ingest.IngestConfig(corpora=(corpus_spec.CorpusSpec("ravdess", str(subset)),),
                                 split=splits.SplitConfig(eval_speakers=("ravdess:03",)))

    summary = ingest.run(config, str(tmp_path / "out"))

    linked = [path for path in written if "/Actor_04/" not in path]
    assert summary["corpora"]["ravdess"]["examples"] == summary["corpora"]["ravdess"]["files"] == len(linked)
    paths = {_value(example, example_features.SOURCE_PATH)
             for split in ("train", "eval") for example in _read_split(str(tmp_path / "out"), split)}
    assert paths == {path.replace(str(store), str(subset)) for path in linked}


def test_the_fingerprint_sees_changes_behind_symlinks(tmp_path):
    store, subset = tmp_path / "store", tmp_path / "subset"
    written = synthetic.write_corpus("ravdess", str(store), speakers=1, utterances_per_emotion=1, seed=3,
                                     seconds=0.3, emotions=EMOTIONS)
    subset.mkdir()
    (subset / "Actor_01").symlink_to(store / "Actor_01", target_is_directory=True)
    (subset / "Actor_01_gone").symlink_to(store / "absent", target_is_directory=True)
    corpora = (corpus_spec.CorpusSpec("ravdess", str(subset)),)
    before = ingest.fingerprint(corpora)

    with open(written[0], "ab") as clip:
        clip.write(b"\0\0")

    assert ingest.fingerprint(corpora) != before


@pytest.mark.parametrize("files, cause", [
    ((), "the folder holds no file"),
    (("README.txt", "Actor_01/notes.csv"), "no audio file (.aif, .aifc, .aiff, .flac, .mp3, .ogg, .wav) among its 2 files"),
    (("take 1.wav", "Actor_01/03-01-05-02-01-01-30.wav", "Actor_01/b.flac", "README.txt"),
     "3 audio files, none accepted: 2 filename does not match RAVDESS 'MM-VV-EE-II-SS-RR-AA' (e.g. Actor_01/b.flac), "
     "1 actor 30 is not one of RAVDESS' actors 01-24 (e.g. Actor_01/03-01-05-02-01-01-30.wav); 1 other file"),
])
def test_a_corpus_with_no_file_the_reader_accepts_stops_ingestion_before_decoding(tmp_path, files, cause):
    good, bad = tmp_path / "good", tmp_path / "bad"
    synthetic.write_corpus("emodb", str(good), speakers=1, utterances_per_emotion=1, seed=4, seconds=0.3)
    bad.mkdir()
    for name in files:
        (bad / name).parent.mkdir(parents=True, exist_ok=True)
        (bad / name).write_bytes(b"")
    config = ingest.IngestConfig(corpora=(corpus_spec.CorpusSpec("emodb", str(good)), corpus_spec.CorpusSpec("ravdess", str(bad))))

    with pytest.raises(empty_corpus.EmptyCorpusError) as raised:
        ingest.make_plan(config)

    assert str(raised.value) == f"corpus ravdess at {bad} yielded no readable example: {cause}"


def test_a_corpus_whose_every_file_is_set_aside_stops_ingestion_after_the_summary_lists_it(tmp_path):
    ravdess, emodb = tmp_path / "ravdess", tmp_path / "emodb"
    synthetic.write_corpus("ravdess", str(ravdess), speakers=2, utterances_per_emotion=1, seed=3, seconds=0.3,
                           emotions=EMOTIONS)
    (emodb / "wav").mkdir(parents=True)
    (emodb / "wav" / "03a01Fa.wav").write_bytes(b"not audio")
    _write_pcm16(str(emodb / "wav" / "03a01Wa.wav"), np.zeros(8000), 16000)
    (emodb / "wav" / "03a02Fa.wav").symlink_to(emodb / "absent.wav")
    (emodb / "wav" / "3a01Fa.wav").write_bytes(b"")
    corpora = (corpus_spec.CorpusSpec("ravdess", str(ravdess)), corpus_spec.CorpusSpec("emodb", str(emodb), corpus_spec.TEST_ROLE))
    out = str(tmp_path / "out")

    with pytest.raises(empty_corpus.EmptyCorpusError) as raised:
        ingest.run(ingest.IngestConfig(corpora=corpora, split=splits.SplitConfig(eval_fraction=0.5)), out)

    assert str(raised.value) == (f"corpus emodb at {emodb} yielded no readable example: 4 audio files, none accepted: "
                                 "2 unreadable, 1 filename does not match EmoDB 'SSTTTEV' (e.g. 03a01Fa), 1 silent")
    summary = ingest.read_summary(out)
    assert summary["corpora"]["emodb"]["examples"] == 0 and summary["corpora"]["emodb"]["files"] == 4
    assert summary["corpora"]["emodb"]["quarantined_by_reason"] == {
        "filename does not match EmoDB 'SSTTTEV' (e.g. 03a01Fa)": 1, "silent": 1, "unreadable": 2}
    assert summary["corpora"]["ravdess"]["examples"] == 2 * len(EMOTIONS)
    assert summary["splits"]["test"]["examples"] == 0


def test_the_summary_lists_every_corpus_given():
    record = records.AudioRecord(path="/r/Actor_01/a.wav", corpus="ravdess", label="sad", speaker="ravdess:01")

    summary = ingest.summarize([(record, splits.TRAIN)], [], [], [splits.TRAIN, splits.EVAL], ["ravdess", "tess"])

    assert summary["corpora"]["tess"] == {"files": 0, "examples": 0, "by_label": {}, "speakers": 0, "quarantined": [],
                                          "quarantined_by_reason": {}, "duplicates": []}
    assert summary["corpora"]["ravdess"]["examples"] == 1


def test_ser_ingest_on_an_unparsable_corpus_prints_one_line(tmp_path, capsys):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.wav").write_bytes(b"")

    returned = cli.main(["ingest", f"ravdess={tmp_path / 'corpus'}", "--out", str(tmp_path / "out")])

    assert returned != 0
    assert capsys.readouterr().err == (
        f"ser: corpus ravdess at {tmp_path / 'corpus'} yielded no readable example: 1 audio file, none accepted: "
        "1 filename does not match RAVDESS 'MM-VV-EE-II-SS-RR-AA' (e.g. a.wav)\n")


def test_a_corpus_of_duplicates_alone_fails_the_summary_check(tmp_path):
    first, second = tmp_path / "first", tmp_path / "second"
    for folder in (first, second):
        (folder / "wav").mkdir(parents=True)
        (folder / "wav" / "03a01Fa.wav").write_bytes(b"")
    (second / "notes.txt").write_text("copies of the first folder's clips")
    duplicate = {"path": str(second / "wav" / "03a01Fa.wav"), "duplicate_of": "/elsewhere/03a01Fa.wav"}
    corpus = {"files": 1, "examples": 0, "quarantined": [], "quarantined_by_reason": {}, "duplicates": [duplicate]}
    summary = {"corpora": {"emodb": corpus, "ravdess": dict(corpus, examples=3, duplicates=[])}}
    corpora = (corpus_spec.CorpusSpec("ravdess", str(first)), corpus_spec.CorpusSpec("emodb", str(first), corpus_spec.TEST_ROLE),
               corpus_spec.CorpusSpec("emodb", str(second), corpus_spec.TEST_ROLE))

    with pytest.raises(empty_corpus.EmptyCorpusError) as raised:
        empty_corpus.check_summary(corpora, summary)

    assert str(raised.value) == (f"corpus emodb at {first}, {second} yielded no readable example: 1 audio file, none accepted: "
                                 f"1 {empty_corpus.DUPLICATE_REASON}; 1 other file")
    empty_corpus.check_summary(corpora[:1], summary)

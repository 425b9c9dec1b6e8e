import os

import pytest

from speech_emotion import cli
from speech_emotion.data import corpus_spec
from speech_emotion.data import splits
from speech_emotion.data import synthetic
from speech_emotion.pipeline import config_file


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    paths = {}
    for name in ("ravdess", "emodb"):
        paths[name] = str(tmp_path_factory.mktemp(name))
        synthetic.write_corpus(name, paths[name], speakers=2, utterances_per_emotion=1, seed=0, seconds=0.3,
                               emotions=["neutral", "angry"])
    return paths


def _config_environment(tmp_path, text):
    path = tmp_path / "pipeline.yaml"
    path.write_text(text)
    return {config_file.ENVIRONMENT_VARIABLE: str(path)}


def test_the_configuration_file_sets_corpora_and_held_out_speakers(corpora, tmp_path):
    config = config_file.from_environment(_config_environment(tmp_path, f"""
workdir: {tmp_path / "work"}
ingest:
  corpora:
    - {{name: ravdess, path: {corpora["ravdess"]}}}
    - {{name: emodb, path: {corpora["emodb"]}, role: test}}
  split: {{eval_speakers: ["ravdess:15", "ravdess:16"], test_speakers: ["ravdess:17"]}}
"""))

    assert [(spec.name, spec.path, spec.role) for spec in config.ingest.corpora] == [
        ("ravdess", corpora["ravdess"], corpus_spec.TRAIN_ROLE), ("emodb", corpora["emodb"], corpus_spec.TEST_ROLE)]
    assert config.emotions == ("neutral", "angry")
    assert config.ingest.split == splits.SplitConfig(eval_speakers=("ravdess:15", "ravdess:16"), test_speakers=("ravdess:17",))
    assert config.workdir == str(tmp_path / "work")


def test_a_speaker_in_both_held_out_lists_is_rejected(corpora, tmp_path):
    environment = _config_environment(tmp_path, f"""
workdir: {tmp_path}
ingest:
  corpora: [{{name: ravdess, path: {corpora["ravdess"]}}}]
  split: {{eval_speakers: ["ravdess:17"], test_speakers: ["ravdess:17"]}}
""")
    with pytest.raises(ValueError, match=r"pipeline.yaml: ingest.split: speakers cannot be in both eval and test"):
        config_file.from_environment(environment)


def test_pipeline_run_on_an_empty_training_folder_prints_one_line(corpora, tmp_path, capsys):
    empty = tmp_path / "ravdess"
    empty.mkdir()

    returned = cli.main(["pipeline", "run", "--workdir", str(tmp_path / "work"), "--corpus", f"ravdess={empty}",
                         "--corpus", f"emodb={corpora['emodb']}"])

    assert returned != 0
    assert capsys.readouterr().err == f"ser: corpus ravdess at {empty} yielded no readable example: the folder holds no file\n"


def test_the_ingestion_component_stops_the_run_before_training_when_no_file_decodes(corpora, tmp_path, capfd):
    # Named as RAVDESS names its files, so the emotions are known before the run, but none is audio.
    undecodable = tmp_path / "ravdess"
    for actor in ("01", "02"):
        for emotion in ("01", "05"):
            path = undecodable / f"Actor_{actor}" / f"03-01-{emotion}-01-01-01-{actor}.wav"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"RIFF but nothing else")
    workdir = tmp_path / "work"

    returned = cli.main(["pipeline", "run", "--workdir", str(workdir), "--corpus", f"ravdess={undecodable}",
                         "--tuning-trials", "0"])

    assert returned != 0
    errors = capfd.readouterr().err
    assert errors.endswith(f"ser: corpus ravdess at {undecodable} yielded no readable example: "
                           "4 audio files, none accepted: 4 unreadable\n")
    assert "Traceback" not in errors
    assert os.listdir(workdir / "pipeline_root") == ["AudioExampleGen"]

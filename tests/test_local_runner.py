import os

import pytest

from speech_emotion import cli
from speech_emotion.data import corpus_spec
from speech_emotion.data import splits
from speech_emotion.data import synthetic
from speech_emotion.pipeline import local_runner


@pytest.fixture(scope="module")
def corpora(tmp_path_factory):
    paths = {}
    for name in ("ravdess", "emodb"):
        paths[name] = str(tmp_path_factory.mktemp(name))
        synthetic.write_corpus(name, paths[name], speakers=2, utterances_per_emotion=1, seed=0, seconds=0.3,
                               emotions=["neutral", "angry"])
    return paths


def test_environment_configures_corpora_and_held_out_speakers(corpora, tmp_path):
    config = local_runner.config_from_environment({
        "SER_WORKDIR": str(tmp_path / "work"), "SER_CORPORA": f"ravdess={corpora['ravdess']}", "SER_TEST_CORPORA": f"emodb={corpora['emodb']}",
        "SER_EVAL_SPEAKERS": "ravdess:15, ravdess:16,", "SER_TEST_SPEAKERS": "ravdess:17",
    })

    assert [(spec.name, spec.path, spec.role) for spec in config.ingest.corpora] == [
        ("ravdess", corpora["ravdess"], corpus_spec.TRAIN_ROLE), ("emodb", corpora["emodb"], corpus_spec.TEST_ROLE)]
    assert config.emotions == ("neutral", "angry")
    assert config.ingest.split.eval_speakers == ("ravdess:15", "ravdess:16")
    assert config.ingest.split.test_speakers == ("ravdess:17",)
    assert config.workdir == str(tmp_path / "work")


def test_environment_without_held_out_speakers_uses_the_eval_fraction(corpora, tmp_path):
    config = local_runner.config_from_environment({"SER_WORKDIR": str(tmp_path), "SER_CORPORA": f"ravdess={corpora['ravdess']}"})

    assert config.ingest.split == splits.SplitConfig()


@pytest.mark.parametrize("environment", [{"SER_CORPORA": "ravdess=/data/ravdess"}, {"SER_WORKDIR": "/tmp/w", "SER_CORPORA": ""}])
def test_environment_without_workdir_or_corpora_is_rejected(environment):
    with pytest.raises(ValueError, match="SER_WORKDIR and SER_CORPORA"):
        local_runner.config_from_environment(environment)


def test_a_speaker_in_both_held_out_lists_is_rejected(corpora, tmp_path):
    with pytest.raises(ValueError, match="both eval and test"):
        local_runner.config_from_environment({"SER_WORKDIR": str(tmp_path), "SER_CORPORA": f"ravdess={corpora['ravdess']}",
                                              "SER_EVAL_SPEAKERS": "ravdess:17", "SER_TEST_SPEAKERS": "ravdess:17"})


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

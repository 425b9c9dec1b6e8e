"""The pipeline configuration file: flags over the file over the dataclasses' defaults, printed back loadable."""
import pathlib
import textwrap

import pytest
import yaml

from speech_emotion import cli
from speech_emotion.data import corpus_spec
from speech_emotion.data import synthetic
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import config_file
from speech_emotion.trainer import config as trainer_config

CONFIG = """\
workdir: work
ingest:
  corpora:
    - {name: ravdess, path: /data/ravdess}
    - {name: emodb, path: /data/emodb, role: test}
  split: {eval_speakers: ["ravdess:15"], test_speakers: ["ravdess:17"]}
emotions: [sad, neutral]
tuning: {trials: 3, max_epochs: 4, architectures: [cnn, cnn_gru]}
training: {epochs: 5, ensemble_architectures: [cnn_bilstm], model: {dropout: 0.25}}
augmentation: {copies_per_clip: 1, noise: {kinds: [white]}}
blessing: {min_unweighted_accuracy: 0.4}
"""


def _write(tmp_path, text, name="pipeline.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def _printed(capsys, argv):
    assert cli.main(["pipeline", "config", "--print", *argv]) == 0
    return capsys.readouterr().out


def test_the_file_sets_its_keys_and_the_dataclasses_the_rest(tmp_path):
    config = config_file.to_config(config_file.read(_write(tmp_path, CONFIG)))

    assert config.tuning == trainer_config.TuningConfig(trials=3, max_epochs=4, architectures=("cnn", "cnn_gru"))
    assert config.training.epochs == 5 and config.training.ensemble_architectures == ("cnn_bilstm",)
    assert config.training.model.dropout == 0.25 and config.training.model.architecture == trainer_config.ModelConfig.architecture
    assert config.augmentation.copies_per_clip == 1 and config.augmentation.noise.kinds == ("white",)
    assert config.augmentation.noise.probability == 0.5
    assert config.blessing == pipeline_config.BlessingConfig(min_unweighted_accuracy=0.4)
    assert config.ingest.corpora == (corpus_spec.CorpusSpec("ravdess", "/data/ravdess"),
                                     corpus_spec.CorpusSpec("emodb", "/data/emodb", corpus_spec.TEST_ROLE))
    assert config.ingest.split.eval_speakers == ("ravdess:15",) and config.ingest.split.eval_fraction == 0.2
    assert config.emotions == ("sad", "neutral")


def test_without_a_file_a_run_tunes_as_the_dataclasses_say(capsys):
    printed = yaml.safe_load(_printed(capsys, ["--workdir", "w", "--corpus", "ravdess=/data/ravdess"]))

    assert printed["tuning"]["trials"] == pipeline_config.PipelineConfig.tuning.trials == 10
    assert printed["augmentation"]["copies_per_clip"] == 2


def test_flags_override_the_file_and_the_print_loads_back_to_the_same_configuration(tmp_path, capsys):
    path = _write(tmp_path, CONFIG)
    flags = ["--tuning-trials", "6", "--ensemble", "cnn,cnn_gru", "--min-cross-corpus-ua", "0.2", "--seed", "4",
             "--corpus", "tess=/data/tess", "--unlabelled-clips", "/data/new"]

    printed = _printed(capsys, ["--config", path, *flags])

    config = config_file.to_config(yaml.safe_load(printed))
    assert config.tuning.trials == 6 and config.tuning.max_epochs == 4
    assert config.training.ensemble_architectures == ("cnn", "cnn_gru") and config.training.epochs == 5
    assert config.blessing == pipeline_config.BlessingConfig(0.4, 0.2)
    assert config.ingest.split.seed == config.augmentation.seed == 4
    # --corpus replaces the file's training corpora; its test corpus stays.
    assert [(corpus.name, corpus.role) for corpus in config.ingest.corpora] == [
        ("emodb", corpus_spec.TEST_ROLE), ("tess", corpus_spec.TRAIN_ROLE)]
    assert config.unlabelled_clips == "/data/new"
    # Round trip: the printed file, given back, prints itself.
    assert _printed(capsys, ["--config", _write(tmp_path, printed, "printed.yaml")]) == printed


@pytest.mark.parametrize("text, message", [
    ("tuning: {trails: 3}", "unknown key 'tuning.trails'; tuning takes: trials, max_epochs, max_epoch_examples, algorithm, architectures, seed"),
    ("colour: blue", "unknown key 'colour'; the top level takes: workdir, ingest, emotions,"),
    ("tuning: {trials: ten}", "tuning.trials: expected int, got 'ten'"),
    ("tuning: {trials: true}", "tuning.trials: expected int, got True"),
    ("tuning: {architectures: cnn}", "tuning.architectures: expected a list, got 'cnn'"),
    ("augmentation: {reverb: {min_room_dimensions: [3, 3]}}",
     "augmentation.reverb.min_room_dimensions: expected a list of 3 values, got [3, 3]"),
    ("training: {model: {utterance_normalisation: 1}}", "training.model.utterance_normalisation: expected bool, got 1"),
    ("blessing: 0.3", "blessing: expected a mapping of min_unweighted_accuracy, min_cross_corpus_unweighted_accuracy"),
    ("tuning: {algorithm: grid}", "tuning: algorithm must be one of ('hyperband', 'bayesian'), got 'grid'"),
    ("ingest: {corpora: [{name: nosuch, path: /data}]}", "ingest.corpora[0]: unknown corpus 'nosuch'"),
    ("[1, 2]", "must hold a mapping of configuration keys, not a list"),
    ("tuning: {trials: [", "is not YAML"),
])
def test_a_bad_file_is_one_line_naming_the_file_and_the_key(tmp_path, capsys, text, message):
    path = _write(tmp_path, textwrap.dedent(text))

    assert cli.main(["pipeline", "config", "--print", "--config", path, "--workdir", "w"]) == 2

    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith(f"ser: {path}") and message in line


def test_a_float_key_takes_an_integer(tmp_path):
    config = config_file.to_config(config_file.read(_write(tmp_path, "workdir: w\ningest: {corpora: []}\nblessing: {min_unweighted_accuracy: 1}\n")))

    assert config.blessing.min_unweighted_accuracy == 1.0 and isinstance(config.blessing.min_unweighted_accuracy, float)


def test_a_configuration_without_a_work_directory_or_training_corpus_is_refused(tmp_path, capsys):
    assert cli.main(["pipeline", "config", "--print"]) == 2
    assert capsys.readouterr().err == "ser: no work directory: give --workdir DIR, or set workdir in the configuration file (--config)\n"

    with pytest.raises(ValueError, match="no training corpus"):
        pipeline_config.resolved(config_file.to_config({"workdir": "w", "ingest": {"corpora": []}}))


def test_the_environment_names_the_file_the_tfx_cli_runners_read(tmp_path, monkeypatch):
    corpus = tmp_path / "ravdess"
    synthetic.write_corpus("ravdess", str(corpus), speakers=2, utterances_per_emotion=1, seed=0, seconds=0.3,
                           emotions=["neutral", "angry"])
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, "workdir: work\ningest: {corpora: [{name: ravdess, path: ravdess}]}\n", config_file.DEFAULT_PATH)
    other = _write(tmp_path, "workdir: gs://bucket/ser\nemotions: [sad, neutral]\ningest: {corpora: [{name: ravdess, path: /gcs/r}]}\n",
                   "other.yaml")

    # Without the variable, ./pipeline.yaml; relative paths are the current directory's, the emotions the corpus'.
    config = config_file.from_environment({})
    assert config.workdir == str(tmp_path / "work") and config.ingest.corpora[0].path == str(corpus)
    assert config.emotions == ("neutral", "angry")
    # A URL stays a URL; given emotions are put in canonical order and spare reading the corpora.
    config = config_file.from_environment({config_file.ENVIRONMENT_VARIABLE: other})
    assert config.workdir == "gs://bucket/ser" and config.emotions == ("neutral", "sad")

    with pytest.raises(ValueError, match=f"no pipeline configuration at missing.yaml: .* set {config_file.ENVIRONMENT_VARIABLE}"):
        config_file.from_environment({config_file.ENVIRONMENT_VARIABLE: "missing.yaml"})


def test_the_documented_example_loads():
    path = pathlib.Path(__file__).resolve().parents[1] / "docs" / "pipeline.example.yaml"

    config = config_file.to_config(config_file.read(str(path)), source=str(path))

    assert config.tuning.trials == 10 and config.training.ensemble_architectures == ("cnn_gru",)
    assert [corpus.role for corpus in config.ingest.corpora] == [corpus_spec.TRAIN_ROLE] * 2 + [corpus_spec.TEST_ROLE]

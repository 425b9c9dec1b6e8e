"""The real pipeline on a tiny synthetic corpus: ingestion to a pushed model that beats chance."""
import dataclasses
import glob
import json
import os
import subprocess
import sys

import pytest

from speech_emotion.data import corpus_spec
from speech_emotion.data import ingest
from speech_emotion.data import splits
from speech_emotion.data import synthetic
from speech_emotion.pipeline import config as pipeline_config
from speech_emotion.pipeline import demo
from speech_emotion.pipeline import local_runner
from speech_emotion.trainer import config as trainer_config

EMOTIONS = ("neutral", "happy", "sad", "angry")
SPEAKERS = 8
UNREADABLE_CLIP = "unreadable.wav"


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("pipeline")
    train_dir, test_dir = str(workdir / "ravdess"), str(workdir / "emodb")
    synthetic.write_corpus("ravdess", train_dir, speakers=SPEAKERS, utterances_per_emotion=5, seed=0, emotions=EMOTIONS)
    synthetic.write_corpus("emodb", test_dir, speakers=2, utterances_per_emotion=1, seed=1)
    clips_dir = str(workdir / "new_clips")
    synthetic.write_corpus("unlabelled", clips_dir, speakers=1, utterances_per_emotion=1, seed=5, emotions=EMOTIONS)
    with open(os.path.join(clips_dir, UNREADABLE_CLIP), "wb") as unreadable:
        unreadable.write(b"not audio" * 100)
    corpora = (corpus_spec.CorpusSpec("ravdess", train_dir), corpus_spec.CorpusSpec("emodb", test_dir, corpus_spec.TEST_ROLE))
    config = pipeline_config.make_config(
        str(workdir), ingest.IngestConfig(corpora=corpora, split=splits.SplitConfig(eval_fraction=0.25)),
        # A second architecture, so the Trainer trains and exports an ensemble the Evaluator and the server load.
        training=dataclasses.replace(demo.DEMO_TRAINING, ensemble_architectures=(trainer_config.CNN_GRU,)),
        augmentation=demo.DEMO_AUGMENTATION,
        # Trials' epochs cut short of the training set, as on a corpus of the full four corpora's size.
        tuning=dataclasses.replace(demo.DEMO_TUNING, max_epoch_examples=32),
        unlabelled_clips=clips_dir,
    )
    local_runner.run(config)
    return config


def _classify(model_base_path, paths):
    completed = subprocess.run(
        [sys.executable, "-m", "speech_emotion.serving.saved_model_predict", model_base_path, *paths],
        capture_output=True, text=True,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    return [json.loads(line) for line in completed.stdout.splitlines() if line.startswith("{")]


def test_pushed_model_has_tf_serving_layout_and_contract_assets(pipeline_run):
    versions = os.listdir(pipeline_run.serving_model_dir)
    assert len(versions) == 1 and versions[0].isdigit()
    version_dir = os.path.join(pipeline_run.serving_model_dir, versions[0])
    assert os.path.isfile(os.path.join(version_dir, "saved_model.pb"))
    with open(os.path.join(version_dir, "assets", "feature_config.json")) as config_file:
        assert json.load(config_file)["sample_rate"] == 16000
    assert pipeline_run.emotions == EMOTIONS


def test_pushed_version_carries_its_model_card_with_slices_and_calibration(pipeline_run):
    import test_model_card

    from speech_emotion.trainer import calibration
    from speech_emotion.trainer import model_summary

    version_dir = os.path.join(pipeline_run.serving_model_dir, os.listdir(pipeline_run.serving_model_dir)[0])
    fitted = calibration.Calibration.read(version_dir)
    assert fitted.fitted_on == "eval" and fitted.clips > 0 and fitted.temperature > 0
    assert fitted.negative_log_likelihood_after <= fitted.negative_log_likelihood_before + 1e-9
    summary = model_summary.ModelSummary.read(version_dir)
    assert [member.architecture for member in summary.members] == [demo.DEMO_TRAINING.model.architecture, trainer_config.CNN_GRU]
    with open(os.path.join(version_dir, "assets.extra", "model_card.md")) as card_file:
        markdown = card_file.read()
    for heading in ("## Model Details", "## Model Parameters", "## Considerations", "## Datasets", "## Quantitative Analysis",
                    "### Calibration", "### Slices", "### ravdess (eval)", "### emodb (test)", "### Hyperparameter Search"):
        assert heading in markdown, heading
    assert f"{summary.parameters:,} parameters" in markdown and f"T = {fitted.temperature:.3f}" in markdown
    assert "| overall |" in markdown and "| gender = female |" in markdown and "| gender = male |" in markdown
    assert "| corpus = ravdess |" in markdown
    with open(os.path.join(version_dir, "assets.extra", "model_card.html")) as card_file:
        page = test_model_card.parsed_html(card_file.read())
    assert len(page.images) == 2 and "ECE served" in "".join(page.text)


def test_pushed_model_beats_chance_on_unseen_speakers_in_a_process_without_tensorflow_io(pipeline_run, tmp_path):
    paths = synthetic.write_corpus("ravdess", str(tmp_path / "unseen"), speakers=4, utterances_per_emotion=3, seed=77, emotions=EMOTIONS)
    results = _classify(pipeline_run.serving_model_dir, paths)
    assert len(results) == len(paths)
    expected = [_ravdess_emotion(path) for path in paths]
    for result in results:
        assert set(result["overall"]["probabilities"]) == set(EMOTIONS)
        assert sum(result["overall"]["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)
    accuracy = sum(result["overall"]["label"] == label for result, label in zip(results, expected)) / len(paths)
    assert accuracy > 1.5 / len(EMOTIONS), accuracy


def _ravdess_emotion(path):
    from speech_emotion.data import taxonomy

    return taxonomy.canonical_label("ravdess", os.path.basename(path).split("-")[2])


def test_splits_are_speaker_independent_and_summarized(pipeline_run):
    summary_paths = glob.glob(os.path.join(pipeline_run.pipeline_root, "AudioExampleGen", "examples", "*", ingest.SUMMARY_FILE))
    assert len(summary_paths) == 1
    with open(summary_paths[0]) as summary_file:
        summary = json.load(summary_file)
    assert summary["corpora"]["ravdess"]["examples"] == SPEAKERS * len(EMOTIONS) * 5
    assert summary["splits"]["train"]["speakers"] + summary["splits"]["eval"]["speakers"] == SPEAKERS
    assert summary["splits"]["test"]["corpora"] == ["emodb"]


def _count_records(pipeline_root, component, split):
    import tensorflow as tf

    files = glob.glob(os.path.join(pipeline_root, component, "*", "*", f"Split-{split}", "*"))
    return sum(1 for _ in tf.data.TFRecordDataset(files, compression_type="GZIP"))


def test_augmentation_adds_copies_to_train_only(pipeline_run):
    root = pipeline_run.pipeline_root
    copies = 1 + demo.DEMO_AUGMENTATION.copies_per_clip
    assert _count_records(root, "AudioAugmentation", "train") == copies * _count_records(root, "AudioExampleGen", "train")
    assert _count_records(root, "AudioAugmentation", "eval") == _count_records(root, "AudioExampleGen", "eval") > 0


def test_rerun_reuses_cached_components(pipeline_run):
    from ml_metadata import metadata_store
    from ml_metadata.proto import metadata_store_pb2
    from tfx.orchestration import metadata

    local_runner.run(pipeline_run)
    store = metadata_store.MetadataStore(metadata.sqlite_metadata_connection_config(pipeline_run.metadata_path))
    executions = store.get_executions()
    cached = [e for e in executions if e.last_known_state == metadata_store_pb2.Execution.CACHED]
    types = {t.id: t.name for t in store.get_execution_types()}
    cached_types = {types[e.type_id].split(".")[-1] for e in cached}
    assert {"AudioExampleGen", "Transform", "Trainer"} <= cached_types, cached_types


def test_tuning_summary_and_cross_corpus_reports_are_written(pipeline_run):
    from speech_emotion.trainer import tuning

    with open(os.path.join(pipeline_run.reports_dir, tuning.SUMMARY_JSON)) as summary_file:
        trials = json.load(summary_file)
    assert len(trials) == demo.DEMO_TUNING.trials
    assert {trial["architecture"] for trial in trials} <= set(demo.DEMO_TUNING.architectures)
    assert all(trial["epochs"] >= 1 and trial["seconds"] > 0 for trial in trials)
    trial_logs = glob.glob(os.path.join(pipeline_run.reports_dir, tuning.TENSORBOARD_DIR, "*", "*", "train", "events.out.tfevents.*"))
    assert len({os.path.relpath(path, pipeline_run.reports_dir).split(os.sep)[1] for path in trial_logs}) == demo.DEMO_TUNING.trials
    with open(os.path.join(pipeline_run.reports_dir, "cross_corpus.json")) as report_file:
        report = json.load(report_file)
    emodb = report["results"]["test"]["emodb"]
    # EmoDB shares the four trained emotions; its other clips are left out of the score.
    assert emodb["classes"] == [emotion for emotion in report["emotions"] if emotion in emodb["classes"]]
    assert set(emodb["classes"]) <= set(EMOTIONS) and emodb["examples"] > 0
    assert sum(map(sum, emodb["confusion_matrix"])) == emodb["examples"]
    assert os.path.exists(os.path.join(pipeline_run.reports_dir, "model_card.md"))
    assert os.path.exists(os.path.join(pipeline_run.reports_dir, "model_card.html"))
    assert os.path.exists(os.path.join(pipeline_run.reports_dir, "confusion_test_emodb.png"))


def test_every_ensemble_member_has_training_curves_and_tensorboard_logs(pipeline_run):
    members = (demo.DEMO_TRAINING.model.architecture, trainer_config.CNN_GRU)
    for architecture in members:
        assert os.path.exists(os.path.join(pipeline_run.reports_dir, f"training_curves_{architecture}.png")), architecture
        assert glob.glob(os.path.join(pipeline_run.pipeline_root, "Trainer", "model_run", "*", architecture, "train", "events.out.tfevents.*"))


def test_unlabelled_clips_get_batch_prediction_files_with_one_line_each(pipeline_run):
    from speech_emotion.serving import batch_pipeline

    def lines(prefix):
        paths = glob.glob(os.path.join(pipeline_run.predictions_dir, f"{prefix}-*-of-*"))
        return [json.loads(line) for path in paths for line in open(path)]

    results, errors = lines(batch_pipeline.RESULTS_PREFIX), lines(batch_pipeline.ERRORS_PREFIX)
    inputs = sorted(os.path.join(folder, name) for folder, _, names in os.walk(pipeline_run.unlabelled_clips) for name in names)
    assert len(inputs) == len(EMOTIONS) + 1
    assert sorted(line["instance"]["uri"] for line in results + errors) == inputs
    assert [line["instance"]["uri"] for line in errors] == [os.path.join(pipeline_run.unlabelled_clips, UNREADABLE_CLIP)]
    for line in results:
        assert line["prediction"]["label"] in EMOTIONS
        assert list(line["prediction"]["probabilities"]) == list(EMOTIONS)
        assert sum(line["prediction"]["probabilities"].values()) == pytest.approx(1.0, abs=1e-4)

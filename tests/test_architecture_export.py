"""One architecture, and an ensemble of two, exported through trainer/export.py with a real tf.Transform output:
the serving contract holds, the served probabilities are the temperature-scaled ones, and CrossCorpusGate scores
and gates that served model and writes its model card into the model's assets.extra."""
import io
import json
import os

import speech_emotion  # noqa: F401  (must precede TensorFlow)
import numpy as np
import evaluation_fixture
import soundfile
import tensorflow as tf
import test_model_card
import transform_fixture

from tfx.types import artifact_utils
from tfx.types import standard_artifacts

from speech_emotion.components.cross_corpus import component as cross_corpus
from speech_emotion.config import FeatureConfig
from speech_emotion.data import example_features
from speech_emotion.trainer import calibration
from speech_emotion.trainer import card_document
from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import export, preprocessing
from speech_emotion.trainer import model as model_lib

CONFIG = FeatureConfig(clip_seconds=0.5, n_mels=16)
TEMPERATURE = 2.5
EMOTIONS = ("neutral", "happy", "angry")
# The most layered architecture: self-attention, BiLSTM and BiGRU all have to survive the SavedModel trace.
MODEL = trainer_config.ModelConfig(
    architecture=trainer_config.CNN_SELF_ATTENTION_BILSTM_BIGRU, conv_filters=(4, 8), recurrent_units=4, attention_heads=2, dense_units=8
)


def _wav_bytes(frequency, sample_rate=16000):
    time_s = np.arange(int(0.4 * sample_rate)) / sample_rate
    buffer = io.BytesIO()
    soundfile.write(buffer, (0.2 * np.sin(2 * np.pi * frequency * time_s)).astype(np.float32), sample_rate, format="WAV", subtype="PCM_16")
    return buffer.getvalue()


def _serialized(frequency, label, corpus="ravdess"):
    feature = {
        example_features.CORPUS: tf.train.Feature(bytes_list=tf.train.BytesList(value=[corpus.encode()])),
        example_features.SPEAKER: tf.train.Feature(bytes_list=tf.train.BytesList(value=[b"01"])),
        example_features.AUDIO: tf.train.Feature(bytes_list=tf.train.BytesList(value=[_wav_bytes(frequency)])),
        example_features.LABEL: tf.train.Feature(bytes_list=tf.train.BytesList(value=[label.encode()])),
    }
    return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_exported_architecture_serves_softmax_of_its_logits_over_the_temperature(tmp_path):
    transform_output = transform_fixture.analysed_transform_output(
        [(_wav_bytes(200.0), "neutral"), (_wav_bytes(330.0), "happy"), (_wav_bytes(500.0), "angry")], CONFIG, EMOTIONS, str(tmp_path))

    model = model_lib.build_model(len(EMOTIONS), CONFIG.num_frames, CONFIG.n_mels, MODEL)
    output_dir = str(tmp_path / "model" / "Format-Serving")
    export.export_serving_model(model, transform_output, EMOTIONS, CONFIG, output_dir, temperature=TEMPERATURE)
    calibration.Calibration(temperature=TEMPERATURE, fitted_on="eval", clips=2).write(output_dir)

    examples = [_serialized(250.0, "neutral"), _serialized(700.0, "angry")]
    served = tf.saved_model.load(output_dir).signatures["serving_examples"](examples=tf.constant(examples))
    transformed = transform_output.transform_raw_features(
        tf.io.parse_example(tf.constant(examples), transform_output.raw_feature_spec())
    )
    head = model.get_layer("probabilities")
    features = tf.keras.Model(model.input, head.input).predict(transformed[preprocessing.LOG_MEL], verbose=0)
    logits = features @ head.kernel.numpy() + head.bias.numpy()
    np.testing.assert_allclose(served["probabilities"].numpy(), tf.nn.softmax(logits / TEMPERATURE).numpy(), rtol=1e-4, atol=1e-5)
    np.testing.assert_array_equal(served["probabilities"].numpy().argmax(axis=1), model.predict(transformed[preprocessing.LOG_MEL], verbose=0).argmax(axis=1))
    with open(os.path.join(output_dir, "assets", export.LABELS_ASSET)) as labels_file:
        assert labels_file.read().split() == list(EMOTIONS)

    _check_cross_corpus_gate(tmp_path)


def test_exported_ensemble_serves_the_mean_of_its_members_probabilities(tmp_path):
    transform_output = transform_fixture.analysed_transform_output(
        [(_wav_bytes(200.0), "neutral"), (_wav_bytes(330.0), "happy"), (_wav_bytes(500.0), "angry")], CONFIG, EMOTIONS, str(tmp_path))
    member_configs = trainer_config.TrainingConfig(ensemble_architectures=(trainer_config.CNN_GRU,)).member_configs(
        trainer_config.ModelConfig(architecture=trainer_config.CNN, conv_filters=(4,), recurrent_units=4, dense_units=8)
    )
    members = [model_lib.build_model(len(EMOTIONS), CONFIG.num_frames, CONFIG.n_mels, config) for config in member_configs]
    output_dir = str(tmp_path / "ensemble")
    export.export_serving_model(model_lib.averaged(members), transform_output, EMOTIONS, CONFIG, output_dir)

    examples = [_serialized(250.0, "neutral"), _serialized(700.0, "angry")]
    served = tf.saved_model.load(output_dir).signatures["serving_examples"](examples=tf.constant(examples))
    log_mel = transform_output.transform_raw_features(
        tf.io.parse_example(tf.constant(examples), transform_output.raw_feature_spec())
    )[preprocessing.LOG_MEL]
    member_probabilities = [member.predict(log_mel, verbose=0) for member in members]
    assert not np.allclose(member_probabilities[0], member_probabilities[1], atol=1e-3)
    np.testing.assert_allclose(served["probabilities"].numpy(), np.mean(member_probabilities, axis=0), rtol=1e-4, atol=1e-5)


def _artifact(artifact_type, uri):
    artifact = artifact_type()
    artifact.uri = str(uri)
    os.makedirs(artifact.uri, exist_ok=True)
    return artifact


def _check_cross_corpus_gate(tmp_path):
    """The gate on the model exported above: per-corpus scores, report files, and a blessing the Pusher reads."""
    examples = _artifact(standard_artifacts.Examples, tmp_path / "examples")
    examples.split_names = artifact_utils.encode_split_names(["eval", "test"])
    split_examples = {
        "eval": [_serialized(250.0, "neutral"), _serialized(400.0, "happy")],
        # EmoDB-like: one shared emotion and one the model does not know.
        "test": [_serialized(300.0, "angry", "emodb"), _serialized(350.0, "angry", "emodb"), _serialized(450.0, "boredom", "emodb")],
    }
    for split, serialized in split_examples.items():
        os.makedirs(tmp_path / "examples" / f"Split-{split}")
        with tf.io.TFRecordWriter(str(tmp_path / "examples" / f"Split-{split}" / "data.gz"), options="GZIP") as writer:
            for record in serialized:
                writer.write(record)
    model = _artifact(standard_artifacts.Model, tmp_path / "model")
    evaluator_blessing = _artifact(standard_artifacts.ModelBlessing, tmp_path / "evaluator_blessing")
    evaluator_blessing.set_int_custom_property("blessed", 1)
    evaluation = _artifact(standard_artifacts.ModelEvaluation, tmp_path / "evaluation")
    evaluation_fixture.evaluator_result(EMOTIONS, [0, 1], [0, 0], ["female", "male"], ["ravdess", "ravdess"], evaluation.uri)
    verdicts = {}
    for floor in (0.0, 1.01):
        blessing = _artifact(standard_artifacts.ModelBlessing, tmp_path / f"blessing_{floor}")
        report = _artifact(cross_corpus.CrossCorpusReport, tmp_path / f"report_{floor}")
        cross_corpus.CrossCorpusGate.test_call(
            examples=examples, model=model, evaluator_blessing=evaluator_blessing, evaluation=evaluation, blessing=blessing, report=report,
            min_unweighted_accuracy=floor, reports_dir=str(tmp_path / "reports"),
        )
        verdicts[floor] = blessing.get_int_custom_property("blessed")
        assert os.path.exists(os.path.join(blessing.uri, "BLESSED" if verdicts[floor] else "NOT_BLESSED"))
    assert verdicts == {0.0: 1, 1.01: 0}
    with open(tmp_path / "reports" / cross_corpus.REPORT_JSON) as report_file:
        results = json.load(report_file)["results"]
    emodb = results["test"]["emodb"]
    # Only `angry` is shared, so the argmax over the shared classes is always right.
    assert emodb["classes"] == ["angry"] and emodb["examples"] == 2 and emodb["excluded"] == 1
    assert emodb["unweighted_accuracy"] == 1.0
    assert results["eval"]["ravdess"]["classes"] == list(EMOTIONS)
    for name in ("model_card.md", "model_card.html", "confusion_test_emodb.png", "confusion_eval_ravdess.png"):
        assert os.path.exists(tmp_path / "reports" / name), name
    assert results["eval"]["ravdess"]["calibration"]["temperature"] == TEMPERATURE
    # The card travels with the model, in the folder the Pusher copies.
    card_dir = tmp_path / "model" / "Format-Serving" / cross_corpus.MODEL_CARD_DIR
    markdown = (card_dir / card_document.MARKDOWN_FILE).read_text()
    assert "T = 2.500" in markdown and "| gender = female | 1 |" in markdown and "### emodb (test)" in markdown
    page = test_model_card.parsed_html((card_dir / card_document.HTML_FILE).read_text())
    assert len(page.images) == 2  # a reliability diagram per corpus: ravdess (eval), emodb (test)

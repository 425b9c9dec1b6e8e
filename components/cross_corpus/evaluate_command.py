"""`ser evaluate`: scores labelled corpus folders with an exported model, without running the pipeline.

Each folder is read by its corpus reader (data/readers), each clip loaded as ingestion loads it (decoded, mixed
to mono, resampled; unusable files set aside and listed) and scored through the model's `serving_examples`
signature, as CrossCorpusGate scores the test corpora: over the emotions a corpus shares with the model. The
output folder gets the model card's per-corpus analysis (model_card.md, model_card.html: UA, WA, confusion
matrix, ECE and reliability diagram) and the scores as evaluation.json.
"""
import argparse
import json
import os

from speech_emotion.data import corpus_spec

EVALUATION_JSON = "evaluation.json"
_SPLIT = "evaluated"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, metavar="DIR",
                        help="an exported SavedModel, or a model base path (its highest integer version is used)")
    parser.add_argument("--corpus", action="append", required=True, metavar="NAME=PATH",
                        help="a labelled corpus folder to score: NAME is one of ravdess, tess, savee, cremad, esd, emodb")
    parser.add_argument("--output", default="evaluation", metavar="DIR",
                        help=f"folder for model_card.md, model_card.html and {EVALUATION_JSON}")


def saved_model_dir(path: str) -> str:
    """`path` when it holds a SavedModel, else its highest version (TF Serving's model base path layout)."""
    from speech_emotion.serving import saved_model_predict

    return path if os.path.isfile(os.path.join(path, "saved_model.pb")) else saved_model_predict.latest_version_dir(path)


def corpus_examples(corpus: corpus_spec.CorpusSpec, feature_config, set_aside: list):
    """Serialized tf.Examples of the corpus' usable clips; every file that is not one is appended to `set_aside`."""
    import apache_beam as beam

    from speech_emotion.data import example_features
    from speech_emotion.data import ingest

    found, rejected = ingest.read_corpus(corpus)
    set_aside.extend(rejected)
    loader = ingest.LoadClip(feature_config)
    loader.setup()
    for record in found:
        for output in loader.process((record, _SPLIT)):
            if isinstance(output, beam.pvalue.TaggedOutput):
                set_aside.append(output.value)
            else:
                yield example_features.make_example(output.record, output.wav_bytes, output.duration_seconds).SerializeToString()


def evaluate(model_path: str, corpora, output_dir: str) -> dict:
    """Scores the corpora, writes the card and evaluation.json under `output_dir`, and returns what it wrote."""
    import itertools

    import tensorflow as tf

    from speech_emotion.components.cross_corpus import evaluate as scoring
    from speech_emotion.config import FeatureConfig
    from speech_emotion.trainer import calibration
    from speech_emotion.trainer import export
    from speech_emotion.trainer import model_card

    directory = saved_model_dir(model_path)
    emotions = scoring.served_emotions(directory)
    with tf.io.gfile.GFile(os.path.join(directory, "assets", export.FEATURE_CONFIG_ASSET)) as config_file:
        feature_config = FeatureConfig.from_json(config_file.read())
    temperature = calibration.Calibration.read(directory).temperature
    served = tf.saved_model.load(directory).signatures["serving_examples"]

    def predict(serialized):
        return served(examples=tf.constant(serialized))["probabilities"].numpy()

    set_aside = []
    examples = itertools.chain.from_iterable(corpus_examples(corpus, feature_config, set_aside) for corpus in corpora)
    results = scoring.scores_by_corpus(predict, examples, emotions, temperature=temperature)
    quarantined = [{"corpus": item.corpus, "path": item.path, "reason": item.description} for item in set_aside]
    evaluation = {"model": directory, "emotions": emotions, "results": results, "quarantined": quarantined}
    model_card.evaluation_card(directory, emotions, results, quarantined).write(output_dir)
    with tf.io.gfile.GFile(os.path.join(output_dir, EVALUATION_JSON), "w") as evaluation_file:
        json.dump(evaluation, evaluation_file, indent=2)
    return evaluation


def run(args: argparse.Namespace) -> int:
    corpora = [corpus_spec.CorpusSpec.parse(text, corpus_spec.TEST_ROLE) for text in args.corpus]
    evaluation = evaluate(args.model, corpora, args.output)
    for corpus, result in evaluation["results"].items():
        print(f"{corpus}: {result['examples']} clips, UA {result['unweighted_accuracy']:.3f}, WA {result['weighted_accuracy']:.3f}, "
              f"ECE {result['calibration']['expected_calibration_error']:.3f}")
    if evaluation["quarantined"]:
        print(f"{len(evaluation['quarantined'])} files could not be scored (listed in the card)")
    from speech_emotion.trainer import card_document

    print(f"Model card: {os.path.join(args.output, card_document.HTML_FILE)} (and {card_document.MARKDOWN_FILE}, {EVALUATION_JSON})")
    return 0

"""`ser report --corpus NAME=PATH ... --out DIR`: what the corpora hold, as PNG charts and one index.html.

Per corpus, the emotion distribution and a histogram of clip durations; per emotion, one clip's
waveform and log-mel spectrogram with the model's front-end settings (FeatureConfig). Files a
reader rejects or no decoder can read are listed with the reason: the report never stops for one.
"""
import argparse
import dataclasses
import json
import os
from typing import Sequence, Tuple

from speech_emotion.config import DEFAULT_FEATURE_CONFIG, FeatureConfig
from speech_emotion.data import corpus_spec

INDEX_FILE = "index.html"
EMOTIONS_IMAGE = "emotion_distribution.png"
DURATIONS_IMAGE = "durations.png"


@dataclasses.dataclass(frozen=True)
class Report:
    index_path: str
    images: Tuple[str, ...]
    clips: int
    unreadable: int


def parse_corpus(text: str) -> corpus_spec.CorpusSpec:
    """NAME=PATH; the unlabelled reader's folder takes the role only it can have."""
    name = text.partition("=")[0].strip().lower()
    role = corpus_spec.UNLABELLED_ROLE if name == "unlabelled" else corpus_spec.TRAIN_ROLE
    return corpus_spec.CorpusSpec.parse(text, role)


def write_report(corpora: Sequence[corpus_spec.CorpusSpec], out_dir: str,
                 feature_config: FeatureConfig = DEFAULT_FEATURE_CONFIG) -> Report:
    """Surveys the corpora and writes the charts and index.html into `out_dir`."""
    # Imported here: numpy, matplotlib and librosa take seconds to import, and the parser is built for every `ser` command.
    from speech_emotion.data import report_html
    from speech_emotion.data import report_plots
    from speech_emotion.data import report_survey

    if not corpora:
        raise ValueError("give at least one corpus")
    os.makedirs(out_dir, exist_ok=True)
    surveys = report_survey.survey_corpora(corpora)
    report_plots.emotion_distribution(surveys, os.path.join(out_dir, EMOTIONS_IMAGE))
    report_plots.duration_histograms(surveys, os.path.join(out_dir, DURATIONS_IMAGE))
    examples, example_problems = {}, {}
    for emotion, clip in report_survey.example_clips(surveys).items():
        name = f"example_{emotion}.png"
        try:
            report_plots.example_clip(emotion, clip, feature_config, os.path.join(out_dir, name))
            examples[emotion] = name
        except Exception as error:  # noqa: BLE001  One clip that fails to draw leaves a note, not a broken report.
            example_problems[emotion] = f"{clip.record.path}: {error}"

    index_path = os.path.join(out_dir, INDEX_FILE)
    with open(index_path, "w", encoding="utf-8") as index:
        index.write(report_html.render(surveys, {"emotions": EMOTIONS_IMAGE, "durations": DURATIONS_IMAGE},
                                       examples, example_problems))
    images = (EMOTIONS_IMAGE, DURATIONS_IMAGE, *examples.values())
    return Report(index_path=index_path, images=tuple(os.path.join(out_dir, name) for name in images),
                  clips=sum(len(survey.clips) for survey in surveys),
                  unreadable=sum(len(survey.unreadable) for survey in surveys))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", action="append", required=True, metavar="NAME=PATH",
                        help="a corpus to describe: NAME is one of ravdess, tess, savee, cremad, esd, emodb, unlabelled")
    parser.add_argument("--out", required=True, help="folder for index.html and the PNG charts")


def run(args: argparse.Namespace) -> int:
    report = write_report([parse_corpus(text) for text in args.corpus], args.out)
    print(json.dumps(dataclasses.asdict(report), indent=2))
    return 0

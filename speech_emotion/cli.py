"""The `ser` command line.

It imports only what a command needs, when it runs: `ser --help`, argument errors and `ser predict` (a
client) never load TensorFlow, Beam or TFX, which take seconds. Errors are one line, `ser: <cause>`;
`-v` (anywhere on the command line) adds the traceback, and the full logs of pipeline runs.
"""
import argparse
import json
import os
import sys
import traceback
import warnings

import speech_emotion  # noqa: F401  (selects Keras 2 before anything imports TensorFlow)
from speech_emotion import user_errors
from speech_emotion.data import corpus_spec
from speech_emotion.data import splits

VERBOSE_FLAGS = ("-v", "--verbose")


def _add_corpus_arguments(parser: argparse.ArgumentParser, required: bool) -> None:
    parser.add_argument("--corpus", action="append", default=[], required=required, metavar="NAME=PATH",
                        help="a training corpus: NAME is one of ravdess, tess, savee, cremad, esd, emodb")
    parser.add_argument("--test-corpus", action="append", default=[], metavar="NAME=PATH",
                        help="a cross-corpus test corpus, never trained on")
    parser.add_argument("--eval-fraction", type=float, default=splits.SplitConfig.eval_fraction,
                        help="share of each training corpus' speakers held out for eval")
    parser.add_argument("--eval-speakers", default="", metavar="CORPUS:ID,...",
                        help="hold out exactly these speakers (e.g. ravdess:17,ravdess:18) instead")
    parser.add_argument("--test-speakers", default="", metavar="CORPUS:ID,...",
                        help="training-corpus speakers kept out of train and eval (which selects models) and scored "
                             "in the test split beside the test corpora: an unbiased held-out score")
    parser.add_argument("--seed", type=int, default=0)


def _add_unlabelled_clips_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--unlabelled-clips", metavar="DIR",
                        help="classify every clip under DIR with the blessed model (BulkInferrer); writes `ser batch-predict`'s "
                             "prediction.results-* and prediction.errors_stats-* to WORKDIR/predictions")


def _add_training_arguments(parser: argparse.ArgumentParser) -> None:
    from speech_emotion.components.augmentation.config import AugmentationConfig
    from speech_emotion.pipeline import config as pipeline_config
    from speech_emotion.trainer import config as trainer_config

    parser.add_argument("--tuning-trials", type=int, default=10, help="KerasTuner trials; 0 trains the default model without a search")
    parser.add_argument("--max-epochs", type=int, default=trainer_config.TuningConfig.max_epochs, help="epochs per tuning trial at most")
    parser.add_argument("--tuning-algorithm", choices=trainer_config.SEARCH_ALGORITHMS, default=trainer_config.TuningConfig.algorithm)
    parser.add_argument("--architectures", default=",".join(trainer_config.ARCHITECTURES),
                        help=f"architectures the search may choose, of: {', '.join(trainer_config.ARCHITECTURES)}")
    parser.add_argument("--ensemble", default="", metavar="ARCHITECTURE,...",
                        help="architectures trained after the tuned model, with its settings; the served model averages "
                             "their probabilities with its own")
    parser.add_argument("--augment-copies", type=int, default=2, help="augmented copies per training clip at most (0: none)")
    parser.add_argument("--augment-target-examples", type=int, default=AugmentationConfig.target_examples,
                        help="fewer copies on larger corpora: about this many training examples, originals included (0: always "
                             "--augment-copies)")
    parser.add_argument("--min-ua", type=float, default=pipeline_config.BlessingConfig.min_unweighted_accuracy,
                        help="eval unweighted accuracy a model needs to be blessed")
    parser.add_argument("--min-cross-corpus-ua", type=float,
                        default=pipeline_config.BlessingConfig.min_cross_corpus_unweighted_accuracy,
                        help="unweighted accuracy each --test-corpus needs (on shared emotions) for the push")


def _ingest_config(args, train_corpora, unlabelled_folders=()):
    from speech_emotion.data import ingest

    corpora = (
        [corpus_spec.CorpusSpec.parse(text, corpus_spec.TRAIN_ROLE) for text in train_corpora]
        + [corpus_spec.CorpusSpec.parse(text, corpus_spec.TEST_ROLE) for text in args.test_corpus]
        + [corpus_spec.CorpusSpec.parse(f"unlabelled={path}", corpus_spec.UNLABELLED_ROLE) for path in unlabelled_folders]
    )
    split_config = splits.SplitConfig(
        eval_fraction=args.eval_fraction, eval_speakers=splits.speaker_list(args.eval_speakers),
        test_speakers=splits.speaker_list(args.test_speakers), seed=args.seed,
    )
    return ingest.IngestConfig(corpora=tuple(corpora), split=split_config)


def _ingest(args) -> int:
    from speech_emotion.data import ingest

    summary = ingest.run(_ingest_config(args, args.corpora + args.corpus, args.unlabelled), args.out, args.beam_arg)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


def _pipeline_run(args) -> int:
    from speech_emotion.pipeline import config as pipeline_config
    from speech_emotion.pipeline import local_runner
    from speech_emotion.pipeline import progress

    from speech_emotion.components.augmentation.config import AugmentationConfig
    from speech_emotion.trainer import config as trainer_config

    def names(text):
        return tuple(name.strip() for name in text.split(",") if name.strip())

    config = pipeline_config.make_config(
        args.workdir,
        _ingest_config(args, args.corpus),
        training=trainer_config.TrainingConfig(ensemble_architectures=names(args.ensemble)),
        tuning=trainer_config.TuningConfig(
            trials=args.tuning_trials, max_epochs=args.max_epochs, algorithm=args.tuning_algorithm, architectures=names(args.architectures)
        ),
        augmentation=AugmentationConfig(copies_per_clip=args.augment_copies, target_examples=args.augment_target_examples,
                                        seed=args.seed),
        blessing=pipeline_config.BlessingConfig(
            min_unweighted_accuracy=args.min_ua, min_cross_corpus_unweighted_accuracy=args.min_cross_corpus_ua
        ),
        unlabelled_clips=os.path.abspath(args.unlabelled_clips) if args.unlabelled_clips else None,
    )
    with progress.reported_run(config.workdir, args.verbose) as (run_progress, log_path):
        run_progress.config = config
        local_runner.run(config)
    print("\n".join(progress.result_lines(config, log_path)))
    return 0


def _demo(args) -> int:
    from speech_emotion.pipeline import demo

    return demo.run_demo(args.workdir, args.verbose)


def _export(args) -> int:
    from speech_emotion.serving import portable_export

    print(json.dumps(portable_export.export_portable_model(args.model, args.format, args.output), indent=2))
    return 0


def _pipeline_compile(args) -> int:
    from speech_emotion.kubeflow import compile_command

    return compile_command.run(args, _ingest_config(args, args.corpus))


# Commands with their own flag parsers (`ser serve` takes tensorflow_model_server's flags): name -> (main, help).
_DELEGATED = {
    "serve": ("speech_emotion.serving.model_server",
              "serve pushed models over TF Serving's gRPC and REST APIs (tensorflow_model_server's flags)"),
    "predict": ("speech_emotion.serving.predict_cli", "classify audio files with a running server"),
}


def _run_delegated(name: str, argv, verbose: bool) -> int:
    import importlib

    module_name, _ = _DELEGATED[name]
    if name == "predict" and verbose:
        argv = [*argv, "--verbose"]
    return importlib.import_module(module_name).main(argv)


def build_parser() -> argparse.ArgumentParser:
    from speech_emotion.data import report
    from speech_emotion.kubeflow import compile_command
    from speech_emotion.serving import batch_predict

    parser = argparse.ArgumentParser(prog="ser", description="Speech emotion recognition: TFX pipeline and serving.")
    parser.add_argument(*VERBOSE_FLAGS, action="store_true",
                        help="full logs on the terminal (pipeline runs write them to WORKDIR/logs otherwise) and "
                             "tracebacks with errors; accepted anywhere on the command line")
    commands = parser.add_subparsers(dest="command", required=True)

    demo = commands.add_parser("demo", help="generate a corpus, run the whole pipeline, classify a clip with the pushed model")
    demo.add_argument("--workdir", default="workdir/demo")
    demo.set_defaults(handler=_demo)

    pipeline = commands.add_parser("pipeline", help="run the TFX pipeline")
    pipeline_commands = pipeline.add_subparsers(dest="pipeline_command", required=True)
    run = pipeline_commands.add_parser("run", help="run the pipeline locally on real corpora")
    run.add_argument("--workdir", required=True)
    _add_corpus_arguments(run, required=True)
    _add_training_arguments(run)
    _add_unlabelled_clips_argument(run)
    run.set_defaults(handler=_pipeline_run)
    compile_parser = pipeline_commands.add_parser("compile", help="compile the pipeline for Kubeflow / Vertex AI Pipelines")
    compile_command.add_arguments(compile_parser)
    _add_corpus_arguments(compile_parser, required=True)
    _add_unlabelled_clips_argument(compile_parser)
    compile_parser.set_defaults(handler=_pipeline_compile)

    ingest = commands.add_parser("ingest", help="run ingestion alone and print its JSON summary")
    ingest.add_argument("corpora", nargs="+", metavar="NAME=PATH")
    ingest.add_argument("--out", required=True)
    ingest.add_argument("--beam-arg", action="append", default=[], help="a Beam pipeline option, e.g. --beam-arg=--direct_num_workers=2")
    _add_corpus_arguments(ingest, required=False)
    ingest.add_argument("--unlabelled", action="append", default=[], metavar="DIR",
                        help="a folder of unlabelled clips, written as the `unlabelled` split")
    ingest.set_defaults(handler=_ingest)

    for name, (_, description) in _DELEGATED.items():
        commands.add_parser(name, help=f"{description}; `ser {name} --help` lists its flags", add_help=False)

    batch = commands.add_parser("batch-predict", help="Vertex-style batch prediction with Beam RunInference")
    batch_predict.add_arguments(batch)
    batch.set_defaults(handler=batch_predict.run, passes_beam_options=True)

    export = commands.add_parser("export", help="convert a pushed model for TFLite or ONNX runtimes (waveform in, probabilities out)")
    export.add_argument("--model", required=True, metavar="DIR", help="a pushed model version, or the base path holding its versions")
    export.add_argument("--format", required=True, choices=("tflite", "onnx"))
    export.add_argument("--output", required=True, metavar="FILE", help="the converted model; FILE.json beside it lists the labels")
    export.set_defaults(handler=_export)

    report_parser = commands.add_parser("report", help="data reports: emotion distribution, durations, waveforms, spectrograms")
    report.add_arguments(report_parser)
    report_parser.set_defaults(handler=report.run)
    return parser


def _run(argv, verbose: bool) -> int:
    if argv and argv[0] in _DELEGATED:
        if argv[0] != "predict":
            _import_tensorflow(verbose)
        return _run_delegated(argv[0], argv[1:], verbose)
    parser = build_parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # Batch prediction passes unknown flags on to Beam (--runner=DataflowRunner, ...), as Beam's own tools do.
        if not getattr(args, "passes_beam_options", False):
            parser.error(f"unrecognized arguments: {' '.join(unknown)}")
        args.beam_arg = list(args.beam_arg) + unknown
    args.verbose = verbose
    _import_tensorflow(verbose)
    return args.handler(args)


def _import_tensorflow(verbose: bool) -> None:
    """Every command but `ser predict` loads TensorFlow; imported first, its CUDA-registration lines are dropped."""
    if not verbose:
        from speech_emotion import console

        console.import_tensorflow()


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    verbose = any(flag in argv for flag in VERBOSE_FLAGS)
    argv = [arg for arg in argv if arg not in VERBOSE_FLAGS]
    if verbose:
        os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    else:
        # google-api-core's Python-version notices, printed by every import of Beam's GCP modules.
        warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        return _run(argv, verbose)
    except KeyboardInterrupt:
        print("ser: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001  (the last resort: one line, the traceback with -v)
        if verbose:
            traceback.print_exc()
        if isinstance(error, user_errors.USER_ERRORS):
            print(f"ser: {user_errors.message(error)}", file=sys.stderr)
            return 2 if isinstance(error, ValueError) else 1
        hint = "" if verbose else " (`ser -v ...` shows the traceback)"
        print(f"ser: {type(error).__name__}: {user_errors.message(error)}{hint}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

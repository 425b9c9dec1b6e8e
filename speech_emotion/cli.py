"""The `ser` command line.

It imports only what a command needs, when it runs: `ser --help`, argument errors, `ser predict` and
`ser app` (clients) never load TensorFlow, Beam or TFX, which take seconds. Errors are one line, `ser: <cause>`;
`-v` (anywhere on the command line) adds the traceback, and the full logs of pipeline runs.
"""
import argparse
import dataclasses
import json
import os
import shlex
import sys
import traceback
import warnings

import speech_emotion  # noqa: F401  (selects Keras 2 before anything imports TensorFlow)
from speech_emotion import user_errors
from speech_emotion.data import corpus_spec
from speech_emotion.data import splits

VERBOSE_FLAGS = ("-v", "--verbose")


def _names(text: str) -> tuple:
    return tuple(name.strip() for name in text.split(",") if name.strip())


# The flags of `ser pipeline run|compile|config`: each overrides these keys of the configuration file (--config).
# (flag, keys, type, metavar, help); the help gets the key and its default.
_CONFIG_FLAGS = (
    ("--workdir", ("workdir",), str, "DIR", "pipeline root, metadata, reports and pushed models; gs://BUCKET/PATH for Vertex AI"),
    ("--eval-fraction", ("ingest.split.eval_fraction",), float, None, "share of each training corpus' speakers held out for eval"),
    ("--eval-speakers", ("ingest.split.eval_speakers",), splits.speaker_list, "CORPUS:ID,...",
     "hold out exactly these speakers (e.g. ravdess:17,ravdess:18) instead"),
    ("--test-speakers", ("ingest.split.test_speakers",), splits.speaker_list, "CORPUS:ID,...",
     "training-corpus speakers kept out of train and eval (which selects models) and scored in the test split beside "
     "the test corpora: an unbiased held-out score"),
    ("--seed", ("ingest.split.seed", "augmentation.seed"), int, None, "seeds the split and augmentation"),
    ("--emotions", ("emotions",), _names, "EMOTION,...",
     "the model's classes; given, the training corpora need not be readable here (empty: theirs)"),
    ("--unlabelled-clips", ("unlabelled_clips",), str, "DIR",
     "classify every clip under DIR with the blessed model (BulkInferrer); writes `ser batch-predict`'s "
     "prediction.results-* and prediction.errors_stats-* to WORKDIR/predictions"),
    ("--tuning-trials", ("tuning.trials",), int, None, "KerasTuner trials; 0 trains the default model without a search"),
    ("--max-epochs", ("tuning.max_epochs",), int, None, "epochs per tuning trial at most"),
    ("--tuning-algorithm", ("tuning.algorithm",), str, None, "the search: hyperband or bayesian"),
    ("--architectures", ("tuning.architectures",), _names, "ARCHITECTURE,...", "architectures the search may choose"),
    ("--ensemble", ("training.ensemble_architectures",), _names, "ARCHITECTURE,...",
     "architectures trained after the tuned model, with its settings; the served model averages their probabilities "
     "with its own"),
    ("--augment-copies", ("augmentation.copies_per_clip",), int, None, "augmented copies per training clip at most (0: none)"),
    ("--augment-target-examples", ("augmentation.target_examples",), int, None,
     "fewer copies on larger corpora: about this many training examples, originals included (0: always --augment-copies)"),
    ("--augmentation-beam-args", ("augmentation_beam_pipeline_args",), lambda text: tuple(shlex.split(text)), '"OPTION ..."',
     "Beam options for the augmentation stage alone, e.g. \"--runner=apache_beam.runners.dask.dask_runner.DaskRunner "
     "--dask_client_address=HOST:8786\""),
    ("--min-ua", ("blessing.min_unweighted_accuracy",), float, None, "eval unweighted accuracy a model needs to be blessed"),
    ("--min-cross-corpus-ua", ("blessing.min_cross_corpus_unweighted_accuracy",), float, None,
     "unweighted accuracy each --test-corpus needs (on shared emotions) for the push"),
)


def _add_corpus_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--corpus", action="append", default=[], metavar="NAME=PATH",
                        help="a training corpus: NAME is one of ravdess, tess, savee, cremad, esd, emodb; given, replaces "
                             "the configuration's training corpora")
    parser.add_argument("--test-corpus", action="append", default=[], metavar="NAME=PATH",
                        help="a cross-corpus test corpus, never trained on; given, replaces the configuration's")


def _add_config_arguments(parser: argparse.ArgumentParser, section: str = "") -> None:
    """--config and every flag of _CONFIG_FLAGS; with `section`, only the flags of its keys and no --config."""
    from speech_emotion.pipeline import config_file

    if not section:
        parser.add_argument("--config", metavar="FILE.yaml",
                            help="the pipeline configuration (`ser pipeline config --print` writes one); flags override it")
    _add_corpus_arguments(parser)
    for flag, keys, kind, metavar, description in _CONFIG_FLAGS:
        if keys[0].startswith(section):
            value = config_file.default(keys[0])
            shown = ",".join(value) if isinstance(value, tuple) else value
            default = "" if shown in (None, "") else f", default {shown}"
            parser.add_argument(flag, type=kind, metavar=metavar, help=f"{description} ({' and '.join(keys)}{default})")


def _flag_overrides(args, file_values) -> dict:
    """The configuration keys the flags given set, nested as in the file; --corpus and --test-corpus replace the
    file's corpora of their role."""
    overrides: dict = {}
    for flag, keys, _, _, _ in _CONFIG_FLAGS:
        value = getattr(args, flag[2:].replace("-", "_"), None)
        for key in keys if value is not None else ():
            *parents, name = key.split(".")
            section = overrides
            for parent in parents:
                section = section.setdefault(parent, {})
            section[name] = value
    given = {corpus_spec.TRAIN_ROLE: args.corpus, corpus_spec.TEST_ROLE: args.test_corpus}
    file_ingest = file_values.get("ingest", {})
    # A malformed ingest section is left to the validation, which names it.
    if isinstance(file_ingest, dict) and isinstance(file_ingest.get("corpora", []), list):
        kept = [corpus for corpus in file_ingest.get("corpora", [])
                if not (isinstance(corpus, dict) and given.get(corpus.get("role", corpus_spec.TRAIN_ROLE)))]
        flagged = [dataclasses.asdict(corpus_spec.CorpusSpec.parse(text, role)) for role, texts in given.items() for text in texts]
        overrides.setdefault("ingest", {})["corpora"] = kept + flagged
    return overrides


def _pipeline_config(args):
    """The configuration `--config` and the flags give, not yet resolved (paths as given, emotions maybe empty)."""
    from speech_emotion.pipeline import config_file

    file_values = config_file.read(args.config) if args.config else {}
    values = config_file.merged(file_values, _flag_overrides(args, file_values))
    if "workdir" not in values:
        raise ValueError("no work directory: give --workdir DIR, or set workdir in the configuration file (--config)")
    return config_file.to_config(values, source=args.config)


def _ingest(args) -> int:
    from speech_emotion.data import ingest
    from speech_emotion.data import ingest_config
    from speech_emotion.pipeline import config_file

    args.corpus = args.corpora + args.corpus
    values = _flag_overrides(args, {})["ingest"]
    values["corpora"] += [dataclasses.asdict(corpus_spec.CorpusSpec.parse(f"unlabelled={path}", corpus_spec.UNLABELLED_ROLE))
                          for path in args.unlabelled]
    summary = ingest.run(config_file.to_config(values, config_class=ingest_config.IngestConfig), args.out, args.beam_arg)
    print(json.dumps(summary, indent=2, sort_keys=True))
    return 0


def _pipeline_run(args) -> int:
    from speech_emotion.pipeline import config as pipeline_config
    from speech_emotion.pipeline import local_runner
    from speech_emotion.pipeline import progress

    config = pipeline_config.resolved(_pipeline_config(args))
    with progress.reported_run(config.workdir, args.verbose) as (run_progress, log_path):
        run_progress.config = config
        local_runner.run(config)
    print("\n".join(progress.result_lines(config, log_path)))
    return 0


def _pipeline_config_print(args) -> int:
    from speech_emotion.pipeline import config_file

    print(config_file.to_yaml(_pipeline_config(args)), end="")
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

    return compile_command.run(args, _pipeline_config(args))


# Commands with their own flag parsers (`ser serve` takes tensorflow_model_server's flags): name -> (main, help).
_DELEGATED = {
    "serve": ("speech_emotion.serving.model_server",
              "serve pushed models over TF Serving's gRPC and REST APIs (tensorflow_model_server's flags)"),
    "predict": ("speech_emotion.serving.predict_cli", "classify audio files with a running server"),
    "app": ("speech_emotion.serving.app.server",
            "the analysis web page and POST /api/analyze (emotions, transcript, interpretation) in front of a model server"),
}
# Clients of a model server: they never load TensorFlow.
_TENSORFLOW_FREE = frozenset({"predict", "app"})


def _run_delegated(name: str, argv, verbose: bool) -> int:
    import importlib

    module_name, _ = _DELEGATED[name]
    if name == "predict" and verbose:
        argv = [*argv, "--verbose"]
    return importlib.import_module(module_name).main(argv)


def build_parser() -> argparse.ArgumentParser:
    from speech_emotion.components.cross_corpus import evaluate_command
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
    _add_config_arguments(run)
    run.set_defaults(handler=_pipeline_run)
    compile_parser = pipeline_commands.add_parser("compile", help="compile the pipeline for Kubeflow / Vertex AI Pipelines")
    compile_command.add_arguments(compile_parser)
    _add_config_arguments(compile_parser)
    compile_parser.set_defaults(handler=_pipeline_compile)
    config_parser = pipeline_commands.add_parser(
        "config", help="print the configuration run and compile use: defaults, --config FILE and the flags, as YAML")
    config_parser.add_argument("--print", action="store_true", required=True, help="print it (loadable again with --config)")
    _add_config_arguments(config_parser)
    config_parser.set_defaults(handler=_pipeline_config_print, loads_tensorflow=False)

    ingest = commands.add_parser("ingest", help="run ingestion alone and print its JSON summary")
    ingest.add_argument("corpora", nargs="+", metavar="NAME=PATH")
    ingest.add_argument("--out", required=True)
    ingest.add_argument("--beam-arg", action="append", default=[], help="a Beam pipeline option, e.g. --beam-arg=--direct_num_workers=2")
    _add_config_arguments(ingest, section="ingest.")
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

    evaluate_parser = commands.add_parser(
        "evaluate", help="score labelled corpus folders with an exported model: UA, WA, confusion matrix, calibration "
                         "(the model card's per-corpus section, markdown and HTML)")
    evaluate_command.add_arguments(evaluate_parser)
    evaluate_parser.set_defaults(handler=evaluate_command.run)
    return parser


def _run(argv, verbose: bool) -> int:
    if argv and argv[0] in _DELEGATED:
        if argv[0] not in _TENSORFLOW_FREE:
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
    if getattr(args, "loads_tensorflow", True):
        _import_tensorflow(verbose)
    return args.handler(args)


def _import_tensorflow(verbose: bool) -> None:
    """Every command but the clients loads TensorFlow; imported first, its CUDA-registration lines are dropped."""
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

"""Speed of `ser batch-predict` on a folder of clips: the DirectRunner and Beam's DaskRunner with 1 and 2 workers.

    python benchmarks/batch_prediction.py --model workdir/demo/serving_model/emotion [--clips 64 640]
        [--seconds 3] [--workers 1 2] [--write-markdown [docs/benchmarks.md]]

Clips are synthetic speech (data/synthetic_speech.py) written as WAV files. Each engine runs two clip counts:
clips/s is the marginal rate (extra clips over extra seconds), fixed s the time left at zero clips (starting
workers, loading the model, the driver's listing and naming of files). The Dask rows run on a dask.distributed
LocalCluster of worker processes started here, one thread each; the DirectRunner rows use its multi_processing
mode. On the DaskRunner the model takes one clip per call (serving/batch_pipeline.py says why).
"""
import speech_emotion  # noqa: F401  (must precede any TensorFlow import)

import argparse
import pathlib
import tempfile
import time

from speech_emotion.audio import wav
from speech_emotion.serving import batch_pipeline
from speech_emotion.serving import batch_predict
from augmentation import SAMPLE_RATE, synthetic_clips  # benchmarks/augmentation.py
import markdown_report  # benchmarks/markdown_report.py
from beam_engines import ENGINES, engine  # benchmarks/beam_engines.py


def write_clips(count: int, seconds: float, folder: pathlib.Path) -> None:
    folder.mkdir(parents=True)
    for record, waveform in synthetic_clips(count, seconds):
        (folder / pathlib.Path(record.path).name).write_bytes(wav.encode_wav_pcm16(waveform, SAMPLE_RATE))


def run_seconds(model: str, folder: pathlib.Path, output: pathlib.Path, beam_args) -> float:
    config = batch_predict.BatchPredictConfig(model=model, input=str(folder), output_dir=str(output))
    start = time.perf_counter()
    summary = batch_pipeline.predict(config, beam_args)
    seconds = time.perf_counter() - start
    clips = len(list(folder.iterdir()))
    if summary.results + summary.errors != clips:
        raise RuntimeError(f"{clips} clips in, {summary.results} results and {summary.errors} errors out")
    return seconds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", required=True, help="a pushed model's base path or version folder")
    parser.add_argument("--clips", type=int, nargs=2, default=[64, 640], metavar=("FEW", "MANY"))
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    markdown_report.add_argument(parser)
    args = parser.parse_args()

    few, many = sorted(args.clips)
    if few == many:
        raise ValueError("--clips needs two different counts")
    header = ["engine", "workers", f"{few} clips: s", f"{many} clips: s", "clips/s", "fixed s"]
    print(" ".join(f"{name:>14s}" for name in header))
    rows = []
    with tempfile.TemporaryDirectory() as root:
        root = pathlib.Path(root)
        for count in (few, many):
            write_clips(count, args.seconds, root / f"clips{count}")
        for name in ENGINES:
            for workers in args.workers:
                with engine(name, workers) as beam_args:
                    seconds = {count: run_seconds(args.model, root / f"clips{count}", root / f"{name}{workers}_{count}",
                                                  beam_args) for count in (few, many)}
                rate = (many - few) / (seconds[many] - seconds[few])
                row = (name, workers, f"{seconds[few]:.1f}", f"{seconds[many]:.1f}", f"{rate:.1f}",
                       f"{seconds[few] - few / rate:.1f}")
                print(" ".join(f"{cell:>14}" for cell in row), flush=True)
                rows.append(row)
    if args.write_markdown:
        markdown_report.write_section(args.write_markdown, __file__, markdown_report.section(
            "Batch prediction (`benchmarks/batch_prediction.py`)",
            f"`ser batch-predict` on folders of {args.seconds:g} s synthetic clips, model `{args.model}`. clips/s is the "
            "marginal rate (extra clips over extra seconds), rough where the two runs differ by a few seconds; fixed s "
            "is the time left at zero clips. DaskRunner: a "
            "dask.distributed LocalCluster of worker processes, one clip per model call; DirectRunner: multi_processing, "
            "batches of up to 32.",
            markdown_report.table(header, rows)))


if __name__ == "__main__":
    main()

"""Training speed of each architecture at its default sizes, with TensorFlow's oneDNN kernels on and off.

    python benchmarks/training_speed.py [--architectures cnn cnn_gru ...] [--steps 20] [--batch 64]
        [--write-markdown [docs/benchmarks.md]]

speech_emotion sets TF_ENABLE_ONEDNN_OPTS=1 unless it is already set: TensorFlow only turns oneDNN on by
itself on CPUs with AVX-512 class features. Each cell is a fresh process (TensorFlow reads the switch once,
at import) training on random log-mels of the default clip length; the number is the median milliseconds per
training step after the first two (which trace the graph), as in an epoch of the pipeline's Trainer.
"""
import argparse
import os
import subprocess
import sys

import markdown_report  # benchmarks/markdown_report.py

ONEDNN_SETTINGS = ("1", "0")
WARM_UP_STEPS = 2  # the first traces the graph


def measure(architecture: str, steps: int, batch_size: int) -> float:
    """Runs in the child process: the median ms per training step of one architecture."""
    import speech_emotion  # noqa: F401  (must precede any TensorFlow import)

    import dataclasses
    import statistics
    import time

    import numpy as np
    import tensorflow as tf

    from speech_emotion.config import DEFAULT_FEATURE_CONFIG
    from speech_emotion.trainer import config as trainer_config
    from speech_emotion.trainer import model

    class StepTimes(tf.keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.milliseconds = []

        def on_train_batch_begin(self, batch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.milliseconds.append((time.perf_counter() - self.start) * 1000)

    config = dataclasses.replace(trainer_config.ModelConfig(), architecture=architecture)
    classifier = model.build_model(8, DEFAULT_FEATURE_CONFIG.num_frames, DEFAULT_FEATURE_CONFIG.n_mels, config)
    random = np.random.default_rng(0)
    log_mels = random.standard_normal((batch_size * steps, DEFAULT_FEATURE_CONFIG.num_frames, DEFAULT_FEATURE_CONFIG.n_mels), dtype=np.float32)
    labels = random.integers(0, 8, batch_size * steps)
    step_times = StepTimes()
    classifier.fit(tf.data.Dataset.from_tensor_slices((log_mels, labels)).batch(batch_size), epochs=1, verbose=0, callbacks=[step_times])
    return statistics.median(step_times.milliseconds[WARM_UP_STEPS:])


def main(argv=None) -> int:
    from speech_emotion.trainer import config as trainer_config

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--architectures", nargs="+", default=list(trainer_config.ARCHITECTURES), choices=trainer_config.ARCHITECTURES)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    markdown_report.add_argument(parser)
    args = parser.parse_args(argv)
    if args.child:
        print(measure(args.child, args.steps, args.batch))
        return 0
    header = ["architecture", "oneDNN on: ms/step", "oneDNN off: ms/step", "speed-up"]
    print(markdown_report.table(header, []))
    rows = []
    for architecture in args.architectures:
        milliseconds = {}
        for setting in ONEDNN_SETTINGS:
            child = subprocess.run(
                [sys.executable, __file__, "--child", architecture, "--steps", str(args.steps), "--batch", str(args.batch)],
                env={**os.environ, "TF_ENABLE_ONEDNN_OPTS": setting}, capture_output=True, text=True, check=True,
            )
            milliseconds[setting] = float(child.stdout.split()[-1])
        on, off = milliseconds["1"], milliseconds["0"]
        rows.append((architecture, f"{on:.0f}", f"{off:.0f}", f"{off / on:.1f}x"))
        print(markdown_report.table(header, rows[-1:]).splitlines()[-1], flush=True)
    if args.write_markdown:
        markdown_report.write_section(args.write_markdown, __file__, markdown_report.section(
            "Training speed (`benchmarks/training_speed.py`)",
            f"Median milliseconds per training step (batch {args.batch}, {args.steps} steps, default sizes, random "
            "log-mels), each cell a fresh process with TensorFlow's oneDNN kernels on or off (importing speech_emotion "
            "turns them on unless TF_ENABLE_ONEDNN_OPTS is set):",
            markdown_report.table(header, rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""TFX Tuner entry point (`tuner_fn`): KerasTuner search over the architectures and their knobs.

Each finished trial adds a row (architecture, active hyperparameters, validation unweighted accuracy,
epochs, seconds) to `tuning_summary.json` and `tuning_summary.md` in the reports directory, and each trial's
TensorBoard logs go under its `tuning_tensorboard/`.
"""
import json
import os
import time

import keras_tuner
import tensorflow as tf
from tfx import v1 as tfx

from speech_emotion.trainer import config as trainer_config
from speech_emotion.trainer import metrics
from speech_emotion.trainer import model as model_lib
from speech_emotion.trainer import search_space
from speech_emotion.trainer import task

SUMMARY_JSON = "tuning_summary.json"
SUMMARY_MARKDOWN = "tuning_summary.md"
TENSORBOARD_DIR = "tuning_tensorboard"
OBJECTIVE = keras_tuner.Objective(f"val_{metrics.UNWEIGHTED_ACCURACY}", direction="max")


SUMMARY_HEADER = ("trial", "architecture", "hyperparameters", "val unweighted accuracy", "epochs", "seconds")


def summary_cells(row) -> list:
    """One trial's row of the summary table, as text."""
    knobs = ", ".join(f"{name}={value:.3g}" if isinstance(value, float) else f"{name}={value}" for name, value in row["hyperparameters"].items())
    score = "—" if row["val_unweighted_accuracy"] is None else f"{row['val_unweighted_accuracy']:.3f}"
    return [str(row["trial_id"]), row["architecture"], knobs, score, str(row["epochs"]), f"{row['seconds']:.1f}"]


def summary_markdown(rows) -> str:
    lines = ["| " + " | ".join(SUMMARY_HEADER) + " |", "|---|---|---|---|---|---|"]
    lines += ["| " + " | ".join(summary_cells(row)) + " |" for row in rows]
    return "\n".join(lines) + "\n"


class TrialSummary:
    """Mixin for a KerasTuner tuner: times each trial and rewrites the summary table when one ends."""

    def __init__(self, *args, summary_dir: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.summary_dir = summary_dir
        self.trial_costs = {}

    def run_trial(self, trial, *args, **kwargs):
        start = time.monotonic()
        histories = super().run_trial(trial, *args, **kwargs)
        epochs = sum(len(history.history["loss"]) for history in histories if hasattr(history, "history"))
        self.trial_costs[trial.trial_id] = (epochs, time.monotonic() - start)
        return histories

    def on_trial_end(self, trial):
        super().on_trial_end(trial)
        self.write_summary()

    def summary_rows(self):
        rows = []
        for trial_id, (epochs, seconds) in self.trial_costs.items():
            trial = self.oracle.trials[trial_id]
            active = {
                name: value for name, value in trial.hyperparameters.values.items()
                if not name.startswith("tuner/") and trial.hyperparameters.is_active(name)
            }
            architecture = active.pop(search_space.ARCHITECTURE)
            rows.append({
                "trial_id": trial_id, "architecture": architecture, "hyperparameters": active,
                "val_unweighted_accuracy": trial.score, "epochs": epochs, "seconds": round(seconds, 2),
            })
        return rows

    def write_summary(self) -> None:
        rows = self.summary_rows()
        tf.io.gfile.makedirs(self.summary_dir)
        with tf.io.gfile.GFile(os.path.join(self.summary_dir, SUMMARY_JSON), "w") as summary_file:
            json.dump(rows, summary_file, indent=2)
        with tf.io.gfile.GFile(os.path.join(self.summary_dir, SUMMARY_MARKDOWN), "w") as summary_file:
            summary_file.write(summary_markdown(rows))


class SummarizingHyperband(TrialSummary, keras_tuner.Hyperband):
    pass


class SummarizingBayesianOptimization(TrialSummary, keras_tuner.BayesianOptimization):
    pass


def make_tuner(hypermodel, tuning_config: trainer_config.TuningConfig, directory: str, summary_dir: str) -> keras_tuner.Tuner:
    common = dict(
        hypermodel=hypermodel, objective=OBJECTIVE, seed=tuning_config.seed, directory=directory,
        project_name="search", overwrite=True, summary_dir=summary_dir,
    )
    if tuning_config.algorithm == trainer_config.BAYESIAN:
        return SummarizingBayesianOptimization(max_trials=tuning_config.trials, **common)
    tuner = SummarizingHyperband(max_epochs=tuning_config.max_epochs, factor=3, **common)
    # Hyperband sizes its brackets from max_epochs; the trial budget caps how many of them run.
    tuner.oracle.max_trials = tuning_config.trials
    return tuner


def tuner_fn(fn_args: tfx.components.FnArgs) -> tfx.components.TunerFnResult:
    inputs = task.training_inputs(fn_args)
    training_config, feature_config, emotions = inputs.training_config, inputs.feature_config, inputs.emotions
    tuning_config = trainer_config.TuningConfig.from_json(fn_args.custom_config[task.TUNING_CONFIG_KEY])
    steps_per_epoch = tuning_config.steps_per_epoch(inputs.train_examples, training_config.batch_size)

    def build(hp):
        model_config = search_space.model_config(hp, tuning_config.architectures, training_config.model)
        return model_lib.build_model(len(emotions), feature_config.num_frames, feature_config.n_mels, model_config)

    summary_dir = fn_args.custom_config.get(task.REPORTS_DIR_KEY) or fn_args.working_dir
    tuner = make_tuner(build, tuning_config, fn_args.working_dir, summary_dir)
    return tfx.components.TunerFnResult(
        tuner=tuner,
        fit_kwargs={
            # Cut-short epochs carry on through the repeated (and each time reshuffled) training set.
            "x": inputs.train_dataset if steps_per_epoch is None else inputs.train_dataset.repeat(),
            "steps_per_epoch": steps_per_epoch,
            "validation_data": inputs.eval_dataset,
            "epochs": tuning_config.max_epochs,
            # Trials stop as the Trainer's retraining will; KerasTuner gives each trial a TensorBoard directory under this one.
            "callbacks": task.training_callbacks(training_config, os.path.join(summary_dir, TENSORBOARD_DIR)),
            "verbose": 2,
        },
    )

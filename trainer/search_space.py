"""The hyperparameter search space: the architecture first, then that architecture's own knobs.

The same function serves the Tuner (sampling) and the Trainer (rebuilding the best trial's model from
its stored HyperParameters, where each call returns the recorded value).
"""
import dataclasses

import keras_tuner

from speech_emotion.trainer import config as trainer_config

ARCHITECTURE = "architecture"
# First-block widths. The later blocks scale with it, so their convolutions cost its square: 24 is 2.25x 16.
FILTER_CHOICES = (12, 16, 24)
UNIT_CHOICES = (32, 64, 128)
HEAD_CHOICES = (2, 4)
RECURRENT = frozenset(trainer_config.ARCHITECTURES) - {trainer_config.CNN}


def knob(architecture: str, name: str) -> str:
    return f"{architecture}_{name}"


def model_config(
    hp: keras_tuner.HyperParameters, architectures, base: trainer_config.ModelConfig
) -> trainer_config.ModelConfig:
    """Samples (or reads back) one architecture's settings; knobs of the others stay inactive."""
    chosen = hp.Choice(ARCHITECTURE, list(architectures))
    settings = {}
    for architecture in architectures:
        with hp.conditional_scope(ARCHITECTURE, [architecture]):
            values = {
                "filters": hp.Choice(knob(architecture, "filters"), list(FILTER_CHOICES)),
                "dropout": hp.Float(knob(architecture, "dropout"), 0.1, 0.5, step=0.1),
                "learning_rate": hp.Float(knob(architecture, "learning_rate"), 3e-4, 3e-3, sampling="log"),
            }
            if architecture in RECURRENT:
                values["units"] = hp.Choice(knob(architecture, "units"), list(UNIT_CHOICES))
            if architecture == trainer_config.CNN_SELF_ATTENTION_BILSTM_BIGRU:
                values["heads"] = hp.Choice(knob(architecture, "heads"), list(HEAD_CHOICES))
        if architecture == chosen:
            settings = values
    # The first block's width sets the rest, in the base's proportions (16, 32, 48 -> f, 2f, 3f).
    widths = tuple(settings["filters"] * filters // base.conv_filters[0] for filters in base.conv_filters)
    return dataclasses.replace(
        base,
        architecture=chosen,
        conv_filters=widths,
        dropout=round(settings["dropout"], 3),
        learning_rate=settings["learning_rate"],
        recurrent_units=settings.get("units", base.recurrent_units),
        attention_heads=settings.get("heads", base.attention_heads),
    )

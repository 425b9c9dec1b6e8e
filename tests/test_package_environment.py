"""Importing speech_emotion sets TensorFlow's import-time switches: Keras 2, and oneDNN unless the user chose."""
import os
import subprocess
import sys

import pytest

REPORT = (
    "import speech_emotion, tensorflow as tf\n"
    "from tensorflow.python.util import _pywrap_util_port\n"
    "print(type(tf.keras.layers.Dense(1)).__module__.split('.')[0], _pywrap_util_port.IsMklEnabled())\n"
)


def tensorflow_state(onednn_setting):
    environment = {key: value for key, value in os.environ.items() if key not in ("TF_ENABLE_ONEDNN_OPTS", "TF_USE_LEGACY_KERAS")}
    if onednn_setting is not None:
        environment["TF_ENABLE_ONEDNN_OPTS"] = onednn_setting
    output = subprocess.run([sys.executable, "-c", REPORT], env=environment, capture_output=True, text=True, check=True).stdout
    keras_package, onednn = output.split()
    return keras_package, onednn == "True"


@pytest.mark.parametrize("onednn_setting, expected_onednn", [(None, True), ("1", True), ("0", False)])
def test_onednn_is_on_unless_turned_off(onednn_setting, expected_onednn):
    keras_package, onednn = tensorflow_state(onednn_setting)
    assert onednn == expected_onednn
    assert keras_package == "tf_keras"

"""Speech emotion recognition as a TFX pipeline; `speech_emotion.Classifier` (classifier.py) is its Python API.

TensorFlow reads these switches when it is first imported, so they are set here, before any module of
this package imports it:
- TF_USE_LEGACY_KERAS: TFX 1.16's Evaluator and keras-tuner 1.3.5 need Keras 2 (tf_keras).
- TF_ENABLE_ONEDNN_OPTS: TensorFlow turns oneDNN on by itself only on CPUs with AVX-512 class features;
  on AVX2 CPUs (AMD EPYC here) it then trains these models 2.5-3.2x slower (benchmarks/training_speed.py).
  A value already set (0 to turn it off) is kept.
- TF_CPP_MIN_LOG_LEVEL: 2 hides the C++ INFO and WARNING lines TensorFlow prints at start-up (no CUDA
  drivers, no TensorRT, oneDNN on); errors stay visible. A value already set is kept; `ser -v` sets 0.
"""
import os

os.environ["TF_USE_LEGACY_KERAS"] = "1"
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def __getattr__(name):
    # `speech_emotion.Classifier` without importing its clients (requests, soundfile) for every user of this package.
    if name == "Classifier":
        from speech_emotion.classifier import Classifier

        return Classifier
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

"""Installs the speech emotion recognition pipeline as the single import package `speech_emotion`.

The repository keeps TFX's template layout (pipeline/, components/, trainer/, serving/, data/,
kubeflow/) at the top level; `package_dir` maps each folder to a subpackage of `speech_emotion`,
so the installed distribution adds exactly one top-level import name and never shadows another
project's `data`, `pipeline` or `serving` module.
"""
import pathlib

import setuptools

_ROOT = pathlib.Path(__file__).parent
_SUBPACKAGE_FOLDERS = ("components", "data", "kubeflow", "pipeline", "serving", "trainer")

# Known-good set (DEVELOPERS.md); requirements/constraints.txt locks everything they pull in.
_INSTALL_REQUIRES = [
    "tfx==1.16.0",
    "tensorflow==2.16.2",
    "tf-keras==2.16.0",
    "keras-tuner==1.3.5",
    "tensorflow-io==0.37.0",
    "tensorflow-serving-api==2.16.1",
    "apache-beam[gcp]==2.74.0",
    # KubeflowV2DagRunner needs it; 0.2.2 is the release that accepts the locked protobuf 3.20.
    "kfp-pipeline-spec==0.2.2",
    "dill",
    "librosa>=0.11,<0.12",
    "pyroomacoustics>=0.10,<0.11",
    "soundfile",
    "matplotlib",
    "tqdm",
    "aiohttp",
    "requests",
    "pyyaml",
]
# `ser app`'s offline transcription; its wheel ships the US English model.
_APP_REQUIRES = ["pocketsphinx==5.0.4"]
# Beam's DaskRunner on a dask.distributed cluster (`ser batch-predict --beam-arg=--runner=...DaskRunner`).
_DASK_REQUIRES = ["apache-beam[dask]==2.74.0"]
_TEST_REQUIRES = ["pytest", "pytest-timeout", "selenium", *_APP_REQUIRES, *_DASK_REQUIRES]
# `ser export --format onnx` converts with tf2onnx; onnxruntime runs the result (tests, and the README's example).
_EXPORT_REQUIRES = ["tf2onnx==1.17.0", "onnxruntime==1.23.2"]


def _package_dirs():
    dirs = {"speech_emotion": "speech_emotion"}
    for sub in setuptools.find_packages(where="speech_emotion"):
        dirs[f"speech_emotion.{sub}"] = "speech_emotion/" + sub.replace(".", "/")
    for folder in _SUBPACKAGE_FOLDERS:
        dirs[f"speech_emotion.{folder}"] = folder
        for sub in setuptools.find_packages(where=folder):
            dirs[f"speech_emotion.{folder}.{sub}"] = f"{folder}/" + sub.replace(".", "/")
    return dirs


_PACKAGE_DIRS = _package_dirs()

setuptools.setup(
    name="speech-emotion-tfx",
    version="0.1.0",
    description="Speech emotion recognition as a TFX pipeline: audio corpora in, TF Serving model out.",
    long_description=(_ROOT / "README.md").read_text(),
    long_description_content_type="text/markdown",
    python_requires=">=3.10,<3.11",
    packages=list(_PACKAGE_DIRS),
    package_dir=_PACKAGE_DIRS,
    package_data={"speech_emotion.serving": ["configs/*"], "speech_emotion.serving.app": ["web/*"]},
    install_requires=_INSTALL_REQUIRES,
    extras_require={"app": _APP_REQUIRES, "dask": _DASK_REQUIRES, "test": _TEST_REQUIRES, "export": _EXPORT_REQUIRES},
    entry_points={"console_scripts": ["ser = speech_emotion.cli:main"]},
    license="Apache-2.0",
)

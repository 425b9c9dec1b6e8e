"""Shared test set-up: Keras 2 before TensorFlow, the optional real corpora, and a local Dask cluster for Beam."""
import os
import pathlib

import speech_emotion  # noqa: F401  (must precede any TensorFlow import)
import pytest
from distributed import LocalCluster

from speech_emotion import beam_files

SHARED_CORPORA = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "corpora"


@pytest.fixture(scope="session")
def shared_corpora() -> pathlib.Path:
    """../shared/corpora with real RAVDESS, TESS and EmoDB files; tests using it skip when it is absent."""
    if not SHARED_CORPORA.is_dir():
        pytest.skip(f"real corpora not found at {SHARED_CORPORA}")
    return SHARED_CORPORA


@pytest.fixture(scope="module")
def dask_beam_args():
    """Beam options that run a pipeline on Beam's DaskRunner with a local dask.distributed cluster of two worker
    processes, started for the module and stopped after it."""
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield [f"--runner={beam_files.DASK_RUNNER}", f"--dask_client_address={cluster.scheduler_address}"]

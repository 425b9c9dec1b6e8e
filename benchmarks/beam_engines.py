"""The Beam engines the benchmarks compare: the DirectRunner's worker processes and Beam's DaskRunner on a local
dask.distributed cluster, each with a given number of workers."""
import contextlib

from distributed import LocalCluster

from speech_emotion import beam_files

ENGINES = ("DirectRunner", "DaskRunner")


@contextlib.contextmanager
def engine(name: str, workers: int):
    """The Beam options of one engine with `workers` workers (one thread each), its cluster running while in use.
    Local workers share this environment, so no --setup_file (it would build an sdist per run)."""
    if name == "DirectRunner":
        yield ["--direct_running_mode=multi_processing", f"--direct_num_workers={workers}"]
        return
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        yield [f"--runner={beam_files.DASK_RUNNER}", f"--dask_client_address={cluster.scheduler_address}"]

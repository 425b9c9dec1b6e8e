"""Serving latency and throughput: the model server over REST and gRPC against the model's own batched
speed and against a naive per-request handler, then a version switch under load.

    python benchmarks/serving.py --model workdir/serving_model/emotion [--requests 400] [--concurrency 1 8 32]
    python benchmarks/serving.py --model DIR --quick          # a few seconds per phase, to try it out
    python benchmarks/serving.py --model DIR --write-markdown  # also write the tables into docs/benchmarks.md

--model (or --model-dir) is a model's base path (integer version folders; the latest is served) or one
version folder; the server serves a scratch base path whose version 1 links to it, so nothing is
written next to the model. Every request carries one clip: WAV bytes of --clip-seconds of a noisy tone
at 16 kHz. Rows:
  in-process batched   the SavedModel's serving_default called directly on batches of 32 clips: the ceiling
  in-process one clip  the same, one clip per call: the model's own single-clip latency
  model server REST    `ser serve` (this repository's model server) with serving/configs/batching_parameters.txt,
                       num_batch_threads set to --batch-threads
  model server gRPC    the same server, PredictionService.Predict
  naive REST           what public SER web apps do: a stdlib threading HTTP server that, per request, loads
                       and resamples the clip with librosa, computes its log-mel with librosa and calls Keras
                       model.predict on it (the same Keras model, no batching)
Each server row also gives its clips/s as a share of the ceiling and the CPU the clients (this process) and the
model server used, as a share of all the machine's cores; the targets line compares REST and gRPC at the highest
concurrency with 90 % of the ceiling, and their p99 at concurrency 1 with 1.3x the single-clip p50 and p99.
A request that fails is counted in its row's `failed` column and left out of its latencies and clips/s; the
row goes on, then prints the first failure and the last lines of that server's log (kept in the scratch folder).
Then the version switch: --duration seconds (60) at concurrency 32, half the clients on REST and half on
gRPC, while a copy of the model is pushed as version 2 a third of the way in (copied beside the base
path, then renamed into it, as the Pusher's copy appears complete); it prints the requests, the
failures (0 expected), when version 2 was pushed, became AVAILABLE and first answered (gRPC responses
name the version that answered), and when version 1 last answered.
The servers run in their own processes on loopback; the clients are asyncio tasks of this process
(aiohttp and grpc.aio), with request bodies encoded before the clock starts.
"""
import argparse
import asyncio
import base64
import http.server
import io
import json
import os
import pathlib
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import typing

import speech_emotion  # noqa: F401  (selects Keras 2 before TensorFlow is imported)
import aiohttp
import grpc
import numpy as np
import requests
import tensorflow as tf
from google.protobuf import text_format
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

from speech_emotion.audio import wav
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.config import MODEL_NAME
from speech_emotion.serving import config_protos
from speech_emotion.serving import model_server
from features import librosa_log_mel  # benchmarks/features.py: the librosa front-end with our settings
import markdown_report  # benchmarks/markdown_report.py

_BATCHING_PARAMETERS = pathlib.Path(model_server.__file__).parent / "configs" / "batching_parameters.txt"
_MODEL_NAME = MODEL_NAME
_IN_PROCESS_BATCH = 32
_STARTUP_SECONDS = 300
_SWITCH_CONCURRENCY = 32
_LOG_TAIL_LINES = 20
_CEILING_SHARE_TARGET = 0.9
_SINGLE_CLIP_P99_TARGET = 1.3
_QUICK = {"requests": 48, "concurrency": [1, 8], "duration": 12.0}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _clips(count: int, seconds: float) -> list:
    rate = DEFAULT_FEATURE_CONFIG.sample_rate
    time_axis = np.arange(int(seconds * rate)) / rate
    rng = np.random.default_rng(0)
    return [wav.encode_wav_pcm16(0.3 * np.sin(2 * np.pi * (120 + 40 * index) * time_axis)
                                 + 0.05 * rng.standard_normal(time_axis.shape), rate) for index in range(count)]


def _rest_bodies(clips: list) -> list:
    return [json.dumps({"instances": [{"b64": base64.b64encode(clip).decode()}]}).encode() for clip in clips]


def _grpc_requests(clips: list) -> list:
    requests = []
    for clip in clips:
        request = predict_pb2.PredictRequest()
        request.model_spec.name = _MODEL_NAME
        request.inputs["audio"].CopyFrom(tf.make_tensor_proto([clip], dtype=tf.string))
        requests.append(request)
    return requests


def _scratch_base_path(version_dir: str, scratch: str) -> str:
    """A base path in `scratch` whose version 1 links to `version_dir`: the switch phase pushes beside it."""
    base = os.path.join(scratch, "models")
    os.makedirs(base)
    os.symlink(os.path.abspath(version_dir), os.path.join(base, "1"))
    return base


def _version_dir(model_dir: str) -> str:
    """`model_dir` if it is a version folder, else its latest version folder."""
    if os.path.isfile(os.path.join(model_dir, "saved_model.pb")):
        return model_dir
    return _latest_version_dir(model_dir)


def _batching_parameters(num_batch_threads: int, scratch: str) -> str:
    """The deployment's batching parameters with one batch thread per core, as TF Serving advises on CPU."""
    params = config_protos.read_text_proto(str(_BATCHING_PARAMETERS), config_protos.BatchingParameters)
    params.num_batch_threads.value = num_batch_threads
    path = os.path.join(scratch, _BATCHING_PARAMETERS.name)
    with open(path, "w", encoding="utf-8") as params_file:
        params_file.write(text_format.MessageToString(params))
    return path


def _latest_version_dir(base_path: str) -> str:
    versions = [int(name) for name in os.listdir(base_path) if name.isdigit()]
    if not versions:
        raise ValueError(f"no version folders under {base_path}")
    return os.path.join(base_path, str(max(versions)))


def _start_server(command: list, log_path: str) -> subprocess.Popen:
    """The server's output goes to a log in the scratch folder, whose last lines a failed row prints."""
    with open(log_path, "wb") as log:
        return subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)


def _wait_until_ready(process: subprocess.Popen, url: str) -> None:
    deadline = time.monotonic() + _STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode} before answering {url}")
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"server did not answer {url} within {_STARTUP_SECONDS} s")


def _cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of process `pid` so far (Linux's /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def _measure(send, payloads, concurrency: int, server_pid: int) -> dict:
    """Sends every payload from `concurrency` concurrent tasks: latency percentiles in ms and answers per second
    over the requests that were answered, the failures (a failed request does not stop the row), and the CPU the
    clients and the server used, as shares of all cores."""
    await send(payloads[0])  # warm-up: connections, first model call
    latencies = []
    failures = []
    pending = list(payloads)

    async def worker():
        while pending:
            payload = pending.pop()
            started = time.perf_counter()
            try:
                await send(payload)
            except (aiohttp.ClientError, grpc.RpcError) as error:
                failures.append(error)
            else:
                latencies.append(time.perf_counter() - started)

    client_cpu, server_cpu = _own_cpu_seconds(), _cpu_seconds(server_pid)
    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    core_seconds = elapsed * (os.cpu_count() or 1)
    percentile = (lambda q: 1e3 * float(np.percentile(latencies, q))) if latencies else (lambda q: float("nan"))
    return {"p50_ms": percentile(50), "p99_ms": percentile(99), "per_second": len(latencies) / elapsed,
            "failures": len(failures), "first_failure": repr(failures[0]) if failures else "",
            "client_cpu": (_own_cpu_seconds() - client_cpu) / core_seconds,
            "server_cpu": (_cpu_seconds(server_pid) - server_cpu) / core_seconds}


async def _measure_rest(port: int, clips: list, concurrency: int, server_pid: int) -> dict:
    url = f"http://127.0.0.1:{port}/v1/models/{_MODEL_NAME}:predict"
    bodies = _rest_bodies(clips)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers={"Content-Type": "application/json"}) as session:
        async def send(body):
            async with session.post(url, data=body) as answer:
                await answer.read()
                answer.raise_for_status()

        return await _measure(send, bodies, concurrency, server_pid)


async def _measure_grpc(port: int, clips: list, concurrency: int, server_pid: int) -> dict:
    requests = _grpc_requests(clips)
    async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

        async def send(request):
            await stub.Predict(request, timeout=60)

        return await _measure(send, requests, concurrency, server_pid)


def _push_version(version_dir: str, base_path: str, version: int) -> None:
    """Copies the model beside the base path, then renames it in: the version appears complete at once."""
    staging = os.path.join(os.path.dirname(base_path), f"staging-{version}")
    shutil.copytree(version_dir, staging)
    os.rename(staging, os.path.join(base_path, str(version)))


async def _measure_version_switch(rest_port: int, grpc_port: int, clips: list, duration: float, push) -> dict:
    """Mixed REST and gRPC load for `duration` seconds; `push` (run in a thread a third of the way in) adds
    version 2. Returns counts and the seconds (from the start) at which the switch happened."""
    url = f"http://127.0.0.1:{rest_port}/v1/models/{_MODEL_NAME}:predict"
    bodies = _rest_bodies(clips)
    grpc_requests = _grpc_requests(clips)
    result = {"requests": 0, "failures": 0, "first_failure": "", "pushed_s": None, "available_s": None,
              "first_v2_answer_s": None, "last_v1_answer_s": None}
    latencies = []
    started = time.perf_counter()

    def now() -> float:
        return time.perf_counter() - started

    def failed(error: str) -> None:
        result["failures"] += 1
        result["first_failure"] = result["first_failure"] or error

    connector = aiohttp.TCPConnector(limit=_SWITCH_CONCURRENCY)
    async with aiohttp.ClientSession(connector=connector, headers={"Content-Type": "application/json"}) as session, \
            grpc.aio.insecure_channel(f"127.0.0.1:{grpc_port}") as channel:
        stub = prediction_service_pb2_grpc.PredictionServiceStub(channel)

        async def rest_worker(index: int):
            while now() < duration:
                sent = time.perf_counter()
                try:
                    async with session.post(url, data=bodies[index % len(bodies)]) as answer:
                        text = await answer.text()
                        if answer.status != 200:
                            failed(f"REST {answer.status}: {text[:200]}")
                except aiohttp.ClientError as error:
                    failed(f"REST {error!r}")
                latencies.append(time.perf_counter() - sent)
                result["requests"] += 1
                index += _SWITCH_CONCURRENCY

        async def grpc_worker(index: int):
            while now() < duration:
                sent = time.perf_counter()
                try:
                    response = await stub.Predict(grpc_requests[index % len(grpc_requests)], timeout=60)
                except grpc.RpcError as error:
                    failed(f"gRPC {error.code().name}: {error.details()}")
                else:
                    answered = now()
                    if response.model_spec.version.value == 2 and result["first_v2_answer_s"] is None:
                        result["first_v2_answer_s"] = answered
                    if response.model_spec.version.value == 1:
                        result["last_v1_answer_s"] = answered
                latencies.append(time.perf_counter() - sent)
                result["requests"] += 1
                index += _SWITCH_CONCURRENCY

        async def pusher():
            await asyncio.sleep(duration / 3)
            result["pushed_s"] = now()
            await asyncio.get_running_loop().run_in_executor(None, push)
            status_url = f"http://127.0.0.1:{rest_port}/v1/models/{_MODEL_NAME}/versions/2"
            while now() < duration + _STARTUP_SECONDS:
                async with session.get(status_url) as answer:
                    if answer.status == 200 and (await answer.json())["model_version_status"][0]["state"] == "AVAILABLE":
                        result["available_s"] = now()
                        return
                await asyncio.sleep(0.05)

        workers = [(rest_worker if index % 2 else grpc_worker)(index) for index in range(_SWITCH_CONCURRENCY)]
        await asyncio.gather(pusher(), *workers)
    elapsed = now()
    result.update(per_second=result["requests"] / elapsed, p50_ms=1e3 * float(np.percentile(latencies, 50)),
                  p99_ms=1e3 * float(np.percentile(latencies, 99)))
    return result


def _seconds(value) -> str:
    return "never" if value is None else f"{value:.2f} s"


def _switch_lines(duration: float, result: dict) -> list:
    lines = [f"version switch: {duration:g} s at concurrency {_SWITCH_CONCURRENCY}, half REST, half gRPC",
             f"requests {result['requests']}, failures {result['failures']}, {result['per_second']:.1f} clips/s, "
             f"p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms",
             f"version 2 pushed at {_seconds(result['pushed_s'])}, AVAILABLE at {_seconds(result['available_s'])}, "
             f"first answered (gRPC) at {_seconds(result['first_v2_answer_s'])}; "
             f"version 1 last answered at {_seconds(result['last_v1_answer_s'])}"]
    if result["failures"]:
        lines.append(f"first failure: {result['first_failure']}")
    return lines


def _in_process(version_dir: str, clips: list) -> typing.Tuple[dict, dict]:
    """The SavedModel called directly: on batches of _IN_PROCESS_BATCH (throughput), then one clip per call (latency)."""
    serve = tf.saved_model.load(version_dir).signatures["serving_default"]
    serve(audio=tf.constant(clips[:_IN_PROCESS_BATCH]))  # warm-up
    serve(audio=tf.constant(clips[:1]))
    started = time.perf_counter()
    for first in range(0, len(clips), _IN_PROCESS_BATCH):
        serve(audio=tf.constant(clips[first:first + _IN_PROCESS_BATCH]))
    batched = {"p50_ms": float("nan"), "p99_ms": float("nan"), "per_second": len(clips) / (time.perf_counter() - started)}
    latencies = []
    for clip in clips:
        sent = time.perf_counter()
        serve(audio=tf.constant([clip]))
        latencies.append(time.perf_counter() - sent)
    single = {"p50_ms": 1e3 * float(np.percentile(latencies, 50)), "p99_ms": 1e3 * float(np.percentile(latencies, 99)),
              "per_second": len(latencies) / sum(latencies)}
    return batched, single


class _NaiveHandler(http.server.BaseHTTPRequestHandler):
    """POST {"instances": [{"b64": ...}]}: what public SER web apps do per request: librosa loads and resamples
    the clip, librosa computes the log-mel, then Keras `model.predict` on that one example. The log-mel is
    standardised per clip instead of with the Transform's statistics: this row measures cost, not answers."""

    model = None
    protocol_version = "HTTP/1.1"

    def do_POST(self):  # noqa: N802 - http.server's naming
        import librosa  # only the naive server process needs it

        config = DEFAULT_FEATURE_CONFIG
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        clip = base64.b64decode(body["instances"][0]["b64"])
        waveform, _ = librosa.load(io.BytesIO(clip), sr=config.sample_rate, mono=True)
        log_mel = librosa_log_mel(librosa.util.fix_length(waveform, size=config.clip_samples), config).T
        log_mel = (log_mel - log_mel.mean()) / (log_mel.std() + 1e-6)
        probabilities = self.model.predict(log_mel[np.newaxis], verbose=0)[0]
        answer = json.dumps({"predictions": [{"probabilities": probabilities.tolist()}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_GET(self):  # noqa: N802 - readiness
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        del args


class _NaiveServer(http.server.ThreadingHTTPServer):
    request_queue_size = 256  # the default listen backlog of 5 resets connections at concurrency 32


def _run_naive_server(version_dir: str, port: int) -> None:
    _NaiveHandler.model = tf.keras.models.load_model(version_dir, compile=False)
    _NaiveServer(("127.0.0.1", port), _NaiveHandler).serve_forever()


_TABLE_HEADER = ["target", "concurrency", "p50 ms", "p99 ms", "clips/s", "of the ceiling", "client CPU", "server CPU",
                 "failed"]


def _cells(concurrency: int, result: dict, ceiling: float) -> tuple:
    """A row's cells; what a row lacks (the in-process rows' latencies or CPU) is left blank."""
    def number(value, text: str) -> str:
        return "" if value is None or np.isnan(value) else text.format(value)

    return (concurrency, number(result["p50_ms"], "{:.1f}"), number(result["p99_ms"], "{:.1f}"),
            number(result["per_second"], "{:.1f}"), number(result["per_second"] / ceiling, "{:.0%}"),
            number(result.get("client_cpu"), "{:.0%}"), number(result.get("server_cpu"), "{:.0%}"),
            result.get("failures", 0))


def _print_row(name: str, concurrency: int, result: dict, ceiling: float, server_log: str = "") -> None:
    print(f"{name:<22} " + " ".join(f"{cell:>{len(header)}}" for cell, header in
                                    zip(_cells(concurrency, result, ceiling), _TABLE_HEADER[1:])), flush=True)
    if result.get("failures", 0):
        print(f"  first failure: {result['first_failure']}")
        with open(server_log, errors="replace") as log:
            tail = log.readlines()[-_LOG_TAIL_LINES:]
        print(f"  last lines of {server_log}:", *(f"    {line.rstrip()}" for line in tail), sep="\n", flush=True)


def _targets_line(rows: list) -> str:
    """REST and gRPC against the targets: clips/s at the highest concurrency, p99 at concurrency 1."""
    results = {(name, concurrency): result for name, concurrency, result in rows}
    ceiling = results[("in-process batched", _IN_PROCESS_BATCH)]["per_second"]
    single_clip = results[("in-process one clip", 1)]
    parts = []
    for name in ("model server REST", "model server gRPC"):
        concurrencies = sorted(concurrency for row_name, concurrency in results if row_name == name)
        share = results[(name, concurrencies[-1])]["per_second"] / ceiling
        parts.append(f"{name.split()[-1]} {share:.0%} of the ceiling at concurrency {concurrencies[-1]} "
                     f"(target {_CEILING_SHARE_TARGET:.0%})")
        if concurrencies[0] == 1:
            p99 = results[(name, 1)]["p99_ms"]
            parts.append(f"{name.split()[-1]} p99 at concurrency 1 {p99 / single_clip['p50_ms']:.2f}x the single-clip "
                         f"p50, {p99 / single_clip['p99_ms']:.2f}x its p99 (target {_SINGLE_CLIP_P99_TARGET:g}x)")
    return "targets: " + "; ".join(parts)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", "--model-dir", dest="model_dir", required=True, metavar="DIR",
                        help="a TF Serving base path (e.g. workdir/serving_model/emotion) or one version folder")
    parser.add_argument("--requests", type=int, help="requests per measurement (default 400)")
    parser.add_argument("--concurrency", type=int, nargs="+", help="concurrencies to measure (default 1 8 32)")
    parser.add_argument("--duration", type=float, help="seconds of the version switch phase (default 60)")
    parser.add_argument("--quick", action="store_true",
                        help=f"defaults for a try-out: {_QUICK['requests']} requests, concurrency "
                             f"{' '.join(map(str, _QUICK['concurrency']))}, a {_QUICK['duration']:g} s switch phase")
    parser.add_argument("--clip-seconds", type=float, default=DEFAULT_FEATURE_CONFIG.clip_seconds)
    parser.add_argument("--batch-threads", type=int, default=os.cpu_count(),
                        help="the model server's num_batch_threads (default: one per core)")
    parser.add_argument("--naive-server-port", type=int, help=argparse.SUPPRESS)  # the naive server's own process
    markdown_report.add_argument(parser)
    args = parser.parse_args(argv)
    defaults = _QUICK if args.quick else {"requests": 400, "concurrency": [1, 8, 32], "duration": 60.0}
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.naive_server_port:
        _run_naive_server(args.model_dir, args.naive_server_port)  # given a version folder
        return 0
    with tempfile.TemporaryDirectory(prefix="serving_benchmark_") as scratch:
        _benchmark(args, scratch)
    return 0


def _benchmark(args, scratch: str) -> None:
    version_dir = _version_dir(args.model_dir)
    base_path = _scratch_base_path(version_dir, scratch)
    clips = _clips(args.requests, args.clip_seconds)
    print(f"{args.requests} requests of one {args.clip_seconds:g} s clip each; model {version_dir}")
    print(f"{'target':<22} " + " ".join(_TABLE_HEADER[1:]))
    batched, single = _in_process(version_dir, clips)
    rows = [("in-process batched", _IN_PROCESS_BATCH, batched), ("in-process one clip", 1, single)]
    ceiling = batched["per_second"]
    for row in rows:
        _print_row(*row, ceiling)
    rest_port, grpc_port, naive_port = _free_port(), _free_port(), _free_port()
    batching_parameters = _batching_parameters(args.batch_threads, scratch)
    model_server_log, naive_server_log = os.path.join(scratch, "model_server.log"), os.path.join(scratch, "naive_server.log")
    servers = [
        _start_server([sys.executable, "-m", "speech_emotion.serving.model_server", f"--model_name={_MODEL_NAME}",
                       f"--model_base_path={base_path}", f"--port={grpc_port}", f"--rest_api_port={rest_port}",
                       "--enable_batching", f"--batching_parameters_file={batching_parameters}"], model_server_log),
        _start_server([sys.executable, __file__, f"--model-dir={version_dir}", f"--naive-server-port={naive_port}"],
                      naive_server_log),
    ]
    try:
        _wait_until_ready(servers[0], f"http://127.0.0.1:{rest_port}/v1/models/{_MODEL_NAME}")
        _wait_until_ready(servers[1], f"http://127.0.0.1:{naive_port}/")
        for name, measure, port, server_log in (("model server REST", _measure_rest, rest_port, model_server_log),
                                                ("model server gRPC", _measure_grpc, grpc_port, model_server_log),
                                                ("naive REST", _measure_rest, naive_port, naive_server_log)):
            for concurrency in args.concurrency:
                server_pid = servers[0 if port != naive_port else 1].pid
                rows.append((name, concurrency, asyncio.run(measure(port, clips, concurrency, server_pid))))
                _print_row(*rows[-1], ceiling, server_log)
        targets = _targets_line(rows)
        print(targets)
        switch = asyncio.run(_measure_version_switch(rest_port, grpc_port, clips, args.duration,
                                                     lambda: _push_version(version_dir, base_path, 2)))
        switch_lines = _switch_lines(args.duration, switch)
        print("", switch_lines[0], *(f"  {line}" for line in switch_lines[1:]), sep="\n")
    finally:
        for server in servers:
            server.terminate()
            server.wait()
    if args.write_markdown:
        markdown_report.write_section(args.write_markdown, __file__, markdown_report.section(
            "Serving (`benchmarks/serving.py`)",
            f"{args.requests} requests of one {args.clip_seconds:g} s clip each (a noisy tone at 16 kHz), clients and "
            f"servers on the same machine ({os.cpu_count()} cores; CPU columns are shares of all of them), model "
            f"`{version_dir}`. The in-process rows call the SavedModel's serving_default on batches of "
            f"{_IN_PROCESS_BATCH} (the ceiling) and on one clip; the naive row is a per-request librosa "
            "front-end and Keras `predict`, as public SER web apps do.",
            markdown_report.table(_TABLE_HEADER, [(name, *_cells(concurrency, result, ceiling))
                                                  for name, concurrency, result in rows]),
            targets[0].upper() + targets[1:] + ".",
            f"{switch_lines[0][0].upper()}{switch_lines[0][1:]}: " + "; ".join(switch_lines[1:]) + "."))


if __name__ == "__main__":
    sys.exit(main())

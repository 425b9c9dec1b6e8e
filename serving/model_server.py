"""A local stand-in for tensorflow_model_server: same flags, same REST and gRPC APIs, same config files.

    ser serve --model_name=emotion --model_base_path=workdir/serving_model/emotion
    (or python -m speech_emotion.serving.model_server with the same flags)

It serves the SavedModel versions under the base path (or every model of --model_config_file),
picks up newly pushed versions while running, batches concurrent requests when --enable_batching is
set, and exports Prometheus metrics when --monitoring_config_file enables them. It binds to
127.0.0.1 unless --host says otherwise, and answers browser pages of other origins only when
--cors_allowed_origins lists them.
"""
import argparse
import asyncio
import dataclasses
import logging
import os
import signal
import socket
import sys
import threading
import typing

import grpc
import tensorflow as tf
from aiohttp import web
from tensorflow_serving.config import model_server_config_pb2

from speech_emotion.serving import config_protos
from speech_emotion.serving import cross_origin
from speech_emotion.serving import dynamic_batching
from speech_emotion.serving import grpc_api
from speech_emotion.serving import inference
from speech_emotion.serving import metrics as metrics_lib
from speech_emotion.serving import model_manager
from speech_emotion.serving import rest_api
from speech_emotion.serving import servable as servable_lib
from speech_emotion.serving import warmup

DEFAULT_PROMETHEUS_PATH = "/monitoring/prometheus/metrics"
# `ser serve` (speech_emotion/cli.py) runs main(); the flags keep tensorflow_model_server's names.
PROG = "ser serve"


@dataclasses.dataclass(frozen=True)
class ServerOptions:
    """tensorflow_model_server's flags (a port of 0 turns that API off) plus --host, --max_request_bytes,
    --rest_api_read_timeout_in_ms and --cors_allowed_origins."""

    model_name: str = "default"
    model_base_path: str = ""
    model_config_file: str = ""
    port: int = 8500
    rest_api_port: int = 8501
    host: str = "127.0.0.1"
    rest_api_timeout_in_ms: int = 30000
    rest_api_read_timeout_in_ms: int = 30000
    cors_allowed_origins: str = ""
    enable_batching: bool = False
    batching_parameters_file: str = ""
    monitoring_config_file: str = ""
    file_system_poll_wait_seconds: float = 1.0
    max_num_load_retries: int = 5
    max_request_bytes: int = 64 * 1024 * 1024
    tensorflow_intra_op_parallelism: int = 0
    tensorflow_inter_op_parallelism: int = 0

    def __post_init__(self):
        if not self.model_config_file and not self.model_base_path:
            raise ValueError("either --model_config_file or --model_base_path must be given")
        if self.batching_parameters_file and not self.enable_batching:
            raise ValueError("--batching_parameters_file needs --enable_batching")
        if not self.port and not self.rest_api_port:
            raise ValueError("--port and --rest_api_port are both 0: nothing would be served")
        if self.max_request_bytes < 1:
            raise ValueError(f"--max_request_bytes must be positive, got {self.max_request_bytes}")
        if self.rest_api_read_timeout_in_ms < 1:
            raise ValueError(f"--rest_api_read_timeout_in_ms must be positive, got {self.rest_api_read_timeout_in_ms}")
        self.origin_policy()  # refuses a malformed --cors_allowed_origins

    def origin_policy(self) -> cross_origin.OriginPolicy:
        return cross_origin.OriginPolicy(cross_origin.parse_allowed_origins(self.cors_allowed_origins))

    def model_sources(self) -> typing.List[model_manager.ModelSource]:
        if not self.model_config_file:
            return [model_manager.ModelSource(self.model_name, self.model_base_path)]
        config = config_protos.read_text_proto(self.model_config_file, model_server_config_pb2.ModelServerConfig)
        if config.WhichOneof("config") != "model_config_list":
            raise ValueError(f"{self.model_config_file}: only model_config_list is supported")
        return [model_manager.ModelSource.from_proto(model) for model in config.model_config_list.config]

    def batching_options(self) -> dynamic_batching.BatchingOptions:
        if not self.batching_parameters_file:
            return dynamic_batching.BatchingOptions()
        return dynamic_batching.BatchingOptions.from_proto(
            config_protos.read_text_proto(self.batching_parameters_file, config_protos.BatchingParameters))

    def prometheus_path(self) -> typing.Optional[str]:
        """Where metrics are served, or None when the monitoring config does not enable Prometheus."""
        if not self.monitoring_config_file:
            return None
        config = config_protos.read_text_proto(self.monitoring_config_file, config_protos.MonitoringConfig)
        if not config.prometheus_config.enable:
            return None
        return config.prometheus_config.path or DEFAULT_PROMETHEUS_PATH


def _bool_flag(text: str) -> bool:
    if text.lower() in ("true", "1", "yes"):
        return True
    if text.lower() in ("false", "0", "no"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, got {text!r}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    defaults = {field.name: field.default for field in dataclasses.fields(ServerOptions)}
    flag_help = {
        "model_name": "name of the model (ignored if --model_config_file is set)",
        "model_base_path": "path holding the model's integer version directories",
        "model_config_file": "ModelServerConfig text proto listing the models to serve",
        "port": "gRPC port (0: no gRPC)",
        "rest_api_port": "HTTP/REST port (0: no REST)",
        "host": "address to bind; 0.0.0.0 serves other machines",
        "rest_api_timeout_in_ms": "longest a REST or gRPC request waits for the model",
        "rest_api_read_timeout_in_ms": "longest a REST client may take to send a request's headers, and then its body; "
                                       "also how long an idle connection stays open",
        "cors_allowed_origins": "comma-separated origins (https://host[:port]) whose pages may call the REST API, "
                                "or * for any; pages of the server's own origin always may",
        "enable_batching": "batch concurrent requests",
        "batching_parameters_file": "BatchingParameters text proto (needs --enable_batching)",
        "monitoring_config_file": "MonitoringConfig text proto; enables /monitoring/prometheus/metrics",
        "file_system_poll_wait_seconds": "seconds between polls for new versions (0: look once at startup)",
        "max_num_load_retries": "times a failing version is retried before it is given up",
        "max_request_bytes": "largest request body (REST) or message (gRPC) accepted",
        "tensorflow_intra_op_parallelism": "threads per TensorFlow op (0: TensorFlow decides)",
        "tensorflow_inter_op_parallelism": "TensorFlow ops run at once (0: TensorFlow decides)",
    }
    for name, default in defaults.items():
        if isinstance(default, bool):
            parser.add_argument(f"--{name}", type=_bool_flag, nargs="?", const=True, default=default, help=flag_help[name])
        else:
            parser.add_argument(f"--{name}", type=type(default), default=default, help=flag_help[name])
    return parser


def parse_flags(argv: typing.Optional[typing.Sequence[str]] = None) -> ServerOptions:
    return ServerOptions(**vars(build_parser().parse_args(argv)))


class ModelServer:
    """Runs the server on a background event loop: `start()` returns once models are loaded and ports bound."""

    def __init__(self, options: ServerOptions):
        self.options = options
        self.metrics = metrics_lib.ServerMetrics()
        self.rest_port: typing.Optional[int] = None
        self.grpc_port: typing.Optional[int] = None
        self._scheduler = None
        self._manager: typing.Optional[model_manager.ModelManager] = None
        self._loop: typing.Optional[asyncio.AbstractEventLoop] = None
        self._thread: typing.Optional[threading.Thread] = None
        self._runner: typing.Optional[web.AppRunner] = None
        self._grpc_server: typing.Optional[grpc.aio.Server] = None

    def start(self) -> None:
        """Raises OSError (a port in use, a missing base path) or ValueError (bad config) with a one-line message."""
        options = self.options
        sources = options.model_sources()
        prometheus_path = options.prometheus_path()
        # Ports before models: a clash fails at once, not after the models load.
        if options.port:
            _bound_socket(options.host, options.port, "gRPC", "--port").close()
        rest_socket = None
        if options.rest_api_port:
            rest_socket = _bound_socket(options.host, options.rest_api_port, "REST", "--rest_api_port")
        try:
            self._start(sources, prometheus_path, rest_socket)
        except BaseException:
            if rest_socket is not None:
                rest_socket.close()
            self.stop()
            raise
        logging.info("serving %s: gRPC on port %s, REST on port %s", ", ".join(sorted(self._manager.model_names)),
                     self.grpc_port, self.rest_port)

    def _start(self, sources: typing.Sequence[model_manager.ModelSource], prometheus_path: typing.Optional[str],
               rest_socket: typing.Optional[socket.socket]) -> None:
        options = self.options
        if options.enable_batching:
            self._scheduler = dynamic_batching.BatchScheduler(options.batching_options(), self.metrics)
        else:
            self._scheduler = dynamic_batching.UnbatchedScheduler(os.cpu_count() or 1)

        def load(source: model_manager.ModelSource, version: int, path: str) -> servable_lib.Servable:
            servable = servable_lib.Servable(source.name, version, path, self._scheduler)
            # Before the manager marks the version AVAILABLE; a failing warm-up fails the load.
            warmup.warm_up(service, servable, self.metrics)
            return servable

        self._manager = model_manager.ModelManager(sources, load, options.max_num_load_retries)
        service = inference.InferenceService(self._manager, options.rest_api_timeout_in_ms / 1000 or None)
        self._manager.start(options.file_system_poll_wait_seconds)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="model_server_loop", daemon=True)
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start_apis(service, prometheus_path, rest_socket), self._loop).result()

    async def _start_apis(self, service: inference.InferenceService, prometheus_path: typing.Optional[str],
                          rest_socket: typing.Optional[socket.socket]) -> None:
        options = self.options
        if options.port:
            # gRPC's default SO_REUSEPORT would let a second server share the port silently.
            grpc_options = [("grpc.max_receive_message_length", options.max_request_bytes),
                            ("grpc.max_send_message_length", -1), ("grpc.so_reuseport", 0)]
            self._grpc_server = grpc.aio.server(interceptors=[grpc_api.RejectUnparsableRequests()], options=grpc_options)
            grpc_api.add_servicers(self._grpc_server, service, self.metrics)
            address = _address(options.host, options.port)
            try:
                self.grpc_port = self._grpc_server.add_insecure_port(address)
            except RuntimeError:  # taken since the check in start()
                raise OSError(f"cannot bind gRPC to {address} (--port): address already in use") from None
            await self._grpc_server.start()
        if rest_socket is not None:
            api = rest_api.RestApi(service, self.metrics, options.max_request_bytes,
                                   options.rest_api_read_timeout_in_ms / 1000, options.origin_policy(), prometheus_path)
            # aiohttp closes a connection that has sent no complete request headers for keepalive_timeout.
            self._runner = web.AppRunner(api.application(), access_log=None, handle_signals=False,
                                         keepalive_timeout=options.rest_api_read_timeout_in_ms / 1000)
            await self._runner.setup()
            self.rest_port = rest_socket.getsockname()[1]
            await web.SockSite(self._runner, rest_socket).start()

    async def _stop_apis(self) -> None:
        if self._grpc_server is not None:
            await self._grpc_server.stop(grace=1.0)
        if self._runner is not None:
            await self._runner.cleanup()
        # aiohttp cancels the tasks of connections still open (a slow body, say) without waiting for them.
        unfinished = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
        if unfinished:
            await asyncio.wait(unfinished, timeout=1.0)

    def stop(self) -> None:
        """Stops accepting requests, lets those in flight finish, then stops polling and batching."""
        if self._loop is not None:
            asyncio.run_coroutine_threadsafe(self._stop_apis(), self._loop).result()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
            self._loop = None
        if self._manager is not None:
            self._manager.stop()
        if self._scheduler is not None:
            self._scheduler.stop()

    def __enter__(self) -> "ModelServer":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _address(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bound_socket(host: str, port: int, api: str, flag: str) -> socket.socket:
    """A socket bound to host:port; OSError naming the port and its flag when that fails."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bound = socket.socket(family, socket.SOCK_STREAM)
    bound.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        bound.bind((host, port))
    except OSError as error:
        bound.close()
        raise OSError(f"cannot bind {api} to {_address(host, port)} ({flag}): {error.strerror or error}") from None
    return bound


def main(argv: typing.Optional[typing.Sequence[str]] = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    try:
        options = parse_flags(argv)
    except ValueError as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 2
    if options.tensorflow_intra_op_parallelism or options.tensorflow_inter_op_parallelism:
        # Must happen before TensorFlow runs its first op, so before any model loads.
        tf.config.threading.set_intra_op_parallelism_threads(options.tensorflow_intra_op_parallelism)
        tf.config.threading.set_inter_op_parallelism_threads(options.tensorflow_inter_op_parallelism)
    stop = threading.Event()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signal_number, lambda *_: stop.set())
    server = ModelServer(options)
    try:
        server.start()
    except (OSError, ValueError) as error:
        print(f"{PROG}: error: {error}", file=sys.stderr)
        return 1
    stop.wait()
    server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""`ser app`: the analysis web app in front of a model server (tensorflow_model_server or `ser serve`).

    ser app --model-server localhost:8501 [--port 8080] [--model-name emotion]

GET / serves the page (web/). POST /api/analyze takes one recording, as the request body with an
audio/* Content-Type or as the multipart/form-data field `audio`, and answers
{"file", "duration_seconds", "overall", "timeline", "transcript", "interpretation"}: the model's emotions
over the server's REST API (emotions.py), the words PocketSphinx heard with their times
(transcription.py), and what both mean (interpretation.py; an LLM's words with --llm-url). The audio is
decoded as `ser predict` decodes files, within the model contract's limits. Failures answer
{"error": message}: 400 for audio that cannot be decoded or lies outside those limits, 403 for a page of
another origin, 408 for a body sent too slowly, 413 over --max-request-bytes, 415 for another
Content-Type, the model server's own 400 or 413 when it refuses the recording, 502 when it fails otherwise. Like `ser predict`, it never loads TensorFlow.
"""
import argparse
import asyncio
import dataclasses
import json
import logging
import mimetypes
import os
import re
import sys
import tempfile
import typing

import numpy as np
from aiohttp import http_exceptions
from aiohttp import web

from speech_emotion import user_errors
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.data import audio_files
from speech_emotion.serving import clients
from speech_emotion.serving import cross_origin
from speech_emotion.serving import errors
from speech_emotion.serving.app import emotions
from speech_emotion.serving.app import interpretation
from speech_emotion.serving.app import llm_client
from speech_emotion.serving.app import transcription
from speech_emotion.serving.app import web_page

PROG = "ser app"
ANALYZE_PATH = "/api/analyze"
AUDIO_FIELD = "audio"
# The name an upload is reported by when its request gives none.
_UNNAMED_UPLOAD = "upload"
# A file-name suffix kept for the decoders (audioread picks some backends by it).
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,8}")


@dataclasses.dataclass(frozen=True)
class AppOptions:
    model_server: str
    port: int = 8080
    host: str = "127.0.0.1"
    model_name: str = clients.DEFAULT_MODEL_NAME
    max_request_bytes: int = 64 * 1024 * 1024
    read_timeout_seconds: float = 30.0
    model_server_timeout_seconds: float = 60.0
    max_concurrent_analyses: int = 4
    llm_url: str = ""
    llm_model: str = ""
    llm_key_env: str = "OPENAI_API_KEY"
    llm_timeout_seconds: float = 30.0

    def __post_init__(self):
        if not self.model_server or ":" not in self.model_server:
            raise ValueError(f"--model-server must be HOST:PORT of the model server's REST API, got {self.model_server!r}")
        if self.max_request_bytes < 1:
            raise ValueError(f"--max-request-bytes must be positive, got {self.max_request_bytes}")
        if self.read_timeout_seconds <= 0 or self.model_server_timeout_seconds <= 0:
            raise ValueError("--read-timeout-seconds and --model-server-timeout-seconds must be positive")
        if self.max_concurrent_analyses < 1:
            raise ValueError(f"--max-concurrent-analyses must be positive, got {self.max_concurrent_analyses}")
        if self.llm_model and not self.llm_url:
            raise ValueError("--llm-model needs --llm-url")
        self.llm_config()  # refuses a malformed --llm-url

    def llm_config(self) -> typing.Optional[llm_client.LlmConfig]:
        if not self.llm_url:
            return None
        return llm_client.LlmConfig(self.llm_url, self.llm_model, os.environ.get(self.llm_key_env) or None,
                                    self.llm_timeout_seconds)


# What the model server answers when the recording is at fault (outside the model's contract, over its request size
# limit); any other answer (an unknown model: 404) is the app's set-up failing, so 502.
_RECORDING_STATUSES = (400, 413)


class RequestError(Exception):
    """A request the app refuses: an HTTP status and the message of its {"error": ...} answer."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def _error_response(status: int, message: str, headers: typing.Optional[dict] = None) -> web.Response:
    return web.json_response({"error": message}, status=status, headers=headers)


class AnalysisApp:
    """The aiohttp application; `transcriber` is shared by all requests (it transcribes one at a time)."""

    def __init__(self, options: AppOptions, transcriber: transcription.Transcriber):
        self.options = options
        self._transcriber = transcriber
        llm_config = options.llm_config()
        self._llm = llm_client.LlmClient(llm_config) if llm_config else None
        # Only the app's own page may post audio; curl and scripts send no Origin and are served.
        self._origin_policy = cross_origin.OriginPolicy()
        # Decoded audio can take far more memory than its upload; the requests beyond these wait their turn.
        self._analysis_slots = asyncio.Semaphore(options.max_concurrent_analyses)

    def application(self) -> web.Application:
        app = web.Application(client_max_size=self.options.max_request_bytes, middlewares=[self._json_errors])
        app.on_response_prepare.append(cross_origin.add_security_headers)
        web_page.add_routes(app, web_page.page_config(self.options.model_name, self.options.max_request_bytes))
        app.router.add_post(ANALYZE_PATH, self._analyze)
        return app

    @web.middleware
    async def _json_errors(self, request: web.Request, handler) -> web.StreamResponse:
        try:
            return await handler(request)
        except RequestError as error:
            return _error_response(error.status, error.message)
        except errors.ServingError as error:  # the origin policy's refusals
            return _error_response(error.http_status, error.message)
        except web.HTTPRequestEntityTooLarge:
            return _error_response(413, f"Request body exceeds the limit of {self.options.max_request_bytes} bytes "
                                        "(--max-request-bytes)")
        except web.HTTPException as error:
            if error.status < 400:
                raise
            return _error_response(error.status, f"{error.reason}: {request.method} {request.path}",
                                   headers={name: value for name, value in error.headers.items() if name == "Allow"})
        except Exception as error:  # noqa: BLE001 - a bug must answer 500, never drop the connection
            logging.exception("%s %s failed", request.method, request.path)
            return _error_response(500, f"Internal error: {type(error).__name__}: {error}")

    async def _analyze(self, request: web.Request) -> web.Response:
        self._origin_policy.check(request.headers, request.host)
        name, audio, suffix = await self._read_audio(request)
        if not audio:
            raise RequestError(400, f"{name}: the audio is empty")
        async with self._analysis_slots:
            return web.json_response(await self._analysis(name, audio, suffix))

    async def _analysis(self, name: str, audio: bytes, suffix: str) -> dict:
        loop = asyncio.get_running_loop()
        with tempfile.NamedTemporaryFile(prefix="ser_app_", suffix=suffix) as upload:
            upload.write(audio)
            upload.flush()
            try:
                samples, sample_rate = await loop.run_in_executor(
                    None, audio_files.decode_audio_file, upload.name, DEFAULT_FEATURE_CONFIG, False)
            except ValueError as error:  # AudioDecodeError, AudioLimitError
                raise RequestError(400, user_errors.message(error, upload.name).replace(upload.name, name)) from None
            waveform = audio_files.to_mono(samples)
            if not np.all(np.isfinite(waveform)):  # float files can hold them; the model refuses them
                raise RequestError(400, f"{name}: the audio holds NaN or infinite samples")
            prediction, transcript = await asyncio.gather(
                loop.run_in_executor(None, self._emotions, upload.name),
                loop.run_in_executor(None, self._transcriber.transcribe, waveform, sample_rate))
        answer = {"file": name, **prediction.to_json()}
        answer["transcript"] = transcript.to_json()
        answer["interpretation"] = await interpretation.interpret(prediction, transcript, self._llm)
        return answer

    def _emotions(self, path: str):
        client = clients.RestClient(self.options.model_server, self.options.model_name,
                                    timeout_seconds=self.options.model_server_timeout_seconds)
        try:
            return emotions.emotion_timeline(client, path)
        except clients.PredictionError as error:
            if error.http_status in _RECORDING_STATUSES:
                raise RequestError(error.http_status, f"The model server at {self.options.model_server} refused the "
                                                      f"recording: {error}") from None
            raise RequestError(502, f"The model server at {self.options.model_server} failed: {error}") from None
        finally:
            client.close()

    async def _read_audio(self, request: web.Request) -> typing.Tuple[str, bytes, str]:
        """(name, bytes, file-name suffix) of the uploaded recording."""
        content_type = request.content_type
        try:
            if content_type == "multipart/form-data":
                form = await asyncio.wait_for(request.post(), self.options.read_timeout_seconds)
                field = form.get(AUDIO_FIELD)
                if not isinstance(field, web.FileField):
                    raise RequestError(400, f"The multipart/form-data body has no file field `{AUDIO_FIELD}`")
                name = field.filename or _UNNAMED_UPLOAD
                suffix = os.path.splitext(name)[1]
                return name, field.file.read(), suffix if _SAFE_SUFFIX.fullmatch(suffix) else ""
            if content_type.startswith("audio/"):
                audio = await asyncio.wait_for(request.read(), self.options.read_timeout_seconds)
                return _UNNAMED_UPLOAD, audio, mimetypes.guess_extension(content_type) or ""
        except asyncio.TimeoutError:
            raise RequestError(408, f"The request body did not arrive within {self.options.read_timeout_seconds:g} s "
                                    "(--read-timeout-seconds)") from None
        except ConnectionError:
            raise RequestError(400, "The client closed the connection before sending the whole body") from None
        except (ValueError, http_exceptions.HttpProcessingError) as error:  # a malformed multipart body
            message = getattr(error, "message", None) or str(error)
            raise RequestError(400, f"Malformed multipart/form-data body: {message}") from None
        raise RequestError(415, f"Send the audio as the body with an audio/* Content-Type, or as the "
                                f"multipart/form-data field `{AUDIO_FIELD}`; got Content-Type {content_type!r}")


def build_parser() -> argparse.ArgumentParser:
    defaults = argparse.Namespace(**{field.name: field.default for field in dataclasses.fields(AppOptions)})
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.split("\n\n")[0])
    parser.add_argument("--model-server", required=True, metavar="HOST:PORT",
                        help="the model server's REST API (tensorflow_model_server's --rest_api_port, or `ser serve`)")
    parser.add_argument("--port", type=int, default=defaults.port, help="port of the page and /api/analyze")
    parser.add_argument("--host", default=defaults.host, help="address to bind; 0.0.0.0 serves other machines")
    parser.add_argument("--model-name", default=defaults.model_name, help="the model's name on the model server")
    parser.add_argument("--max-request-bytes", type=int, default=defaults.max_request_bytes, help="largest upload accepted")
    parser.add_argument("--read-timeout-seconds", type=float, default=defaults.read_timeout_seconds,
                        help="longest a client may take to send its upload")
    parser.add_argument("--model-server-timeout-seconds", type=float, default=defaults.model_server_timeout_seconds,
                        help="longest one request to the model server may take")
    parser.add_argument("--max-concurrent-analyses", type=int, default=defaults.max_concurrent_analyses,
                        help="recordings decoded and analysed at once; more requests wait")
    parser.add_argument("--llm-url", default=defaults.llm_url,
                        help="an OpenAI-compatible endpoint (https://api.openai.com/v1, http://localhost:8000, ...) "
                             "that writes the interpretation; without it, a summary is written here")
    parser.add_argument("--llm-model", default=defaults.llm_model, help="the model to ask at --llm-url")
    parser.add_argument("--llm-key-env", default=defaults.llm_key_env,
                        help="environment variable holding the endpoint's API key (none sent when it is unset)")
    parser.add_argument("--llm-timeout-seconds", type=float, default=defaults.llm_timeout_seconds,
                        help="longest the endpoint may take; then the summary is answered, with a warning")
    return parser


def parse_flags(argv: typing.Optional[typing.Sequence[str]] = None) -> AppOptions:
    """The options; a bad value exits with argparse's usage line and status 2."""
    parser = build_parser()
    try:
        return AppOptions(**vars(parser.parse_args(argv)))
    except ValueError as error:
        parser.error(str(error))


def main(argv: typing.Optional[typing.Sequence[str]] = None) -> int:
    options = parse_flags(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    client = clients.RestClient(options.model_server, options.model_name, timeout_seconds=10.0)
    try:
        logging.info("model server %s: model %s: %s", options.model_server, options.model_name,
                     json.dumps(client.status()))
    except clients.PredictionError as error:
        logging.warning("model server %s, model %s: %s (analyses fail until it answers)", options.model_server,
                        options.model_name, error)
    finally:
        client.close()
    try:
        transcriber = transcription.Transcriber()
    except ImportError as error:
        print(f"{PROG}: error: {error}: install the app extra, pip install 'speech-emotion-tfx[app]' "
              "(scripts/setup.sh does)", file=sys.stderr)
        return 1
    app = AnalysisApp(options, transcriber).application()
    logging.info("analysis app at http://%s:%d/ in front of %s", options.host, options.port, options.model_server)
    try:
        web.run_app(app, host=options.host, port=options.port, access_log=None, print=None,
                    keepalive_timeout=options.read_timeout_seconds)
    except OSError as error:
        print(f"{PROG}: error: cannot bind {options.host}:{options.port} (--port): {error.strerror or error}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

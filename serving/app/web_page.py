"""The page `ser app` shows at /: upload or record audio, see its emotions, transcript and interpretation.

The page (web/) is static. The browser decodes the audio (any format it reads, microphone recordings
included), mixes it to mono at the model's rate and posts it as a 16-bit WAV to /api/analyze, which asks the
model's `timeline` signature as `ser predict` does. Its settings come from GET /ui/config.json.
"""
import json
import pathlib

from aiohttp import web

from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.config import FeatureConfig

WEB_DIR = pathlib.Path(__file__).parent / "web"
PAGE_PATH = "/"
CONFIG_PATH = "/ui/config.json"
# Served under /ui/ with these content types; any other path is a 404.
_ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}


def page_config(model_name: str, max_request_bytes: int, feature_config: FeatureConfig = DEFAULT_FEATURE_CONFIG) -> dict:
    """The rate the page decodes to, the window length it reports, the model it names and the largest upload."""
    return {
        "sample_rate": feature_config.sample_rate,
        "window_seconds": feature_config.clip_seconds,
        "max_seconds": feature_config.max_input_seconds,
        "max_request_bytes": max_request_bytes,
        "model_name": model_name,
    }


def add_routes(app: web.Application, config: dict) -> None:
    """Adds GET / and /ui/* to `app`."""
    config_text = json.dumps(config)
    files = {PAGE_PATH: ("index.html", "text/html")}
    files.update({f"/ui/{name}": (name, content_type) for name, content_type in _ASSETS.items()})
    for path, (name, content_type) in files.items():
        app.router.add_get(path, _file_handler(WEB_DIR / name, content_type))

    async def settings(request: web.Request) -> web.Response:
        return web.Response(text=config_text, content_type="application/json", headers={"Cache-Control": "no-cache"})

    app.router.add_get(CONFIG_PATH, settings)


def _file_handler(path: pathlib.Path, content_type: str):
    body = path.read_bytes()

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers={"Cache-Control": "no-cache"})

    return handle

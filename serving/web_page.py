"""The web page `ser serve` shows at / on its REST port: upload or record audio, see its emotions.

The page (web/) is static; it sends the whole recording, decoded and resampled in the browser, as one
WAV to the REST API's :predict on the model's `timeline` signature, which windows and aggregates it as
it does for `ser predict`, so the page and the command line judge audio alike. Its settings come from
GET /ui/config.json, built here.
"""
import json
import pathlib
import typing

from aiohttp import web

from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.config import FeatureConfig
from speech_emotion.serving import clients
from speech_emotion.serving import recording_predictions

WEB_DIR = pathlib.Path(__file__).parent / "web"
PAGE_PATH = "/"
CONFIG_PATH = "/ui/config.json"
# Served under /ui/ with these content types; any other path falls through to the API's 404.
_ASSETS = {"app.js": "text/javascript", "style.css": "text/css"}


def page_config(model_names: typing.Iterable[str], feature_config: FeatureConfig = DEFAULT_FEATURE_CONFIG) -> dict:
    """What the page needs to send audio at the model's rate and to address the REST API."""
    names = sorted(model_names)
    return {
        "sample_rate": feature_config.sample_rate,
        "window_seconds": feature_config.clip_seconds,
        "signature_name": recording_predictions.SIGNATURE_NAME,
        "audio_input": recording_predictions.AUDIO_INPUT,
        "model_names": names,
        "default_model_name": clients.DEFAULT_MODEL_NAME if clients.DEFAULT_MODEL_NAME in names or not names else names[0],
    }


def add_routes(app: web.Application, model_names: typing.Iterable[str]) -> None:
    """Adds GET / and /ui/* to `app`; register before a catch-all route so these win."""
    config_text = json.dumps(page_config(model_names))
    files = {PAGE_PATH: ("index.html", "text/html")}
    files.update({f"/ui/{name}": (name, content_type) for name, content_type in _ASSETS.items()})
    for path, (name, content_type) in files.items():
        app.router.add_get(path, _file_handler(WEB_DIR / name, content_type))

    async def config(request: web.Request) -> web.Response:
        return web.Response(text=config_text, content_type="application/json", headers={"Cache-Control": "no-cache"})

    app.router.add_get(CONFIG_PATH, config)


def _file_handler(path: pathlib.Path, content_type: str):
    body = path.read_bytes()

    async def handle(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type, charset="utf-8", headers={"Cache-Control": "no-cache"})

    return handle

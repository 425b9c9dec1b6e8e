"""The LLM interpretation against a real local HTTP server playing an OpenAI-compatible endpoint: the request
it is sent (path, model, key, messages with the transcript and the emotions), and the fallback to the
summary, with a warning, on a timeout, an HTTP 500 and malformed answers."""
import asyncio
import json

import pytest
from aiohttp import web

from speech_emotion.serving import recording_predictions as predictions
from speech_emotion.serving.app import interpretation
from speech_emotion.serving.app import llm_client
from speech_emotion.serving.app import transcription

_MODEL = "test-model"
_KEY = "sk-test-key"
_INTERPRETATION = "The speaker sounds calm, then angry at the word dog."
_TRANSCRIPT = transcription.Transcript("i was calm until the dog barked", tuple(
    transcription.Word(word, 0.5 * index, 0.5 * index + 0.4)
    for index, word in enumerate("i was calm until the dog barked".split())))
_PREDICTION = predictions.RecordingPrediction(
    3.5, predictions.EmotionPrediction("neutral", {"angry": 0.35, "neutral": 0.65}),
    [predictions.WindowPrediction(0.0, 3.0, "neutral", {"angry": 0.2, "neutral": 0.8}),
     predictions.WindowPrediction(0.5, 3.5, "angry", {"angry": 0.9, "neutral": 0.1})])


def _chat_answer(content: str) -> dict:
    return {"id": "chatcmpl-1", "object": "chat.completion", "model": _MODEL,
            "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": content}}]}


class _Endpoint:
    """An aiohttp server on a free loopback port answering POST /v1/chat/completions with `handler`."""

    def __init__(self, handler):
        self.requests = []
        self._handler = handler

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": await request.json()})
        return await self._handler(request)

    async def __aenter__(self) -> str:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._handle)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        return f"http://127.0.0.1:{self._runner.addresses[0][1]}"

    async def __aexit__(self, *exc_info):
        await self._runner.cleanup()


def _interpret(handler, timeout_seconds=5.0, url_suffix=""):
    """Runs interpretation.interpret against an endpoint answering with `handler`; returns (answer, requests)."""
    endpoint = _Endpoint(handler)

    async def run():
        async with endpoint as url:
            llm = llm_client.LlmClient(llm_client.LlmConfig(url + url_suffix, _MODEL, _KEY, timeout_seconds))
            return await interpretation.interpret(_PREDICTION, _TRANSCRIPT, llm)

    return asyncio.run(run()), endpoint.requests


async def _good(request):
    return web.json_response(_chat_answer(json.dumps({"interpretation": _INTERPRETATION})))


def test_the_request_carries_the_prompt_transcript_and_emotions_and_the_answer_is_used():
    answer, requests = _interpret(_good)

    assert answer == {"text": _INTERPRETATION, "source": "llm"}
    [request] = requests
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == f"Bearer {_KEY}"
    assert request["body"]["model"] == _MODEL
    system, user = request["body"]["messages"]
    assert system == {"role": "system", "content": llm_client.PROMPT}
    assert user["role"] == "user"
    analysis = json.loads(user["content"])
    assert analysis["transcript"] == _TRANSCRIPT.text
    assert analysis["overall"] == {"angry": 0.35, "neutral": 0.65}
    assert [(window["emotion"], window["words"]) for window in analysis["timeline"]] == [
        ("neutral", "i"), ("angry", "was calm until the dog barked")]  # each window's own part: up to the next start
    assert analysis["timeline"][1]["probability"] == 0.9


def test_a_base_url_ending_in_v1_is_not_doubled():
    answer, requests = _interpret(_good, url_suffix="/v1/")
    assert answer["source"] == "llm" and requests[0]["path"] == "/v1/chat/completions"


def test_an_answer_in_a_markdown_code_fence_is_accepted():
    async def fenced(request):
        return web.json_response(_chat_answer(f'```json\n{{"interpretation": "{_INTERPRETATION}"}}\n```'))

    assert _interpret(fenced)[0] == {"text": _INTERPRETATION, "source": "llm"}


async def _slow(request):
    await asyncio.sleep(3.0)
    return await _good(request)


async def _server_error(request):
    return web.json_response({"error": {"message": "the model is overloaded"}}, status=500)


async def _not_json(request):
    return web.Response(text="<html>gateway</html>", content_type="text/html")


async def _no_choices(request):
    return web.json_response({"object": "chat.completion", "choices": []})


async def _prose(request):
    return web.json_response(_chat_answer("The speaker sounds calm."))


async def _wrong_key(request):
    return web.json_response(_chat_answer(json.dumps({"summary": _INTERPRETATION})))


async def _empty(request):
    return web.json_response(_chat_answer(json.dumps({"interpretation": "  "})))


@pytest.mark.parametrize("handler, timeout_seconds, reason", [
    (_slow, 0.3, "no answer from http://127.0.0.1:"),
    (_server_error, 5.0, "HTTP 500 from"),
    (_not_json, 5.0, "the answer is not JSON"),
    (_no_choices, 5.0, "no choices[0].message.content"),
    (_prose, 5.0, 'not the JSON object {"interpretation": ...}'),
    (_wrong_key, 5.0, 'not the JSON object {"interpretation": ...}'),
    (_empty, 5.0, "not a non-empty string"),
], ids=["timeout", "http_500", "not_json", "no_choices", "prose", "wrong_key", "empty"])
def test_failures_fall_back_to_the_summary_with_a_warning(handler, timeout_seconds, reason):
    answer, requests = _interpret(handler, timeout_seconds)

    assert len(requests) == 1
    assert answer["source"] == "summary"
    assert answer["text"] == interpretation.summary(_PREDICTION, _TRANSCRIPT)
    assert reason in answer["warning"] and answer["warning"].startswith("The LLM endpoint failed (")


def test_an_endpoint_nobody_listens_on_falls_back():
    llm = llm_client.LlmClient(llm_client.LlmConfig("http://127.0.0.1:9", _MODEL, None, 5.0))
    answer = asyncio.run(interpretation.interpret(_PREDICTION, _TRANSCRIPT, llm))
    assert answer["source"] == "summary" and "cannot reach http://127.0.0.1:9/v1/chat/completions" in answer["warning"]


@pytest.mark.parametrize("url, model, timeout_seconds, message", [
    ("localhost:8000", _MODEL, 1.0, "http:// or https://"),
    ("http://localhost:8000", "", 1.0, "needs --llm-model"),
    ("http://localhost:8000", _MODEL, 0.0, "must be positive"),
])
def test_bad_settings_are_refused(url, model, timeout_seconds, message):
    with pytest.raises(ValueError, match=message):
        llm_client.LlmConfig(url, model, None, timeout_seconds)

"""An interpretation from any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp's server, Ollama, ...).

One POST to {url}/v1/chat/completions (or {url}/chat/completions when `url` already ends in /v1) with
PROMPT as the system message and the analysis (transcript, overall emotions, timeline with the words
of each window) as JSON in the user message. The answer's message must be the JSON object PROMPT asks
for; anything else, an HTTP error or no answer within the timeout raises LlmError, and the caller
(interpretation.interpret) falls back to the summary.
"""
import asyncio
import dataclasses
import json
import typing

import aiohttp

from speech_emotion.serving import recording_predictions
from speech_emotion.serving.app import transcription

PROMPT = (
    "You explain the result of a speech emotion recognition model to the person who uploaded the recording. "
    "The user message is JSON: `transcript` (the words an offline recogniser heard; it makes mistakes), "
    "`overall` (each emotion's probability over the whole recording) and `timeline` (consecutive windows with "
    "their time span in seconds, top emotion, its probability and the words spoken in them). In two to four "
    "plain sentences, say which emotion dominates, where and at which words it changes, and how confident the "
    "model is; do not invent emotions or words that are not in the data. Answer with a JSON object and "
    'nothing else: {"interpretation": "<your sentences>"}'
)
CHAT_COMPLETIONS_PATH = "/v1/chat/completions"
# Decimals of the probabilities sent: more only costs tokens.
_PROBABILITY_DECIMALS = 3


class LlmError(Exception):
    """The endpoint gave no usable interpretation; the message says why."""


@dataclasses.dataclass(frozen=True)
class LlmConfig:
    url: str
    model: str
    api_key: typing.Optional[str] = None
    timeout_seconds: float = 30.0

    def __post_init__(self):
        if not self.url.startswith(("http://", "https://")):
            raise ValueError(f"--llm-url must be an http:// or https:// URL, got {self.url!r}")
        if not self.model:
            raise ValueError("--llm-url needs --llm-model")
        if self.timeout_seconds <= 0:
            raise ValueError(f"--llm-timeout-seconds must be positive, got {self.timeout_seconds}")

    @property
    def chat_completions_url(self) -> str:
        base = self.url.rstrip("/")
        return base + ("/chat/completions" if base.endswith("/v1") else CHAT_COMPLETIONS_PATH)


def analysis_message(prediction: recording_predictions.RecordingPrediction, transcript: transcription.Transcript) -> str:
    """The user message: what the model and the recogniser found, as compact JSON."""
    def rounded(probabilities):
        return {emotion: round(p, _PROBABILITY_DECIMALS) for emotion, p in probabilities.items()}

    # Windows overlap: each one's words are those of its own part of the recording, so none is told twice.
    timeline = [{
        "start_seconds": round(window.start_seconds, 2), "end_seconds": round(window.end_seconds, 2),
        "emotion": window.label,
        "probability": round(window.probabilities[window.label], _PROBABILITY_DECIMALS),
        "words": " ".join(word.word for word in transcript.words_between(own_start, own_end)),
    } for window, (own_start, own_end) in zip(prediction.timeline, prediction.own_spans())]
    return json.dumps({"transcript": transcript.text, "duration_seconds": round(prediction.duration_seconds, 2),
                       "overall": rounded(prediction.overall.probabilities), "timeline": timeline})


def _interpretation(answer: typing.Any) -> str:
    """The interpretation in a chat completion's answer; LlmError when it is not where PROMPT asks."""
    try:
        content = answer["choices"][0]["message"]["content"].strip()
    except (KeyError, IndexError, TypeError, AttributeError):
        raise LlmError("the answer has no choices[0].message.content") from None
    # Chat models like to wrap JSON in a Markdown code fence.
    if content.startswith("```") and content.endswith("```"):
        content = content[3:-3].removeprefix("json").strip()
    try:
        text = json.loads(content)["interpretation"]
    except (ValueError, KeyError, TypeError):
        raise LlmError(f'the message is not the JSON object {{"interpretation": ...}}: {content[:200]!r}') from None
    if not isinstance(text, str) or not text.strip():
        raise LlmError("the message's interpretation is not a non-empty string")
    return text.strip()


class LlmClient:
    def __init__(self, config: LlmConfig):
        self.config = config

    async def interpret(self, prediction: recording_predictions.RecordingPrediction, transcript: transcription.Transcript) -> str:
        config = self.config
        body = {
            "model": config.model,
            "messages": [{"role": "system", "content": PROMPT},
                         {"role": "user", "content": analysis_message(prediction, transcript)}],
            "temperature": 0,
        }
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=config.timeout_seconds)) as session:
                async with session.post(config.chat_completions_url, json=body, headers=headers) as response:
                    text = await response.text()
                    if response.status != 200:
                        raise LlmError(f"HTTP {response.status} from {config.chat_completions_url}: {text[:200]}")
        except asyncio.TimeoutError:
            raise LlmError(f"no answer from {config.chat_completions_url} within {config.timeout_seconds:g} s") from None
        except aiohttp.ClientError as error:
            raise LlmError(f"cannot reach {config.chat_completions_url}: {error}") from None
        try:
            answer = json.loads(text)
        except ValueError:
            raise LlmError(f"the answer is not JSON: {text[:200]!r}") from None
        return _interpretation(answer)

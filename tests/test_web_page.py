"""The web page of `ser app` in front of a running `ser serve` with the fixture model (`ser serve` itself
serves no page): in headless Chromium, an uploaded recording shows the same windows, probabilities and
overall emotion as `ser predict` gives for the file, spoken words show up in the transcript with the
emotion of their window and the interpretation beside them, a microphone recording (Chromium's fake
device) gets analysed, an error of the app reaches the user verbatim, screenshots of results are saved
(also to $SER_SCREENSHOT_DIR when set), the page keeps to its Content-Security-Policy, and a page of
another origin cannot make the model server run an inference."""
import base64
import functools
import http.server
import json
import os
import pathlib
import shutil
import threading
import time

import app_fixture
import serving_model_fixture as fixture

import numpy as np
import pytest
import requests
import soundfile
from PIL import Image

from speech_emotion.audio import wav
from speech_emotion.config import DEFAULT_FEATURE_CONFIG
from speech_emotion.serving import clients
from speech_emotion.serving import predict_cli

try:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
except ImportError:  # the test extra; the browser tests skip without it
    webdriver = None

CHROMIUM = pathlib.Path("/usr/bin/chromium")
CHROMEDRIVER = pathlib.Path("/usr/bin/chromedriver")
_CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                   "--disable-background-networking", "--disable-component-update", "--disable-sync",
                   "--disable-dev-shm-usage", "--window-size=1000,1150",
                   "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
_WAIT_SECONDS = 30


def _long_recording(seconds: float = 7.6, sample_rate: int = DEFAULT_FEATURE_CONFIG.sample_rate) -> np.ndarray:
    """A tone that gets louder and higher, with noise: each 3 s window scores differently."""
    time_axis = np.arange(int(seconds * sample_rate)) / sample_rate
    amplitude = 0.1 + 0.1 * time_axis
    frequency = 150.0 + 60.0 * time_axis
    noise = 0.03 * np.random.default_rng(3).standard_normal(time_axis.shape)
    return amplitude * np.sin(2 * np.pi * np.cumsum(frequency) / sample_rate) + noise


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("web")
    fixture.push_version(root / "models", 1)
    with fixture.running_server(root / "models") as running:
        yield running


@pytest.fixture(scope="module")
def base_url(server):
    """The model server's REST API."""
    return f"http://127.0.0.1:{server.rest_port}"


@pytest.fixture(scope="module")
def app_url(server):
    with app_fixture.running_app(f"127.0.0.1:{server.rest_port}") as url:
        yield url


@pytest.fixture(scope="module")
def long_recording_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("audio") / "long_recording.wav"
    path.write_bytes(wav.encode_wav_pcm16(_long_recording(), DEFAULT_FEATURE_CONFIG.sample_rate))
    return path


@pytest.fixture(scope="module")
def expected(base_url, long_recording_path):
    """What `ser predict` reports for the long recording, over the same REST API."""
    client = clients.RestClient(base_url.removeprefix("http://"), fixture.MODEL_NAME)
    try:
        return predict_cli.predict_file(client, str(long_recording_path)).prediction
    finally:
        client.close()


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.skip(f"{CHROMIUM} or {CHROMEDRIVER} missing: install Debian's chromium and chromium-driver packages "
                    "(scripts/setup.sh --test, which scripts/test.sh runs, does where it may use apt-get)")
    if webdriver is None:
        pytest.skip("the selenium package (setup.py's test extra) is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in _CHROMIUM_FLAGS + [f"--user-data-dir={tmp_path_factory.mktemp('chromium_profile')}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    try:
        yield driver
    finally:
        driver.quit()


def _load(browser, url):
    browser.get(url + "/")
    WebDriverWait(browser, _WAIT_SECONDS).until(lambda _: not browser.find_element(By.ID, "audio-file").get_attribute("disabled"))
    return browser


@pytest.fixture
def page(browser, app_url):
    """The page freshly loaded, settings fetched."""
    return _load(browser, app_url)


def test_ser_serve_is_the_api_alone(base_url):
    for method, path in (("GET", "/"), ("GET", "/ui/app.js"), ("GET", "/ui/config.json"), ("POST", "/api/analyze")):
        answer = requests.request(method, base_url + path)
        assert answer.status_code == 404
        assert answer.json() == {"error": f"Not found: {method} {path}"}


def _finish(page) -> str:
    """Waits until the page shows a result or an error; returns which ("done" or "error")."""
    status = page.find_element(By.ID, "status")
    WebDriverWait(page, _WAIT_SECONDS).until(lambda _: status.get_attribute("data-state") in ("done", "error"))
    return status.get_attribute("data-state")


def _console(page) -> str:
    return "\n".join(entry["message"] for entry in page.get_log("browser"))


def _upload(page, path) -> None:
    page.find_element(By.ID, "audio-file").send_keys(str(path))
    assert _finish(page) == "done", f"{page.find_element(By.ID, 'error').text}\n{_console(page)}"


def _bars(page):
    return [(bar.get_attribute("data-emotion"), float(bar.get_attribute("data-probability")),
             bar.find_element(By.CLASS_NAME, "bar-value").text) for bar in page.find_elements(By.CSS_SELECTOR, "#chart .bar")]


def test_upload_shows_the_same_windows_and_probabilities_as_ser_predict(page, long_recording_path, expected):
    _upload(page, long_recording_path)

    assert len(expected.timeline) == 6  # a window every second, the last one ending with the recording
    bars = _bars(page)
    assert [emotion for emotion, _, _ in bars] == list(fixture.EMOTIONS)
    for emotion, probability, shown in bars:
        assert probability == pytest.approx(expected.overall.probabilities[emotion], abs=1e-5)
        assert shown == f"{100 * expected.overall.probabilities[emotion]:.1f}%"
    assert page.find_element(By.ID, "overall-label").text.lower() == expected.overall.label

    windows = page.find_elements(By.CSS_SELECTOR, "#timeline .timeline-window")
    assert len(windows) == len(expected.timeline)
    for element, window in zip(windows, expected.timeline):
        assert float(element.get_attribute("data-start")) == pytest.approx(window.start_seconds)
        assert float(element.get_attribute("data-end")) == pytest.approx(window.end_seconds)
        assert element.get_attribute("data-emotion") == window.label
        assert float(element.get_attribute("data-probability")) == pytest.approx(window.probabilities[window.label], abs=1e-5)
        title = element.find_element(By.TAG_NAME, "title").get_attribute("textContent")
        assert title.startswith(f"{window.start_seconds:.1f}–{window.end_seconds:.1f} s: {window.label}")
    # The windows differ, so the test would notice a page that sent the same audio for each.
    assert len({round(window.probabilities[window.label], 4) for window in expected.timeline}) == len(expected.timeline)


def test_a_stereo_ogg_at_another_rate_is_resampled_and_windowed_like_ser_predict(page, base_url, tmp_path):
    recording = _long_recording(seconds=7.0, sample_rate=44100)
    path = tmp_path / "stereo.ogg"
    soundfile.write(path, np.stack([recording, 0.5 * recording[::-1]], axis=1), 44100)
    client = clients.RestClient(base_url.removeprefix("http://"), fixture.MODEL_NAME)
    try:
        expected = predict_cli.predict_file(client, str(path)).prediction
    finally:
        client.close()
    _upload(page, path)

    assert len(expected.timeline) == 5  # a window every second, the last one ending with the recording
    assert len(page.find_elements(By.CSS_SELECTOR, "#timeline .timeline-window")) == 5
    # The browser's decoder and resampler are not the project's: close, not equal.
    for emotion, probability, _ in _bars(page):
        assert probability == pytest.approx(expected.overall.probabilities[emotion], abs=2e-3)


def test_recording_from_the_microphone_is_predicted(page):
    record = page.find_element(By.ID, "record")
    record.click()
    WebDriverWait(page, _WAIT_SECONDS).until(lambda _: record.text == "Stop")
    time.sleep(2.0)
    record.click()
    assert _finish(page) == "done", f"{page.find_element(By.ID, 'error').text}\n{_console(page)}"

    assert page.find_element(By.ID, "source").text.startswith("recording: ")
    probabilities = {emotion: probability for emotion, probability, _ in _bars(page)}
    assert list(probabilities) == list(fixture.EMOTIONS)
    assert sum(probabilities.values()) == pytest.approx(1.0, abs=1e-4)
    assert page.find_element(By.ID, "overall-label").text.lower() == max(probabilities, key=probabilities.get)
    assert not page.find_element(By.ID, "timeline-figure").is_displayed()  # about 2 s: a single window


def test_errors_of_the_app_are_shown_verbatim(browser, server, long_recording_path):
    with app_fixture.running_app(f"127.0.0.1:{server.rest_port}", "--model-name", "no_such_model") as url:
        answer = requests.post(url + "/api/analyze", data=long_recording_path.read_bytes(),
                               headers={"Content-Type": "audio/wav"})
        assert answer.status_code == 502
        page = _load(browser, url)
        page.find_element(By.ID, "audio-file").send_keys(str(long_recording_path))

        assert _finish(page) == "error"
        error = page.find_element(By.ID, "error")
        assert error.is_displayed()
        assert error.text == f"The server answered HTTP 502: {answer.json()['error']}"
        assert not page.find_element(By.ID, "result").is_displayed()


def _save_screenshot(page, path) -> Image.Image:
    assert page.save_screenshot(str(path))
    if os.environ.get("SER_SCREENSHOT_DIR"):
        os.makedirs(os.environ["SER_SCREENSHOT_DIR"], exist_ok=True)
        shutil.copy(path, os.environ["SER_SCREENSHOT_DIR"])
    image = Image.open(path)
    assert image.format == "PNG"
    assert image.width >= 800 and image.height >= 600
    return image


@pytest.fixture(scope="module")
def speech_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("speech") / "speech.wav"
    path.write_bytes(wav.encode_wav_pcm16(app_fixture.spoken(app_fixture.SENTENCE), DEFAULT_FEATURE_CONFIG.sample_rate))
    return path


def test_spoken_words_show_in_the_transcript_with_their_emotion_and_the_interpretation(page, app_url, speech_path, tmp_path):
    expected = requests.post(app_url + "/api/analyze", data=speech_path.read_bytes(),
                             headers={"Content-Type": "audio/wav"}).json()
    _upload(page, speech_path)

    words = page.find_elements(By.CSS_SELECTOR, "#transcript .word")
    assert [word.text for word in words] == [word["word"] for word in expected["transcript"]["words"]]
    assert app_fixture.word_error_rate(app_fixture.SENTENCE, " ".join(word.text for word in words)) <= 0.5
    starts = [window["start_seconds"] for window in expected["timeline"]]
    for word, expected_word in zip(words, expected["transcript"]["words"]):
        assert float(word.get_attribute("data-start")) == pytest.approx(expected_word["start_seconds"])
        # Each word has the emotion of the window whose own part (up to the next window's start) holds its middle.
        middle = (expected_word["start_seconds"] + expected_word["end_seconds"]) / 2
        window = max(index for index, start in enumerate(starts) if start <= middle or index == 0)
        assert word.get_attribute("data-emotion") == expected["timeline"][window]["label"]
    assert page.find_element(By.ID, "interpretation").text == expected["interpretation"]["text"]
    assert page.find_element(By.ID, "interpretation-source").text == "Written from the timeline and the transcript."
    assert not page.find_element(By.ID, "interpretation-warning").is_displayed()
    _save_screenshot(page, tmp_path / "web_page_speech.png")


def test_screenshot_of_a_long_recording(page, long_recording_path, tmp_path):
    _upload(page, long_recording_path)
    image = _save_screenshot(page, tmp_path / "web_page.png")
    # Text, bars and the coloured timeline: far more than a blank or error page's few colours.
    assert len(image.convert("RGB").getcolors(maxcolors=1 << 20)) > 200


@pytest.fixture
def other_origin_page(browser, tmp_path):
    """The browser on a page that another server (another port: another origin) served."""
    (tmp_path / "index.html").write_text("<!DOCTYPE html><title>another site</title>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as other_server:
        thread = threading.Thread(target=other_server.serve_forever, daemon=True)
        thread.start()
        browser.get(f"http://127.0.0.1:{other_server.server_address[1]}/index.html")
        yield browser
        other_server.shutdown()
        thread.join()


def test_a_page_of_another_origin_cannot_make_the_model_server_predict(other_origin_page, server, base_url, long_recording_path):
    clip = long_recording_path.read_bytes()[:DEFAULT_FEATURE_CONFIG.sample_rate]  # a valid WAV prefix
    body = json.dumps({"instances": [{"b64": base64.b64encode(clip).decode()}]})
    counts = server.metrics.request_count

    def predict_counts():
        return [counts.value(fixture.MODEL_NAME, "predict", "REST", status) for status in ("OK", "PERMISSION_DENIED")]

    before = predict_counts()
    # A "simple" request: the browser sends it without asking the server first, and it cannot read the answer.
    answer_type = other_origin_page.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "fetch(arguments[0], {method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: arguments[1]})"
        ".then((response) => done(response.type), (error) => done(String(error)));",
        f"{base_url}/v1/models/{fixture.MODEL_NAME}:predict", body)

    assert answer_type == "opaque"
    assert predict_counts() == [before[0], before[1] + 1]


def test_the_page_breaks_none_of_its_content_security_policy(page, long_recording_path):
    _upload(page, long_recording_path)
    assert "Content Security Policy" not in _console(page)

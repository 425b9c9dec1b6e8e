// The web page of `ser app`: decodes audio in the browser, mixes it to mono at the model's rate, posts it
// as a 16-bit WAV to /api/analyze and draws the answer: the overall emotions, the timeline of windows,
// the transcript (each word coloured by the top emotion of its window) and the interpretation.
// /ui/config.json carries the settings.

const SVG_NS = "http://www.w3.org/2000/svg";
// One colour per emotion, in the model's class order.
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];
const ANALYZE_PATH = "/api/analyze";

const elements = Object.fromEntries(
  ["model-name", "audio-file", "record", "again", "status", "error", "result", "overall-label",
   "overall-probability", "source", "chart", "timeline-figure", "timeline", "transcript", "interpretation",
   "interpretation-source", "interpretation-warning"].map((id) => [id, document.getElementById(id)]));

let config = null;
let lastAudio = null;  // {name, bytes} of the audio last analysed, for "Analyse again"
let recorder = null;

function setStatus(state, text) {
  elements.status.dataset.state = state;
  elements.status.textContent = text;
}

function showError(message) {
  elements.error.textContent = message;
  elements.error.hidden = false;
  setStatus("error", "Failed.");
}

function clearError() {
  elements.error.hidden = true;
  elements.error.textContent = "";
}

// --- Audio -----------------------------------------------------------------------------------------

// Decodes any format the browser reads, resampled to `sampleRate`, and mixes the channels to mono by their mean.
async function decodeToMono(bytes, sampleRate) {
  const context = new OfflineAudioContext(1, 1, sampleRate);
  let buffer;
  try {
    buffer = await context.decodeAudioData(bytes.slice(0));
  } catch (error) {
    throw new Error(`The browser cannot decode this audio: ${error.message || error}`);
  }
  const mono = new Float32Array(buffer.length);
  for (let channel = 0; channel < buffer.numberOfChannels; channel++) {
    const samples = buffer.getChannelData(channel);
    for (let i = 0; i < mono.length; i++) mono[i] += samples[i];
  }
  for (let i = 0; i < mono.length; i++) mono[i] /= buffer.numberOfChannels;
  return mono;
}

// Rounds halves to even, as numpy does, so a 16-bit WAV comes back sample for sample.
function roundHalfEven(value) {
  const floor = Math.floor(value);
  const fraction = value - floor;
  if (fraction !== 0.5) return Math.round(value);
  return floor % 2 === 0 ? floor : floor + 1;
}

// 16-bit PCM mono WAV bytes, scaled and clipped like speech_emotion.audio.wav.encode_wav_pcm16.
function encodeWav(samples, sampleRate) {
  const view = new DataView(new ArrayBuffer(44 + 2 * samples.length));
  const writeText = (offset, text) => [...text].forEach((c, i) => view.setUint8(offset + i, c.charCodeAt(0)));
  writeText(0, "RIFF");
  view.setUint32(4, 36 + 2 * samples.length, true);
  writeText(8, "WAVE");
  writeText(12, "fmt ");
  view.setUint32(16, 16, true);
  view.setUint16(20, 1, true);  // PCM
  view.setUint16(22, 1, true);  // mono
  view.setUint32(24, sampleRate, true);
  view.setUint32(28, 2 * sampleRate, true);
  view.setUint16(32, 2, true);
  view.setUint16(34, 16, true);
  writeText(36, "data");
  view.setUint32(40, 2 * samples.length, true);
  for (let i = 0; i < samples.length; i++) {
    view.setInt16(44 + 2 * i, Math.min(32767, Math.max(-32768, roundHalfEven(samples[i] * 32768))), true);
  }
  return new Uint8Array(view.buffer);
}

// --- API -------------------------------------------------------------------------------------------

async function analyseWav(wavBytes) {
  let response;
  try {
    response = await fetch(ANALYZE_PATH, {method: "POST", headers: {"Content-Type": "audio/wav"}, body: wavBytes});
  } catch (error) {
    throw new Error(`Cannot reach the server: ${error.message || error}`);
  }
  const text = await response.text();
  let answer;
  try {
    answer = JSON.parse(text);
  } catch {
    answer = {error: text};
  }
  if (!response.ok) throw new Error(`The server answered HTTP ${response.status}: ${answer.error ?? text}`);
  return answer;
}

// --- Drawing ---------------------------------------------------------------------------------------

function svgElement(name, attributes = {}, text = null) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  if (text !== null) element.textContent = text;
  return element;
}

const percent = (p) => `${(100 * p).toFixed(1)}%`;
const seconds = (s) => `${s.toFixed(1)} s`;

function drawChart(overall, colours) {
  const rowHeight = 30, labelWidth = 110, barWidth = 420, valueWidth = 70;
  const emotions = Object.keys(overall.probabilities);
  const svg = elements.chart;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${labelWidth + barWidth + valueWidth} ${rowHeight * emotions.length}`);
  emotions.forEach((emotion, e) => {
    const p = overall.probabilities[emotion];
    const y = e * rowHeight;
    const row = svgElement("g", {class: "bar", "data-emotion": emotion, "data-probability": p});
    row.append(
      svgElement("text", {x: labelWidth - 10, y: y + rowHeight / 2, class: "bar-label"}, emotion),
      svgElement("rect", {x: labelWidth, y: y + 5, width: barWidth, height: rowHeight - 10, class: "bar-track"}),
      svgElement("rect", {x: labelWidth, y: y + 5, width: Math.max(0, p * barWidth), height: rowHeight - 10,
                          fill: colours[emotion], class: emotion === overall.label ? "bar-fill top" : "bar-fill"}),
      svgElement("text", {x: labelWidth + barWidth + 8, y: y + rowHeight / 2, class: "bar-value"}, percent(p)));
    svg.append(row);
  });
}

function drawTimeline(timeline, colours) {
  const width = 600, stripTop = 4, stripHeight = 46, axisHeight = 22;
  const duration = timeline[timeline.length - 1].end_seconds;
  const x = (time) => (time / duration) * width;
  const svg = elements.timeline;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${stripTop + stripHeight + axisHeight}`);
  timeline.forEach((window, w) => {
    // Windows overlap: each is drawn over its own part of the recording, up to where the next one starts.
    const left = x(window.start_seconds), span = x(ownEnd(timeline, w)) - left;
    const range = `${window.start_seconds.toFixed(1)}–${window.end_seconds.toFixed(1)} s`;
    const group = svgElement("g", {class: "timeline-window", "data-start": window.start_seconds,
                                   "data-end": window.end_seconds, "data-emotion": window.label,
                                   "data-probability": window.probabilities[window.label]});
    const details = Object.entries(window.probabilities).map(([emotion, p]) => `${emotion} ${percent(p)}`).join("\n");
    group.append(
      svgElement("title", {}, `${range}: ${window.label}\n${details}`),
      svgElement("rect", {x: left + 1, y: stripTop, width: Math.max(1, span - 2), height: stripHeight, rx: 3,
                          fill: colours[window.label]}));
    if (span >= 70) {
      group.append(
        svgElement("text", {x: left + span / 2, y: stripTop + 18, class: "window-label"}, window.label),
        svgElement("text", {x: left + span / 2, y: stripTop + 36, class: "window-range"}, range));
    }
    svg.append(group);
  });
  const step = Math.max(1, Math.ceil(duration / 10));
  for (let time = 0; time <= duration + 1e-9; time += step) {
    svg.append(svgElement("text", {x: Math.min(width - 12, Math.max(8, x(time))), y: stripTop + stripHeight + 16,
                                   class: "axis-label"}, `${time} s`));
  }
}

// Where window `w`'s own part of the recording ends: where the next window starts, or the window's end for the last.
function ownEnd(timeline, w) {
  return w + 1 < timeline.length ? timeline[w + 1].start_seconds : timeline[w].end_seconds;
}

// The window a word belongs to: the one whose own part its middle falls in, as the server aligns them.
function windowOfWord(timeline, word) {
  const middle = (word.start_seconds + word.end_seconds) / 2;
  return timeline.find((window, w) => middle < ownEnd(timeline, w)) ?? timeline[timeline.length - 1];
}

function drawTranscript(answer, colours) {
  const container = elements.transcript;
  container.replaceChildren();
  if (!answer.transcript.words.length) {
    container.textContent = "No words were recognised.";
    return;
  }
  for (const word of answer.transcript.words) {
    const window = windowOfWord(answer.timeline, word);
    const span = document.createElement("span");
    span.className = "word";
    span.textContent = word.word;
    span.title = `${word.start_seconds.toFixed(2)}–${word.end_seconds.toFixed(2)} s: ${window.label}`;
    span.dataset.start = word.start_seconds;
    span.dataset.end = word.end_seconds;
    span.dataset.emotion = window.label;
    span.style.borderBottomColor = colours[window.label];
    container.append(span, " ");
  }
}

function showResult(name, answer) {
  const emotions = Object.keys(answer.overall.probabilities);
  const colours = Object.fromEntries(emotions.map((emotion, e) => [emotion, PALETTE[e % PALETTE.length]]));
  elements["overall-label"].textContent = answer.overall.label;
  elements["overall-probability"].textContent = `(${percent(answer.overall.probabilities[answer.overall.label])})`;
  const count = answer.timeline.length === 1 ? "1 window" : `${answer.timeline.length} overlapping windows of ${config.window_seconds} s`;
  elements.source.textContent = `${name}: ${seconds(answer.duration_seconds)}, ${count}.`;
  drawChart(answer.overall, colours);
  elements["timeline-figure"].hidden = answer.timeline.length < 2;
  if (answer.timeline.length > 1) drawTimeline(answer.timeline, colours);
  drawTranscript(answer, colours);
  elements.interpretation.textContent = answer.interpretation.text;
  elements["interpretation-source"].textContent =
    answer.interpretation.source === "llm" ? "Written by a language model." : "Written from the timeline and the transcript.";
  elements["interpretation-warning"].textContent = answer.interpretation.warning ?? "";
  elements["interpretation-warning"].hidden = !answer.interpretation.warning;
  elements.result.hidden = false;
}

// --- Flow ------------------------------------------------------------------------------------------

async function analyse(name, bytes) {
  lastAudio = {name, bytes};
  elements.again.disabled = false;
  clearError();
  setStatus("working", `Decoding ${name}…`);
  try {
    const samples = await decodeToMono(bytes, config.sample_rate);
    if (!samples.length) throw new Error(`${name} holds no audio.`);
    if (samples.length > config.max_seconds * config.sample_rate) {
      throw new Error(`${name} lasts ${seconds(samples.length / config.sample_rate)}; at most ${config.max_seconds} s are analysed.`);
    }
    setStatus("working", `Analysing ${seconds(samples.length / config.sample_rate)} of ${name}…`);
    const answer = await analyseWav(encodeWav(samples, config.sample_rate));
    showResult(name, answer);
    setStatus("done", `Model ${config.model_name} judged ${name}.`);
  } catch (error) {
    elements.result.hidden = true;
    showError(error.message || String(error));
  }
}

async function startRecording() {
  clearError();
  if (!navigator.mediaDevices?.getUserMedia) {
    showError("This browser offers no microphone here; recording needs https or a page on localhost.");
    return;
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({audio: true});
  } catch (error) {
    showError(`Cannot use the microphone: ${error.message || error.name}`);
    return;
  }
  const chunks = [];
  const started = performance.now();
  recorder = new MediaRecorder(stream);
  const timer = setInterval(() => setStatus("recording", `Recording… ${seconds((performance.now() - started) / 1000)}`), 200);
  recorder.ondataavailable = (event) => chunks.push(event.data);
  recorder.onstop = async () => {
    clearInterval(timer);
    stream.getTracks().forEach((track) => track.stop());
    elements.record.textContent = "Record";
    elements.record.classList.remove("recording");
    const blob = new Blob(chunks, {type: recorder.mimeType});
    recorder = null;
    await analyse("recording", await blob.arrayBuffer());
  };
  recorder.start();
  elements.record.textContent = "Stop";
  elements.record.classList.add("recording");
  setStatus("recording", "Recording…");
}

async function loadConfig() {
  const response = await fetch("/ui/config.json");
  if (!response.ok) throw new Error(`Cannot load the page's settings: HTTP ${response.status}`);
  config = await response.json();
  elements["model-name"].textContent = config.model_name;
  elements["audio-file"].disabled = false;
  elements.record.disabled = false;
}

elements["audio-file"].addEventListener("change", async () => {
  const file = elements["audio-file"].files[0];
  if (file) await analyse(file.name, await file.arrayBuffer());
});
elements.record.addEventListener("click", () => (recorder ? recorder.stop() : startRecording()));
elements.again.addEventListener("click", () => lastAudio && analyse(lastAudio.name, lastAudio.bytes));

loadConfig().then(
  () => setStatus("idle", `Choose an audio file or record; it is cut into ${config.window_seconds} s windows.`),
  (error) => showError(error.message || String(error)));

// The web page of `ser serve`: decodes audio in the browser, resamples it to the model's rate, sends the
// whole recording as one 16-bit WAV to the REST API's :predict on the model's `timeline` signature, which
// windows it and weighs the windows as for `ser predict`, and draws the answer. /ui/config.json carries its settings.

const SVG_NS = "http://www.w3.org/2000/svg";
// One colour per emotion, in the model's class order.
const PALETTE = ["#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"];

const elements = Object.fromEntries(
  ["model-name", "model-names", "audio-file", "record", "predict", "status", "error", "result", "overall-label",
   "overall-probability", "source", "chart", "timeline-figure", "timeline"].map((id) => [id, document.getElementById(id)]));

let config = null;
let lastAudio = null;  // {name, bytes} of the audio last analysed, for "Predict again"
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

// Rounds halves to even, as numpy does, so the page sends the same samples as `ser predict`.
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

function base64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(text);
}

// --- REST API --------------------------------------------------------------------------------------

// The `timeline` signature's answer for one recording: its windows, each with its prediction, and the overall one.
async function predictTimeline(modelName, samples) {
  const url = `/v1/models/${encodeURIComponent(modelName)}:predict`;
  const inputs = {[config.audio_input]: [{b64: base64(encodeWav(samples, config.sample_rate))}]};
  let response;
  try {
    response = await fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({signature_name: config.signature_name, inputs}),
    });
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
  // Columnar outputs of a batch of one; the per-window ones are padded past window_count.
  const outputs = answer.outputs;
  const classes = outputs.classes[0];
  const windows = outputs.start_seconds[0].slice(0, outputs.window_count[0]).map((start, w) => ({
    start, end: outputs.end_seconds[0][w],
    prediction: {label: outputs.label[0][w], classes, probabilities: outputs.probabilities[0][w]}}));
  const overall = {label: outputs.overall_label[0], classes, probabilities: outputs.overall_probabilities[0]};
  return {duration: outputs.duration_seconds[0], windows, overall};
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

function drawChart(overall) {
  const rowHeight = 30, labelWidth = 110, barWidth = 420, valueWidth = 70;
  const svg = elements.chart;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${labelWidth + barWidth + valueWidth} ${rowHeight * overall.classes.length}`);
  overall.classes.forEach((emotion, e) => {
    const p = overall.probabilities[e];
    const y = e * rowHeight;
    const row = svgElement("g", {class: "bar", "data-emotion": emotion, "data-probability": p});
    row.append(
      svgElement("text", {x: labelWidth - 10, y: y + rowHeight / 2, class: "bar-label"}, emotion),
      svgElement("rect", {x: labelWidth, y: y + 5, width: barWidth, height: rowHeight - 10, class: "bar-track"}),
      svgElement("rect", {x: labelWidth, y: y + 5, width: Math.max(0, p * barWidth), height: rowHeight - 10,
                          fill: PALETTE[e % PALETTE.length], class: emotion === overall.label ? "bar-fill top" : "bar-fill"}),
      svgElement("text", {x: labelWidth + barWidth + 8, y: y + rowHeight / 2, class: "bar-value"}, percent(p)));
    svg.append(row);
  });
}

function drawTimeline(windows) {
  const width = 600, stripTop = 4, stripHeight = 46, axisHeight = 22;
  const duration = windows[windows.length - 1].end;
  const x = (time) => (time / duration) * width;
  const svg = elements.timeline;
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${stripTop + stripHeight + axisHeight}`);
  windows.forEach((window, w) => {
    const prediction = window.prediction;
    const e = prediction.classes.indexOf(prediction.label);
    // Windows overlap: each is drawn up to where the next one starts, the last one to its end.
    const drawnEnd = w + 1 < windows.length ? windows[w + 1].start : window.end;
    const left = x(window.start), span = x(drawnEnd) - left;
    const range = `${window.start.toFixed(1)}–${window.end.toFixed(1)} s`;
    const group = svgElement("g", {class: "timeline-window", "data-start": window.start, "data-end": window.end,
                                   "data-emotion": prediction.label, "data-probability": prediction.probabilities[e]});
    const details = prediction.classes.map((emotion, i) => `${emotion} ${percent(prediction.probabilities[i])}`).join("\n");
    group.append(
      svgElement("title", {}, `${range}: ${prediction.label}\n${details}`),
      svgElement("rect", {x: left + 1, y: stripTop, width: Math.max(1, span - 2), height: stripHeight, rx: 3,
                          fill: PALETTE[e % PALETTE.length]}));
    if (span >= 70) {
      group.append(
        svgElement("text", {x: left + span / 2, y: stripTop + 18, class: "window-label"}, prediction.label),
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

function showResult(name, {duration, windows, overall}) {
  elements["overall-label"].textContent = overall.label;
  elements["overall-probability"].textContent = `(${percent(overall.probabilities[overall.classes.indexOf(overall.label)])})`;
  const count = windows.length === 1 ? "1 window" : `${windows.length} overlapping windows of ${config.window_seconds} s`;
  elements.source.textContent = `${name}: ${seconds(duration)}, ${count}.`;
  drawChart(overall);
  elements["timeline-figure"].hidden = windows.length < 2;
  if (windows.length > 1) drawTimeline(windows);
  elements.result.hidden = false;
}

// --- Flow ------------------------------------------------------------------------------------------

async function analyse(name, bytes) {
  lastAudio = {name, bytes};
  elements.predict.disabled = false;
  clearError();
  const modelName = elements["model-name"].value.trim();
  if (!modelName) {
    showError("Enter the name of a model.");
    return;
  }
  setStatus("working", `Decoding ${name}…`);
  try {
    const samples = await decodeToMono(bytes, config.sample_rate);
    if (!samples.length) throw new Error(`${name} holds no audio.`);
    setStatus("working", `Asking model ${modelName} about ${seconds(samples.length / config.sample_rate)} of audio…`);
    showResult(name, await predictTimeline(modelName, samples));
    setStatus("done", `Model ${modelName} judged ${name}.`);
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
  for (const name of config.model_names) elements["model-names"].append(new Option(name, name));
  elements["model-name"].value = config.default_model_name;
  elements["audio-file"].disabled = false;
  elements.record.disabled = false;
}

elements["audio-file"].addEventListener("change", async () => {
  const file = elements["audio-file"].files[0];
  if (file) await analyse(file.name, await file.arrayBuffer());
});
elements.record.addEventListener("click", () => (recorder ? recorder.stop() : startRecording()));
elements.predict.addEventListener("click", () => lastAudio && analyse(lastAudio.name, lastAudio.bytes));

loadConfig().then(
  () => setStatus("idle", `Choose an audio file or record; it is cut into ${config.window_seconds} s windows.`),
  (error) => showError(error.message || String(error)));

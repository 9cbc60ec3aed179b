// humanseg playground: plain JavaScript over the seed API, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
// The output types, formats and ID photo sizes come from GET v1/types (the request schema).
let TYPES = {}; // value → { title, transparent, same_size, … }
let FORMATS = {}; // value → { title, media_type, extension }
const FILE_STEMS = { "": "matte", id_photo: "id-photo" };
// Results whose pixels tell whether a person was found (the matte, or the cut-out's alpha).
const CHECKABLE = new Set(["", "mask", "foreground"]);
const NO_PERSON_CODES = new Set(["no_person", "no_face"]);
const KEY_STORAGE = "humanseg.apiKey";

let current = null; // { body: {img | url}, name, preview }
let backgroundImage = null; // { img, name } for type background
let sequence = 0; // answers to older requests are dropped
let downloadUrl = null;

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function showNotice(message) {
  const box = $("notice");
  box.textContent = message;
  box.hidden = !message;
}

function setStatus(message) {
  $("status").textContent = message;
}

function headers() {
  const result = { "Content-Type": "application/json" };
  const key = $("api-key").value.trim();
  if (key) result.Authorization = "Bearer " + key;
  return result;
}

async function apiError(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error;
  } catch (_) {
    // not our JSON error shape
  }
  const message = `The server answered ${response.status} ${response.statusText}.`;
  return { code: "", message: message.replace(" .", ".") };
}

async function loadOptions() {
  try {
    const [models, types] = await Promise.all([
      fetch("v1/models", { headers: headers() }),
      fetch("v1/types", { headers: headers() }),
    ]);
    if (!models.ok) throw new Error((await apiError(models)).message);
    if (!types.ok) throw new Error((await apiError(types)).message);
    const catalog = await models.json();
    const unavailable = new Map(); // reason → the models it keeps out
    for (const model of catalog.models.filter((entry) => entry.served !== false)) {
      const usable = model.available !== false;
      const option = new Option(model.name, model.name, false, usable && model.name === catalog.default);
      option.title = `${model.description} (${model.license})`;
      if (model.opt_in) option.textContent += ` (${model.license}, opt-in)`;
      if (!usable) {
        // listed, so people see it exists, but not selectable: it cannot run on this server
        option.disabled = true;
        option.textContent += " (unavailable)";
        option.title = `Unavailable on this server: ${model.reason}`;
        unavailable.set(model.reason, [...(unavailable.get(model.reason) || []), model.name]);
      }
      $("model").append(option);
    }
    const note = $("model-note");
    const missing = [...unavailable].map(([reason, names]) => `${names.join(", ")}: ${reason}`);
    note.textContent = missing.length ? `Not available on this server: ${missing.join("; ")}.` : "";
    note.hidden = missing.length === 0;
    const schema = await types.json();
    TYPES = Object.fromEntries(schema.types.map((type) => [type.value, type]));
    FORMATS = Object.fromEntries(schema.formats.map((format) => [format.value, format]));
    for (const type of schema.types) $("type").append(new Option(type.title, type.value));
    for (const format of schema.formats) $("format").append(new Option(format.title, format.value));
    for (const preset of schema.id_presets) {
      const option = new Option(`${preset.title} (${preset.print_size})`, preset.value);
      option.title = `${preset.width} × ${preset.height} px at ${preset.dpi} dpi`;
      $("id-preset").append(option);
    }
    for (const color of schema.id_colors) {
      $("id-color").append(new Option(color[0].toUpperCase() + color.slice(1), color));
    }
    $("type").value = "foreground";
    syncParams();
    document.body.dataset.ready = "true";
  } catch (error) {
    showError(`Could not load the models and output types: ${error.message}`);
  }
}

function readAsBase64(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).replace(/^data:[^,]*,/, ""));
    reader.onerror = () => reject(new Error(`Could not read ${file.name}.`));
    reader.readAsDataURL(file);
  });
}

// Clips go to the video jobs API; these are the types a clip can be made into.
const VIDEO_SUFFIX = /\.(mp4|m4v|mov|webm|mkv|gif)$/i;
const VIDEO_TYPES = new Set(["foreground", "alpha", "mask", "background", "blur"]);
const VIDEO_POLL_MS = 500;
const VIDEO_EXTENSIONS = { "video/webm": "webm", "video/quicktime": "mov", "video/mp4": "mp4" };

function isVideo(file) {
  return file.type.startsWith("video/") || VIDEO_SUFFIX.test(file.name);
}

async function useFile(file) {
  if (!file) return;
  showError("");
  if (isVideo(file)) {
    await segmentVideo(file);
    return;
  }
  try {
    const img = await readAsBase64(file);
    current = { body: { img }, name: file.name, preview: URL.createObjectURL(file) };
  } catch (error) {
    showError(error.message);
    return;
  }
  await segment();
}

async function useUrl(url) {
  url = url.trim();
  if (!url) {
    showError("Paste the address of an image first.");
    return;
  }
  showError("");
  const name = url.split(/[?#]/)[0].split("/").pop() || "image";
  const preview = /^https?:\/\//i.test(url) ? url : null;
  current = { body: { url }, name, preview };
  await segment();
}

async function useBackgroundFile(file) {
  if (!file) return;
  try {
    backgroundImage = { img: await readAsBase64(file), name: file.name };
  } catch (error) {
    showError(error.message);
    return;
  }
  $("bg-file-clear").hidden = false;
  await segment();
}

// Show the fields of the chosen type; JPEG only where the result has no transparency.
function syncParams() {
  const type = $("type").value;
  for (const fieldset of document.querySelectorAll(".params")) {
    fieldset.hidden = fieldset.dataset.for !== type;
  }
  const jpeg = $("format").querySelector('option[value="jpeg"]');
  jpeg.disabled = TYPES[type].transparent;
  jpeg.title = jpeg.disabled ? "A result with transparency cannot be a JPEG." : "";
  if (jpeg.disabled && $("format").value === "jpeg") $("format").value = "png";
}

function requestBody() {
  const body = { ...current.body };
  const type = $("type").value;
  const model = $("model").value;
  const format = $("format").value;
  if (type) body.type = type;
  if (model) body.model = model;
  if (format !== "png") body.format = format;
  if (type === "background") {
    if (backgroundImage) body.bg_img = backgroundImage.img;
    else body.bg_color = $("bg-color").value;
  } else if (type === "blur") {
    body.blur_strength = Number($("blur-strength").value);
  } else if (type === "crop") {
    const margin = $("crop-margin").value.trim();
    if (margin) body.crop_margin = margin;
  } else if (type === "id_photo") {
    body.id_preset = $("id-preset").value;
    body.bg_color = $("id-color").value;
  }
  return body;
}

async function segment() {
  if (!current) return;
  const mine = ++sequence;
  const body = requestBody();
  const type = body.type || "";
  const format = body.format || "png";
  const started = performance.now();
  setStatus(`Working: ${TYPES[type].title}…`);
  showNotice("");
  document.body.dataset.state = "working";
  let response;
  try {
    response = await fetch("human_image_segmentation", {
      method: "POST",
      headers: headers(),
      body: JSON.stringify(body),
    });
  } catch (error) {
    if (mine !== sequence) return;
    finish("error", "");
    showError(`Could not reach the server (${error.message}).`);
    return;
  }
  if (mine !== sequence) return;
  if (!response.ok) {
    const failure = await apiError(response);
    if (mine !== sequence) return;
    if (NO_PERSON_CODES.has(failure.code)) {
      finish("empty", "No person found.");
      showError("");
      showNotice(failure.message);
      return;
    }
    finish("error", "");
    showError(failure.message);
    return;
  }
  const { result } = await response.json();
  if (mine !== sequence) return;
  const answer = {
    result,
    type,
    format,
    model: response.headers.get("X-Humanseg-Model") || body.model || "",
    confidence: parseConfidence(response.headers.get("X-Humanseg-Confidence")),
    millis: performance.now() - started,
  };
  await show(answer);
}

async function segmentVideo(file) {
  const mine = ++sequence;
  current = null; // a clip is not re-run when the controls change
  const type = $("type").value || "alpha";
  const kind = VIDEO_TYPES.has(type) ? type : "foreground";
  const form = new FormData();
  form.append("file", file, file.name);
  form.append("type", kind);
  if ($("model").value) form.append("model", $("model").value);
  if (kind === "background") form.append("bg_color", $("bg-color").value);
  if (kind === "blur") form.append("blur_strength", $("blur-strength").value);
  const started = performance.now();
  document.body.dataset.state = "working";
  setStatus(`Uploading ${file.name}…`);
  showNotice(
    kind === type ? "" : `A clip cannot be made into “${type}”: making a transparent video.`,
  );
  let job;
  let blob;
  try {
    const { "Content-Type": _json, ...auth } = headers(); // the browser sets multipart's
    const response = await fetch("v1/video-jobs", { method: "POST", headers: auth, body: form });
    if (!response.ok) throw new Error((await apiError(response)).message);
    job = await response.json();
    while (job.state === "queued" || job.state === "running") {
      if (mine !== sequence) return;
      const { frames_done: done, frames_total: total } = job.progress || {};
      setStatus(`Working on ${file.name}: ${done || 0}${total ? ` of ${total}` : ""} frames…`);
      await new Promise((resolve) => setTimeout(resolve, VIDEO_POLL_MS));
      const status = await fetch(`v1/video-jobs/${job.id}`, { headers: headers() });
      if (!status.ok) throw new Error((await apiError(status)).message);
      job = await status.json();
    }
    if (job.state !== "done") {
      throw new Error(job.error ? job.error.message : `The job was ${job.state}.`);
    }
    const result = await fetch(`v1/video-jobs/${job.id}/result`, { headers: headers() });
    if (!result.ok) throw new Error((await apiError(result)).message);
    blob = await result.blob();
  } catch (error) {
    if (mine !== sequence) return;
    finish("error", "");
    showError(error.message);
    return;
  }
  if (mine !== sequence) return;
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(blob);
  const video = $("video");
  video.src = downloadUrl;
  $("compare").hidden = true;
  $("side").hidden = true;
  video.hidden = false;
  const extension = VIDEO_EXTENSIONS[blob.type] || "webm";
  const link = $("download");
  link.href = downloadUrl;
  link.download = `${file.name.replace(/\.[^.]*$/, "") || "clip"}-${kind}.${extension}`;
  link.textContent = `Download ${extension.toUpperCase()}`;
  const frames = job.progress && job.progress.frames_done;
  $("meta").textContent = [
    `${kind} video`,
    frames ? `${frames} frames` : "",
    `${(blob.size / 1024).toFixed(0)} KB`,
    `${((performance.now() - started) / 1000).toFixed(1)} s`,
  ].filter(Boolean).join(" · ");
  $("result").hidden = false;
  showError("");
  finish("done", `Done: ${file.name} as a ${kind} video.`);
}

function parseConfidence(value) {
  const number = value === null ? NaN : Number(value);
  return Number.isFinite(number) && number >= 0 && number <= 1 ? number : null;
}

function finish(state, status) {
  document.body.dataset.state = state;
  if (state === "error" || state === "empty") $("result").hidden = true; // stale otherwise
  setStatus(status);
}

function loadInto(img, src) {
  return new Promise((resolve, reject) => {
    img.onload = resolve;
    img.onerror = () => reject(new Error("The result is not a displayable image."));
    img.src = src;
  });
}

// Whether any pixel of the result is person (>= half opaque, or >= 128 in a matte or mask).
function hasPerson(img, type) {
  const scale = Math.min(1, 1024 / Math.max(img.naturalWidth, img.naturalHeight));
  const canvas = document.createElement("canvas");
  canvas.width = Math.max(1, Math.round(img.naturalWidth * scale));
  canvas.height = Math.max(1, Math.round(img.naturalHeight * scale));
  const context = canvas.getContext("2d", { willReadFrequently: true });
  context.drawImage(img, 0, 0, canvas.width, canvas.height);
  const pixels = context.getImageData(0, 0, canvas.width, canvas.height).data;
  const channel = type === "foreground" ? 3 : 0;
  for (let index = channel; index < pixels.length; index += 4) {
    if (pixels[index] >= 128) return true;
  }
  return false;
}

async function show(answer) {
  const { type, format } = answer;
  const dataUrl = `data:${FORMATS[format].media_type};base64,${answer.result}`;
  const sideBySide = !TYPES[type].same_size;
  const after = sideBySide ? $("side-after") : $("after");
  const before = sideBySide ? $("side-before") : $("before");
  try {
    await Promise.all([
      loadInto(after, dataUrl),
      loadInto(before, current.preview || dataUrl).catch(() => null),
    ]);
  } catch (error) {
    finish("error", "");
    showError(error.message);
    return;
  }
  $("compare").hidden = sideBySide;
  $("side").hidden = !sideBySide;
  $("video").hidden = true;
  const blob = await (await fetch(dataUrl)).blob();
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(blob);
  const stem = current.name.replace(/\.[^.]*$/, "") || "image";
  const link = $("download");
  link.href = downloadUrl;
  link.download = `${stem}-${FILE_STEMS[type] || type}.${FORMATS[format].extension}`;
  link.textContent = `Download ${FORMATS[format].extension.toUpperCase()}`;
  const parts = [
    TYPES[type].title,
    `${after.naturalWidth} × ${after.naturalHeight} px`,
    `${(blob.size / 1024).toFixed(0)} KB`,
    answer.model || "default model",
  ];
  if (answer.confidence !== null) {
    parts.push(`confidence ${Math.round(answer.confidence * 100)} %`);
  }
  parts.push(`${(answer.millis / 1000).toFixed(2)} s`);
  $("meta").textContent = parts.join(" · ");
  $("result").hidden = false;
  showError("");
  if (CHECKABLE.has(type) && !hasPerson(after, type)) {
    showNotice(
      "No person found in this photo: the result is empty. " +
        "Try a photo with a person in it, or another model.",
    );
    document.body.dataset.state = "empty";
    setStatus("No person found.");
    return;
  }
  const hint = sideBySide ? "" : " Drag across the image to compare it with the original.";
  finish("done", `Done: ${TYPES[type].title}.${hint}`);
}

function setup() {
  const drop = $("drop");
  $("file").addEventListener("change", (event) => useFile(event.target.files[0]));
  $("url-form").addEventListener("submit", (event) => {
    event.preventDefault();
    useUrl($("url").value);
  });
  for (const name of ["dragenter", "dragover"]) {
    drop.addEventListener(name, (event) => {
      event.preventDefault();
      drop.classList.add("over");
    });
  }
  for (const name of ["dragleave", "drop"]) {
    drop.addEventListener(name, () => drop.classList.remove("over"));
  }
  drop.addEventListener("keydown", (event) => {
    if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      $("file").click();
    }
  });
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    const file = event.dataTransfer && event.dataTransfer.files[0];
    if (file) useFile(file);
    else showError("Drop an image file (JPEG, PNG or BMP).");
  });
  document.addEventListener("paste", (event) => {
    if (event.target instanceof HTMLInputElement) return;
    const file = [...(event.clipboardData ? event.clipboardData.files : [])][0];
    if (file) useFile(file);
  });
  $("slider").addEventListener("input", (event) => {
    $("compare").style.setProperty("--pos", event.target.value + "%");
  });
  $("options").addEventListener("submit", (event) => event.preventDefault());
  $("type").addEventListener("change", () => {
    syncParams();
    segment();
  });
  for (const id of ["model", "format", "bg-color", "id-preset", "id-color", "crop-margin"]) {
    $(id).addEventListener("change", segment);
  }
  $("blur-strength").addEventListener("input", (event) => {
    $("blur-value").value = Number(event.target.value).toFixed(2);
  });
  $("blur-strength").addEventListener("change", segment);
  $("bg-color").addEventListener("input", () => {
    backgroundImage = null; // a colour picked replaces the image
    $("bg-file").value = "";
    $("bg-file-clear").hidden = true;
  });
  $("bg-file").addEventListener("change", (event) => useBackgroundFile(event.target.files[0]));
  $("bg-file-clear").addEventListener("click", () => {
    backgroundImage = null;
    $("bg-file").value = "";
    $("bg-file-clear").hidden = true;
    segment();
  });
  const key = $("api-key");
  key.value = sessionStorage.getItem(KEY_STORAGE) || "";
  key.addEventListener("change", () => {
    sessionStorage.setItem(KEY_STORAGE, key.value.trim());
    if (document.body.dataset.ready !== "true") {
      // the lists may have been refused for want of a key: try again with it
      showError("");
      for (const id of ["type", "model", "format", "id-preset", "id-color"]) {
        $(id).replaceChildren();
      }
      loadOptions();
    }
  });
  loadOptions();
}

setup();

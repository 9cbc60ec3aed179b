// humanseg playground: plain JavaScript over the seed API, no build step.
"use strict";

const $ = (id) => document.getElementById(id);
const TYPE_LABELS = { "": "Alpha matte", foreground: "Transparent cut-out" };
const KEY_STORAGE = "humanseg.apiKey";

let current = null; // { body: {img | url}, name, preview }
let sequence = 0; // answers to older requests are dropped
let downloadUrl = null;

function showError(message) {
  const box = $("error");
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

async function errorSentence(response) {
  try {
    const body = await response.json();
    if (body && body.error && body.error.message) return body.error.message;
  } catch (_) {
    // not our JSON error shape
  }
  return `The server answered ${response.status} ${response.statusText}.`.replace(" .", ".");
}

async function loadOptions() {
  try {
    const [models, types] = await Promise.all([
      fetch("v1/models", { headers: headers() }),
      fetch("v1/types", { headers: headers() }),
    ]);
    if (!models.ok) throw new Error(await errorSentence(models));
    if (!types.ok) throw new Error(await errorSentence(types));
    const catalog = await models.json();
    for (const model of catalog.models.filter((entry) => entry.served !== false)) {
      const option = new Option(model.name, model.name, false, model.name === catalog.default);
      option.title = `${model.description} (${model.license})`;
      if (model.opt_in) option.textContent += ` (${model.license}, opt-in)`;
      $("model").append(option);
    }
    for (const type of (await types.json()).types) {
      $("type").append(new Option(TYPE_LABELS[type.value] || type.name, type.value));
    }
    $("type").value = "foreground";
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

async function useFile(file) {
  if (!file) return;
  showError("");
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

async function segment() {
  if (!current) return;
  const mine = ++sequence;
  const body = { ...current.body };
  const type = $("type").value;
  const model = $("model").value;
  if (type) body.type = type;
  if (model) body.model = model;
  const started = performance.now();
  setStatus("Cutting out…");
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
    const message = await errorSentence(response);
    if (mine !== sequence) return;
    finish("error", "");
    showError(message);
    return;
  }
  const { result } = await response.json();
  if (mine !== sequence) return;
  await show(result, type, model, performance.now() - started);
}

function finish(state, status) {
  document.body.dataset.state = state;
  if (state === "error") $("result").hidden = true; // an older result would mislead
  setStatus(status);
}

async function show(result, type, model, millis) {
  const dataUrl = "data:image/png;base64," + result;
  const after = $("after");
  const loaded = new Promise((resolve, reject) => {
    after.onload = resolve;
    after.onerror = () => reject(new Error("The result is not a displayable image."));
  });
  after.src = dataUrl;
  $("before").src = current.preview || dataUrl;
  try {
    await loaded;
  } catch (error) {
    finish("error", "");
    showError(error.message);
    return;
  }
  const blob = await (await fetch(dataUrl)).blob();
  if (downloadUrl) URL.revokeObjectURL(downloadUrl);
  downloadUrl = URL.createObjectURL(blob);
  const stem = current.name.replace(/\.[^.]*$/, "") || "image";
  const link = $("download");
  link.href = downloadUrl;
  link.download = `${stem}-${type || "matte"}.png`;
  $("meta").textContent =
    `${after.naturalWidth} × ${after.naturalHeight} px · ${(blob.size / 1024).toFixed(0)} KB` +
    ` · ${model || "default model"} · ${(millis / 1000).toFixed(2)} s`;
  $("result").hidden = false;
  showError("");
  finish("done", "Done. Drag across the image to compare before and after.");
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
  for (const id of ["type", "model"]) $(id).addEventListener("change", segment);
  const key = $("api-key");
  key.value = sessionStorage.getItem(KEY_STORAGE) || "";
  key.addEventListener("change", () => {
    sessionStorage.setItem(KEY_STORAGE, key.value.trim());
    if (document.body.dataset.ready !== "true") {
      // the lists may have been refused for want of a key: try again with it
      showError("");
      $("type").replaceChildren();
      $("model").replaceChildren();
      loadOptions();
    }
  });
  loadOptions();
}

setup();

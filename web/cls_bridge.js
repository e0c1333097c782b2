// The JavaScript half of the bridge (the C++ half is wasm/bridge.cpp). It owns the file edge:
// File objects and folders, gzip (the browser's DecompressionStream, bounded by the size the
// NIfTI header declares), SHA-256 of the bytes as stored, downloads through Blob URLs, and the
// demo sets; model files are also kept for ONNX Runtime (web/model_runner.js). Settings and kept
// calibrations persist in IndexedDB (web/storage.js); a service worker (web/sw.js) makes the app
// work offline after the first visit. Bytes reach C++ through the heap and never leave the
// machine. nnU-Net's .npz files give C++ their probabilities.npy member (web/npz.js); the
// segmentations beside them are set aside by the core's rule. `window.cls` is the small API the
// tests (and curious users in the console) drive the app through; what only tests need is in
// web/test_api.js, which the tests load and the page never does.
import { ModelRunner } from './model_runner.js';
import * as storage from './storage.js';
import * as dicom from './dicom.js';
import { readNpzMember } from './npz.js';

const status = document.getElementById('status');
const canvas = document.getElementById('canvas');
const fileInput = document.getElementById('file-input');

const GZIP_MAGIC = [0x1f, 0x8b];
const HEADER_BYTES = 544; // a NIfTI-2 header and its extension flag cover every header
const MAX_FILE_BYTES = 2 ** 31; // what one wasm32 allocation can reasonably hold

let module;
let runner;
let filesInFlight = 0; // read or decompressed in JS, not yet queued in C++

function isGzip(bytes) {
  return bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1];
}

function withHeapCopy(bytes, use) {
  const pointer = module._malloc(Math.max(bytes.length, 1));
  try {
    module.HEAPU8.set(bytes, pointer);
    return use(pointer);
  } finally {
    module._free(pointer);
  }
}

function withString(text, use) {
  const size = module.lengthBytesUTF8(text) + 1;
  const pointer = module._malloc(size);
  try {
    module.stringToUTF8(text, pointer, size);
    return use(pointer);
  } finally {
    module._free(pointer);
  }
}

function declaredNiftiBytes(header) {
  return withHeapCopy(header, (pointer) => module._cls_declared_nifti_bytes(pointer, header.length));
}

function concat(chunks, total) {
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

async function collect(stream) {
  const chunks = [];
  let total = 0;
  for (const reader = stream.getReader(); ;) {
    const { value, done } = await reader.read();
    if (done) return concat(chunks, total);
    chunks.push(value);
    total += value.length;
  }
}

// Inflates a .nii.gz stream no further than its header allows, so a small stream cannot
// exhaust memory.
async function inflateNifti(compressed) {
  const reader = compressed.pipeThrough(new DecompressionStream('gzip')).getReader();
  const chunks = [];
  let total = 0;
  let limit = MAX_FILE_BYTES;
  let headerChecked = false;
  for (;;) {
    let next;
    try {
      next = await reader.read();
    } catch (error) {
      throw new Error(`gzip stream is corrupt: ${error.message}`);
    }
    if (next.done) break;
    chunks.push(next.value);
    total += next.value.length;
    if (!headerChecked && total >= HEADER_BYTES) {
      headerChecked = true;
      const declared = declaredNiftiBytes(concat(chunks, total).subarray(0, HEADER_BYTES));
      if (declared > 0) limit = Math.min(limit, declared + (1 << 20));
    }
    if (total > limit) {
      await reader.cancel();
      throw new Error(`gzip stream inflates past ${limit} bytes, more than its header declares; refusing it`);
    }
  }
  return concat(chunks, total);
}

async function sha256Hex(bytes) {
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

// A stream's bytes as stored (to hash) and as a .nii (inflated when it is gzip), read once:
// inflating runs while the bytes still arrive.
async function readNifti(stream) {
  const reader = stream.getReader();
  const first = await reader.read();
  const head = first.done ? new Uint8Array(0) : first.value;
  const whole = new ReadableStream({
    start(controller) {
      if (head.length > 0) controller.enqueue(head);
      if (first.done) controller.close();
    },
    async pull(controller) {
      const { value, done } = await reader.read();
      if (done) controller.close();
      else controller.enqueue(value);
    },
  });
  if (!isGzip(head)) {
    const bytes = await collect(whole);
    return { bytes, data: bytes };
  }
  const [toHash, toInflate] = whole.tee();
  const [bytes, data] = await Promise.all([collect(toHash), inflateNifti(toInflate)]);
  return { bytes, data };
}

// A .npz as stored (to hash) and its probabilities.npy member (for C++, which reads it on the
// grid of the case's image or label).
async function readNpz(stream) {
  const bytes = await collect(stream);
  return { bytes, data: await readNpzMember(bytes, 'probabilities.npy', MAX_FILE_BYTES) };
}

// Loads one file from a stream of its bytes; the path's folders help tell images, labels and
// probability maps apart.
async function loadOne(path, stream) {
  filesInFlight += 1;
  try {
    const { bytes, data } = await (path.toLowerCase().endsWith('.npz') ? readNpz(stream) : readNifti(stream));
    const sha = await sha256Hex(bytes);
    if (path.endsWith('.onnx')) runner.keep(path, data);
    // Straight into the buffer C++ will own: the bytes sit in the heap once. (Ask for the
    // buffer first: growing the heap replaces module.HEAPU8.)
    const pointer = module._cls_file_buffer(data.length);
    if (!pointer) throw new Error(lastError());
    module.HEAPU8.set(data, pointer);
    withString(path, (pathPointer) =>
      withString(sha, (shaPointer) => module._cls_enqueue_file(pathPointer, shaPointer)));
  } catch (error) {
    withString(`${path}: ${error.message}`, (pointer) => module._cls_reject_file(pointer));
  } finally {
    filesInFlight -= 1;
  }
}

async function loadEach(items, read) {
  module._cls_expect_files(items.length);
  const cancels = module._cls_loading_cancels();
  for (const item of items) {
    if (module._cls_loading_cancels() !== cancels) return;
    let file;
    try {
      file = await read(item);
    } catch (error) {
      withString(error.message, (pointer) => module._cls_reject_file(pointer));
      continue;
    }
    await loadOne(file.path, file.stream);
  }
}

async function loadFiles(files) {
  // DICOM slices become one .nii per chosen series (web/dicom.js), loaded as any .nii.
  const { others, converting } = await dicom.splitDicom(files, {
    load: (series) => loadEach(series, async (s) => ({ path: s.path, stream: new Blob([s.bytes]).stream() })),
    reject: (message) => withString(message, (pointer) => module._cls_reject_file(pointer)),
    status: (text) => { status.textContent = text; },
  });
  const pathOf = (file) => file.webkitRelativePath || file.relativePath || file.name;
  const setAside = new Set(setAsideSegmentations(others.map(pathOf)));
  await loadEach(others.filter((file) => !setAside.has(pathOf(file))), async (file) => ({
    path: pathOf(file),
    stream: file.stream(),
  }));
  await converting;
}

// nnU-Net's segmentations beside their .npz probabilities, and the records of its run: not read
// (the core's rule; the app notes each). The listing also tells C++ which plans.json to wait for.
function setAsideSegmentations(paths) {
  if (!paths.some((path) => path.toLowerCase().endsWith('.npz'))) return [];
  const answer = withString(paths.join('\n'), (pointer) =>
    module.UTF8ToString(module._cls_set_aside_segmentations(pointer)));
  return answer.split('\n').filter(Boolean);
}

// Dropped folders arrive as entries; walk them, keeping the relative path.
async function filesFromEntry(entry, prefix, out) {
  if (entry.isFile) {
    const file = await new Promise((resolve, reject) => entry.file(resolve, reject));
    file.relativePath = prefix + entry.name;
    out.push(file);
  } else if (entry.isDirectory) {
    const reader = entry.createReader();
    for (;;) {
      const batch = await new Promise((resolve, reject) => reader.readEntries(resolve, reject));
      if (batch.length === 0) break;
      for (const child of batch) await filesFromEntry(child, `${prefix}${entry.name}/`, out);
    }
  }
}

// Loads a file from this page's own origin (benchmarks, tests).
async function loadUrl(path) {
  await loadEach([path], fetchBytes);
}

async function fetchBytes(path) {
  const response = await fetch(path);
  if (!response.ok) throw new Error(`${path}: ${response.status} ${response.statusText}`);
  return { path, stream: response.body };
}

// 'scans': real anatomy when the build had open_ms (scripts/build_ms_demo.sh: calibration
// case scores, and real patients for the bundled model to segment, set aside as new cases),
// else 'synthetic scans': images and labels for the model to segment, then calibrate on;
// 'probabilities': the teaching set's ready-made probability maps.
async function loadDemo(kind = 'scans') {
  let manifest = null;
  if (kind === 'scans') {
    const real = await fetch('demo_ms/manifest.json');
    if (real.ok) manifest = await real.json();
  }
  if (!manifest) {
    const folder = kind === 'probabilities' ? 'demo_probs' : 'demo';
    manifest = await (await fetch(`${folder}/manifest.json`)).json();
  }
  // The real patients' data must be cited wherever it is shown (CC-BY).
  if (manifest.data) status.textContent = `Demo data: ${manifest.data}`;
  for (const name of manifest.new_cases ?? []) {
    withString(name, (pointer) => module._cls_set_aside_case(pointer, 1));
  }
  if (manifest.settings) {
    const { epsilon, alpha } = manifest.settings;
    withString('cls', (method) => withString('satisfied', (policy) =>
      module._cls_set_calibration(method, epsilon, alpha, policy)));
  }
  await loadEach(manifest.files, fetchBytes);
}

async function download(name, bytes, gzip) {
  let blob = new Blob([bytes]);
  if (gzip) blob = await new Response(blob.stream().pipeThrough(new CompressionStream('gzip'))).blob();
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  link.click();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

// The whole state as JSON: for tests and the console, never polled (see busy()).
// window.cls calls that only read.
const READS = new Set(['state', 'busy', 'idle', 'lastError', 'wasmThreads', 'probabilityMap']);

function state() {
  return JSON.parse(module.UTF8ToString(module._cls_state_json()));
}

function lastError() {
  return module.UTF8ToString(module._cls_last_error());
}

// For web/test_api.js, which the tests load: the module and what drives it.
export const internals = {
  get module() { return module; },
  get runner() { return runner; },
  withString,
  withHeapCopy,
  lastError,
  state,
};

async function start() {
  // Read before the module starts, so it is restored before the first frame, whose own
  // settings would otherwise be stored over it.
  const kept = await storage.loadAll();
  module = await createClsStudio({
    canvas,
    clsBridge: {
      openFilePicker: () => fileInput.click(),
      loadDemo: (kind) => { loadDemo(kind); },
      download: (name, bytes, gzip) => { download(name, bytes, gzip); },
      save: (key, json) => { storage.save(key, json); },
      startModelSession: (path, input, output, webgpu, webgpuBytes) => {
        runner.start(path, input, output, webgpu, webgpuBytes);
      },
      runNetwork: (pointer, count, shape) => { runner.run(pointer, count, shape); },
    },
    print: (text) => console.log(text),
    printErr: (text) => console.warn(text),
  });
  status.textContent = '';
  for (const [key, json] of kept) {
    withString(key, (k) => withString(json, (j) => module._cls_restore(k, j)));
  }
  runner = new ModelRunner({
    started: (provider, note) => withString(provider, (p) => withString(note, (n) =>
      module._cls_model_session_started(p, n))),
    failed: (message) => withString(message, (m) => module._cls_model_session_failed(m)),
    providerChanged: (provider, reason) => withString(provider, (p) => withString(reason, (r) =>
      module._cls_model_provider_changed(p, r))),
    output: (values) => {
      const pointer = module._cls_network_output_buffer(values.length);
      module.HEAPF32.set(values, pointer >> 2);
      module._cls_network_output_ready();
    },
    runFailed: (message) => withString(message, (m) => module._cls_network_failed(m)),
    heapF32: () => module.HEAPF32,
  });

  fileInput.addEventListener('change', () => {
    loadFiles([...fileInput.files]);
    fileInput.value = '';
  });
  window.addEventListener('dragover', (event) => {
    event.preventDefault();
    document.body.classList.add('dragging');
  });
  window.addEventListener('dragleave', () => document.body.classList.remove('dragging'));
  window.addEventListener('drop', async (event) => {
    event.preventDefault();
    document.body.classList.remove('dragging');
    const files = [];
    // Every item is taken before the first await: after it the drop's data is gone and each
    // further item gives null (Chromium 156), so only the first of several folders would load.
    const dropped = [...event.dataTransfer.items].map((item) => ({
      entry: item.webkitGetAsEntry && item.webkitGetAsEntry(),
      file: item.kind === 'file' ? item.getAsFile() : null,
    }));
    for (const { entry, file } of dropped) {
      if (entry) await filesFromEntry(entry, '', files);
      else if (file) files.push(file);
    }
    await loadFiles(files);
  });

  // A call through window.cls (tests, automation) counts as input, as a click does: the page
  // draws at full rate for a second after it (wasm/main.cpp), so the state it reads next, the
  // widgets' places included, is the one on screen. Reading the state does not: a page polled
  // for its state draws as one nobody touches.
  window.cls = new Proxy({
    state,
    loadDemo,
    // Files as File objects, or {path, bytes} pairs from a test.
    loadFiles: (files) => loadFiles(files),
    loadBytes: async (path, bytes) => loadOne(path, new Blob([new Uint8Array(bytes)]).stream()),
    loadUrl,
    setCalibration: ({ method = 'cls', epsilon, alpha, emptyMasks = 'satisfied' }) => {
      const s = state().settings;
      const ok = withString(method, (m) => withString(emptyMasks, (p) =>
        module._cls_set_calibration(m, epsilon ?? s.epsilon, alpha ?? s.alpha, p)));
      if (!ok) throw new Error(lastError());
    },
    // What is lesion, as the app's picker asks it for multi-channel maps and multi-class
    // labels: {channels: '1,2,3', combine: 'sum' | 'max', labels: '1,2,4' | 'nonzero'}.
    setLesion: ({ channels = '', combine = 'sum', labels = '' }) => {
      const ok = withString(String(channels), (c) => withString(combine, (m) =>
        withString(String(labels), (l) => module._cls_set_lesion(c, m, l))));
      if (!ok) throw new Error(lastError());
    },
    skipLesionQuestion: () => module._cls_skip_lesion_question(),
    // The region of interest every map is restricted to ('none', 'nonzero': the image's non-zero
    // voxels, 'mask': the cases' region masks) and the p-value at or below which a case unlike
    // the calibration set is flagged.
    setRegion: ({ region = 'none', flagBelow }) => {
      const level = flagBelow ?? state().settings.flag_below;
      const ok = withString(region, (r) => module._cls_set_region(r, level));
      if (!ok) throw new Error(lastError());
    },
    selectCase: (name) => withString(name, (pointer) => module._cls_select_case(pointer)),
    // Removes one case, and its files still waiting to load; throws for a case not loaded.
    removeCase: (name) => {
      if (!withString(name, (pointer) => module._cls_remove_case(pointer))) throw new Error(lastError());
    },
    setCursor: (x, y, z) => module._cls_set_cursor(x, y, z),
    exportMask: () => module._cls_export_mask(),
    exportCertificate: () => module._cls_export_certificate(),
    // A case's probability map as the .nii the app exports (null if it has none).
    probabilityMap: (name) => withString(name, (pointer) => {
      const data = module._cls_probability_nifti(pointer);
      return data ? module.HEAPU8.slice(data, data + module._cls_probability_nifti_size()) : null;
    }),
    // 'auto' tries WebGPU first, 'wasm' never does; applies to the next model session.
    setExecution: (preference) => module._cls_set_execution(preference === 'auto' ? 1 : 0),
    cancelInference: () => module._cls_cancel_inference(),
    keepCalibration: () => module._cls_keep_calibration(),
    useKept: (index) => {
      if (!module._cls_use_kept(index)) throw new Error(lastError());
    },
    // True while files are being read, decompressed or loaded.
    busy: () => filesInFlight > 0 || dicom.busy() || module._cls_loading_busy() !== 0,
    // Resolves once everything handed to the page so far is loaded.
    idle: async () => {
      while (window.cls.busy()) await new Promise((r) => setTimeout(r, 20));
    },
  }, {
    get(api, key) {
      const value = api[key];
      if (typeof value !== 'function' || READS.has(key)) return value;
      return (...args) => {
        module.lastInputMs = performance.now();
        return value.apply(api, args);
      };
    },
  });
  window.dispatchEvent(new Event('cls-ready'));
  // After the first visit, the app (runtime, model and demos included) works offline.
  navigator.serviceWorker?.register('sw.js').catch((error) =>
    console.warn(`CLS Studio will not work offline: ${error.message}`));
}

start().catch((error) => {
  status.textContent = `CLS Studio could not start: ${error.message}`;
  console.error(error);
});

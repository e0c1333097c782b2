// The JavaScript half of the bridge (the C++ half is wasm/bridge.cpp). It owns the file edge:
// File objects and folders, gzip (the browser's DecompressionStream, bounded by the size the
// NIfTI header declares), SHA-256 of the bytes as stored, downloads through Blob URLs, and the
// demo sets; model files are also kept for ONNX Runtime (web/model_runner.js). Settings and kept
// calibrations persist in IndexedDB (web/storage.js); a service worker (web/sw.js) makes the app
// work offline after the first visit. Bytes reach C++ through the heap and never leave the
// machine. `window.cls` is the small API the tests (and
// curious users in the console) drive the app through.
import { ModelRunner, loadOrt, createSession, wasmThreads } from './model_runner.js';
import * as storage from './storage.js';
import * as dicom from './dicom.js';

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

// Loads one file from a stream of its bytes; the path's folders help tell images, labels and
// probability maps apart.
async function loadOne(path, stream) {
  filesInFlight += 1;
  try {
    const { bytes, data } = await readNifti(stream);
    const sha = await sha256Hex(bytes);
    if (path.endsWith('.onnx')) runner.keep(path, data);
    // Straight into the buffer C++ will own: the bytes sit in the heap once. (Ask for the
    // buffer first: growing the heap replaces module.HEAPU8.)
    const pointer = module._cls_file_buffer(data.length);
    if (!pointer) throw new Error(module.UTF8ToString(module._cls_last_error()));
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
  const cancels = state().loading.cancels;
  for (const item of items) {
    if (state().loading.cancels !== cancels) return;
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
  await loadEach(others, async (file) => ({
    path: file.webkitRelativePath || file.relativePath || file.name,
    stream: file.stream(),
  }));
  await converting;
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

// 'scans': images and labels for the bundled model to segment, then calibrate on;
// 'probabilities': the teaching set's ready-made probability maps.
async function loadDemo(kind = 'scans') {
  const folder = kind === 'scans' ? 'demo' : 'demo_probs';
  const manifest = await (await fetch(`${folder}/manifest.json`)).json();
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

function state() {
  return JSON.parse(module.UTF8ToString(module._cls_state_json()));
}

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

  window.cls = {
    state,
    loadDemo,
    // Files as File objects, or {path, bytes} pairs from a test.
    loadFiles: (files) => loadFiles(files),
    loadBytes: async (path, bytes) => loadOne(path, new Blob([new Uint8Array(bytes)]).stream()),
    loadUrl,
    // The wasm heap's size, which never shrinks: its peak so far.
    heapBytes: () => module.HEAPU8.length,
    setCalibration: ({ method = 'cls', epsilon, alpha, emptyMasks = 'satisfied' }) => {
      const s = state().settings;
      const ok = withString(method, (m) => withString(emptyMasks, (p) =>
        module._cls_set_calibration(m, epsilon ?? s.epsilon, alpha ?? s.alpha, p)));
      if (!ok) throw new Error(module.UTF8ToString(module._cls_last_error()));
    },
    // What is lesion, as the app's picker asks it for multi-channel maps and multi-class
    // labels: {channels: '1,2,3', combine: 'sum' | 'max', labels: '1,2,4' | 'nonzero'}.
    setLesion: ({ channels = '', combine = 'sum', labels = '' }) => {
      const ok = withString(String(channels), (c) => withString(combine, (m) =>
        withString(String(labels), (l) => module._cls_set_lesion(c, m, l))));
      if (!ok) throw new Error(module.UTF8ToString(module._cls_last_error()));
    },
    skipLesionQuestion: () => module._cls_skip_lesion_question(),
    selectCase: (name) => withString(name, (pointer) => module._cls_select_case(pointer)),
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
    // Network runs so far and the time spent in session.run (the rest is the app's overhead).
    inferenceStats: () => ({ ...runner.stats }),
    resetInferenceStats: () => { runner.stats = { runs: 0, runMs: 0, first: null, last: null }; },
    keepCalibration: () => module._cls_keep_calibration(),
    // Resolves once what the app asked to keep is in IndexedDB (a frame passes first, since
    // settings are handed over by the frame loop).
    storageSettled: async () => {
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      await storage.settled();
    },
    useKept: (index) => module._cls_use_kept(index),
    // Resolves once the service worker has cached the app for offline use.
    offlineReady: async () => {
      const registration = await navigator.serviceWorker?.ready;
      return Boolean(registration?.active);
    },
    wasmThreads,
    // One patch through a fresh session on each provider, for the WebGPU correctness test:
    // {provider: Float32Array | error message}. `model` is a URL or the model's bytes. With
    // `rewrite`, WebGPU runs the model as C++ rewrites it for WebGPU
    // (cls/inference/onnx_rewrite.hpp), wasm the file as it is.
    compareProviders: async (model, inputName, outputName, shape, providers, { rewrite = false } = {}) => {
      const ort = await loadOrt({ proxy: false }); // WebGPU cannot run in the proxy worker
      const original = typeof model === 'string'
        ? new Uint8Array(await (await fetch(model)).arrayBuffer()) : new Uint8Array(model);
      let rewritten = null;
      if (rewrite) {
        if (!withHeapCopy(original, (pointer) => module._cls_rewrite_for_webgpu(pointer, original.length))) {
          throw new Error(module.UTF8ToString(module._cls_last_error()));
        }
        const pointer = module._cls_rewritten_model();
        rewritten = module.HEAPU8.slice(pointer, pointer + module._cls_rewritten_model_size());
      }
      const count = shape.reduce((a, b) => a * b, 1);
      const data = new Float32Array(count);
      for (let i = 0; i < count; i += 1) data[i] = Math.sin(i * 0.37) * 1.5; // z-scored-like
      const out = {};
      for (const provider of providers) {
        try {
          const bytes = provider === 'webgpu' && rewritten?.length ? rewritten : original;
          const session = await createSession(ort, bytes, provider);
          const result = await session.run({ [inputName]: new ort.Tensor('float32', data, shape) });
          const tensor = result[outputName];
          out[provider] = Array.from(tensor.location === 'cpu' ? tensor.data : await tensor.getData());
          await session.release();
        } catch (error) {
          out[provider] = String(error.message);
        }
      }
      return out;
    },
    // A loaded case's volume as the app holds it: {path, dims, affine (4x4 rows), data}.
    volume: (name, role = 'image') => {
      const ok = withString(name, (n) => withString(role, (r) => module._cls_select_volume(n, r)));
      if (!ok) throw new Error(module.UTF8ToString(module._cls_last_error()));
      const g = new Float64Array(module.HEAPU8.buffer, module._cls_volume_geometry(), 19).slice();
      const data = new Float32Array(module.HEAPU8.buffer, module._cls_volume_data(), g[0] * g[1] * g[2]).slice();
      const affine = [0, 1, 2, 3].map((r) => [...g.subarray(3 + 4 * r, 7 + 4 * r)]);
      const path = state().cases.find((c) => c.name === name)?.files?.[role];
      return { path, dims: [...g.subarray(0, 3)], affine, data };
    },
    dicomStats: () => structuredClone(dicom.stats),
    // True while files are being read, decompressed or loaded.
    busy: () => filesInFlight > 0 || dicom.busy() || state().loading.pending > 0,
    // Resolves once everything handed to the page so far is loaded.
    idle: async () => {
      while (window.cls.busy()) await new Promise((r) => setTimeout(r, 20));
    },
  };
  window.dispatchEvent(new Event('cls-ready'));
  // After the first visit, the app (runtime, model and demos included) works offline.
  navigator.serviceWorker?.register('sw.js').catch((error) =>
    console.warn(`CLS Studio will not work offline: ${error.message}`));
}

start().catch((error) => {
  status.textContent = `CLS Studio could not start: ${error.message}`;
  console.error(error);
});

// Batch inference outside the browser, as functions that scripts/infer.mjs, the Node tests and
// the benchmark share: the sliding-window core compiled for Node (build/wasm/wasm/cls_infer.js,
// C++ half in wasm/batch_inference.cpp) plans, normalises and blends; a network runner (here
// onnxruntime-node on the CPU; a test may pass ORT Web) executes one patch at a time. Files and
// gzip belong here, at the edge: C++ only sees bytes. Every error names the file it concerns.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readFile, readdir, readlink, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

export const repo = fileURLToPath(new URL('..', import.meta.url));
export const defaultModulePath = join(repo, 'build/wasm/wasm/cls_infer.js');
const require = createRequire(import.meta.url);

const GZIP_MAGIC = [0x1f, 0x8b];

// An Error whose message starts with the file it concerns ("case_003.nii.gz: ...").
export function fileError(file, message) {
  return new Error(file ? `${file}: ${message}` : message);
}

// Roles as cls_infer_case_name takes them (cls::FileRole).
export const Role = Object.freeze({ image: 0, label: 1, probability: 2 });

export function isNiftiName(fileName) {
  return /\.nii(\.gz)?$/i.test(fileName);
}

// A file's bytes, inflated when gzip; a .nii.gz is recognised by its bytes, not its name.
export async function readNiftiBytes(path) {
  let bytes;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw fileError(path, `cannot read it (${error.code ?? error.message})`);
  }
  if (bytes.length >= 2 && bytes[0] === GZIP_MAGIC[0] && bytes[1] === GZIP_MAGIC[1]) {
    try {
      bytes = gunzipSync(bytes);
    } catch (error) {
      throw fileError(path, `not valid gzip (${error.message})`);
    }
  }
  return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length);
}

// The wasm module, wrapped so that strings and bytes pass through the heap and are freed in
// `finally`, and C++ failures (0 or a null pointer plus a last-error message) become Errors.
export class ClsInfer {
  static async load(modulePath = defaultModulePath) {
    if (!existsSync(modulePath)) {
      throw fileError(modulePath, 'missing: build it with scripts/build.sh wasm-release cls_infer');
    }
    const module = require(modulePath)();
    await module.ready;
    return new ClsInfer(module);
  }

  constructor(module) {
    this.module = module;
  }

  lastError() {
    return this.module.UTF8ToString(this.module._cls_infer_last_error());
  }

  withBytes(bytes, use) {
    const m = this.module;
    const pointer = m._malloc(Math.max(bytes.length, 1));
    try {
      m.HEAPU8.set(bytes, pointer);
      return use(pointer);
    } finally {
      m._free(pointer);
    }
  }

  withString(text, use) {
    const m = this.module;
    const size = m.lengthBytesUTF8(text) + 1;
    const pointer = m._malloc(size);
    try {
      m.stringToUTF8(text, pointer, size);
      return use(pointer);
    } finally {
      m._free(pointer);
    }
  }

  // The case a file belongs to, by the core's pairing rule, the CLI's and the app's: so
  // "imagesTs/case_003_0000.nii.gz" writes "case_003.nii.gz" and "sub-01_ses-01_FLAIR.nii.gz"
  // writes "sub-01_ses-01.nii.gz", which `cls calibrate` pairs with their labels.
  caseName(path, role = Role.image) {
    return this.withString(path, (text) => this.module.UTF8ToString(this.module._cls_infer_case_name(text, role)));
  }

  // Throws unless the .onnx bytes match the manifest's SHA-256 and fit its tensors.
  checkModel(onnxBytes, manifestText) {
    const ok = this.withString(manifestText, (text) =>
      this.withBytes(onnxBytes, (bytes) => this.module._cls_infer_check_model(bytes, onnxBytes.length, text)));
    if (!ok) throw new Error(this.lastError());
  }

  // The model rewritten for ONNX Runtime Web's WebGPU provider by the core
  // (cls/inference/onnx_rewrite.hpp): {bytes (null when nothing was rewritten), rewritten,
  // kept} with one line per node.
  rewriteForWebGpu(onnxBytes) {
    const m = this.module;
    if (!this.withBytes(onnxBytes, (bytes) => m._cls_infer_rewrite_for_webgpu(bytes, onnxBytes.length))) {
      throw new Error(this.lastError());
    }
    const size = m._cls_infer_rewritten_size();
    const pointer = m._cls_infer_rewritten_bytes();
    const lines = m.UTF8ToString(m._cls_infer_rewrite_notes()).split('\n').filter(Boolean);
    const taken = (prefix) => lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));
    return {
      bytes: size > 0 ? m.HEAPU8.slice(pointer, pointer + size) : null,
      rewritten: taken('rewritten: '),
      kept: taken('kept: '),
    };
  }

  // What the app's memory check says of one run on `shape` ([1, C, D, H, W]): {weight_bytes,
  // peak_activation_bytes, runtime_heap_bytes, budget, guessed, fits}.
  runMemory(onnxBytes, shape) {
    const m = this.module;
    const pointer = this.withBytes(onnxBytes, (bytes) =>
      m._cls_infer_run_memory(bytes, onnxBytes.length, shape[1], shape[2], shape[3], shape[4]));
    if (!pointer) throw new Error(this.lastError());
    return JSON.parse(m.UTF8ToString(pointer));
  }

  // Opens a sliding-window job on the bytes of an uncompressed .nii.
  // A job on one image, or on several (`niftiBytes` a list: one .nii per input channel, in the
  // manifest's order).
  open(niftiBytes, manifestText, { overlap = 0.5, mirror = false } = {}) {
    const channels = Array.isArray(niftiBytes) ? niftiBytes : [niftiBytes];
    const m = this.module;
    const pointers = channels.map((bytes) => {
      const pointer = m._malloc(Math.max(bytes.length, 1));
      m.HEAPU8.set(bytes, pointer);
      return pointer;
    });
    const table = m._malloc(8 * channels.length);
    try {
      channels.forEach((bytes, c) => {
        m.HEAPU32[(table >> 2) + c] = pointers[c];
        m.HEAP32[(table >> 2) + channels.length + c] = bytes.length;
      });
      const handle = this.withString(manifestText, (text) => m._cls_infer_open_channels(
        table, table + 4 * channels.length, channels.length, text, overlap, mirror ? 1 : 0));
      if (!handle) throw new Error(this.lastError());
      return new InferenceJob(this, handle);
    } finally {
      m._free(table);
      for (const pointer of pointers) m._free(pointer);
    }
  }

  // Image paths grouped into cases for a model of several input channels, by the core's rule:
  // [{ name, files: [one path per channel] }]. Throws with the core's message otherwise.
  groupChannels(paths, manifestText) {
    const json = this.withString(JSON.stringify(paths), (list) => this.withString(manifestText,
      (manifest) => this.module._cls_infer_group_channels(list, manifest)));
    if (!json) throw new Error(this.lastError());
    return JSON.parse(this.module.UTF8ToString(json));
  }
}

export class InferenceJob {
  constructor(infer, handle) {
    this.infer = infer;
    this.module = infer.module;
    this.handle = handle;
    this.inputShape = [0, 1, 2, 3, 4].map((axis) => this.module._cls_infer_input_dim(handle, axis));
    this.outputLength = this.module._cls_infer_output_length(handle);
    this.runCount = this.module._cls_infer_run_count(handle);
    this.skippedPatches = this.module._cls_infer_skipped_patches(handle);
  }

  get runsDone() {
    return this.module._cls_infer_runs_done(this.handle);
  }

  get finished() {
    return this.module._cls_infer_finished(this.handle) === 1;
  }

  // The next patch as a tensor's data, copied out of the heap (the network runs while the
  // heap may grow, which would detach a view).
  nextInput() {
    const pointer = this.module._cls_infer_input(this.handle);
    if (!pointer) throw new Error(this.infer.lastError());
    const length = this.inputShape.reduce((a, b) => a * b, 1);
    return this.module.HEAPF32.slice(pointer >> 2, (pointer >> 2) + length);
  }

  accept(output) {
    const m = this.module;
    const pointer = m._malloc(Math.max(output.length, 1) * 4);
    try {
      m.HEAPF32.set(output, pointer >> 2);
      if (!m._cls_infer_accept(this.handle, pointer, output.length)) throw new Error(this.infer.lastError());
    } finally {
      m._free(pointer);
    }
  }

  // The probability map as the bytes of a float32 .nii (a copy: the job may close).
  result() {
    const pointer = this.module._cls_infer_result(this.handle);
    if (!pointer) throw new Error(this.infer.lastError());
    const size = this.module._cls_infer_result_size(this.handle);
    return this.module.HEAPU8.slice(pointer, pointer + size);
  }

  close() {
    this.module._cls_infer_close(this.handle);
  }
}

// Loads a manifest and its model: the .onnx named by the manifest's model_file, beside it.
// Checks the SHA-256 and the tensors through cls_infer before any session is made.
export async function loadModel(infer, manifestPath) {
  let manifestText;
  try {
    manifestText = await readFile(manifestPath, 'utf8');
  } catch (error) {
    throw fileError(manifestPath, `cannot read it (${error.code ?? error.message})`);
  }
  let manifest;
  try {
    manifest = JSON.parse(manifestText);
  } catch {
    throw fileError(manifestPath, 'not valid JSON');
  }
  if (typeof manifest.model_file !== 'string' || manifest.model_file === '') {
    throw fileError(manifestPath, "manifest field 'model_file' is missing");
  }
  const onnxPath = resolve(dirname(manifestPath), manifest.model_file);
  let onnxBytes;
  try {
    onnxBytes = await readFile(onnxPath);
  } catch (error) {
    throw fileError(onnxPath, `cannot read the model the manifest names (${error.code ?? error.message})`);
  }
  try {
    infer.checkModel(onnxBytes, manifestText);
  } catch (error) {
    throw fileError(onnxPath, error.message);
  }
  return { manifest, manifestText, manifestPath, onnxPath, onnxBytes };
}

// A network runner on onnxruntime-node's CPU provider: (input data, shape) → output data,
// with the time spent in session.run added to `runner.sessionMs`.
export async function createNodeRunner(model, { threads = 1 } = {}) {
  const ort = require('onnxruntime-node');
  let session;
  try {
    session = await ort.InferenceSession.create(model.onnxBytes, {
      executionProviders: ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
    });
  } catch (error) {
    throw fileError(model.onnxPath, `onnxruntime-node cannot load it (${error.message})`);
  }
  return createRunner(ort, session, model);
}

// The same for any ORT-like module and session (onnxruntime-node or onnxruntime-web).
export function createRunner(ort, session, model) {
  const inputName = model.manifest.input.name;
  const outputName = model.manifest.output.name;
  const runner = async (data, shape) => {
    const start = performance.now();
    const outputs = await session.run({ [inputName]: new ort.Tensor('float32', data, shape) });
    runner.sessionMs += performance.now() - start;
    runner.runs += 1;
    return outputs[outputName].data;
  };
  runner.sessionMs = 0;
  runner.runs = 0;
  runner.session = session;
  runner.release = () => session.release?.();
  return runner;
}

// Runs one image (or, for a model of several input channels, a list of one .nii per channel)
// through the sliding window: returns the probability map's .nii bytes, the
// network runs and the patches skipped as background, and the wall time from opening the job
// to the written map beside the network's share of it. `skipBackground` (none, minimum,
// nonzero) overrides the manifest's skip_background.
export async function inferImage(infer, model, niftiBytes, run,
  { overlap = 0.5, mirror = false, skipBackground, onProgress } = {}) {
  const networkBefore = run.sessionMs ?? 0;
  const start = performance.now(); // normalising and planning count too
  const manifestText = skipBackground === undefined ? model.manifestText
    : JSON.stringify({ ...model.manifest, skip_background: skipBackground });
  const job = infer.open(niftiBytes, manifestText, { overlap, mirror });
  try {
    while (!job.finished) {
      const output = await run(job.nextInput(), job.inputShape);
      job.accept(output);
      onProgress?.(job.runsDone, job.runCount);
    }
    const nifti = job.result();
    const totalMs = performance.now() - start;
    return {
      nifti, runs: job.runCount, skipped: job.skippedPatches, totalMs,
      sessionMs: (run.sessionMs ?? 0) - networkBefore,
    };
  } finally {
    job.close();
  }
}

// Every .nii / .nii.gz directly in `dir` (itself possibly a link), links to files included,
// sorted, with the case names (from `infer`) they write; two files of one case are refused,
// and so is a link whose target is missing, naming both.
export async function listImages(infer, dir) {
  const files = await listNiftiFiles(dir);
  const seen = new Map();
  for (const file of files) {
    const name = infer.caseName(file);
    if (seen.has(name)) throw fileError(join(dir, file), `case ${name} already comes from ${seen.get(name)}`);
    seen.set(name, file);
  }
  return files.map((file) => ({ file, path: join(dir, file), name: infer.caseName(file) }));
}

// The cases of `dir` for `model`: one image each ({ name, paths: [path] }), or for a model of
// several input channels the files grouped by the core's rule, one per channel, in its order.
export async function listCases(infer, dir, model) {
  if ((model.manifest.input?.channels ?? 1) === 1) {
    return (await listImages(infer, dir)).map(({ name, path }) => ({ name, paths: [path] }));
  }
  const files = await listNiftiFiles(dir);
  let grouped;
  try {
    grouped = infer.groupChannels(files, model.manifestText);
  } catch (error) {
    throw fileError(dir, error.message);
  }
  return grouped.map(({ name, files: channelFiles }) => ({ name, paths: channelFiles.map((f) => join(dir, f)) }));
}

// The .nii / .nii.gz file names directly in `dir`, links to files included, sorted.
async function listNiftiFiles(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (error) {
    if (error.code === 'ENOENT') await refuseDanglingLink(dir);
    throw fileError(dir, `cannot list the folder (${error.code ?? error.message})`);
  }
  const files = [];
  for (const entry of entries) {
    if (!isNiftiName(entry.name)) continue;
    const path = join(dir, entry.name);
    // Dirent.isFile() is false for a link; stat follows it.
    if (entry.isSymbolicLink()) await refuseDanglingLink(path);
    if (entry.isFile() || (entry.isSymbolicLink() && (await stat(path)).isFile())) files.push(entry.name);
  }
  files.sort();
  if (files.length === 0) throw fileError(dir, 'no .nii or .nii.gz images in the folder');
  return files;
}

// Throws, naming the link and its target, when `path` is a link to nothing (as the CLI does).
async function refuseDanglingLink(path) {
  let target;
  try {
    target = await readlink(path);
  } catch {
    return; // not a link
  }
  try {
    await stat(path);
  } catch (error) {
    if (error.code === 'ENOENT') throw fileError(path, `is a link to ${target}, which does not exist`);
  }
}

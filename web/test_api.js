// What only the tests and benchmarks need from the page, kept out of its start-up code: the
// tests load this module into the running page (tests/web/browser.mjs) and it adds these to
// window.cls. Nothing here is reachable from the UI.
import { internals } from './cls_bridge.js';
import { loadOrt, createSession, wasmThreads } from './model_runner.js';
import * as storage from './storage.js';
import * as dicom from './dicom.js';

export function install() {
  const { withString, lastError, state } = internals;
  Object.assign(window.cls, {
    // The wasm heap's size, which never shrinks: its peak so far.
    heapBytes: () => internals.module.HEAPU8.length,
    // Network runs so far and the time spent in session.run (the rest is the app's overhead).
    inferenceStats: () => ({ ...internals.runner.stats }),
    resetInferenceStats: () => { internals.runner.stats = { runs: 0, runMs: 0, first: null, last: null }; },
    // Resolves once what the app asked to keep is in IndexedDB (a frame passes first, since
    // settings are handed over by the frame loop).
    storageSettled: async () => {
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
      await storage.settled();
    },
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
      const module = internals.module;
      const ort = await loadOrt({ proxy: false }); // WebGPU cannot run in the proxy worker
      const original = typeof model === 'string'
        ? new Uint8Array(await (await fetch(model)).arrayBuffer()) : new Uint8Array(model);
      let rewritten = null;
      if (rewrite) {
        if (!internals.withHeapCopy(original, (pointer) => module._cls_rewrite_for_webgpu(pointer, original.length))) {
          throw new Error(lastError());
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
      const module = internals.module;
      const ok = withString(name, (n) => withString(role, (r) => module._cls_select_volume(n, r)));
      if (!ok) throw new Error(lastError());
      const g = new Float64Array(module.HEAPU8.buffer, module._cls_volume_geometry(), 19).slice();
      const data = new Float32Array(module.HEAPU8.buffer, module._cls_volume_data(), g[0] * g[1] * g[2]).slice();
      const affine = [0, 1, 2, 3].map((r) => [...g.subarray(3 + 4 * r, 7 + 4 * r)]);
      const path = state().cases.find((c) => c.name === name)?.files?.[role];
      return { path, dims: [...g.subarray(0, 3)], affine, data };
    },
    dicomStats: () => structuredClone(dicom.stats),
  });
}

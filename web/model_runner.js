// ONNX Runtime Web for CLS Studio: it only executes. C++ plans the patches, normalises, blends
// and decides when to run (src/session/inference_queue.cpp); this file creates sessions and
// runs one patch at a time in a worker of its own (web/inference_worker.js), answering through
// the bridge, so the frame loop never waits. ONNX Runtime and its wasm come from this page's
// own origin (ort/), never a CDN.
//
// Providers: WebGPU first where the browser has it and C++'s audit of the model's ops allows
// it, then wasm. A WebGPU session can fail at creation or only on its first run (3D ops some
// builds lack), and ONNX Runtime does not fall back by itself: any WebGPU failure moves the
// session to wasm, reruns the patch and tells the user why. A model C++ rewrote for WebGPU
// (3D ConvTranspose with kernel = stride, cls/inference/onnx_rewrite.hpp) arrives with its
// rewrite: WebGPU sessions run the rewrite, wasm sessions the file as loaded.

// The JSEP build runs WebGPU and wasm; the plain build only wasm, and faster (its code has no
// Asyncify instrumentation). The app's worker runs each provider on its own build.
const ORT_MODULE = './ort/ort.min.mjs';
const ORT_WASM_MODULE = './ort/ort.wasm.min.mjs';

let ortPromise;

// Threads need cross-origin isolation (SharedArrayBuffer): scripts/serve.mjs sends COOP/COEP.
export function wasmThreads() {
  return globalThis.crossOriginIsolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
}

// ONNX Runtime on the page's own thread: for tests and benchmarks that compare providers
// (web/test_api.js). The app runs it in its worker (InferenceWorker below). `proxy` runs wasm
// sessions in ONNX Runtime's own worker. Settled by the first call: ONNX Runtime starts once.
export function loadOrt({ proxy = true } = {}) {
  ortPromise ??= import(ORT_MODULE).then((ort) => {
    ort.env.wasm.wasmPaths = new URL('ort/', document.baseURI).href;
    ort.env.wasm.numThreads = wasmThreads();
    ort.env.wasm.proxy = proxy;
    return ort;
  });
  return ortPromise;
}

function wasmLabel() {
  const threads = wasmThreads();
  return `wasm (${threads} thread${threads > 1 ? 's' : ''})`;
}

export async function createSession(ort, bytes, provider) {
  const executionProviders = provider === 'webgpu'
    // The default NHWC layout fails on 3D pooling; NCHW runs it.
    ? [{ name: 'webgpu', preferredLayout: 'NCHW' }]
    : ['wasm'];
  // A copy: a session may take ownership of the buffer, and a fallback needs the bytes again.
  return ort.InferenceSession.create(bytes.slice(), { executionProviders, graphOptimizationLevel: 'all' });
}

// The worker that runs ONNX Runtime (web/inference_worker.js), as promises (the app's, and
// bench/inference_worker_bench.mjs's).
export class InferenceWorker {
  constructor() {
    this.worker = new Worker(new URL('./inference_worker.js', import.meta.url), { type: 'module' });
    this.pending = new Map(); // id → {resolve, reject}
    this.nextId = 1;
    this.worker.onmessage = ({ data }) => {
      const call = this.pending.get(data.id);
      this.pending.delete(data.id);
      if (data.error !== undefined) call?.reject(new Error(data.error));
      else call?.resolve(data);
    };
    // A worker that fails to load or dies answers nothing more: every call waiting on it fails
    // with the reason, so the model panel says so instead of "starting" for ever.
    this.worker.onerror = (event) => {
      event.preventDefault?.();
      const error = new Error(`the inference worker stopped (${event.message || 'it could not load'})`);
      for (const call of this.pending.values()) call.reject(error);
      this.pending.clear();
    };
    this.ready = this.call('init', {
      ortModules: {
        webgpu: new URL(ORT_MODULE, document.baseURI).href,
        wasm: new URL(ORT_WASM_MODULE, document.baseURI).href,
      },
      wasmPaths: new URL('ort/', document.baseURI).href,
      threads: wasmThreads(),
    });
  }

  call(type, message, transfer = []) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.worker.postMessage({ ...message, id, type }, transfer);
    });
  }

  async createSession(bytes, provider) {
    await this.ready;
    // A copy: the worker takes the buffer, and a fallback needs the bytes again.
    const copy = bytes.slice();
    const { handle } = await this.call('create', { bytes: copy, provider }, [copy.buffer]);
    return {
      run: (names, data, shape) => this.call('run', { handle, ...names, data, shape }, [data.buffer]),
      release: () => this.call('release', { handle }),
    };
  }
}

let inferenceWorker;

export class ModelRunner {
  // `bridge` holds the C++ entry points: started(provider, note), failed(message),
  // providerChanged(provider, reason), output(Float32Array), runFailed(message), heapF32().
  constructor(bridge) {
    this.bridge = bridge;
    this.models = new Map(); // file path → bytes, as loaded
    this.session = null;
    this.provider = '';
    this.names = null;
    this.path = '';
    this.generation = 0; // a newer session makes older answers stale
    // session.run calls, their time, and the span from the first start to the last end.
    this.stats = { runs: 0, runMs: 0, first: null, last: null };
  }

  keep(path, bytes) {
    this.models.set(path, bytes);
  }

  async start(path, inputName, outputName, webgpuAllowed, webgpuBytes = null) {
    const generation = ++this.generation;
    const bytes = this.models.get(path);
    this.path = path;
    await this.release();
    try {
      if (!bytes) throw new Error('the page no longer holds this model file');
      inferenceWorker ??= new InferenceWorker();
      const { webgpu } = await inferenceWorker.ready;
      this.names = { input: inputName, output: outputName };
      let note = '';
      if (webgpuAllowed && webgpu) {
        try {
          this.session = await inferenceWorker.createSession(webgpuBytes ?? bytes, 'webgpu');
          this.provider = 'webgpu';
        } catch (error) {
          note = `WebGPU could not run this model (${error.message}); using wasm.`;
        }
      } else if (webgpuAllowed) {
        note = 'This browser has no WebGPU; using wasm.';
      }
      if (!this.session) {
        this.session = await inferenceWorker.createSession(bytes, 'wasm');
        this.provider = 'wasm';
      }
      if (generation !== this.generation) return;
      this.bridge.started(this.provider === 'wasm' ? wasmLabel() : 'webgpu', note);
    } catch (error) {
      if (generation === this.generation) this.bridge.failed(`ONNX Runtime could not load it: ${error.message}`);
    }
  }

  async release() {
    const session = this.session;
    this.session = null;
    this.provider = '';
    if (session) await session.release().catch(() => {});
  }

  // Runs one patch: the input is copied out of the heap at once (the heap may grow and move
  // before the answer) into a buffer the worker takes, and the answer is written back into a
  // buffer C++ hands out.
  async run(pointer, count, shape) {
    const generation = this.generation;
    try {
      const start = pointer >> 2;
      const patch = this.bridge.heapF32().slice(start, start + count);
      let output;
      try {
        // A copy is kept only while a WebGPU session might fail and need the patch again.
        output = await this.runOnce(this.provider === 'webgpu' ? patch.slice() : patch, shape);
      } catch (error) {
        if (this.provider !== 'webgpu') throw error;
        // A WebGPU failure at run time: move to wasm, say why, and run the patch again.
        await this.release();
        this.session = await inferenceWorker.createSession(this.models.get(this.path), 'wasm');
        this.provider = 'wasm';
        this.bridge.providerChanged(wasmLabel(), `WebGPU failed on the first patch (${error.message}); moved to wasm.`);
        output = await this.runOnce(patch, shape);
      }
      if (generation === this.generation) this.bridge.output(output);
    } catch (error) {
      if (generation === this.generation) this.bridge.runFailed(error.message);
    }
  }

  async runOnce(data, shape) {
    const start = performance.now();
    const { data: values } = await this.session.run(this.names, data, shape);
    const end = performance.now();
    this.stats.runs += 1;
    this.stats.runMs += end - start;
    this.stats.first ??= start;
    this.stats.last = end;
    return values;
  }
}

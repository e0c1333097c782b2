// ONNX Runtime Web in a worker of CLS Studio's own, so the page's frame loop never waits on a
// patch: model_runner.js sends it model bytes and patches, it sends back the network's
// answers. Patches and answers move between the two without a copy where the buffer allows
// (transferred, not cloned). wasm runs with threads when the page is cross-origin isolated (its
// workers then start from this one); WebGPU runs here too, where the browser offers it in
// workers. ONNX Runtime and its wasm come from the page's origin (ort/).
// Two builds of ONNX Runtime, each loaded when a session first needs it: WebGPU needs the JSEP
// build, whose Asyncify instrumentation slows all its wasm code; wasm sessions run the plain
// build, 2.0-2.6 times faster on the bundled model's 48³ patch in Chromium (measured side by
// side, README "Performance").
// Messages: {id, type: 'init' | 'create' | 'run' | 'release', ...}; each gets
// {id, ...result} or {id, error}.

let settings; // from init: {ortModules: {webgpu, wasm}, wasmPaths, threads}
const runtimes = new Map(); // provider → ONNX Runtime module, configured
const sessions = new Map(); // handle → {session, ort}
let nextHandle = 1;

async function init(message) {
  settings = message;
  return { webgpu: Boolean(self.navigator.gpu), isolated: self.crossOriginIsolated };
}

async function runtimeFor(provider) {
  if (!runtimes.has(provider)) {
    runtimes.set(provider, import(settings.ortModules[provider]).then((ort) => {
      ort.env.wasm.wasmPaths = settings.wasmPaths;
      ort.env.wasm.numThreads = settings.threads;
      ort.env.wasm.proxy = false; // this worker is the proxy
      return ort;
    }));
  }
  return runtimes.get(provider);
}

async function create({ bytes, provider }) {
  const executionProviders = provider === 'webgpu'
    // The default NHWC layout fails on 3D pooling; NCHW runs it.
    ? [{ name: 'webgpu', preferredLayout: 'NCHW' }]
    : ['wasm'];
  const ort = await runtimeFor(provider === 'webgpu' ? 'webgpu' : 'wasm');
  const session = await ort.InferenceSession.create(bytes, { executionProviders, graphOptimizationLevel: 'all' });
  const handle = nextHandle++;
  sessions.set(handle, { session, ort });
  return { handle };
}

// The answer as a Float32Array whose buffer this worker may give away.
function ownBuffer(values) {
  const whole = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
  return whole && values.buffer instanceof ArrayBuffer ? values : new Float32Array(values);
}

async function run({ handle, input, output, data, shape }) {
  if (!sessions.has(handle)) throw new Error('the session was released');
  const { session, ort } = sessions.get(handle);
  const tensor = new ort.Tensor('float32', data, shape);
  const start = performance.now();
  const results = await session.run({ [input]: tensor });
  const ms = performance.now() - start;
  const answer = results[output];
  const values = ownBuffer(answer.location === 'cpu' ? answer.data : await answer.getData());
  tensor.dispose?.();
  // GPU-side answers hold GPU buffers until disposed; CPU ones are the arrays just read.
  for (const result of Object.values(results)) if (result.location !== 'cpu') result.dispose?.();
  return { result: { data: values, ms }, transfer: [values.buffer] };
}

async function release({ handle }) {
  const entry = sessions.get(handle);
  sessions.delete(handle);
  if (entry) await entry.session.release().catch(() => {});
  return {};
}

const handlers = { init, create, run, release };

self.onmessage = async ({ data: message }) => {
  const { id, type } = message;
  try {
    const outcome = await handlers[type](message);
    if (outcome.transfer) self.postMessage({ id, ...outcome.result }, outcome.transfer);
    else self.postMessage({ id, ...outcome });
  } catch (error) {
    self.postMessage({ id, error: error?.message ?? String(error) });
  }
};

// ONNX Runtime Web in a worker of CLS Studio's own, so the page's frame loop never waits on a
// patch: model_runner.js sends it model bytes and patches, it sends back the network's
// answers. Patches and answers move between the two without a copy where the buffer allows
// (transferred, not cloned). wasm runs with threads when the page is cross-origin isolated (its
// workers then start from this one); WebGPU runs here too, where the browser offers it in
// workers. ONNX Runtime and its wasm come from the page's origin (ort/).
// Messages: {id, type: 'init' | 'create' | 'run' | 'release', ...}; each gets
// {id, ...result} or {id, error}.

let ort;
const sessions = new Map(); // handle → InferenceSession
let nextHandle = 1;

async function init({ ortModule, wasmPaths, threads }) {
  ort = await import(ortModule);
  ort.env.wasm.wasmPaths = wasmPaths;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false; // this worker is the proxy
  return { webgpu: Boolean(self.navigator.gpu), isolated: self.crossOriginIsolated };
}

async function create({ bytes, provider }) {
  const executionProviders = provider === 'webgpu'
    // The default NHWC layout fails on 3D pooling; NCHW runs it.
    ? [{ name: 'webgpu', preferredLayout: 'NCHW' }]
    : ['wasm'];
  const session = await ort.InferenceSession.create(bytes, { executionProviders, graphOptimizationLevel: 'all' });
  const handle = nextHandle++;
  sessions.set(handle, session);
  return { handle };
}

// The answer as a Float32Array whose buffer this worker may give away.
function ownBuffer(values) {
  const whole = values.byteOffset === 0 && values.byteLength === values.buffer.byteLength;
  return whole && values.buffer instanceof ArrayBuffer ? values : new Float32Array(values);
}

async function run({ handle, input, output, data, shape }) {
  const session = sessions.get(handle);
  if (!session) throw new Error('the session was released');
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
  const session = sessions.get(handle);
  sessions.delete(handle);
  if (session) await session.release().catch(() => {});
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

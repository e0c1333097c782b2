// Times ONNX Runtime Web's wasm provider on whole-volume inputs, for bench/inference_bench.mjs.
// ORT comes from this origin (ort/: the files the app ships, copied by the benchmark), never a
// CDN. The thread count must be set before the first session, so each count gets a fresh page.
import * as ort from './ort/ort.wasm.min.mjs'; // the build the app's worker runs wasm on

ort.env.wasm.wasmPaths = new URL('ort/', import.meta.url).href;

// { threads, model, inputs: [{url, shape}], rounds, measureMemory } → per input, every timed
// run's ms; with measureMemory, the page's memory after the runs as Chromium measures it (its
// wasm heaps included; null where the browser cannot say).
window.benchOrt = async ({ threads, model, inputs, rounds, measureMemory = false }) => {
  ort.env.wasm.numThreads = threads;
  const bytes = new Uint8Array(await (await fetch(model)).arrayBuffer());
  const session = await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const results = [];
  let memoryBytes = null;
  try {
    for (const { url, shape } of inputs) {
      const data = new Float32Array(await (await fetch(url)).arrayBuffer());
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', data, shape) };
      await session.run(feeds); // warm-up: first-run allocations are not what a user waits on
      const times = [];
      for (let r = 0; r < rounds; ++r) {
        const start = performance.now();
        await session.run(feeds);
        times.push(performance.now() - start);
      }
      results.push(times);
    }
    if (measureMemory && performance.measureUserAgentSpecificMemory) {
      memoryBytes = (await performance.measureUserAgentSpecificMemory()).bytes;
    }
  } finally {
    await session.release();
  }
  return { crossOriginIsolated: self.crossOriginIsolated, results, memoryBytes };
};
window.benchReady = true;

// { threads, models: [url...], input: {url, shape}, rounds } → per model, every timed run's
// ms, the models' runs interleaved (a, b, a, b, ...) so that a shared machine's changing load
// falls on each alike; one warm-up run each first.
window.benchOrtInterleaved = async ({ threads, models, input, rounds }) => {
  ort.env.wasm.numThreads = threads;
  const sessions = [];
  const results = models.map(() => []);
  try {
    for (const model of models) {
      const bytes = new Uint8Array(await (await fetch(model)).arrayBuffer());
      sessions.push(await ort.InferenceSession.create(bytes, { executionProviders: ['wasm'] }));
    }
    const data = new Float32Array(await (await fetch(input.url)).arrayBuffer());
    const feeds = sessions.map((s) => ({ [s.inputNames[0]]: new ort.Tensor('float32', data, input.shape) }));
    for (let i = 0; i < sessions.length; i += 1) await sessions[i].run(feeds[i]);
    for (let r = 0; r < rounds; r += 1) {
      for (let i = 0; i < sessions.length; i += 1) {
        const start = performance.now();
        await sessions[i].run(feeds[i]);
        results[i].push(performance.now() - start);
      }
    }
  } finally {
    for (const s of sessions) await s.release();
  }
  return { crossOriginIsolated: self.crossOriginIsolated, results };
};

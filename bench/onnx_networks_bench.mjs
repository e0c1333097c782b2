// nnU-Net's PlainConvUNet as torch exports it (tests/reference/make_torch_networks.py: 32 base
// features, 6 stages, 4 channels in, 4 classes, opset 17; random weights) on one 128³ patch,
// side by side from one run on this machine (issue 11's benchmarks):
//   - ONNX Runtime Web's wasm provider in headless Chromium against onnxruntime-node, the same
//     thread count;
//   - the core's WebGPU rewrite (1x1x1 Conv + depth-to-space for each ConvTranspose) against
//     the original, both on wasm, their runs interleaved: wall time in Chromium, and CPU time
//     on ORT Web's wasm build in Node, which a shared machine's load does not inflate (target:
//     the rewrite at most 10% slower);
//   - what the app's memory check says of the run (cls/inference/run_memory.hpp) beside the
//     memory Chromium measures for the page after the run, where it can
//     (performance.measureUserAgentSpecificMemory).
// Medians of `rounds` timed runs after one warm-up run. CPU only: no GPU figures (SwiftShader's
// WebGPU says nothing about a real GPU's speed).
// Usage: node bench/onnx_networks_bench.mjs [rounds=1] [edge=128] [features=32] [threads=1],
// after scripts/build.sh wasm-release cls_infer; needs /usr/bin/python3 with torch.
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { startServer, launch } from '../tests/web/browser.mjs';
import { ClsInfer, repo } from '../scripts/infer_lib.mjs';

const [rounds, edge, features, threads] = [1, 128, 32, 1].map((d, i) => Number(process.argv[2 + i] ?? d));
const root = join(repo, 'build/networks-bench');
const log = (text) => process.stderr.write(`${text}\n`);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

rmSync(root, { recursive: true, force: true });
mkdirSync(join(root, 'ort'), { recursive: true });
log(`exporting nnU-Net's PlainConvUNet (${features} features, 6 stages) with torch...`);
execFileSync('/usr/bin/python3', [join(repo, 'tests/reference/make_torch_networks.py'), root,
  '--features', String(features), '--stages', '6'], { stdio: 'inherit' });
const networks = JSON.parse(readFileSync(join(root, 'networks.json'), 'utf8'));
const original = readFileSync(join(root, 'nnunet_plain.onnx'));
const infer = await ClsInfer.load();
const rewrite = infer.rewriteForWebGpu(original);
if (!rewrite.bytes) throw new Error('the rewrite changed nothing');
writeFileSync(join(root, 'rewritten.onnx'), rewrite.bytes);
const shape = [1, networks.input.channels, edge, edge, edge];
const memory = infer.runMemory(original, shape);

// The same ORT files the app ships (scripts/build_web.sh), the bench page, a smooth input.
for (const file of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) {
  copyFileSync(join(repo, 'node_modules/onnxruntime-web/dist', file), join(root, 'ort', file));
}
for (const file of ['ort_bench.html', 'ort_bench.js']) copyFileSync(join(repo, 'bench/web', file), join(root, file));
const count = shape.reduce((a, b) => a * b, 1);
const input = Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37) * 1.5 + Math.cos(i * 0.011));
writeFileSync(join(root, 'input.f32'), input);

// onnxruntime-node.
const ortNode = createRequire(import.meta.url)('onnxruntime-node');
const nodeTimes = [];
{
  const session = await ortNode.InferenceSession.create(original, {
    intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all',
  });
  const feeds = { [networks.input.name]: new ortNode.Tensor('float32', input, shape) };
  for (let r = 0; r <= rounds; ++r) {
    const start = performance.now();
    await session.run(feeds);
    if (r > 0) nodeTimes.push(performance.now() - start);
  }
  await session.release();
}
log(`onnxruntime-node, ${threads} thread(s): ${nodeTimes.map((t) => t.toFixed(0)).join(', ')} ms`);

// ORT Web wasm in headless Chromium. First the original alone in a fresh page, for its time
// against onnxruntime-node and the page's memory after the run; then both models in one page,
// their runs interleaved, for the rewrite's cost on wasm.
const web = {};
let pageMemory = null;
const server = await startServer(root);
const browser = await launch();
const benchPage = async () => {
  const page = await browser.context.newPage();
  await page.goto(`${server.url}ort_bench.html`);
  await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60000 });
  return page;
};
try {
  let page = await benchPage();
  const alone = await page.evaluate((args) => window.benchOrt(args), {
    threads, model: 'nnunet_plain.onnx', rounds, inputs: [{ url: 'input.f32', shape }], measureMemory: true,
  });
  web.alone = median(alone.results[0]);
  pageMemory = alone.memoryBytes;
  log(`ORT Web wasm in Chromium, as exported, alone: ${alone.results[0].map((t) => t.toFixed(0)).join(', ')} ms` +
    (pageMemory ? `, page memory ${(pageMemory / 2 ** 30).toFixed(2)} GiB` : ''));
  await page.close();
  page = await benchPage();
  const pair = await page.evaluate((args) => window.benchOrtInterleaved(args), {
    threads, models: ['nnunet_plain.onnx', 'rewritten.onnx'], input: { url: 'input.f32', shape }, rounds,
  });
  [web.original, web.rewritten] = pair.results.map(median);
  log(`ORT Web wasm in Chromium, interleaved: as exported ${pair.results[0].map((t) => t.toFixed(0)).join(', ')} ms, ` +
    `rewritten ${pair.results[1].map((t) => t.toFixed(0)).join(', ')} ms`);
  await page.close();
} finally {
  await browser.close();
  server.stop();
}

// The same two models on ORT Web's wasm build in this Node process, interleaved, timed in CPU
// time (process.cpuUsage), which the machine's other users do not inflate.
const ortWeb = await import('onnxruntime-web');
ortWeb.env.wasm.numThreads = threads;
const cpu = { original: [], rewritten: [] };
{
  const sessions = {
    original: await ortWeb.InferenceSession.create(original, { executionProviders: ['wasm'] }),
    rewritten: await ortWeb.InferenceSession.create(rewrite.bytes, { executionProviders: ['wasm'] }),
  };
  const feeds = { [networks.input.name]: new ortWeb.Tensor('float32', input, shape) };
  for (const s of Object.values(sessions)) await s.run(feeds);
  for (let r = 0; r < rounds; ++r) {
    for (const [name, session] of Object.entries(sessions)) {
      const before = process.cpuUsage();
      await session.run(feeds);
      const used = process.cpuUsage(before);
      cpu[name].push((used.user + used.system) / 1000);
    }
  }
  for (const s of Object.values(sessions)) await s.release();
}
log(`ORT Web wasm in Node, CPU time: as exported ${cpu.original.map((t) => t.toFixed(0)).join(', ')} ms, ` +
  `rewritten ${cpu.rewritten.map((t) => t.toFixed(0)).join(', ')} ms`);

const s = (ms) => `${(ms / 1000).toFixed(1)} s`;
const gib = (bytes) => `${(bytes / 2 ** 30).toFixed(2)} GiB`;
const nodeMs = median(nodeTimes);
const webRatio = web.alone / nodeMs;
const rewriteRatio = web.rewritten / web.original;
const cpuRatio = median(cpu.rewritten) / median(cpu.original);
const verdict = (ratio) => `${ratio.toFixed(2)} x as exported${ratio <= 1.1 ? '' : ' (over the 1.10 target)'}`;
console.log(`\nnnU-Net PlainConvUNet (${features} features, 6 stages, ${networks.networks.nnunet_plain.parameters} ` +
  `parameters, 4 channels in, 4 classes) on one ${edge}³ patch, ${threads} thread(s), on ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
  `${availableParallelism()} cores shared, load average ${loadavg()[0].toFixed(2)} at the end; median of ${rounds} run(s) ` +
  'after a warm-up; onnxruntime-node and onnxruntime-web 1.30.0, Chromium headless.\n');
console.log('| runtime | model | time | ratio |');
console.log('|---|---|---|---|');
console.log(`| onnxruntime-node (CPU) | as exported | ${s(nodeMs)} | 1 |`);
console.log(`| ORT Web wasm (Chromium) | as exported, alone | ${s(web.alone)} | ${webRatio.toFixed(2)} x node |`);
console.log(`| ORT Web wasm (Chromium), interleaved | as exported | ${s(web.original)} | 1 |`);
console.log(`| ORT Web wasm (Chromium), interleaved | rewritten for WebGPU | ${s(web.rewritten)} | ${verdict(rewriteRatio)} |`);
console.log(`| ORT Web wasm (Node), CPU time | as exported | ${s(median(cpu.original))} | 1 |`);
console.log(`| ORT Web wasm (Node), CPU time | rewritten for WebGPU | ${s(median(cpu.rewritten))} | ${verdict(cpuRatio)} |`);
console.log(`\nThe app's memory check for this run: ${gib(memory.runtime_heap_bytes)} of ONNX Runtime Web's ` +
  `${gib(memory.budget)} (weights ${gib(memory.weight_bytes)}, activations ${gib(memory.peak_activation_bytes)} at ` +
  `their peak): ${memory.fits ? 'passes' : 'refused'}` +
  (pageMemory ? `; Chromium measured ${gib(pageMemory)} for the whole page after the run.` : '.'));

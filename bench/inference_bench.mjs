// Inference speed, side by side from one run on this machine (issue 4's performance table):
//   the same model on the same normalised 64³ and 128³ synthetic scans, one whole-volume
//   session.run each, in onnxruntime-node (CPU provider) and in ONNX Runtime Web's wasm
//   provider in headless Chromium, 1 and 2 threads, with the ratio wasm / node (target <= 2);
//   and the sliding window's overhead through cls_infer (the C++ core compiled for Node):
//   wall time of the whole patch loop against the sum of its session.run times (target <= 10%).
// Medians of `rounds` timed runs after one warm-up run. CPU only: no GPU figures.
// Usage: node bench/inference_bench.mjs [rounds]   (default 3), after
//   scripts/build.sh native-release cls && scripts/build.sh wasm-release cls_infer
// CLS_MODEL=path/to/manifest.json benchmarks another model (default models/cls_unet.json).
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { startServer, launch } from '../tests/web/browser.mjs';
import {
  ClsInfer, createNodeRunner, inferImage, loadModel, readNiftiBytes, repo,
} from '../scripts/infer_lib.mjs';

const rounds = Number(process.argv[2] ?? 3);
const manifestPath = process.env.CLS_MODEL ?? join(repo, 'models/cls_unet.json');
const edges = [64, 128];
const threadCounts = [1, 2];
const root = join(repo, 'build/inference-bench');
const cls = join(repo, 'build/native/cls');

if (!existsSync(cls)) throw new Error(`${cls} is missing: run scripts/build.sh native-release cls`);
const infer = await ClsInfer.load();
const model = await loadModel(infer, manifestPath);

// The page's origin: the bench page, ORT Web's wasm build and the model; no CDN.
rmSync(root, { recursive: true, force: true });
mkdirSync(join(root, 'ort'), { recursive: true });
for (const file of ['ort_bench.html', 'ort_bench.js']) copyFileSync(join(repo, 'bench/web', file), join(root, file));
// The ORT build the app runs wasm sessions on (scripts/build_web.sh ships it): the plain one,
// not the JSEP build that WebGPU needs.
for (const file of ['ort.wasm.min.mjs', 'ort-wasm-simd-threaded.mjs', 'ort-wasm-simd-threaded.wasm']) {
  copyFileSync(join(repo, 'node_modules/onnxruntime-web/dist', file), join(root, 'ort', file));
}
copyFileSync(model.onnxPath, join(root, 'model.onnx'));

// Synthetic FLAIR-like scans, normalised by the C++ core exactly as inference does (a job
// whose patch is the whole volume hands out the normalised image as its one input).
const scans = {};
const inputs = {};
for (const edge of edges) {
  const out = join(root, `scan${edge}`);
  execFileSync(cls, ['synth', '--kind', 'scans', '--cases', '1', '--size', String(edge), '--seed', '3', '--out', out], { stdio: 'ignore' });
  scans[edge] = await readNiftiBytes(join(out, 'images/case_000.nii.gz'));
  const job = infer.open(scans[edge], JSON.stringify({ ...model.manifest, patch_size: [edge, edge, edge] }));
  try {
    inputs[edge] = job.nextInput();
  } finally {
    job.close();
  }
  writeFileSync(join(root, `input${edge}.f32`), inputs[edge]);
}
const shape = (edge) => [1, 1, edge, edge, edge];
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const log = (text) => process.stderr.write(`${text}\n`);

// onnxruntime-node, whole volumes.
const node = {}; // threads → edge → median ms
for (const threads of threadCounts) {
  const run = await createNodeRunner(model, { threads });
  node[threads] = {};
  for (const edge of edges) {
    await run(inputs[edge], shape(edge));
    const times = [];
    for (let r = 0; r < rounds; ++r) {
      const start = performance.now();
      await run(inputs[edge], shape(edge));
      times.push(performance.now() - start);
    }
    node[threads][edge] = median(times);
    log(`onnxruntime-node, ${threads} thread(s), ${edge}³: ${times.map((t) => t.toFixed(0)).join(', ')} ms`);
  }
  await run.release();
}

// ORT Web wasm in headless Chromium, served with COOP/COEP so that threads are allowed.
const web = {};
const server = await startServer(root);
const browser = await launch();
try {
  for (const threads of threadCounts) {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}ort_bench.html`);
    await page.waitForFunction(() => window.benchReady === true, null, { timeout: 60000 });
    const { crossOriginIsolated, results } = await page.evaluate((args) => window.benchOrt(args), {
      threads, model: 'model.onnx', rounds, inputs: edges.map((edge) => ({ url: `input${edge}.f32`, shape: shape(edge) })),
    });
    if (threads > 1 && !crossOriginIsolated) throw new Error('the bench page is not cross-origin isolated: no wasm threads');
    web[threads] = {};
    edges.forEach((edge, i) => {
      web[threads][edge] = median(results[i]);
      log(`ORT Web wasm in Chromium, ${threads} thread(s), ${edge}³: ${results[i].map((t) => t.toFixed(0)).join(', ')} ms`);
    });
    await page.close();
  }
} finally {
  await browser.close();
  server.stop();
}

// The sliding window through cls_infer with onnxruntime-node: patch loop vs its session.runs.
const windows = [];
for (const threads of threadCounts) {
  const run = await createNodeRunner(model, { threads });
  await run(new Float32Array(model.manifest.patch_size.reduce((a, b) => a * b, 1)), [1, 1, ...model.manifest.patch_size]);
  for (const edge of edges) {
    const result = await inferImage(infer, model, scans[edge], run);
    windows.push({ threads, edge, ...result });
    log(`sliding window, ${threads} thread(s), ${edge}³: ${result.runs} patches, loop ${result.totalMs.toFixed(0)} ms, ` +
      `session.run ${result.sessionMs.toFixed(0)} ms`);
  }
  await run.release();
}

const ms = (value) => `${value.toFixed(0)} ms`;
const cpu = cpus()[0]?.model ?? 'unknown CPU';
console.log(`\nInference on ${cpu}, ${availableParallelism()} cores, load average ${loadavg()[0].toFixed(2)} at the end; ` +
  `model ${model.manifest.name} (${model.onnxPath.replace(repo, '')}), patch ${model.manifest.patch_size.join('x')}; ` +
  `median of ${rounds} runs after a warm-up; onnxruntime-node and onnxruntime-web 1.30.0, Chromium headless.\n`);
console.log('| input | threads | onnxruntime-node (CPU) | ORT Web wasm (Chromium) | wasm / node (target <= 2) |');
console.log('|---|---|---|---|---|');
for (const edge of edges) {
  for (const threads of threadCounts) {
    const ratio = web[threads][edge] / node[threads][edge];
    console.log(`| ${edge}³ whole volume | ${threads} | ${ms(node[threads][edge])} | ${ms(web[threads][edge])} | ` +
      `${ratio.toFixed(2)}${ratio <= 2 ? '' : ' (over target)'} |`);
  }
}
console.log('\nSliding window through cls_infer + onnxruntime-node (overlap 0.5, no mirroring): the patch loop\'s wall time ' +
  'against the sum of its session.run times; overhead = normalising, planning, copying through the heap and blending.\n');
console.log('| volume | threads | patches | session.run sum | loop wall time | overhead (target <= 10%) | one whole-volume run |');
console.log('|---|---|---|---|---|---|---|');
for (const w of windows) {
  const overhead = (w.totalMs - w.sessionMs) / w.sessionMs;
  console.log(`| ${w.edge}³ | ${w.threads} | ${w.runs} | ${ms(w.sessionMs)} | ${ms(w.totalMs)} | ` +
    `${(100 * overhead).toFixed(1)}%${overhead <= 0.1 ? '' : ' (over target)'} | ${ms(node[w.threads][w.edge])} |`);
}

// Where ONNX Runtime Web runs the app's patches (issue 13): the bundled model on a 48³ patch,
// wasm with the page's threads, in the app's own worker (web/inference_worker.js, the patch
// and the answer transferred), in ONNX Runtime's proxy worker (what the app used before), and
// on the page's main thread (which stalls the frame loop). The app's worker runs wasm on ONNX
// Runtime's plain build; the other two load it through model_runner.js's loadOrt, the JSEP
// build that also runs WebGPU, as the tests that compare providers do. Each in a fresh page
// of the same origin without the app (so its frame loop takes no core), the mean of 5 runs
// after a warm-up, one round of all three per line, `rounds` rounds. Wall time per patch as
// the caller sees it.
// Usage: node bench/inference_worker_bench.mjs [rounds]   (default 2), after scripts/build_web.sh
import { rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launch } from '../tests/web/browser.mjs';

const rounds = Number(process.argv[2] ?? 2);
const web = join(fileURLToPath(new URL('..', import.meta.url)), 'build/web');
const blank = join(web, 'bench-blank.html'); // served by the page's own server, removed at the end
writeFileSync(blank, '<!doctype html><title>bench</title>');

// One mode's mean time per patch, in a fresh page.
async function timePatches(browser, server, mode) {
  const page = await browser.context.newPage();
  try {
    await page.goto(`${server.url}bench-blank.html`);
    return await page.evaluate(async (where) => {
      const bytes = new Uint8Array(await (await fetch('models/cls_unet.onnx')).arrayBuffer());
      const patch = () => Float32Array.from({ length: 48 ** 3 }, (_, k) => Math.sin(k * 0.01));
      const shape = [1, 1, 48, 48, 48];
      const runner = await import('./model_runner.js');
      let run;
      if (where === 'worker') {
        const session = await new runner.InferenceWorker().createSession(bytes, 'wasm');
        run = (data) => session.run({ input: 'image', output: 'logits' }, data, shape);
      } else {
        const ort = await runner.loadOrt({ proxy: where === 'proxy' });
        const session = await runner.createSession(ort, bytes, 'wasm');
        run = (data) => session.run({ image: new ort.Tensor('float32', data, shape) });
      }
      const times = [];
      for (let i = 0; i < 6; i += 1) {
        const data = patch();
        const start = performance.now();
        await run(data);
        if (i > 0) times.push(performance.now() - start);
      }
      return { ms: times.reduce((a, b) => a + b, 0) / times.length, threads: runner.wasmThreads() };
    }, mode);
  } finally {
    await page.close();
  }
}

const server = await startServer();
const browser = await launch();
try {
  const modes = ['worker', 'proxy', 'main'];
  const lines = [];
  let threads = 0;
  for (let r = 0; r < rounds; r += 1) {
    const row = {};
    for (const mode of modes) {
      const result = await timePatches(browser, server, mode);
      row[mode] = result.ms;
      threads = result.threads;
    }
    lines.push(row);
  }
  console.log(`A 48³ patch of the bundled model in headless Chromium (${cpus()[0].model}, ${cpus().length} ` +
    `cores), wasm with ${threads} thread(s), mean of 5 runs, one line per round:\n`);
  console.log('| round | app\'s worker | ONNX Runtime\'s proxy worker | page main thread | worker / proxy |');
  console.log('| --- | --- | --- | --- | --- |');
  lines.forEach((row, i) => console.log(`| ${i + 1} | ${row.worker.toFixed(0)} ms | ${row.proxy.toFixed(0)} ms | ` +
    `${row.main.toFixed(0)} ms | ${(row.worker / row.proxy).toFixed(2)} |`));
} finally {
  await browser.close();
  server.stop();
  rmSync(blank, { force: true });
}

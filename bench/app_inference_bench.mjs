// The sliding window as the browser app runs it (issue 4's overhead target, <= 10%): one
// synthetic 64³ and one 128³ scan loaded into the real page (build/web), segmented by the
// bundled model through the app's own path: C++ normalises, plans and blends, the page's
// ONNX Runtime Web (wasm provider, in the app's own worker, web/inference_worker.js, threads
// as the page allows) runs each 48³ patch. Overhead = wall time from the first patch's start to the last patch's end, less
// the time inside session.run, over the latter: what the app adds per patch (copying through
// the heap, the frame loop, blending). One run per volume, this machine, CPU only.
// Usage: node bench/app_inference_bench.mjs, after scripts/build_web.sh.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launch, openApp } from '../tests/web/browser.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const web = join(repo, 'build/web');
if (!existsSync(join(web, 'cls_studio.wasm'))) throw new Error('build the app first: scripts/build_web.sh');

const scans = join(web, 'bench-scans'); // served by the page's own server, removed at the end
rmSync(scans, { recursive: true, force: true });
mkdirSync(scans, { recursive: true });
const server = await startServer();
const browser = await launch();
const rows = [];
try {
  const { page } = await openApp(browser.context, server.url);
  await page.evaluate(async (execution) => {
    window.cls.setExecution(execution);
    await window.cls.loadUrl('models/cls_unet.json');
    await window.cls.loadUrl('models/cls_unet.onnx');
  }, process.env.EXECUTION ?? 'wasm');
  await page.waitForFunction(() => window.cls.state().model.status === 'ready', null, { timeout: 60000 });
  const threads = await page.evaluate(() => window.cls.wasmThreads());
  for (const edge of [64, 128]) {
    const out = join(scans, String(edge));
    execFileSync(join(repo, 'build/native/cls'), ['synth', '--kind', 'scans', '--cases', '1', '--size',
      String(edge), '--seed', '3', '--out', out], { stdio: 'ignore' });
    const name = `scan${edge}`;
    await page.evaluate(() => window.cls.resetInferenceStats());
    await page.evaluate(async ([url, path]) => {
      const bytes = new Uint8Array(await (await fetch(url)).arrayBuffer());
      await window.cls.loadBytes(path, bytes);
    }, [`bench-scans/${edge}/images/case_000.nii.gz`, `images/${name}.nii.gz`]);
    await page.waitForFunction((n) => {
      const c = window.cls.state().cases.find((d) => d.name === n);
      return c && c.files['probability map'] !== undefined;
    }, name, { timeout: 600000 });
    const stats = await page.evaluate(() => window.cls.inferenceStats());
    const wall = stats.last - stats.first;
    rows.push({ edge, patches: stats.runs, runMs: stats.runMs, wall, overhead: (wall - stats.runMs) / stats.runMs });
    process.stderr.write(`${edge}³: ${stats.runs} patches, session.run ${stats.runMs.toFixed(0)} ms, wall ${wall.toFixed(0)} ms\n`);
  }
  console.log(`\nThe app's sliding window in headless Chromium (${cpus()[0].model}, ${cpus().length} cores), ` +
    `wasm provider with ${threads} thread(s) in the app's worker, bundled model, patch 48³, overlap 0.5, one run:\n`);
  console.log('| volume | patches | session.run sum | first start to last end | overhead (target <= 10%) |');
  console.log('|---|---|---|---|---|');
  for (const r of rows) {
    console.log(`| ${r.edge}³ | ${r.patches} | ${r.runMs.toFixed(0)} ms | ${r.wall.toFixed(0)} ms | ` +
      `${(100 * r.overhead).toFixed(1)}% |`);
  }
} finally {
  await browser.close();
  server.stop();
  rmSync(scans, { recursive: true, force: true });
}

// The real-anatomy demo as a visitor meets it (issue 12): "Load demo" pressed in the page built
// with open_ms (scripts/build_ms_demo.sh), timed to the first tau (the calibration cases'
// scores loaded and calibrated) and then to each real patient's map (182x218x182, the bundled
// model through the app's sliding window, ONNX Runtime Web wasm in the app's worker with the
// page's threads). Prints a table, what the set-aside patients' masks did at tau and at 0.5,
// and saves a screenshot of the page at the end.
// Usage: node bench/demo_bench.mjs [SCREENSHOT.png], after scripts/build_web.sh with open_ms.
import { existsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launch, openApp } from '../tests/web/browser.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
if (!existsSync(join(repo, 'build/web/demo_ms/manifest.json'))) {
  throw new Error('no real-anatomy demo in build/web: scripts/build_web.sh with ../shared/data/open_ms (or CLS_OPEN_MS)');
}
const screenshot = process.argv[2] ?? join(repo, 'build/demo.png');

const server = await startServer();
const browser = await launch();
try {
  const { page } = await openApp(browser.context, server.url);
  await page.evaluate(() => window.cls.setExecution('wasm'));
  const threads = await page.evaluate(() => window.cls.wasmThreads());
  const started = Date.now();
  const rect = await page.evaluate(() => window.cls.state().ui_rects.load_demo);
  await page.mouse.click(rect[0] + rect[2] / 2, rect[1] + rect[3] / 2);
  const manifest = JSON.parse(readFileSync(join(repo, 'build/web/demo_ms/manifest.json'), 'utf8'));
  const scores = manifest.files.filter((f) => f.endsWith('.score')).length;
  // Every score loaded and calibrated on (a tau shows from the first few already).
  await page.waitForFunction((n) => window.cls.state().n === n, scores, { timeout: 600000, polling: 50 });
  const firstTau = Date.now() - started;
  const s = await page.evaluate(() => window.cls.state());
  process.stderr.write(`first tau ${s.tau} after ${firstTau} ms (n = ${s.n})\n`);
  const patients = ['patient07', 'patient19', 'patient26'];
  const mapped = {};
  while (Object.keys(mapped).length < patients.length) {
    await page.waitForFunction((done) => window.cls.state().cases.some((c) =>
      c.files['probability map'] !== undefined && !done.includes(c.name)), Object.keys(mapped),
    { timeout: 900000, polling: 500 });
    for (const c of (await page.evaluate(() => window.cls.state())).cases) {
      if (c.files['probability map'] !== undefined && !(c.name in mapped)) {
        mapped[c.name] = Date.now() - started;
        process.stderr.write(`${c.name}: map after ${mapped[c.name]} ms\n`);
      }
    }
  }
  const stats = await page.evaluate(() => window.cls.inferenceStats());
  await page.evaluate(() => window.cls.selectCase('patient26'));
  await page.waitForTimeout(1000);
  await page.screenshot({ path: screenshot });
  const end = await page.evaluate(() => window.cls.state());

  console.log(`\nThe real-anatomy demo in headless Chromium (${cpus()[0].model}, ${cpus().length} cores), ` +
    `wasm with ${threads} thread(s) in the app's worker, one run:\n`);
  console.log('| step | time after pressing Load demo |');
  console.log('|---|---|');
  console.log(`| first tau (${end.n} calibration case scores loaded) | ${(firstTau / 1000).toFixed(1)} s |`);
  let previous = firstTau;
  for (const p of patients) {
    console.log(`| ${p}'s map (182x218x182; ${((mapped[p] - previous) / 1000).toFixed(1)} s after the one before) | ` +
      `${(mapped[p] / 1000).toFixed(1)} s |`);
    previous = mapped[p];
  }
  console.log(`\nInference: ${stats.runs} patches; session.run took ${(stats.runMs / 1000).toFixed(1)} s of the ` +
    `${((stats.last - stats.first) / 1000).toFixed(1)} s from the first patch's start to the last one's end ` +
    `(${(stats.runMs / stats.runs).toFixed(0)} ms a patch).`);
  console.log(`\nAt epsilon ${end.settings.epsilon}, alpha ${end.settings.alpha}: tau = ${end.tau} (k = ${end.k} of n = ${end.n}), ` +
    `region of interest ${end.settings.region_of_interest}.\n`);
  console.log('| patient | lesion voxels | mask at tau | FNR at tau | Dice at tau | mask at 0.5 | FNR at 0.5 | Dice at 0.5 | exchangeability p |');
  console.log('|---|---|---|---|---|---|---|---|---|');
  for (const c of end.cases.filter((x) => x.set_aside)) {
    const a = c.against_label;
    const t = a.at_threshold;
    const ratio = (n) => `${n} (${(n / a.lesion_voxels).toFixed(1)}x)`;
    const p = c.exchangeability ? `${c.exchangeability.p_value.toFixed(3)}${c.exchangeability.flagged ? ' flagged' : ''}` : '-';
    console.log(`| ${c.name} | ${a.lesion_voxels} | ${ratio(t.predicted_voxels)} | ${t.fnr.toFixed(3)} | ${t.dice.toFixed(3)} | ` +
      `${ratio(a.at_half.predicted_voxels)} | ${a.at_half.fnr.toFixed(3)} | ${a.at_half.dice.toFixed(3)} | ${p} |`);
  }
  console.log(`\nscreenshot: ${screenshot}`);
  const errors = end.errors ?? [];
  if (errors.length) console.log(`errors: ${errors.join('; ')}`);
} finally {
  await browser.close();
  server.stop();
}

// End to end in headless Chromium: the page loads the probability demo through its real
// button, calibrates
// in WebAssembly exactly as the CLI does (same tau, bit for bit, and certificates that cross
// over), exports, survives bad files, draws the three views as the baselines show, and never
// sends a request outside its own origin.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, writeFile, mkdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp } from './browser.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cls = join(repo, 'build/native/cls');
const demo = join(repo, 'build/web/demo_probs');
const baselines = join(repo, 'tests/web/baseline');

let app; // startApp()'s
let server;
let browser;
let page;
let messages;
let work;

function cli(...args) {
  return execFileSync(cls, args.map(String), { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

function cliCertificate(epsilon, alpha) {
  const out = join(work, `cli_${epsilon}_${alpha}.json`);
  cli('calibrate', '--probs', join(demo, 'probs'), '--labels', join(demo, 'labels'),
    '--epsilon', epsilon, '--alpha', alpha, '--out', out);
  return out;
}

const state = () => page.evaluate(() => window.cls.state());

// A click as a person makes it: the pointer arrives, then presses and releases a frame later.
async function clickCentre(rect) {
  await page.mouse.move(rect[0] + rect[2] / 2, rect[1] + rect[3] / 2);
  await page.waitForTimeout(50);
  await page.mouse.down();
  await page.waitForTimeout(50);
  await page.mouse.up();
  await page.waitForTimeout(50);
}

async function download(trigger) {
  const [file] = await Promise.all([page.waitForEvent('download'), page.evaluate(trigger)]);
  return readFile(await file.path());
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cls-web-test-'));
  app = await startApp();
  ({ server, browser, page, messages } = app);
});

after(async () => {
  await app?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('the Probability demo button loads and calibrates the teaching set as the CLI does', async () => {
  await page.waitForFunction(() => window.cls.state().ui_rects.load_probability_demo !== undefined);
  await clickCentre((await state()).ui_rects.load_probability_demo);
  await page.waitForFunction(() => window.cls.state().cases.filter((c) => c.labelled).length === 24 &&
    !window.cls.busy(), null, { timeout: 60000 });
  let s = await state();
  assert.deepEqual(s.errors, []);
  assert.equal(s.n, 24);
  const cliCert = JSON.parse(await readFile(cliCertificate(0.1, 0.1), 'utf8'));
  assert.ok(Object.is(s.tau, cliCert.threshold), `browser tau ${s.tau} vs CLI ${cliCert.threshold}`);
  assert.equal(s.k, cliCert.k);

  await page.evaluate(() => window.cls.setCalibration({ epsilon: 0.3, alpha: 0.2 }));
  await page.waitForTimeout(100);
  s = await state();
  const other = JSON.parse(await readFile(cliCertificate(0.3, 0.2), 'utf8'));
  assert.ok(Object.is(s.tau, other.threshold), `browser tau ${s.tau} vs CLI ${other.threshold}`);
  assert.notEqual(s.tau, cliCert.threshold);
});

test('certificates and masks cross between the browser and the CLI', async () => {
  await page.evaluate(() => window.cls.setCalibration({ epsilon: 0.1, alpha: 0.1 }));
  await page.evaluate(() => window.cls.selectCase('case_003'));
  await page.waitForTimeout(100);
  const browserCertPath = join(work, 'browser_cert.json');
  await writeFile(browserCertPath, await download(() => window.cls.exportCertificate()));
  const browserCert = JSON.parse(await readFile(browserCertPath, 'utf8'));
  const cliCert = JSON.parse(await readFile(cliCertificate(0.1, 0.1), 'utf8'));
  for (const key of ['method', 'epsilon', 'alpha', 'n', 'k', 'threshold', 'empty_mask_policy', 'empty_mask_count', 'cases']) {
    assert.deepEqual(browserCert[key], cliCert[key], key);  // SHA-256 of every file included
  }

  // The CLI applies the browser's certificate, and its mask equals the browser's, byte for byte.
  const cliMask = join(work, 'cli_mask.nii.gz');
  cli('apply', '--calibration', browserCertPath, '--probs', join(demo, 'probs/case_003.nii.gz'), '--out', cliMask);
  const browserMask = await download(() => window.cls.exportMask());
  assert.deepEqual(gunzipSync(browserMask), gunzipSync(await readFile(cliMask)));
});

test('a bad file is reported by name and nothing loaded is lost', async () => {
  const before = await state();
  const good = await readFile(join(demo, 'probs/case_001.nii.gz'));
  const truncated = gunzipSync(good).subarray(0, 2000);
  await page.evaluate(([bytes]) => window.cls.loadBytes('probs/broken.nii', bytes), [[...truncated]]);
  await page.evaluate(([bytes]) => window.cls.loadBytes('probs/corrupt.nii.gz', bytes), [[...good.subarray(0, 300)]]);
  await page.evaluate(() => window.cls.idle());
  await page.waitForTimeout(100);
  const s = await state();
  assert.equal(s.errors.length, 2, JSON.stringify(s.errors));
  assert.match(s.errors[0], /^probs\/broken\.nii: truncated/);
  assert.match(s.errors[1], /^probs\/corrupt\.nii\.gz: /);
  assert.equal(s.cases.length, before.cases.length);
  assert.equal(s.tau, before.tau);
});

test('the Validate tab runs the same evaluation as cls evaluate, in WebAssembly', async () => {
  await page.evaluate(() => window.cls.setCalibration({ epsilon: 0.1, alpha: 0.1 }));
  await clickCentre((await state()).ui_rects.validate_tab);
  assert.equal((await state()).tab, 'validate');
  await clickCentre((await state()).ui_rects.run_validation);
  await page.waitForFunction(() => !window.cls.state().validation.running && window.cls.state().validation.coverage.cls,
    null, { timeout: 120000 });
  const coverage = (await state()).validation.coverage.cls;
  const report = join(work, 'evaluate.json');
  cli('evaluate', '--probs', join(demo, 'probs'), '--labels', join(demo, 'labels'), '--epsilon', 0.1,
    '--alpha', 0.1, '--splits', 200, '--seed', 1, '--methods', 'cls', '--json', report);
  const cliCoverage = JSON.parse(await readFile(report, 'utf8')).methods.cls.coverage;
  assert.equal(coverage[0][0], 0.1);
  assert.ok(Math.abs(coverage[0][1] - cliCoverage) < 1e-12, `browser ${coverage[0][1]} vs CLI ${cliCoverage}`);

  await clickCentre((await state()).ui_rects.learn_tab);
  assert.equal((await state()).tab, 'learn');
  await clickCentre((await state()).ui_rects.validate_tab);  // back, so the views stay as the baselines show
});

// Fraction of pixels whose colour differs by more than `tolerance` in some channel.
async function differingFraction(actual, expected, tolerance = 24) {
  return page.evaluate(async ([a, e, tolerance]) => {
    const pixels = async (bytes) => {
      const bitmap = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
      const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
      const context = canvas.getContext('2d');
      context.drawImage(bitmap, 0, 0);
      return context.getImageData(0, 0, bitmap.width, bitmap.height);
    };
    const [pa, pe] = [await pixels(a), await pixels(e)];
    if (pa.width !== pe.width || pa.height !== pe.height) return 1;
    let differing = 0;
    for (let i = 0; i < pa.data.length; i += 4) {
      for (let c = 0; c < 3; ++c) {
        if (Math.abs(pa.data[i + c] - pe.data[i + c]) > tolerance) { differing += 1; break; }
      }
    }
    return differing / (pa.width * pa.height);
  }, [[...actual], [...expected], tolerance]);
}

test('the three views look as the baselines show', async () => {
  await page.evaluate(() => window.cls.setCalibration({ epsilon: 0.1, alpha: 0.1 }));
  await page.evaluate(() => window.cls.selectCase('case_003'));
  await page.waitForTimeout(300);
  const s = await state();
  await mkdir(baselines, { recursive: true });
  for (const [index, name] of ['axial', 'coronal', 'sagittal'].entries()) {
    const [x, y, width, height] = s.view_rects[index];
    const shot = await page.screenshot({ clip: { x, y, width, height } });
    const baseline = join(baselines, `${name}.png`);
    if (process.env.UPDATE_BASELINES || !existsSync(baseline)) {
      await writeFile(baseline, shot);
      continue;
    }
    const fraction = await differingFraction(shot, await readFile(baseline));
    await writeFile(join(work, `${name}.png`), shot);
    assert.ok(fraction < 0.005, `${name}: ${(fraction * 100).toFixed(2)}% of pixels differ (see ${work})`);
  }
});

test('no request leaves the page\'s origin and the page logs no error', () => {
  const foreign = browser.requests.filter((url) => !url.startsWith(server.url) && !url.startsWith('blob:') && !url.startsWith('data:'));
  assert.deepEqual(foreign, []);
  assert.ok(browser.requests.length > 24);
  assert.deepEqual(messages.filter((m) => m.startsWith('error') || m.startsWith('pageerror')), []);
});

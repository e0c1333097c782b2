// In-browser inference end to end, in headless Chromium: "Load demo" brings scans, labels and
// the bundled model; the page runs ONNX Runtime Web (wasm) patch by patch while C++ plans and
// blends, then calibrates on the model's maps exactly as the CLI does on the same maps, and
// shows the guaranteed mask. Also: a model that does not fit its manifest is refused with the
// reason, and WebGPU (SwiftShader, correctness only) agrees with wasm on a 32³ patch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, mkdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launch, openApp, installTestApi } from './browser.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cls = join(repo, 'build/native/cls');
const demo = join(repo, 'build/web/demo');

let server;
let work;

before(async () => {
  assert.ok(existsSync(join(repo, 'build/web/models/cls_unet.onnx')), 'build the app first: scripts/build_web.sh');
  work = await mkdtemp(join(tmpdir(), 'cls-inference-test-'));
  server = await startServer();
});

after(() => server?.stop());

// Runs `body` in a fresh browser; `open: false` leaves the page blank for the body to open.
async function withApp(options, body, { open = true } = {}) {
  const browser = await launch(options);
  try {
    const { page, messages } = open ? await openApp(browser.context, server.url)
      : await openApp(browser.context, 'about:blank', { wait: false });
    await body(page, messages, browser.requests);
  } finally {
    await browser.close();
  }
}

const state = (page) => page.evaluate(() => window.cls.state());

test('offline after a first visit, Load demo segments the scans and calibrates as the CLI does; settings and kept calibrations survive the reload', async () => {
  const own = await startServer(); // this test cuts its own server off
  await withApp({}, async (page, messages, requests) => {
    await page.goto(own.url);
    await page.waitForFunction(() => window.cls !== undefined, null, { timeout: 60000 });
    await installTestApi(page);
    assert.equal(await page.evaluate(() => window.cls.offlineReady()), true);
    await page.waitForFunction(async () => Boolean(await caches.match('models/cls_unet.onnx')), null,
      { timeout: 60000 });

    // Mid-session: settings moved and a calibration kept, in this browser only.
    await page.evaluate(() => window.cls.loadDemo('probabilities'));
    await page.waitForFunction(() => window.cls.state().cases.length === 24 && !window.cls.busy(),
      null, { timeout: 60000 });
    await page.evaluate(() => window.cls.setCalibration({ epsilon: 0.2, alpha: 0.2 }));
    await page.evaluate(() => window.cls.keepCalibration());
    await page.evaluate(() => window.cls.storageSettled());
    const keptTau = (await state(page)).tau;

    // The network goes: the server stops. The reload comes from the service worker's cache.
    own.stop();
    await page.reload();
    await page.waitForFunction(() => window.cls !== undefined, null, { timeout: 60000 });
    await installTestApi(page);
    let s = await state(page);
    assert.equal(s.cases.length, 0);
    assert.equal(s.settings.epsilon, 0.2);
    assert.equal(s.settings.alpha, 0.2);
    assert.equal(s.kept_calibrations.length, 1);
    await page.evaluate(() => { window.cls.useKept(0); });
    assert.ok(Object.is((await state(page)).tau, keptTau));
    await page.reload(); // drops the kept certificate in use; the live calibration is back
    await page.waitForFunction(() => window.cls !== undefined, null, { timeout: 60000 });
    await installTestApi(page);
    await page.evaluate(() => window.cls.setCalibration({ epsilon: 0.1, alpha: 0.1 }));

    await page.evaluate(() => window.cls.setExecution('wasm'));
    // The synthetic scans, whether or not this build has the real-anatomy demo (which
    // demo_ms.test.mjs loads through the button).
    await page.evaluate(() => { window.cls.loadDemo('synthetic scans'); });

    // Inference runs as a job: progress shows while the frame loop keeps answering.
    await page.waitForFunction(() => window.cls.state().model.running, null, { timeout: 60000 });
    const during = await state(page);
    assert.match(during.model.provider, /^wasm \(\d threads?\)$/);
    assert.ok(during.model.cases_total >= 1);

    await page.waitForFunction(() => {
      const st = window.cls.state();
      return st.cases.length === 28 && !st.model.running &&
        st.cases.every((c) => c.files['probability map'] !== undefined);
    }, null, { timeout: 240000 });
    s = await state(page);
    assert.deepEqual(s.errors, []);
    assert.equal(s.model.status, 'ready');
    assert.equal(s.model.name, 'cls-ms-flair-unet');
    assert.equal(s.model.patches_run, 28); // one 48³ patch per 48³ scan
    assert.equal(s.n, 24); // four scans come without labels: new cases, not calibration
    assert.equal(typeof s.tau, 'number');

    // The CLI, calibrating on the very maps the page made, finds the same tau bit for bit.
    const maps = join(work, 'maps');
    const newCases = join(work, 'new_cases');
    await mkdir(maps, { recursive: true });
    await mkdir(newCases, { recursive: true });
    for (const c of s.cases) {
      const bytes = await page.evaluate((name) => Array.from(window.cls.probabilityMap(name)), c.name);
      await writeFile(join(c.labelled ? maps : newCases, `${c.name}.nii`), Buffer.from(bytes));
    }
    const certificate = join(work, 'cli_certificate.json');
    execFileSync(cls, ['calibrate', '--probs', maps, '--labels', join(demo, 'labels'),
      '--epsilon', '0.1', '--alpha', '0.1', '--out', certificate], { stdio: 'pipe' });
    const cli = JSON.parse(await readFile(certificate, 'utf8'));
    assert.ok(Object.is(s.tau, cli.threshold), `browser tau ${s.tau} vs CLI ${cli.threshold}`);
    assert.equal(s.k, cli.k);

    // A new, unlabelled case shows its guaranteed mask: the voxels at or above tau.
    await page.evaluate(() => window.cls.selectCase('case_025'));
    const [download] = await Promise.all([page.waitForEvent('download'),
      page.evaluate(() => window.cls.exportMask())]);
    const mask = join(work, 'case_025_mask.nii.gz');
    await writeFile(mask, await readFile(await download.path()));
    const expected = join(work, 'cli_case_025_mask.nii.gz');
    execFileSync(cls, ['apply', '--calibration', certificate, '--probs', join(newCases, 'case_025.nii'),
      '--out', expected], { stdio: 'pipe' });
    const browserMask = gunzipSync(await readFile(mask));
    assert.ok(browserMask.equals(gunzipSync(await readFile(expected))), 'the browser mask is the CLI mask');
    assert.ok(browserMask.subarray(352).some((v) => v === 1), 'the mask is not empty');

    assert.deepEqual(requests.filter((url) => !url.startsWith(own.url)), []);
    assert.deepEqual(messages.filter((m) => m.startsWith('error') || m.startsWith('pageerror')), []);
  }, { open: false });
});

test('a model that does not fit its manifest is refused with the reason, and nothing is lost', async () => {
  await withApp({}, async (page) => {
    await page.evaluate(() => window.cls.setExecution('wasm'));
    await page.evaluate(() => window.cls.loadDemo('probabilities'));
    await page.waitForFunction(() => window.cls.state().cases.length === 24 && !window.cls.busy(),
      null, { timeout: 60000 });
    const tau = (await state(page)).tau;
    const manifest = JSON.parse(await readFile(join(repo, 'build/web/models/cls_unet.json'), 'utf8'));
    manifest.output = { name: 'logits', channels: 2, activation: 'softmax', lesion_class: 1 };
    await page.evaluate(async (m) => {
      await window.cls.loadBytes('mine/cls_unet.json', new TextEncoder().encode(m));
      await window.cls.loadUrl('models/cls_unet.onnx');
      await window.cls.idle();
    }, JSON.stringify(manifest));
    await page.waitForFunction(() => window.cls.state().model.status === 'failed');
    const s = await state(page);
    assert.deepEqual(s.errors, ["models/cls_unet.onnx against mine/cls_unet.json: tensor 'logits' has shape " +
      '[1, 1, ?, ?, ?] but the manifest expects [1, 2, 48, 48, 48]']);
    assert.equal(s.cases.length, 24);
    assert.equal(s.tau, tau);
  });
});

test('WebGPU (SwiftShader) and wasm give the same output on a 32³ patch', async () => {
  await withApp({ extraArgs: ['--enable-unsafe-webgpu'] }, async (page) => {
    const hasGpu = await page.evaluate(async () => Boolean(navigator.gpu && await navigator.gpu.requestAdapter()));
    assert.ok(hasGpu, 'headless Chromium with --enable-unsafe-webgpu should offer a (SwiftShader) adapter');
    const out = await page.evaluate(() => window.cls.compareProviders('models/cls_unet.onnx', 'image', 'logits',
      [1, 1, 32, 32, 32], ['wasm', 'webgpu']));
    assert.ok(Array.isArray(out.wasm), `wasm: ${out.wasm}`);
    assert.ok(Array.isArray(out.webgpu), `webgpu: ${out.webgpu}`);
    assert.equal(out.webgpu.length, 32 ** 3);
    // Compared as the app uses them: lesion probabilities, the manifest's sigmoid applied.
    const sigmoid = (x) => 1 / (1 + Math.exp(-x));
    let maxLogit = 0;
    let maxProbability = 0;
    for (let i = 0; i < out.wasm.length; i += 1) {
      maxLogit = Math.max(maxLogit, Math.abs(out.wasm[i] - out.webgpu[i]));
      maxProbability = Math.max(maxProbability, Math.abs(sigmoid(out.wasm[i]) - sigmoid(out.webgpu[i])));
    }
    console.log(`32³: max |webgpu - wasm| = ${maxLogit.toExponential(2)} in logits, ` +
      `${maxProbability.toExponential(2)} in probabilities`);
    assert.ok(maxProbability <= 1e-4, `max |webgpu - wasm| = ${maxProbability} in probabilities`);
  });
});

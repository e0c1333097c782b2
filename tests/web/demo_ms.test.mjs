// The real-anatomy demo (scripts/build_ms_demo.sh, built when open_ms is beside the repository):
// "Load demo" calibrates on generated cases' scores exactly as `cls calibrate --scores` does on
// the same files, sets the real patients aside as new cases, segments them with the bundled
// model, and says how each mask did against the patient's real label, as recomputed here from
// the page's own volumes. Skipped, saying why, in a build without the data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launch, openApp } from './browser.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const demo = join(repo, 'build/web/demo_ms');
const built = existsSync(join(demo, 'manifest.json'));
const skip = built ? false : 'no real-anatomy demo in build/web (needs ../shared/data/open_ms)';

let server;
before(async () => { if (built) server = await startServer(); });
after(() => server?.stop());

test('Load demo calibrates on the scores as the CLI does and shows the real patients against their labels', { skip }, async () => {
  const manifest = JSON.parse(readFileSync(join(demo, 'manifest.json'), 'utf8'));
  const scores = manifest.files.filter((f) => f.endsWith('.score')).length;
  const browser = await launch();
  const work = await mkdtemp(join(tmpdir(), 'cls-demo-ms-test-'));
  try {
    const { page, messages } = await openApp(browser.context, server.url);
    await page.evaluate(() => window.cls.setExecution('wasm'));
    const rect = await page.evaluate(() => window.cls.state().ui_rects.load_demo);
    await page.mouse.click(rect[0] + rect[2] / 2, rect[1] + rect[3] / 2, { delay: 50 });
    await page.waitForFunction((n) => window.cls.state().n === n, scores, { timeout: 120000 });
    let s = await page.evaluate(() => window.cls.state());
    assert.equal(s.settings.region_of_interest, 'nonzero'); // as the scores were made
    assert.equal(s.settings.epsilon, manifest.settings.epsilon);
    assert.equal(s.settings.alpha, manifest.settings.alpha);

    // The same scores through the CLI: the same tau, bit for bit.
    const certificate = join(work, 'certificate.json');
    execFileSync(join(repo, 'build/native/cls'), ['calibrate', '--scores', join(demo, 'scores'),
      '--epsilon', String(s.settings.epsilon), '--alpha', String(s.settings.alpha), '--out', certificate],
    { stdio: 'pipe' });
    const cli = JSON.parse(await readFile(certificate, 'utf8'));
    assert.ok(Object.is(s.tau, cli.threshold), `page tau ${s.tau} vs CLI ${cli.threshold}`);

    // The first patient segmented: set aside, checked against the calibration set, and its
    // mask's FNR and Dice at tau and at 0.5 as recomputed from the page's volumes.
    await page.waitForFunction(() => window.cls.state().cases.some((c) =>
      c.name === 'patient07' && c.against_label), null, { timeout: 600000, polling: 1000 });
    s = await page.evaluate(() => window.cls.state());
    const patients = s.cases.filter((c) => c.set_aside).map((c) => c.name);
    assert.deepEqual(patients, manifest.new_cases);
    const patient = s.cases.find((c) => c.name === 'patient07');
    assert.equal(patient.calibrates, false);
    assert.equal(typeof patient.exchangeability.p_value, 'number');
    const expected = await page.evaluate((tau) => {
      const image = window.cls.volume('patient07', 'image').data;
      const map = window.cls.volume('patient07', 'probability map').data;
      const label = window.cls.volume('patient07', 'label').data;
      const at = (t) => {
        let predicted = 0; let hits = 0; let lesion = 0;
        for (let i = 0; i < map.length; i += 1) {
          const p = image[i] !== 0 ? map[i] : 0;
          if (p >= t) predicted += 1;
          if (label[i] !== 0) { lesion += 1; if (p >= t) hits += 1; }
        }
        return { predicted, fnr: 1 - hits / lesion, dice: (2 * hits) / (predicted + lesion), lesion };
      };
      return { tau: at(tau), half: at(0.5) };
    }, s.tau);
    const got = patient.against_label;
    assert.equal(got.lesion_voxels, expected.tau.lesion);
    assert.equal(got.at_threshold.predicted_voxels, expected.tau.predicted);
    assert.ok(Math.abs(got.at_threshold.fnr - expected.tau.fnr) < 1e-12);
    assert.ok(Math.abs(got.at_threshold.dice - expected.tau.dice) < 1e-12);
    assert.equal(got.at_half.predicted_voxels, expected.half.predicted);
    assert.ok(Math.abs(got.at_half.fnr - expected.half.fnr) < 1e-12);
    assert.deepEqual(s.errors, []);
    assert.deepEqual(messages.filter((m) => m.startsWith('error') || m.startsWith('pageerror')), []);
  } finally {
    await browser.close();
    await rm(work, { recursive: true, force: true });
  }
});

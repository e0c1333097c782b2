// Real pipelines' files in the browser app: a softmax map saved as one 4D NIfTI (x, y, z, 2)
// and BraTS-style multi-class labels (float32 0/1/3/4) make the app ask, once, which channels
// and classes are lesion; the answer gives the CLI's tau bit for bit on the same files (with
// --lesion-channels and --lesion-labels), and the exported certificate records it. At real
// size: a 4-channel map at 182x218x182 made from a real MS lesion mask of ../shared/data/open_ms
// (Lesjak et al., Neuroinformatics 2017, CC-BY). Fixtures are written by nibabel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp, installTestApi } from './browser.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cls = join(repo, 'build/native/cls');
const demo = join(repo, 'build/web/demo_probs');
const openMs = join(repo, '../shared/data/open_ms');

let app; // startApp()'s
let page;
let messages;
let work;

const state = () => page.evaluate(() => window.cls.state());

// nibabel writes the fixtures: every demo case as a two-class softmax and a BraTS-style label
// (lesion voxels alternately 1 and 4, and in cases with lesions a few other voxels 3), float32.
const makeFixtures = `
import sys, pathlib, numpy as np, nibabel as nib
demo, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(out / 'probs').mkdir(parents=True); (out / 'labels').mkdir()
for path in sorted((demo / 'probs').glob('*.nii.gz')):
    img = nib.load(path)
    p = np.asanyarray(img.dataobj).astype(np.float32)
    lesion = np.asanyarray(nib.load(demo / 'labels' / path.name).dataobj) != 0
    nib.save(nib.Nifti1Image(np.stack([1 - p, p], axis=-1).astype(np.float32), img.affine),
             out / 'probs' / path.name)
    label = np.zeros(p.shape, np.float32)
    index = np.arange(p.size).reshape(p.shape, order='F')
    label[lesion] = np.where(index[lesion] % 2 == 1, 1, 4)
    if lesion.any():
        label[~lesion & (index % 7 == 0)] = 3
    nib.save(nib.Nifti1Image(label, img.affine), out / 'labels' / path.name)
`;

// A 4-class softmax at real size from a real consensus lesion mask: the blurred mask split
// over classes 1 to 3, background first.
const makeRealSize = `
import sys, pathlib, numpy as np, nibabel as nib, scipy.ndimage
mask, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
img = nib.load(mask)
lesion = np.asanyarray(img.dataobj) > 0
p = np.clip(scipy.ndimage.gaussian_filter(lesion.astype(np.float32), 1.5) * 1.6, 0, 1)
four = np.stack([1 - p, 0.5 * p, 0.3 * p, 0.2 * p], axis=-1).astype(np.float32)
nib.save(nib.Nifti1Image(four, img.affine), out / 'patient07_prob.nii')
nib.save(nib.Nifti1Image(lesion.astype(np.uint8), img.affine), out / 'patient07_seg.nii')
`;

// The files go over as base64, far more compact than arrays of numbers.
async function loadFolder(folder, prefix) {
  const files = [];
  for (const sub of ['probs', 'labels']) {
    for (const name of (await readdir(join(folder, sub))).sort()) {
      files.push([`${prefix}/${sub}/${name}`, (await readFile(join(folder, sub, name))).toString('base64')]);
    }
  }
  await page.evaluate(async (list) => {
    for (const [path, base64] of list) {
      await window.cls.loadBytes(path, Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)));
    }
  }, files);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cls-lesion-'));
  execFileSync('/usr/bin/python3', ['-c', makeFixtures, demo, join(work, 'set')]);
  app = await startApp();
  ({ page, messages } = app);
});

after(async () => {
  await app?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('a softmax map and multi-class labels: asked once, then tau equals the CLI bit for bit', async () => {
  await page.evaluate(() => window.cls.setCalibration({ epsilon: 0.2, alpha: 0.2 }));
  await loadFolder(join(work, 'set'), 'set');
  await page.waitForFunction(() => window.cls.state().lesion.question !== null);
  let s = await state();
  assert.deepEqual(s.lesion.question, { kind: 'channels', file: 'set/probs/case_000.nii.gz', channel_count: 2, label_values: [] });
  assert.equal(s.cases.length, 0, 'loading waits for the answer');
  await page.evaluate(() => window.cls.setLesion({ channels: '1', combine: 'sum' }));
  await page.waitForFunction(() => window.cls.state().lesion.question?.kind === 'labels');
  s = await state();
  assert.deepEqual(s.lesion.question.label_values, [1, 3, 4]);
  await page.evaluate(() => window.cls.setLesion({ labels: '1,4' }));
  await page.waitForFunction(() => window.cls.state().cases.filter((c) => c.labelled).length === 24 &&
    !window.cls.busy(), null, { timeout: 60000 });
  s = await state();
  assert.deepEqual(s.errors, []);
  assert.deepEqual([s.lesion.channels, s.lesion.combine, s.lesion.labels], [[1], 'sum', '1,4']);

  const out = join(work, 'cli.json');
  execFileSync(cls, ['calibrate', '--probs', join(work, 'set/probs'), '--labels', join(work, 'set/labels'),
    '--epsilon', '0.2', '--alpha', '0.2', '--lesion-channels', '1', '--lesion-labels', '1,4', '--out', out],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  const cli = JSON.parse(await readFile(out, 'utf8'));
  assert.ok(Object.is(s.tau, cli.threshold), `browser tau ${s.tau} vs CLI ${cli.threshold}`);

  const download = page.waitForEvent('download');
  await page.evaluate(() => window.cls.exportCertificate());
  const certificate = JSON.parse(await readFile(await (await download).path(), 'utf8'));
  assert.deepEqual(certificate.lesion_channels, { channels: [1], combine: 'sum' });
  assert.deepEqual(certificate.lesion_labels, [1, 4]);
  assert.ok(Object.is(certificate.threshold, cli.threshold));
  assert.deepEqual(certificate.cases.map((c) => [c.name, c.probabilities_sha256, c.label_sha256]),
    cli.cases.map((c) => [c.name, c.probabilities_sha256, c.label_sha256]));
  assert.deepEqual(messages.filter((m) => m.startsWith('error') || m.startsWith('pageerror')), []);
});

test('a bad answer is refused with the reason', async () => {
  await page.evaluate(() => window.cls.setLesion({ channels: '1' })); // as before: no question
  const refused = await page.evaluate(() => {
    try {
      window.cls.setLesion({ channels: '1,x' });
      return null;
    } catch (error) {
      return error.message;
    }
  });
  assert.equal(refused, "--lesion-channels '1,x': 'x' is not a whole number >= 0");
});

test('at real size: a 4-channel softmax of a real MS lesion, 182x218x182', { timeout: 300000 }, async (t) => {
  const mask = join(openMs, 'lesion_masks_MNI/patient07_GOLD_STANDARD.nii.gz');
  if (!existsSync(mask)) return t.skip(`no real data at ${openMs}`);
  execFileSync('/usr/bin/python3', ['-c', makeRealSize, mask, work]);
  // The session's choice (channel 1) is not this map's: forget it, as the panel's button does.
  await page.reload();
  await page.waitForFunction(() => window.cls !== undefined);
  await installTestApi(page);
  // 115 MB: through the page's own file input, as a user opens it.
  await page.setInputFiles('#file-input', join(work, 'patient07_prob.nii'));
  await page.waitForFunction(() => window.cls.state().lesion.question !== null, null, { timeout: 120000 });
  assert.equal((await state()).lesion.question.channel_count, 4);
  await page.evaluate(() => window.cls.setLesion({ channels: '1,2,3' }));
  await page.setInputFiles('#file-input', join(work, 'patient07_seg.nii'));
  await page.waitForFunction(() => window.cls.state().cases.some((c) => c.labelled), null, { timeout: 120000 });
  const s = await state();
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.cases.map((c) => c.name), ['patient07']);
});

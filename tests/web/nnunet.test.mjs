// nnU-Net's predictions in the browser app, dropped as nnUNetv2_predict --save_probabilities
// leaves them: <case>.npz (class probabilities, (C, z, y, x), np.savez_compressed as nnU-Net
// calls it) beside <case>.nii.gz (its hard segmentation), with the labels in labelsTr/, and the
// run's plans.json, dataset.json and predict_from_raw_data_args.json. The model was planned with
// NibabelIOWithReorient and the cases are stored LPS, so every array lies on its case's
// RAS-reoriented grid (flipped in x and y), as the plans say. The page reads each .npz's member,
// C++ reads it on its label's grid once the plans are read (the .npz files come first, so they
// wait for their grid and plans), the segmentations and the run's records are set aside with a
// note, and tau equals the CLI's on the same folder bit for bit (the CLI's reading is pinned
// against nibabel in tests/cli/test_lesion_inputs.py), with the same SHA-256 of every .npz.
// Fixtures: numpy and nibabel.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp } from './browser.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const cls = join(repo, 'build/native/cls');
const demo = join(repo, 'build/web/demo_probs');

let app; // startApp()'s
let page;
let messages;
let work;

const state = () => page.evaluate(() => window.cls.state());

// Every demo case as a 3-class softmax whose classes 1 and 2 split the map, saved as nnU-Net
// saves it, with its argmax segmentation beside it; the labels as they are.
const makePredictions = `
import sys, json, pathlib, numpy as np, nibabel as nib
from nibabel.orientations import io_orientation
demo, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
(out / 'predictions').mkdir(parents=True); (out / 'labelsTr').mkdir()
rng = np.random.default_rng(5)
for path in sorted((demo / 'probs').glob('*.nii.gz')):
    name = path.name[:-len('.nii.gz')]
    img = nib.load(path)
    lps = img.affine.copy()
    lps[:2] *= -1  # the same voxels, stored with i towards -R and j towards -A
    p = np.asanyarray(img.dataobj).astype(np.float32)
    share = rng.random(p.shape).astype(np.float32)
    classes = np.stack([1 - p, p * share, p * (1 - share)]).astype(np.float32)
    ras = [nib.Nifti1Image(c, lps).as_reoriented(io_orientation(lps)).get_fdata() for c in classes]
    np.savez_compressed(str(out / 'predictions' / name) + '.npz',
                        probabilities=np.stack(ras).astype(np.float32).transpose(0, 3, 2, 1))
    nib.save(nib.Nifti1Image(classes.argmax(axis=0).astype(np.uint8), lps),
             out / 'predictions' / path.name)
    (out / 'predictions' / (name + '.pkl')).write_bytes(b'\\x80\\x04 a pickle, never read')
    label = np.asanyarray(nib.load(demo / 'labels' / path.name).dataobj)
    nib.save(nib.Nifti1Image(label, lps), out / 'labelsTr' / path.name)
(out / 'predictions' / 'plans.json').write_text(json.dumps(
    {'plans_name': 'nnUNetPlans', 'image_reader_writer': 'NibabelIOWithReorient'}))
(out / 'predictions' / 'dataset.json').write_text(json.dumps({'labels': {'background': 0}}))
(out / 'predictions' / 'predict_from_raw_data_args.json').write_text(json.dumps({'save_probabilities': True}))
`;

// Hands the page File objects with folder paths, as a folder drop does: .npz files first.
async function dropFolders(root, folders) {
  const files = [];
  for (const folder of folders) {
    const names = (await readdir(join(root, folder))).sort((a, b) => b.endsWith('.npz') - a.endsWith('.npz'));
    for (const name of names) {
      files.push([`${folder}/${name}`, (await readFile(join(root, folder, name))).toString('base64')]);
    }
  }
  await page.evaluate(async (list) => {
    const dropped = list.map(([path, base64]) => {
      const file = new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], path.split('/').pop());
      file.relativePath = path;
      return file;
    });
    await window.cls.loadFiles(dropped);
  }, files);
}

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cls-nnunet-'));
  execFileSync('/usr/bin/python3', ['-c', makePredictions, demo, work]);
  app = await startApp();
  ({ page, messages } = app);
});

after(async () => {
  await app?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

test('an nnU-Net predictions folder: the .npz probabilities on their labels grid, tau as the CLI', async () => {
  await page.evaluate(() => window.cls.setCalibration({ epsilon: 0.2, alpha: 0.2 }));
  const dropping = dropFolders(work, ['predictions', 'labelsTr']);
  await page.waitForFunction(() => window.cls.state().lesion.question !== null, null, { timeout: 60000 });
  let s = await state();
  assert.deepEqual(s.lesion.question, { kind: 'channels', file: 'predictions/case_000.npz', channel_count: 3, label_values: [] });
  await page.evaluate(() => window.cls.setLesion({ channels: '1,2', combine: 'sum' }));
  await dropping;
  await page.waitForFunction(() => window.cls.state().cases.filter((c) => c.labelled).length === 24 &&
    !window.cls.busy(), null, { timeout: 120000 });
  s = await state();
  assert.deepEqual(s.errors, []);
  assert.equal(s.cases.length, 24);
  assert.equal(s.cases[0].files['probability map'], 'predictions/case_000.npz');
  assert.equal(s.notes.length, 50);
  assert.equal(s.notes[0], "predictions/case_000.nii.gz: set aside, nnU-Net's segmentation beside its .npz probabilities, which are read instead");
  assert.equal(s.notes[24], "predictions/case_000.pkl: set aside, nnU-Net's record of its prediction (not read)");
  assert.deepEqual(s.notes.slice(48), [
    "predictions/dataset.json: set aside, nnU-Net's record of its prediction (not read)",
    "predictions/predict_from_raw_data_args.json: set aside, nnU-Net's record of its prediction (not read)",
  ]);

  const out = join(work, 'cli.json');
  execFileSync(cls, ['calibrate', '--probs', join(work, 'predictions'), '--labels', join(work, 'labelsTr'),
    '--epsilon', '0.2', '--alpha', '0.2', '--lesion-channels', '1,2', '--out', out],
  { stdio: ['ignore', 'pipe', 'pipe'] });
  const cli = JSON.parse(await readFile(out, 'utf8'));
  assert.ok(Object.is(s.tau, cli.threshold), `browser tau ${s.tau} vs CLI ${cli.threshold}`);

  const download = page.waitForEvent('download');
  await page.evaluate(() => window.cls.exportCertificate());
  const certificate = JSON.parse(await readFile(await (await download).path(), 'utf8'));
  assert.deepEqual(certificate.lesion_channels, { channels: [1, 2], combine: 'sum' });
  assert.deepEqual(certificate.cases.map((c) => [c.name, c.probabilities_sha256, c.label_sha256]),
    cli.cases.map((c) => [c.name, c.probabilities_sha256, c.label_sha256]));
  assert.deepEqual(messages.filter((m) => m.startsWith('error') || m.startsWith('pageerror')), []);
});

test('a .npz whose case brings no image or label is refused by name', async () => {
  const npz = await readFile(join(work, 'predictions/case_001.npz'));
  await page.evaluate(async (base64) => {
    const file = new File([Uint8Array.from(atob(base64), (c) => c.charCodeAt(0))], 'lonely.npz');
    file.relativePath = 'elsewhere/lonely.npz';
    await window.cls.loadFiles([file]);
    await window.cls.idle();
  }, npz.toString('base64'));
  await page.waitForFunction(() => window.cls.state().errors.length > 0);
  const s = await state();
  assert.deepEqual(s.errors, ["elsewhere/lonely.npz: nnU-Net's probabilities hold no grid or affine, and no image or label of case 'lonely' was loaded to lend it one; load the case's image or label with it"]);
  assert.equal(s.cases.length, 24, 'nothing loaded is lost');
});

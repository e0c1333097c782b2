// DICOM folders in the page (web/dicom.js): series written by pydicom from NIfTI volumes of
// known, oblique geometry (tests/reference/make_dicom_series.py) are opened as a folder, the
// series picker is answered, and the app's volume is checked against the source in world space
// (tests/reference/compare_dicom_volume.py maps each voxel through both affines, so dcm2niix
// may reorder or flip axes): every voxel equal, the affine within 1e-4 mm of nibabel's. The
// README's dcm2niix command on the same series gives the same volume; a folder without DICOM
// is reported by name and loses nothing; and once at real size (a 182x218x182 FLAIR from
// ../shared, never committed) the page's conversion is timed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, readFile, readdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startApp, installTestApi } from './browser.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const python = '/usr/bin/python3';
const makeSeries = join(repo, 'tests/reference/make_dicom_series.py');
const compareScript = join(repo, 'tests/reference/compare_dicom_volume.py');
const realFlair = join(repo, '../shared/data/open_ms/patient07',
  'FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz');

let app; // startApp()'s
let server;
let browser;
let page;
let messages;
let work;
let expected; // the synthetic series: {folder, series: {number: {description, dims, affine, source}}}

const state = () => page.evaluate(() => window.cls.state());

function run(command, args) {
  return execFileSync(command, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

// A float32 NIfTI-1 of the app's volume, so the reference script reads it with nibabel.
function niftiBytes(dims, affine, data) {
  const bytes = new Uint8Array(352 + data.byteLength);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, true);
  view.setInt16(40, 3, true);
  dims.forEach((d, i) => view.setInt16(42 + 2 * i, d, true));
  view.setInt16(70, 16, true);
  view.setInt16(72, 32, true);
  for (let i = 0; i < 4; i += 1) view.setFloat32(76 + 4 * i, 1, true);
  view.setFloat32(108, 352, true);
  view.setInt16(254, 1, true);
  affine.slice(0, 3).forEach((row, r) => row.forEach((v, c) => view.setFloat32(280 + 16 * r + 4 * c, v, true)));
  bytes.set([0x6e, 0x2b, 0x31, 0], 344);
  bytes.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 352);
  return bytes;
}

// The app's volume of a case, fetched from the page as a download (no JSON of millions of
// numbers) and written as a .nii; returns its path and the full-precision affine.
async function appVolume(name) {
  const [download, geometry] = await Promise.all([
    page.waitForEvent('download'),
    page.evaluate((caseName) => {
      const v = window.cls.volume(caseName, 'image');
      const link = document.createElement('a');
      link.href = URL.createObjectURL(new Blob([v.data]));
      link.download = `${caseName}.f32`;
      link.click();
      return { dims: v.dims, affine: v.affine, path: v.path };
    }, name),
  ]);
  const raw = await readFile(await download.path());
  const data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
  const file = join(work, `app_${name}.nii`);
  await writeFile(file, niftiBytes(geometry.dims, geometry.affine, data));
  return { file, ...geometry };
}

function compare(candidate, source, affine) {
  const args = [compareScript, candidate, source];
  if (affine) args.push(JSON.stringify(affine));
  return JSON.parse(run(python, args));
}

function assertSameVolume(report, what) {
  assert.ok(report.signed_permutation, `${what}: voxel axes map to the source's ${JSON.stringify(report)}`);
  assert.ok(report.mapping_error_voxels < 1e-3, `${what}: ${JSON.stringify(report)}`);
  assert.ok(report.affine_error_mm < 1e-4, `${what}: affine off by ${report.affine_error_mm} mm`);
  assert.equal(report.outside_source, 0, what);
  assert.equal(report.mismatched, 0, `${what}: ${report.mismatched} voxels differ (max ${report.max_abs_diff})`);
  assert.ok(report.covers_source, `${what}: every source voxel once`);
}

// Hands the page a folder as a folder picker does (File objects with webkitRelativePath), plus
// loose files, through window.cls.loadFiles, the function a drop calls. Does not wait: the
// picker may be asking.
async function openFolder(folder, extraFiles = []) {
  await page.evaluate(() => {
    for (const id of ['test-folder', 'test-files']) {
      document.getElementById(id)?.remove();
      const input = Object.assign(document.createElement('input'), { type: 'file', id, multiple: true, hidden: true });
      if (id === 'test-folder') input.webkitdirectory = true;
      document.body.append(input);
    }
  });
  await page.setInputFiles('#test-folder', folder);
  if (extraFiles.length) await page.setInputFiles('#test-files', extraFiles);
  await page.evaluate(() => {
    const files = [...document.getElementById('test-folder').files];
    for (const file of document.getElementById('test-files').files) {
      file.relativePath = `labels/${file.name}`;
      files.push(file);
    }
    window.loading = window.cls.loadFiles(files);
  });
}

async function answerPicker(tags) {
  await page.waitForSelector('#dicom-picker[open]', { timeout: 120000 });
  const offered = await page.$$eval('#dicom-picker input[name=series]', (boxes) =>
    boxes.map((b) => ({ tag: b.value, checked: b.checked, text: b.parentElement.textContent })));
  for (const box of offered) {
    if (box.checked !== tags.includes(box.tag)) await page.click(`#dicom-picker input[value="${box.tag}"]`);
  }
  await page.click('#dicom-picker button[value=load]');
  return offered;
}

const settled = () => page.evaluate(async () => {
  await window.loading;
  await window.cls.idle();
});

before(async () => {
  work = await mkdtemp(join(tmpdir(), 'cls-dicom-test-'));
  run(python, [makeSeries, 'synthetic', join(work, 'synthetic')]);
  expected = JSON.parse(await readFile(join(work, 'synthetic/expected.json'), 'utf8'));
  app = await startApp({ requires: 'build/web/dcm2niix/dcm2niix.jpeg.wasm' });
  ({ server, browser, page, messages } = app);
});

after(async () => {
  await app?.close();
  if (work) await rm(work, { recursive: true, force: true });
});

// The label a case_dicom image needs: on the grid Debian's dcm2niix gives the series (the
// page's conversion must give the same one for the two to pair).
async function labelFor(series) {
  const out = join(work, `cli_${series}`);
  await mkdir(out, { recursive: true });
  run('dcm2niix', ['-z', 'y', '-f', '%f_%s', '-o', out, join(work, 'synthetic/case_dicom')]);
  const label = join(work, 'case_dicom.nii.gz');
  run(python, ['-c', `
import nibabel as nib, numpy as np, sys
image = nib.load(sys.argv[1])
mask = np.zeros(image.shape[:3], np.uint8); mask[5:9, 6:12, 4:7] = 1
nib.save(nib.Nifti1Image(mask, image.affine), sys.argv[2])`, join(out, `case_dicom_${series}.nii.gz`), label]);
  return label;
}

test('a folder of two DICOM series asks which to load; the one chosen is the source voxel for voxel and pairs with its label', async () => {
  const before = await state();
  const label = await labelFor(1);
  await openFolder(join(work, 'synthetic/case_dicom'), [label]);
  const offered = await answerPicker(['1']);
  assert.deepEqual(offered.map((o) => [o.tag, o.checked]), [['1', true], ['2', false]]);
  assert.match(offered[0].text, /#1 · FLAIR oblique · 20×24×16/);
  assert.match(offered[1].text, /#2 · T1 coronal · 16×12×10/);
  await settled();
  const s = await state();
  assert.deepEqual(s.errors, before.errors);
  const c = s.cases.find((x) => x.name === 'case_dicom');
  assert.deepEqual(c?.files, { image: 'case_dicom/case_dicom_image.nii', label: 'labels/case_dicom.nii.gz' });
  assert.equal(s.cases.length, before.cases.length + 1, 'one series chosen, one case');

  const volume = await appVolume('case_dicom');
  const report = compare(volume.file, join(work, 'synthetic', expected.series['1'].source), volume.affine);
  assertSameVolume(report, 'series 1 in the page');
  assert.deepEqual([...volume.dims].sort(), [...expected.series['1'].dims].sort());
  const stats = await page.evaluate(() => window.cls.dicomStats());
  assert.deepEqual(stats.conversions.at(-1), { ...stats.conversions.at(-1), folder: 'case_dicom/', files: 26, series: 2 });
});

test('choosing both series loads one case each, each the source voxel for voxel', async () => {
  const before = await state();
  await openFolder(join(work, 'synthetic/case_dicom'));
  await answerPicker(['1', '2']);
  await settled();
  const s = await state();
  assert.deepEqual(s.errors, before.errors);
  for (const number of ['1', '2']) {
    const c = s.cases.find((x) => x.name === `case_dicom_s${number}`);
    assert.deepEqual(c?.files, { image: `case_dicom/case_dicom_s${number}_image.nii` });
    const volume = await appVolume(`case_dicom_s${number}`);
    assertSameVolume(compare(volume.file, join(work, 'synthetic', expected.series[number].source), volume.affine),
      `series ${number} in the page`);
  }
  assert.equal(s.cases.length, before.cases.length + 2);
});

test('the README\'s dcm2niix command gives the same volumes as the page', async () => {
  const out = join(work, 'cli');
  await mkdir(out, { recursive: true });
  run('dcm2niix', ['-z', 'y', '-f', '%f_%s', '-o', out, join(work, 'synthetic/case_dicom')]);
  assert.deepEqual((await readdir(out)).filter((f) => f.endsWith('.nii.gz')).sort(),
    ['case_dicom_1.nii.gz', 'case_dicom_2.nii.gz']);
  for (const number of ['1', '2']) {
    const cli = join(out, `case_dicom_${number}.nii.gz`);
    assertSameVolume(compare(cli, join(work, 'synthetic', expected.series[number].source)), `series ${number} by the CLI`);
    // The page's volume against the CLI's: the same grid (identity mapping) and every voxel.
    const volume = await appVolume(`case_dicom_s${number}`);
    const report = compare(volume.file, cli, volume.affine);
    assert.deepEqual(report.mapping.map((r) => r.map((v) => v + 0)), // -0 + 0 is 0
      [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], JSON.stringify(report));
    assert.equal(report.mismatched, 0);
  }
});

test('a folder without DICOM series is reported by its name and nothing loaded is lost', async () => {
  const folder = join(work, 'not_dicom');
  await mkdir(folder, { recursive: true });
  for (const i of [1, 2, 3]) await writeFile(join(folder, `slice_${i}.dcm`), `not a DICOM file ${i}\n`);
  const before = await state();
  await openFolder(folder);
  await settled();
  const s = await state();
  assert.deepEqual(s.errors.slice(before.errors.length),
    ['not_dicom/: no DICOM series found in its 3 files (dcm2niix: no valid DICOM images)']);
  assert.deepEqual(s.cases, before.cases);
});

test('a real 182x218x182 FLAIR as 182 DICOM slices converts in the page voxel for voxel', async (t) => {
  if (!existsSync(realFlair)) {
    t.skip(`${realFlair} is absent (../shared beside the clone holds the open_ms data)`);
    return;
  }
  const out = join(work, 'real');
  run(python, [makeSeries, 'from-nifti', realFlair, out]);
  const real = JSON.parse(await readFile(join(out, 'expected.json'), 'utf8'));
  const before = await state();
  await openFolder(join(out, real.folder));
  await settled();
  const s = await state();
  assert.deepEqual(s.errors, before.errors);
  assert.deepEqual(s.cases.find((c) => c.name === real.folder)?.files, { image: `${real.folder}/${real.folder}_image.nii` });
  const volume = await appVolume(real.folder);
  assertSameVolume(compare(volume.file, join(out, real.series['1'].source), volume.affine), 'the real FLAIR');
  const conversion = (await page.evaluate(() => window.cls.dicomStats())).conversions.at(-1);
  assert.equal(conversion.files, 182);
  t.diagnostic(`182 slices of 182x218 converted in the page in ${(conversion.ms / 1000).toFixed(2)} s`);
  // And the README's command on the same slices.
  const cli = join(work, 'real_cli');
  await mkdir(cli, { recursive: true });
  const started = Date.now();
  run('dcm2niix', ['-z', 'y', '-f', '%f_%s', '-o', cli, join(out, real.folder)]);
  t.diagnostic(`Debian's dcm2niix -z y: ${((Date.now() - started) / 1000).toFixed(2)} s`);
  assertSameVolume(compare(join(cli, `${real.folder}_1.nii.gz`), join(out, real.series['1'].source)),
    'the real FLAIR by the CLI');
});

test('offline after a first visit, a DICOM folder still converts (dcm2niix from the service worker\'s cache)', async () => {
  assert.equal(await page.evaluate(() => window.cls.offlineReady()), true);
  await page.waitForFunction(async () => Boolean(await caches.match('dcm2niix/dcm2niix.jpeg.wasm')), null,
    { timeout: 60000 });
  server.stop(); // the network goes; the reload comes from the cache
  await new Promise((resolve) => setTimeout(resolve, 300));
  await page.reload();
  await page.waitForFunction(() => window.cls !== undefined, null, { timeout: 60000 });
  await installTestApi(page);
  assert.equal((await state()).cases.length, 0);
  await openFolder(join(work, 'synthetic/case_dicom'));
  await answerPicker(['2']);
  await settled();
  const s = await state();
  assert.deepEqual(s.errors, []);
  assert.deepEqual(s.cases.map((c) => [c.name, c.files]), [['case_dicom', { image: 'case_dicom/case_dicom_image.nii' }]]);
  const volume = await appVolume('case_dicom');
  assertSameVolume(compare(volume.file, join(work, 'synthetic', expected.series['2'].source), volume.affine),
    'series 2, offline');
});

test('dcm2niix is served from the page\'s origin and cached for offline use; nothing leaves the origin', async () => {
  const precache = JSON.parse(await readFile(join(repo, 'build/web/precache.json'), 'utf8')).files;
  for (const file of ['dicom.js', 'dcm2niix/worker.jpeg.js', 'dcm2niix/dcm2niix.jpeg.js', 'dcm2niix/dcm2niix.jpeg.wasm']) {
    assert.ok(precache.includes(file), `${file} in precache.json`);
  }
  assert.ok(browser.requests.some((url) => url === `${server.url}dcm2niix/dcm2niix.jpeg.wasm`));
  const foreign = browser.requests.filter((url) => !url.startsWith(server.url) && !url.startsWith('blob:') && !url.startsWith('data:'));
  assert.deepEqual(foreign, []);
  assert.deepEqual(messages.filter((m) => m.startsWith('pageerror')), []);
});

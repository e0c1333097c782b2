// The size the README promises the browser handles: a 512×512×400 float32 image with its
// probability map (about 840 MB of voxels together) loads, is shown and can be calibrated on,
// or is refused with a message; the tab never crashes. The files are written by this test
// (mostly zeros, so they gzip to little) into build/web/limits/, which the server serves.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launch, openApp } from './browser.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const limits = join(repo, 'build/web/limits');
const [NX, NY, NZ] = [512, 512, 400];

// A NIfTI-1 float32 volume: a 348-byte header, 4 bytes of extension flag, then the voxels.
function nifti(fill) {
  const voxels = NX * NY * NZ;
  const bytes = Buffer.alloc(352 + 4 * voxels);
  bytes.writeInt32LE(348, 0);
  const dims = [3, NX, NY, NZ, 1, 1, 1, 1];
  dims.forEach((d, i) => bytes.writeInt16LE(d, 40 + 2 * i));
  bytes.writeInt16LE(16, 70); // float32
  bytes.writeInt16LE(32, 72);
  [1, 1, 1, 1].forEach((p, i) => bytes.writeFloatLE(p, 76 + 4 * i));
  bytes.writeFloatLE(352, 108); // vox_offset
  bytes.writeFloatLE(1, 112); // scl_slope
  bytes.write('n+1\0', 344, 'latin1');
  const data = new Float32Array(bytes.buffer, bytes.byteOffset + 352, voxels);
  fill(data);
  return gzipSync(bytes, { level: 1 });
}

// A bright cube in the middle: the lesion, labelled, and given high probability.
function cube(data, value) {
  for (let z = 190; z < 210; z += 1)
    for (let y = 246; y < 266; y += 1)
      for (let x = 246; x < 266; x += 1) data[x + NX * (y + NY * z)] = value;
}

let server;
let browser;

before(async () => {
  await mkdir(join(limits, 'images'), { recursive: true });
  await mkdir(join(limits, 'probs'), { recursive: true });
  await writeFile(join(limits, 'images/big.nii.gz'), nifti((d) => { d.fill(100); cube(d, 300); }));
  await writeFile(join(limits, 'probs/big.nii.gz'), nifti((d) => { d.fill(0.01); cube(d, 0.9); }));
  server = await startServer();
  browser = await launch();
});

after(async () => {
  await browser?.close();
  server?.stop();
  await rm(limits, { recursive: true, force: true });
});

test('a 512×512×400 float32 image and its probability map load in the browser', { timeout: 300000 }, async () => {
  const { page, messages } = await openApp(browser.context, server.url);
  await page.evaluate(async () => {
    await window.cls.loadUrl('limits/images/big.nii.gz');
    await window.cls.loadUrl('limits/probs/big.nii.gz');
    await window.cls.idle();
  });
  const s = await page.evaluate(() => window.cls.state());
  assert.deepEqual(s.errors, []);
  assert.equal(s.cases.length, 1);
  assert.deepEqual(Object.keys(s.cases[0].files).sort(), ['image', 'probability map']);
  // The views show it: the crosshair starts inside the volume.
  assert.ok(s.cursor.every((c, i) => c >= 0 && c < [NX, NY, NZ][i]));
  const heap = await page.evaluate(() => window.cls.heapBytes());
  console.log(`peak wasm heap ${(heap / 1e9).toFixed(2)} GB for ${(2 * 4 * NX * NY * NZ / 1e9).toFixed(2)} GB of voxels`);
  assert.ok(heap < 4 * 2 ** 30);
  assert.deepEqual(messages.filter((m) => m.startsWith('error') || m.startsWith('pageerror')), []);
});

test('volumes beyond the tab\'s 4 GB are refused with a message, and the tab carries on', { timeout: 300000 }, async () => {
  const { page } = await openApp(browser.context, server.url);
  const paths = ['limits/images/big.nii.gz', 'limits/probs/big.nii.gz'];
  // Load the pair under several case names until the tab's 4 GB would overflow.
  const results = await page.evaluate(async (files) => {
    const out = [];
    for (let i = 0; i < 6; i += 1) {
      for (const file of files) {
        const bytes = new Uint8Array(await (await fetch(file)).arrayBuffer());
        await window.cls.loadBytes(file.replace('big', `big${i}`), bytes);
      }
      await window.cls.idle();
      const s = window.cls.state();
      out.push({ cases: s.cases.length, errors: s.errors.length });
      if (s.errors.length > 0) break;
    }
    return out;
  }, paths);
  const s = await page.evaluate(() => window.cls.state());
  console.log(`loaded ${JSON.stringify(results)}; then: ${s.errors[0]}`);
  assert.ok(s.errors.length > 0, `no refusal after ${JSON.stringify(results)}`);
  assert.match(s.errors[0], /limits\/(images|probs)\/big\d\.nii\.gz: .* left in this tab \(WebAssembly has 4 GB in all\)/);
  // Everything loaded before the refusal is still there, and the page still answers.
  assert.equal(s.cases.length, results.at(-1).cases);
  assert.ok(s.cases.length >= 2);
});

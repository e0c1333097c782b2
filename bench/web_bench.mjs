// The browser app's performance, side by side in one run of headless Debian Chromium:
//   time to first rendered slice of a 256^3 float32 .nii.gz, this app vs NiiVue (npm, test-only);
//   peak wasm heap after loading that image and its probability map, vs their bytes;
//   the time to recolour and upload one 512x512 view (a 512x512x16 image with its probability
//   map, every overlay on), as the app measures it while the crosshair moves.
// Usage: node bench/web_bench.mjs [rounds]   after scripts/build_web.sh
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { readFileSync, writeFileSync } from 'node:fs';
import { startServer, launch, installTestApi } from '../tests/web/browser.mjs';

const repo = fileURLToPath(new URL('..', import.meta.url));
const rounds = Number(process.argv[2] ?? 3);
const root = join(repo, 'build/web-bench');
const image = 'data/images/case_000.nii.gz';
const probability = 'data/probs/case_000.nii.gz';

if (!existsSync(join(repo, 'build/web/cls_studio.wasm'))) throw new Error('run scripts/build_web.sh first');
rmSync(root, { recursive: true, force: true });
cpSync(join(repo, 'build/web'), root, { recursive: true });
cpSync(join(repo, 'bench/web'), root, { recursive: true });
mkdirSync(join(root, 'niivue'));
cpSync(join(repo, 'node_modules/@niivue/niivue/dist/index.js'), join(root, 'niivue/index.js'));
execFileSync(join(repo, 'build/native/cls'), ['synth', '--cases', '1', '--size', '256', '--seed', '3', '--out', join(root, 'data')], { stdio: 'ignore' });

// A little-endian NIfTI-1 float32 volume with an identity affine; values from `value(x, y, z)`.
function writeNifti(path, [nx, ny, nz], value) {
  const header = Buffer.alloc(352);
  header.writeInt32LE(348, 0);
  [3, nx, ny, nz, 1, 1, 1, 1].forEach((d, i) => header.writeInt16LE(d, 40 + 2 * i));
  header.writeInt16LE(16, 70); // float32
  header.writeInt16LE(32, 72);
  [1, 1, 1, 1, 1, 1, 1, 1].forEach((p, i) => header.writeFloatLE(p, 76 + 4 * i));
  header.writeFloatLE(352, 108);
  header.writeFloatLE(1, 112);
  header.writeInt16LE(1, 254); // sform_code
  [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]].forEach((row, r) => row.forEach((v, c) => header.writeFloatLE(v, 280 + 16 * r + 4 * c)));
  header.write('n+1\0', 344, 'latin1');
  const data = Buffer.alloc(nx * ny * nz * 4);
  let i = 0;
  for (let z = 0; z < nz; ++z) for (let y = 0; y < ny; ++y) for (let x = 0; x < nx; ++x) data.writeFloatLE(value(x, y, z), 4 * i++);
  writeFileSync(path, Buffer.concat([header, data]));
}
mkdirSync(join(root, 'data/wide/images'), { recursive: true });
mkdirSync(join(root, 'data/wide/probs'), { recursive: true });
const disc = (x, y) => ((x - 256) ** 2 + (y - 256) ** 2 < 60 ** 2 ? 1 : 0);
writeNifti(join(root, 'data/wide/images/wide.nii'), [512, 512, 16], (x, y, z) => 100 + 50 * disc(x, y) + ((x * 7 + y * 13 + z) % 17));
writeNifti(join(root, 'data/wide/probs/wide.nii'), [512, 512, 16], (x, y) => (disc(x, y) ? 0.8 : 0.02) + ((x + y) % 10) / 100);

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const server = await startServer(root);
const browser = await launch();
const ours = [];
const theirs = [];
let heap = 0;
let redraw;
try {
  for (let round = 0; round < rounds; ++round) {
    // Alternate which goes first, so neither always meets a warm cache or a busy machine.
    for (const which of round % 2 === 0 ? ['ours', 'niivue'] : ['niivue', 'ours']) {
      const page = await browser.context.newPage();
      if (which === 'ours') {
        await page.goto(server.url);
        await page.waitForFunction(() => window.cls !== undefined, null, { timeout: 60000 });
        await installTestApi(page);
        ours.push(await page.evaluate(async (url) => {
          const start = performance.now();
          await window.cls.loadUrl(url);
          await window.cls.idle();
          await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
          return performance.now() - start;
        }, image));
        await page.evaluate((url) => window.cls.loadUrl(url).then(() => window.cls.idle()), probability);
        heap = Math.max(heap, await page.evaluate(() => window.cls.heapBytes()));
      } else {
        await page.goto(`${server.url}niivue.html`);
        await page.waitForFunction(() => window.firstSlice !== undefined, null, { timeout: 60000 });
        theirs.push(await page.evaluate((url) => window.firstSlice(url), image));
      }
      await page.close();
    }
  }
  // Frame time with the crosshair moving (every view recoloured and uploaded) and still.
  const page = await browser.context.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => window.cls !== undefined, null, { timeout: 60000 });
  await installTestApi(page);
  redraw = await page.evaluate(async () => {
    await window.cls.loadUrl('data/wide/images/wide.nii');
    await window.cls.loadUrl('data/wide/probs/wide.nii');
    await window.cls.idle();
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const axial = [];
    for (let i = 0; i < 40; ++i) {
      window.cls.setCursor(256, 256, i % 16);  // a new axial slice: every view is redrawn
      await frame();
      await frame();
      axial.push(window.cls.state().redraw_ms[0]);
    }
    axial.sort((a, b) => a - b);
    return axial[axial.length >> 1];
  });
  await page.close();
} finally {
  await browser.close();
  server.stop();
}

const dataBytes = [image, probability].map((f) => gunzipSync(readFileSync(join(root, f))).length - 352)
  .reduce((a, b) => a + b, 0);
const gz = statSync(join(root, image)).size;
console.log(`256^3 float32 image (${(gz / 2 ** 20).toFixed(1)} MiB .nii.gz), headless Chromium, median of ${rounds}`);
console.log(`time to first rendered slice   CLS Studio ${median(ours).toFixed(0)} ms   NiiVue ${median(theirs).toFixed(0)} ms   ratio ${(median(ours) / median(theirs)).toFixed(2)}`);
console.log(`  (all rounds: CLS Studio ${ours.map((t) => t.toFixed(0)).join(', ')}; NiiVue ${theirs.map((t) => t.toFixed(0)).join(', ')})`);
console.log(`redraw of one 512x512 axial view (colouring + upload), median of 40: ${redraw.toFixed(2)} ms`);
console.log(`peak wasm heap with image + probability map: ${(heap / 2 ** 20).toFixed(0)} MiB for ${(dataBytes / 2 ** 20).toFixed(0)} MiB of voxels = ${(heap / dataBytes).toFixed(2)}x`);

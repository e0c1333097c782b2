// The browser app's performance, side by side in one run of headless Debian Chromium:
//   time to first rendered slice of a 256^3 float32 .nii.gz, this app vs NiiVue (npm, test-only);
//   peak wasm heap after loading that image and its probability map, vs their bytes.
// (Slice redraw per 512x512 view is measured natively by build/native/bench/cls_bench_app.)
// Usage: node bench/web_bench.mjs [rounds]   after scripts/build_web.sh
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { startServer, launch } from '../tests/web/browser.mjs';

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

const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const server = await startServer(root);
const browser = await launch();
const ours = [];
const theirs = [];
let heap = 0;
try {
  for (let round = 0; round < rounds; ++round) {
    // Alternate which goes first, so neither always meets a warm cache or a busy machine.
    for (const which of round % 2 === 0 ? ['ours', 'niivue'] : ['niivue', 'ours']) {
      const page = await browser.context.newPage();
      if (which === 'ours') {
        await page.goto(server.url);
        await page.waitForFunction(() => window.cls !== undefined, null, { timeout: 60000 });
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
console.log(`peak wasm heap with image + probability map: ${(heap / 2 ** 20).toFixed(0)} MiB for ${(dataBytes / 2 ** 20).toFixed(0)} MiB of voxels = ${(heap / dataBytes).toFixed(2)}x`);

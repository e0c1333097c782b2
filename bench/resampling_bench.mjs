// What resampling to a model's spacing costs beside the whole volume it serves (issue 11): a
// real 182×218×182 FLAIR at 1 mm (open_ms patient26, Lesjak et al. 2017, CC-BY) through the
// bundled model by cls_infer and onnxruntime-node (1 thread), with the manifest's spacing_mm
// as trained (1 mm: no resampling) and as if trained at 1.2 mm and at 0.8 mm (the image is
// resampled to that grid, run there, and its map resampled back). Per run: network runs, the
// job's start (normalising, resampling in, planning), the patch loop, the map's write
// (resampling back), the whole; resampling's share is the start and write time beyond the
// 1 mm run's, over the whole. One run each, in one process.
// Usage: node bench/resampling_bench.mjs [open_ms folder]   (default ../shared/data/open_ms),
//   after scripts/build.sh wasm-release cls_infer
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ClsInfer, createNodeRunner, loadModel, readNiftiBytes, repo,
} from '../scripts/infer_lib.mjs';

const data = process.argv[2] ?? join(repo, '../shared/data/open_ms');
const flair = join(data, 'patient26/FLAIR_N4_noneck_reduced_winsor_regtoFLAIR_brain_N4_regtoMNI.nii.gz');
if (!existsSync(flair)) throw new Error(`${flair} is missing: give the open_ms folder`);
const infer = await ClsInfer.load();
const model = await loadModel(infer, join(repo, 'models/cls_unet.json'));
const run = await createNodeRunner(model, { threads: 1 });
const bytes = await readNiftiBytes(flair);

async function timed(spacing) {
  const manifest = JSON.stringify({ ...model.manifest, spacing_mm: [spacing, spacing, spacing] });
  const t0 = performance.now();
  const job = infer.open(bytes, manifest);
  const t1 = performance.now();
  try {
    while (!job.finished) job.accept(await run(job.nextInput(), job.inputShape));
    const t2 = performance.now();
    job.result();
    const t3 = performance.now();
    return { spacing, runs: job.runCount, startMs: t1 - t0, loopMs: t2 - t1, writeMs: t3 - t2, totalMs: t3 - t0 };
  } finally {
    job.close();
  }
}

const rows = [];
for (const spacing of [1.0, 1.2, 0.8]) rows.push(await timed(spacing));
const plain = rows[0];
const ms = (x) => `${(x / 1000).toFixed(2)} s`;
console.log('| spacing_mm | network runs | start | patch loop | map written | whole | resampling share |');
console.log('| --- | --- | --- | --- | --- | --- | --- |');
for (const r of rows) {
  const extra = r === plain ? 0 : (r.startMs - plain.startMs) + (r.writeMs - plain.writeMs);
  const share = r === plain ? '—' : `${(100 * extra / r.totalMs).toFixed(1)}%`;
  console.log(`| ${r.spacing} | ${r.runs} | ${ms(r.startMs)} | ${ms(r.loopMs)} | ${ms(r.writeMs)} | ${ms(r.totalMs)} | ${share} |`);
}
run.release();

#!/usr/bin/env node
// Batch inference outside the browser: every .nii / .nii.gz image in a folder through the same
// C++ sliding window as the app (build/wasm/wasm/cls_infer.js), with onnxruntime-node running
// the network on the CPU. Writes one float32 probability map per case, <case>.nii.gz, which
// `cls calibrate --probs OUT --labels LABELS` reads: <case> comes from the core's pairing rule
// (an nnU-Net "_0000" channel and BIDS entities other than sub and ses are dropped).
// Links to images, and a linked folder, are followed; a dangling link is refused by name.
// Needs: scripts/build.sh wasm-release cls_infer, and npm's onnxruntime-node (scripts/setup.sh).
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { parseArgs } from 'node:util';
import {
  ClsInfer, createNodeRunner, fileError, inferImage, listCases, loadModel, readNiftiBytes,
} from './infer_lib.mjs';

const usage = `usage: node scripts/infer.mjs --model MODEL.json --images DIR --out DIR
                            [--overlap 0.5] [--mirror] [--threads N] [--skip-background RULE]
  --model    a model manifest (cls-model/1); its .onnx sits beside it (models/cls_unet.json)
  --images   a folder of .nii / .nii.gz images (or links to them); for a model of several
             input channels, a file per channel: <case>_0000 ... or <case>_FLAIR, <case>_T1 ...
  --out      where <case>.nii.gz probability maps go (created if missing)
  --overlap  fraction of a patch shared with its neighbour, in [0, 1) (default 0.5)
  --mirror   test-time augmentation: every patch under all 8 axis flips (8x slower)
  --threads  onnxruntime-node intra-op threads (default 1)
  --skip-background  none, minimum or nonzero: which patches are answered "no lesion" without
             running the network (default: the manifest's skip_background, else none)`;

function parse(argv) {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      images: { type: 'string' },
      out: { type: 'string' },
      overlap: { type: 'string', default: '0.5' },
      mirror: { type: 'boolean', default: false },
      threads: { type: 'string', default: '1' },
      'skip-background': { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(usage);
    process.exit(0);
  }
  for (const required of ['model', 'images', 'out']) {
    if (!values[required]) throw new Error(`option --${required} is required\n${usage}`);
  }
  const overlap = Number(values.overlap);
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`--overlap must be in [0, 1), not ${values.overlap}`);
  const threads = Number(values.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a whole number >= 1, not ${values.threads}`);
  const skipBackground = values['skip-background'];
  if (skipBackground !== undefined && !['none', 'minimum', 'nonzero'].includes(skipBackground)) {
    throw new Error(`--skip-background must be none, minimum or nonzero, not ${skipBackground}`);
  }
  return { ...values, overlap, threads, skipBackground };
}

async function main() {
  const options = parse(process.argv.slice(2));
  const infer = await ClsInfer.load();
  const model = await loadModel(infer, options.model);
  const images = await listCases(infer, options.images, model);
  const run = await createNodeRunner(model, { threads: options.threads });
  await mkdir(options.out, { recursive: true });
  const tty = process.stderr.isTTY;
  const started = performance.now();
  try {
    for (const [index, image] of images.entries()) {
      const label = `[${index + 1}/${images.length}] ${image.name}`;
      const channels = await Promise.all(image.paths.map(readNiftiBytes));
      const bytes = channels.length === 1 ? channels[0] : channels;
      let result;
      try {
        result = await inferImage(infer, model, bytes, run, {
          overlap: options.overlap,
          mirror: options.mirror,
          skipBackground: options.skipBackground,
          onProgress: (done, total) => {
            if (tty) process.stderr.write(`\r${label}: ${done}/${total} patches`);
          },
        });
      } catch (error) {
        if (tty) process.stderr.write('\n');
        throw fileError(image.paths.join(', '), error.message);
      }
      const target = join(options.out, `${image.name}.nii.gz`);
      // Written whole, then renamed: an interrupted run leaves no truncated map to calibrate on.
      await writeFile(`${target}.partial`, gzipSync(result.nifti));
      await rename(`${target}.partial`, target);
      process.stderr.write(`${tty ? '\r' : ''}${label}: ${result.runs}/${result.runs} patches ` +
        `(${result.skipped} skipped as background), ` +
        `${(result.totalMs / 1000).toFixed(2)} s (network ${(result.sessionMs / 1000).toFixed(2)} s) -> ${target}\n`);
    }
  } finally {
    await run.release();
  }
  process.stderr.write(`infer: ${images.length} probability maps in ${options.out} ` +
    `(${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
}

main().catch((error) => {
  process.stderr.write(`infer: error: ${error.message}\n`);
  process.exit(1);
});

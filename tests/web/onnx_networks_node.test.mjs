// Networks as the frameworks export them (tests/reference/make_torch_networks.py, made here by
// Debian's torch: nnU-Net's PlainConvUNet and a MONAI-style residual UNet, 4 channels in, 4
// classes out, opset 17, small), in Node:
//   (a) ONNX Runtime Web's wasm provider, which the page runs, equals onnxruntime-node within
//       1e-4 on the same 4-channel input, for both networks;
//   (b) the core's WebGPU rewrite (through cls_infer, as the app calls it) turns nnU-Net's two
//       ConvTranspose nodes, (2, 2, 2) and the anisotropic (1, 2, 2), into 1x1x1 Conv +
//       depth-to-space, and the rewritten model equals the original within 1e-4 on
//       onnxruntime-node and on ORT Web wasm, with an odd batch and unequal sizes;
//   (c) MONAI's ConvTranspose (kernel 3, stride 2, padding 1) stays, with the reason.
// Needs build/wasm/wasm/cls_infer.js (scripts/build_web.sh) and /usr/bin/python3 with torch.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import * as ortWeb from 'onnxruntime-web';
import { ClsInfer, repo } from '../../scripts/infer_lib.mjs';
import { readNifti1, writeNifti1 } from './nifti1.mjs';

const ortNode = createRequire(import.meta.url)('onnxruntime-node');
const TOLERANCE = 1e-4;

let scratch;
let infer;
let networks;
const bytes = {};

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cls-networks-test-'));
  execFileSync('/usr/bin/python3', [join(repo, 'tests/reference/make_torch_networks.py'), scratch,
    '--features', '4', '--stages', '3'], { stdio: 'inherit' });
  networks = JSON.parse(await readFile(join(scratch, 'networks.json'), 'utf8'));
  for (const name of Object.keys(networks.networks)) bytes[name] = await readFile(join(scratch, `${name}.onnx`));
  infer = await ClsInfer.load();
  ortWeb.env.wasm.numThreads = 1;
});

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

// A smooth, z-scored-looking input, the same for every runtime.
function input(shape) {
  const count = shape.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: count }, (_, i) => Math.sin(i * 0.37) * 1.5 + Math.cos(i * 0.011));
}

// The network's output on `runtime` (onnxruntime-node, or ORT Web on wasm).
async function outputOf(runtime, modelBytes, shape, options = {}) {
  const session = await runtime.InferenceSession.create(modelBytes, options);
  try {
    const feeds = { [networks.input.name]: new runtime.Tensor('float32', input(shape), shape) };
    return (await session.run(feeds))[networks.output.name];
  } finally {
    await session.release();
  }
}
const node = (modelBytes, shape) => outputOf(ortNode, modelBytes, shape);
const web = (modelBytes, shape) => outputOf(ortWeb, modelBytes, shape, { executionProviders: ['wasm'] });

function maxAbsDiff(a, b) {
  assert.deepEqual(a.dims, b.dims);
  let max = 0;
  for (let i = 0; i < a.data.length; ++i) max = Math.max(max, Math.abs(a.data[i] - b.data[i]));
  return max;
}

test('ORT Web (wasm) equals onnxruntime-node within 1e-4 on both networks, 4 channels in, 4 classes out', async () => {
  const shape = [1, networks.input.channels, 16, 32, 24];
  for (const name of ['nnunet_plain', 'monai_residual']) {
    const reference = await node(bytes[name], shape);
    assert.deepEqual(reference.dims, [1, networks.output.channels, 16, 32, 24]);
    const difference = maxAbsDiff(await web(bytes[name], shape), reference);
    console.log(`${name}: max |ORT Web wasm - onnxruntime-node| = ${difference.toExponential(2)}`);
    assert.ok(difference <= TOLERANCE, `${name}: ${difference}`);
  }
});

test("the core's WebGPU rewrite of nnU-Net's up-sampling computes what the original does", async () => {
  const rewrite = infer.rewriteForWebGpu(bytes.nnunet_plain);
  assert.ok(rewrite.bytes, 'nnU-Net is rewritten');
  assert.deepEqual(rewrite.kept, []);
  assert.equal(rewrite.rewritten.length, 2);
  assert.match(rewrite.rewritten[0], /kernel = stride 2x2x2, 16 -> 8 channels\) became a 1x1x1 Conv to 64 channels/);
  assert.match(rewrite.rewritten[1], /kernel = stride 1x2x2, 8 -> 4 channels\) became a 1x1x1 Conv to 16 channels/);
  // A batch of 3 and three different sizes: the depth-to-space shapes come from the input.
  const shape = [3, networks.input.channels, 8, 16, 12];
  const original = await node(bytes.nnunet_plain, shape);
  const onNode = maxAbsDiff(await node(rewrite.bytes, shape), original);
  const onWeb = maxAbsDiff(await web(rewrite.bytes, shape), await web(bytes.nnunet_plain, shape));
  console.log(`nnunet_plain rewritten vs original: max diff ${onNode.toExponential(2)} on onnxruntime-node, ` +
    `${onWeb.toExponential(2)} on ORT Web wasm`);
  assert.ok(onNode <= TOLERANCE, `onnxruntime-node: ${onNode}`);
  assert.ok(onWeb <= TOLERANCE, `ORT Web wasm: ${onWeb}`);
});

test("MONAI's up-sampling (kernel 3, stride 2, padding 1) stays as it is, with the reason", () => {
  const rewrite = infer.rewriteForWebGpu(bytes.monai_residual);
  assert.equal(rewrite.bytes, null);
  assert.deepEqual(rewrite.rewritten, []);
  assert.equal(rewrite.kept.length, 2);
  for (const line of rewrite.kept) assert.match(line, /stays \(kernel 3x3x3, stride 2x2x2\)/);
});

// A softmax head read as whole tumour: nnU-Net's network with 1 channel in and 4 classes out,
// through cls_infer's sliding window with `lesion_classes: [1, 2, 3]`, gives at every voxel the
// summed softmax of onnxruntime-node's logits on the same input (one 16³ patch, so no blending
// between patches).
test('a 4-class softmax with lesion_classes [1, 2, 3] gives their summed probability', async () => {
  const folder = join(scratch, 'one_in_four_out');
  execFileSync('/usr/bin/python3', [join(repo, 'tests/reference/make_torch_networks.py'), folder,
    '--features', '4', '--stages', '3', '--in-channels', '1', '--classes', '4'], { stdio: 'inherit' });
  const model = await readFile(join(folder, 'nnunet_plain.onnx'));
  const edge = 16;
  const manifest = {
    format: 'cls-model/1', name: 'whole-tumour', model_file: 'nnunet_plain.onnx',
    input: { name: networks.input.name, channels: 1 },
    output: { name: networks.output.name, channels: 4, activation: 'softmax', lesion_classes: [1, 2, 3] },
    patch_size: [edge, edge, edge], spatial_divisor: 4, spacing_mm: [1, 1, 1],
    normalisation: { scheme: 'none' },
  };
  const image = input([edge * edge * edge]);
  const job = infer.open(writeNifti1([edge, edge, edge], image), JSON.stringify(manifest));
  let logits;
  try {
    assert.equal(job.runCount, 1);
    const session = await ortNode.InferenceSession.create(model);
    try {
      const feeds = { [networks.input.name]: new ortNode.Tensor('float32', job.nextInput(), job.inputShape) };
      logits = (await session.run(feeds))[networks.output.name].data;
    } finally {
      await session.release();
    }
    job.accept(logits);
    assert.ok(job.finished);
    const map = readNifti1(job.result()).data;
    const voxels = edge ** 3;
    let worst = 0;
    for (let v = 0; v < voxels; v += 1) {
      const l = [0, 1, 2, 3].map((c) => logits[c * voxels + v]);
      const top = Math.max(...l);
      const e = l.map((x) => Math.exp(x - top));
      const expected = (e[1] + e[2] + e[3]) / (e[0] + e[1] + e[2] + e[3]);
      worst = Math.max(worst, Math.abs(map[v] - expected));
    }
    console.log(`whole tumour from a 4-class softmax: max |cls_infer - summed softmax| = ${worst.toExponential(2)}`);
    assert.ok(worst <= 1e-6, `${worst}`);
  } finally {
    job.close();
  }
});

// Both networks as trained on BraTS-style data: 4 input channels, one file per channel
// (`case_001_0000.nii` ... `_0003`), 4 classes summed into whole tumour. `scripts/infer.mjs`
// groups the files by the core's rule and runs the case; its map equals onnxruntime-node's
// summed softmax on the 4 channels, each z-scored on its own here, within 1e-4 (one 16³ patch).
// A case without one of its modalities is refused, naming the case and the modality.
test('infer.mjs runs 4-channel models on a case of one file per modality, equal to onnxruntime-node', async () => {
  for (const network of ['nnunet_plain', 'monai_residual']) await fourChannelCase(network);
});

async function fourChannelCase(network) {
  const folder = join(scratch, `brats_${network}`);
  const images = join(folder, 'images');
  const out = join(folder, 'probs');
  await mkdir(images, { recursive: true });
  const edge = 16;
  const voxels = edge ** 3;
  const channels = [0, 1, 2, 3].map((c) => Float32Array.from({ length: voxels },
    (_, i) => 100 + 40 * c + 30 * Math.sin(i * (0.05 + 0.02 * c)) + 10 * Math.cos(i * 0.003)));
  for (const [c, data] of channels.entries()) {
    await writeFile(join(images, `case_001_000${c}.nii`), writeNifti1([edge, edge, edge], data));
  }
  await writeFile(join(folder, `${network}.onnx`), bytes[network]);
  const manifest = join(folder, 'brats.json');
  await writeFile(manifest, JSON.stringify({
    format: 'cls-model/1', name: 'brats-whole-tumour', model_file: `${network}.onnx`,
    input: { name: networks.input.name, channels: 4, modalities: ['FLAIR', 'T1', 'T1c', 'T2'] },
    output: { name: networks.output.name, channels: 4, activation: 'softmax', lesion_classes: [1, 2, 3] },
    patch_size: [edge, edge, edge], spatial_divisor: 4, spacing_mm: [1, 1, 1],
    normalisation: { scheme: 'zscore', region: 'all' },
  }));
  const script = join(repo, 'scripts/infer.mjs');
  execFileSync(process.execPath, [script, '--model', manifest, '--images', images, '--out', out], { stdio: 'pipe' });
  const map = readNifti1(gunzipSync(await readFile(join(out, 'case_001.nii.gz')))).data;

  const stacked = new Float32Array(4 * voxels);
  for (const [c, data] of channels.entries()) {
    const mean = data.reduce((a, b) => a + b, 0) / voxels;
    const sd = Math.sqrt(data.reduce((a, b) => a + (b - mean) ** 2, 0) / voxels);
    for (let i = 0; i < voxels; i += 1) stacked[c * voxels + i] = (data[i] - mean) / sd;
  }
  const session = await ortNode.InferenceSession.create(bytes[network]);
  let logits;
  try {
    const feeds = { [networks.input.name]: new ortNode.Tensor('float32', stacked, [1, 4, edge, edge, edge]) };
    logits = (await session.run(feeds))[networks.output.name].data;
  } finally {
    await session.release();
  }
  let worst = 0;
  for (let v = 0; v < voxels; v += 1) {
    const l = [0, 1, 2, 3].map((c) => logits[c * voxels + v]);
    const top = Math.max(...l);
    const e = l.map((x) => Math.exp(x - top));
    worst = Math.max(worst, Math.abs(map[v] - (e[1] + e[2] + e[3]) / (e[0] + e[1] + e[2] + e[3])));
  }
  console.log(`${network}, 4 channels in, whole tumour out, through infer.mjs: max |map - onnxruntime-node| = ${worst.toExponential(2)}`);
  assert.ok(worst <= 1e-4, `${worst}`);

  await rm(join(images, 'case_001_0002.nii'));
  const missing = spawnSync(process.execPath, [script, '--model', manifest, '--images', images, '--out', out], { encoding: 'utf8' });
  assert.equal(missing.status, 1);
  assert.equal(missing.stderr.trim(), `infer: error: ${images}: case case_001 has no channel 2 (T1c) file among 3 given; ` +
    'name it <case>_0000.nii.gz ... <case>_0003.nii.gz, or end its name with one of FLAIR, T1, T1c, T2 (<case>_FLAIR.nii.gz)');
}

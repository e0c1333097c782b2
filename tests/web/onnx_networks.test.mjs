// nnU-Net's PlainConvUNet as torch exports it (tests/reference/make_torch_networks.py, tiny:
// 4 base features, 3 stages, made here by Debian's torch) on WebGPU in headless Chromium
// (SwiftShader: correctness only, never speed). Its 3D ConvTranspose nodes fail on ONNX Runtime
// Web's WebGPU provider; the core's rewrite (1x1x1 Conv + depth-to-space) runs there and equals
// the original on wasm within 1e-4. Through the app, such a model starts on WebGPU with the
// rewrite and the model panel says so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launch, openApp } from './browser.mjs';
import { writeNifti1 } from './nifti1.mjs';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const ortNode = createRequire(import.meta.url)('onnxruntime-node');
let server;
let scratch;

async function networks(folder, ...options) {
  const out = join(scratch, folder);
  execFileSync('/usr/bin/python3', [join(repo, 'tests/reference/make_torch_networks.py'), out,
    '--features', '4', '--stages', '3', ...options], { stdio: 'inherit' });
  return { nnunet: await readFile(join(out, 'nnunet_plain.onnx')) };
}

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cls-networks-web-'));
  server = await startServer();
});

after(async () => {
  server?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

async function withWebGpu(body) {
  const browser = await launch({ extraArgs: ['--enable-unsafe-webgpu'] });
  try {
    const { page } = await openApp(browser.context, server.url);
    const hasGpu = await page.evaluate(async () => Boolean(navigator.gpu && await navigator.gpu.requestAdapter()));
    assert.ok(hasGpu, 'headless Chromium with --enable-unsafe-webgpu should offer a (SwiftShader) adapter');
    await body(page);
  } finally {
    await browser.close();
  }
}

test("nnU-Net's network, rewritten by the core, runs on WebGPU and equals the original on wasm within 1e-4", async () => {
  const { nnunet } = await networks('four_channels');
  await withWebGpu(async (page) => {
    const shape = [1, 4, 16, 16, 16];
    const compare = (rewrite) => page.evaluate(([bytes, s, r]) => window.cls.compareProviders(bytes, 'image',
      'logits', s, ['wasm', 'webgpu'], { rewrite: r }), [Array.from(nnunet), shape, rewrite]);
    const original = await compare(false);
    assert.ok(Array.isArray(original.wasm), `wasm: ${original.wasm}`);
    assert.match(String(original.webgpu), /ConvTranspose/, 'as exported, WebGPU cannot run it');

    const out = await compare(true);
    assert.ok(Array.isArray(out.webgpu), `webgpu on the rewrite: ${out.webgpu}`);
    assert.deepEqual(out.wasm, original.wasm, 'wasm runs the file as it is');
    assert.equal(out.webgpu.length, 4 * 16 ** 3);
    let maxLogit = 0;
    let maxProbability = 0;
    const voxels = 16 ** 3;
    for (let v = 0; v < voxels; v += 1) {
      // Softmax over the 4 classes, as a manifest with `activation: softmax` reads them.
      const softmax = (values) => {
        const logits = [0, 1, 2, 3].map((c) => values[c * voxels + v]);
        const top = Math.max(...logits);
        const e = logits.map((l) => Math.exp(l - top));
        const sum = e.reduce((a, b) => a + b, 0);
        return e.map((x) => x / sum);
      };
      const [p, q] = [softmax(out.wasm), softmax(out.webgpu)];
      for (let c = 0; c < 4; c += 1) {
        maxLogit = Math.max(maxLogit, Math.abs(out.wasm[c * voxels + v] - out.webgpu[c * voxels + v]));
        maxProbability = Math.max(maxProbability, Math.abs(p[c] - q[c]));
      }
    }
    console.log(`16³, 4 channels: max |webgpu (rewrite) - wasm (original)| = ${maxLogit.toExponential(2)} ` +
      `in logits, ${maxProbability.toExponential(2)} in softmax probabilities`);
    assert.ok(maxLogit <= 1e-4, `logits differ by ${maxLogit}`);
    assert.ok(maxProbability <= 1e-4, `probabilities differ by ${maxProbability}`);
  });
});

test('through the app, such a model starts on WebGPU with the rewrite, says so, and segments a scan there', async () => {
  // The app's manifests take one channel for now: the same network with 1 in, 1 out.
  const { nnunet } = await networks('one_channel', '--in-channels', '1', '--classes', '1');
  const manifest = {
    format: 'cls-model/1', name: 'nnunet-plain-tiny', model_file: 'nnunet_plain.onnx',
    input: { name: 'image', channels: 1 }, output: { name: 'logits', channels: 1, activation: 'sigmoid' },
    patch_size: [48, 48, 48], spacing_mm: [1, 1, 1], normalisation: { scheme: 'zscore', region: 'all' },
  };
  await withWebGpu(async (page) => {
    await page.evaluate(() => window.cls.setExecution('auto'));
    await page.evaluate(async ([m, bytes]) => {
      await window.cls.loadBytes('mine/nnunet_plain.json', new TextEncoder().encode(m));
      await window.cls.loadBytes('mine/nnunet_plain.onnx', bytes);
      await window.cls.idle();
    }, [JSON.stringify(manifest), Array.from(nnunet)]);
    await page.waitForFunction(() => ['ready', 'failed'].includes(window.cls.state().model.status), null,
      { timeout: 60000 });
    let s = await page.evaluate(() => window.cls.state());
    assert.equal(s.model.status, 'ready', s.model.error);
    assert.equal(s.model.provider, 'webgpu', s.model.provider_note);
    assert.deepEqual(s.model.webgpu_blocked_by, []);
    assert.equal(s.model.webgpu_rewrites.length, 2);
    assert.ok(s.ui_rects.model_webgpu_rewrite, 'the model panel shows the rewrite');

    // One 48³ scan, one patch, on WebGPU: no fallback to wasm on the way.
    await page.evaluate(() => window.cls.loadUrl('demo/images/case_000.nii.gz'));
    await page.waitForFunction(() => {
      const st = window.cls.state();
      return st.cases.length === 1 && st.cases[0].files['probability map'] !== undefined;
    }, null, { timeout: 120000 });
    s = await page.evaluate(() => window.cls.state());
    assert.deepEqual(s.errors, []);
    assert.equal(s.model.provider, 'webgpu');
    assert.equal(s.model.provider_note, '');
    assert.equal(s.model.patches_run, 1);
  });
});

test("a model whose run would not fit ONNX Runtime Web's heap is refused before any session, with the numbers; the tab lives on", async () => {
  const { nnunet } = await networks('one_channel_big_patch', '--in-channels', '1', '--classes', '1');
  // 512³ patches: the first stage's Concat alone is 8 channels x 512³ floats, 4 GiB.
  const manifest = {
    format: 'cls-model/1', name: 'nnunet-plain-tiny', model_file: 'nnunet_plain.onnx',
    input: { name: 'image', channels: 1 }, output: { name: 'logits', channels: 1, activation: 'sigmoid' },
    patch_size: [512, 512, 512], spacing_mm: [1, 1, 1], normalisation: { scheme: 'zscore', region: 'all' },
  };
  await withWebGpu(async (page) => {
    await page.evaluate(() => window.cls.setExecution('wasm'));
    await page.evaluate(async ([m, bytes]) => {
      await window.cls.loadBytes('mine/nnunet_plain.json', new TextEncoder().encode(m));
      await window.cls.loadBytes('mine/nnunet_plain.onnx', bytes);
      await window.cls.idle();
    }, [JSON.stringify(manifest), Array.from(nnunet)]);
    await page.waitForFunction(() => window.cls.state().model.status === 'failed', null, { timeout: 60000 });
    const s = await page.evaluate(() => window.cls.state());
    assert.equal(s.model.provider, '', 'no session was started');
    assert.deepEqual(await page.evaluate(() => window.cls.inferenceStats().runs), 0);
    assert.deepEqual(s.errors, ["mine/nnunet_plain.onnx: a run on a 512x512x512 patch needs about 10.1 GiB " +
      "(weights 84 KiB, activations 8.1 GiB at their peak, at '/Concat_1'), more than the 4.0 GiB ONNX Runtime Web " +
      'can hold in a tab; use a smaller patch_size in the manifest, or run scripts/infer.mjs outside the browser']);
    // The page goes on: the probability demo loads and calibrates.
    await page.evaluate(() => window.cls.loadDemo('probabilities'));
    await page.waitForFunction(() => window.cls.state().cases.length === 24 && !window.cls.busy(), null,
      { timeout: 60000 });
    assert.equal(typeof (await page.evaluate(() => window.cls.state())).tau, 'number');
  });
});

// Both networks as BraTS-style models in the app: 4 channels in (one image per channel, named
// as nnU-Net names them), 4 classes summed into whole tumour. The page groups the case's
// channels, runs the model (nnU-Net's on WebGPU through the rewrite, MONAI's on wasm, whose
// up-sampling WebGPU cannot run) and its map equals onnxruntime-node's summed softmax on the
// same z-scored channels within 1e-4 (one 16³ patch).
test('4-channel models run in the app on a case of one image per channel, equal to onnxruntime-node', async () => {
  const folder = join(scratch, 'four_channels_app');
  execFileSync('/usr/bin/python3', [join(repo, 'tests/reference/make_torch_networks.py'), folder,
    '--features', '4', '--stages', '3'], { stdio: 'inherit' });
  const edge = 16;
  const voxels = edge ** 3;
  const channels = [0, 1, 2, 3].map((c) => Float32Array.from({ length: voxels },
    (_, i) => 100 + 40 * c + 30 * Math.sin(i * (0.05 + 0.02 * c)) + 10 * Math.cos(i * 0.003)));
  const stacked = new Float32Array(4 * voxels);
  for (const [c, data] of channels.entries()) {
    const mean = data.reduce((a, b) => a + b, 0) / voxels;
    const sd = Math.sqrt(data.reduce((a, b) => a + (b - mean) ** 2, 0) / voxels);
    for (let i = 0; i < voxels; i += 1) stacked[c * voxels + i] = (data[i] - mean) / sd;
  }
  for (const [network, provider] of [['nnunet_plain', 'webgpu'], ['monai_residual', 'wasm']]) {
    const model = await readFile(join(folder, `${network}.onnx`));
    const session = await ortNode.InferenceSession.create(model);
    let logits;
    try {
      const feeds = { image: new ortNode.Tensor('float32', stacked, [1, 4, edge, edge, edge]) };
      logits = (await session.run(feeds)).logits.data;
    } finally {
      await session.release();
    }
    const manifest = {
      format: 'cls-model/1', name: network, model_file: `${network}.onnx`,
      input: { name: 'image', channels: 4, modalities: ['FLAIR', 'T1', 'T1c', 'T2'] },
      output: { name: 'logits', channels: 4, activation: 'softmax', lesion_classes: [1, 2, 3] },
      patch_size: [edge, edge, edge], spatial_divisor: 4, spacing_mm: [1, 1, 1],
      normalisation: { scheme: 'zscore', region: 'all' },
    };
    await withWebGpu(async (page) => {
      await page.evaluate(() => window.cls.setExecution('auto'));
      await page.evaluate(async ([m, name, bytes, images]) => {
        await window.cls.loadBytes(`mine/${name}.json`, new TextEncoder().encode(m));
        await window.cls.loadBytes(`mine/${name}.onnx`, new Uint8Array(bytes));
        // The channels out of order: the names place them.
        for (const c of [2, 0, 3, 1]) await window.cls.loadBytes(`brats/case_001_000${c}.nii`, new Uint8Array(images[c]));
        await window.cls.idle();
      }, [JSON.stringify(manifest), network, Array.from(model),
        channels.map((data) => Array.from(writeNifti1([edge, edge, edge], data)))]);
      await page.waitForFunction(() => {
        const st = window.cls.state();
        return st.model.status === 'failed' || st.errors.length > 0 ||
          st.cases[0]?.files['probability map'] !== undefined;
      }, null, { timeout: 120000 });
      const s = await page.evaluate(() => window.cls.state());
      assert.deepEqual(s.errors, []);
      assert.equal(s.model.provider.startsWith(provider), true, `${s.model.provider}: ${s.model.provider_note}`);
      assert.equal(s.cases[0].more_images.length, 3);
      const map = await page.evaluate(() => Array.from(window.cls.volume('case_001', 'probability map').data));
      let worst = 0;
      for (let v = 0; v < voxels; v += 1) {
        const l = [0, 1, 2, 3].map((c) => logits[c * voxels + v]);
        const top = Math.max(...l);
        const e = l.map((x) => Math.exp(x - top));
        worst = Math.max(worst, Math.abs(map[v] - (e[1] + e[2] + e[3]) / (e[0] + e[1] + e[2] + e[3])));
      }
      console.log(`${network} in the app (${s.model.provider}), 4 channels, whole tumour: ` +
        `max |map - onnxruntime-node| = ${worst.toExponential(2)}`);
      assert.ok(worst <= 1e-4, `${network}: ${worst}`);
    });
  }
});

// The cohort workflow (workflows/Snakefile) with a model: Snakemake runs scripts/infer.mjs once
// per image (calibration cases named as nnU-Net names them, <case>_0000, and new cases), then
// cls score, cls calibrate --scores and cls apply. Its certificate and masks must equal, byte for
// byte, what one `node scripts/infer.mjs` over every image, one `cls calibrate --probs --labels`
// and `cls apply` write by hand. (The workflow without a model, and on Slurm, is
// tests/workflow/test_workflow.py.)
// Builds nothing: needs build/wasm/wasm/cls_infer.js and build/native/cls (scripts/build_web.sh),
// and Debian's snakemake (scripts/setup.sh).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, readdir, rename, rm, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repo } from '../../scripts/infer_lib.mjs';

const cls = join(repo, 'build/native/cls');
const model = join(repo, 'models/cls_unet.json');
let scratch;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cls-workflow-'));
});

after(async () => {
  await rm(scratch, { recursive: true, force: true });
});

function run(command, args, options = {}) {
  const result = spawnSync(command, args, { encoding: 'utf8', ...options });
  assert.equal(result.status, 0, `${command} ${args.join(' ')}\n${result.stderr}`);
  return result;
}

test('the workflow segments, scores and calibrates as infer.mjs and cls do by hand', async () => {
  const data = join(scratch, 'data');
  // 4 labelled scans of 32³ and 2 new ones; calibration images under nnU-Net's names.
  execFileSync(cls, ['synth', '--kind', 'scans', '--cases', '4', '--size', '32', '--seed', '31', '--out', join(data, 'cal')], { stdio: 'ignore' });
  execFileSync(cls, ['synth', '--kind', 'scans', '--cases', '2', '--size', '32', '--seed', '32', '--out', join(data, 'new')], { stdio: 'ignore' });
  for (const name of await readdir(join(data, 'cal/images'))) {
    await rename(join(data, 'cal/images', name), join(data, 'cal/images', name.replace('.nii.gz', '_0000.nii.gz')));
  }
  for (const name of await readdir(join(data, 'new/images'))) {
    await rename(join(data, 'new/images', name), join(data, 'new/images', `new_${name}`));
  }
  await writeFile(join(scratch, 'run.yaml'), [
    `cls: ${cls}`, `model: ${model}`,
    `labels: ${data}/cal/labels`, `images: ${data}/cal/images`, `probs: ${scratch}/probs`,
    `new_images: ${data}/new/images`, 'out: results',
    'epsilon: 0.2', 'alpha: 0.2', 'evaluate_methods: ""', ''].join('\n'));
  const workflow = run('snakemake', ['--snakefile', join(repo, 'workflows/Snakefile'),
    '--configfile', join(scratch, 'run.yaml'), '--directory', scratch, '--cores', '2', '--quiet', 'rules']);
  assert.match(workflow.stdout + workflow.stderr, /infer\s+4/, 'four inference jobs for the calibration images');

  // By hand: one infer.mjs run over every image, then cls.
  const byHand = join(scratch, 'by_hand');
  await mkdir(join(byHand, 'masks'), { recursive: true });
  run(process.execPath, [join(repo, 'scripts/infer.mjs'), '--model', model, '--images', join(data, 'cal/images'), '--out', join(byHand, 'probs')]);
  run(process.execPath, [join(repo, 'scripts/infer.mjs'), '--model', model, '--images', join(data, 'new/images'), '--out', join(byHand, 'new_probs')]);
  run(cls, ['calibrate', '--probs', join(byHand, 'probs'), '--labels', join(data, 'cal/labels'),
    '--epsilon', '0.2', '--alpha', '0.2', '--out', join(byHand, 'certificate.json')]);
  const certificate = await readFile(join(scratch, 'results/certificate.json'));
  assert.deepEqual(certificate, await readFile(join(byHand, 'certificate.json')));
  assert.equal(JSON.parse(certificate).n, 4);
  for (const name of ['new_case_000.nii.gz', 'new_case_001.nii.gz']) {
    run(cls, ['apply', '--calibration', join(byHand, 'certificate.json'), '--probs', join(byHand, 'new_probs', name), '--out', join(byHand, 'masks', name)]);
    assert.deepEqual(await readFile(join(scratch, 'results/masks', name)), await readFile(join(byHand, 'masks', name)), name);
  }
});

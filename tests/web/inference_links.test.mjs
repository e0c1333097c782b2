// Batch inference on datasets as people keep them (issue 10): scripts/infer.mjs follows links
// (a folder that is a link, holding links to images), names its maps by the core's pairing rule
// through cls_infer (nnU-Net "_0000" and BIDS entities dropped, as `cls calibrate` pairs them),
// and refuses a dangling link by name. Builds nothing: needs build/wasm/wasm/cls_infer.js and
// build/native/cls (scripts/build_web.sh), and the bundled model.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClsInfer, Role, listImages, repo } from '../../scripts/infer_lib.mjs';

const cls = join(repo, 'build/native/cls');
const manifestPath = process.env.CLS_MODEL ?? join(repo, 'models/cls_unet.json');
let scratch;
let infer;

before(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'cls-infer-links-'));
  infer = await ClsInfer.load();
});

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test("cls_infer names cases by the core's rule, the CLI's and the app's", () => {
  const rows = [
    ['imagesTs/case_003_0000.nii.gz', Role.image, 'case_003'],
    ['case_003.nii.gz', Role.image, 'case_003'],
    ['sub-01_ses-01_acq-3D_FLAIR.nii.gz', Role.image, 'sub-01_ses-01'],
    ['derivatives/sub-01_ses-01_space-orig_desc-lesion_mask.nii.gz', Role.label, 'sub-01_ses-01'],
    ['labelsTr/patient_0001.nii.gz', Role.label, 'patient_0001'],
    ['case_1_seg.nii', -1, 'case_1'],
  ];
  for (const [path, role, name] of rows) assert.equal(infer.caseName(path, role), name, path);
});

test('scripts/infer.mjs reads a linked folder of links and refuses a dangling link by name', async () => {
  const data = join(scratch, 'set');
  execFileSync(cls, ['synth', '--kind', 'scans', '--cases', '2', '--size', '48', '--seed', '5', '--out', data], { stdio: 'ignore' });
  // A folder of links under nnU-Net and BIDS names, reached through a link to the folder.
  const links = join(scratch, 'links');
  await mkdir(links);
  await symlink(join(data, 'images/case_000.nii.gz'), join(links, 'case_000_0000.nii.gz'));
  await symlink('../set/images/case_001.nii.gz', join(links, 'sub-01_ses-01_FLAIR.nii.gz'));
  const linkedFolder = join(scratch, 'images');
  await symlink(links, linkedFolder);
  assert.deepEqual((await listImages(infer, linkedFolder)).map((i) => i.name), ['case_000', 'sub-01_ses-01']);

  const probs = join(scratch, 'probs');
  const run = spawnSync(process.execPath, [join(repo, 'scripts/infer.mjs'), '--model', manifestPath,
    '--images', linkedFolder, '--out', probs], { encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  assert.deepEqual((await readdir(probs)).sort(), ['case_000.nii.gz', 'sub-01_ses-01.nii.gz']);

  await symlink('../set/images/gone.nii.gz', join(links, 'case_009.nii.gz'));
  const refused = spawnSync(process.execPath, [join(repo, 'scripts/infer.mjs'), '--model', manifestPath,
    '--images', linkedFolder, '--out', join(scratch, 'never')], { encoding: 'utf8' });
  assert.equal(refused.status, 1);
  assert.equal(refused.stderr.trim().split('\n').at(-1),
    `infer: error: ${join(linkedFolder, 'case_009.nii.gz')}: is a link to ../set/images/gone.nii.gz, which does not exist`);
});

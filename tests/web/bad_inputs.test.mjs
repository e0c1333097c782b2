// The catalogue of bad inputs, as the page meets them (tests/BAD_INPUTS.md): with the
// Probability demo loaded and calibrated, each bad file is handed to the page as a user's file
// would be (window.cls.loadBytes: read, inflated when gzip, hashed, parsed in WebAssembly), and
// the test checks the exact message in state().errors, that it names the file, and that the
// cases already loaded and tau are unchanged. Fixtures are made here, a few hundred bytes each.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { startApp } from './browser.mjs';

let app; // startApp()'s
let page;
let messages;
let initial; // the state once the demo is calibrated

const state = () => page.evaluate(() => window.cls.state());

// ---- fixtures: NIfTI-1 bytes, little-endian, data at offset 352 ------------------------------

const FLOAT32 = { code: 16, bits: 32, array: Float32Array };
const UINT8 = { code: 2, bits: 8, array: Uint8Array };
const SUPPORTED = 'uint8, int8, int16, uint16, int32, float32, float64';

// `values`: x fastest, as NIfTI stores them. `affine`: the sform's three rows.
function nifti(dims, values, { type = FLOAT32, affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] } = {}) {
  const data = new type.array(values);
  const bytes = new Uint8Array(352 + data.byteLength);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, true);
  view.setInt16(40, dims.length, true);
  dims.forEach((d, i) => view.setInt16(42 + 2 * i, d, true));
  view.setInt16(70, type.code, true);
  view.setInt16(72, type.bits, true);
  for (let i = 0; i < 4; i += 1) view.setFloat32(76 + 4 * i, 1, true); // qfac and voxel sizes
  view.setFloat32(108, 352, true); // vox_offset
  view.setInt16(254, 1, true); // sform_code: scanner
  affine.forEach((row, r) => row.forEach((v, c) => view.setFloat32(280 + 16 * r + 4 * c, v, true)));
  bytes.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1\0"
  bytes.set(new Uint8Array(data.buffer), 352);
  return bytes;
}

function patched(bytes, offset, write) {
  const out = Uint8Array.from(bytes);
  write(new DataView(out.buffer), offset);
  return out;
}

const int16 = (offset, ...values) => (bytes) =>
  patched(bytes, offset, (view) => values.forEach((v, i) => view.setInt16(offset + 2 * i, v, true)));

// A valid 4x4x4 float32 probability map: 352 header bytes and 256 of data.
const map = () => nifti([4, 4, 4], new Array(64).fill(0.25));
const label = (values) => nifti([4, 4, 4], values, { type: UINT8 });

// ---- driving the page --------------------------------------------------------------------

// Hands the page each [path, bytes] in turn, waits until it is done with them, and checks that
// the errors they add are exactly `expected` and that nothing loaded or computed changed.
async function refuses(files, expected) {
  const previous = await state();
  await page.evaluate(async (list) => {
    for (const [path, bytes] of list) await window.cls.loadBytes(path, bytes);
    await window.cls.idle();
  }, files.map(([path, bytes]) => [path, [...bytes]]));
  const now = await state();
  const added = now.errors.slice(previous.errors.length);
  assert.equal(added.length, expected.length, JSON.stringify(added, null, 1));
  expected.forEach((e, i) => (e instanceof RegExp ? assert.match(added[i], e) : assert.equal(added[i], e)));
  assert.deepEqual(now.cases, previous.cases, 'the cases already loaded are unchanged');
  assert.equal(now.tau, previous.tau, 'tau is unchanged');
  assert.equal(now.n, previous.n);
  assert.deepEqual(now.settings, previous.settings);
  assert.equal(now.imported_certificate, previous.imported_certificate);
  return now;
}

before(async () => {
  app = await startApp();
  ({ page, messages } = app);
  await page.evaluate(() => window.cls.loadDemo('probabilities'));
  await page.waitForFunction(() => window.cls.state().cases.filter((c) => c.labelled).length === 24 &&
    !window.cls.busy(), null, { timeout: 60000 });
  initial = await state();
  assert.deepEqual(initial.errors, []);
  assert.equal(typeof initial.tau, 'number');
});

after(async () => {
  await app?.close();
});

// ---- NIfTI files -------------------------------------------------------------------------

test('a truncated header is refused by name', async () => {
  await refuses([['probs/short_header.nii', map().subarray(0, 300)], ['probs/three_bytes.nii', map().subarray(0, 3)]], [
    'probs/short_header.nii: truncated: the header needs 348 bytes but the file has 300',
    'probs/three_bytes.nii: truncated: 3 bytes, too short for a NIfTI header',
  ]);
});

test('truncated voxel data is refused with the sizes', async () => {
  await refuses([['probs/short_data.nii', map().subarray(0, 452)]], [
    'probs/short_data.nii: truncated: header declares 4x4x4 float32 voxels (256 bytes) from offset 352 but the file has 100 bytes of data',
  ]);
});

test('a wrong sizeof_hdr, or a file that is not NIfTI at all, is refused', async () => {
  const text = new TextEncoder().encode('this is a text file, not an image\n'.repeat(20));
  const sizeofHdr = new DataView(text.buffer).getInt32(0, true);
  await refuses([['probs/sizeof_hdr.nii', patched(map(), 0, (v) => v.setInt32(0, 349, true))], ['probs/notes.nii', text]], [
    'probs/sizeof_hdr.nii: not a NIfTI file: sizeof_hdr is 349, expected 348 (NIfTI-1) or 540 (NIfTI-2)',
    `probs/notes.nii: not a NIfTI file: sizeof_hdr is ${sizeofHdr}, expected 348 (NIfTI-1) or 540 (NIfTI-2)`,
  ]);
});

test('a wrong magic string is refused', async () => {
  const magic = (text) => (bytes) => patched(bytes, 344, (v) => [...text].forEach((c, i) => v.setUint8(344 + i, c.charCodeAt(0))));
  await refuses([['probs/magic.nii', magic('xyz\0')(map())], ['probs/pair.nii', magic('ni1\0')(map())]], [
    'probs/magic.nii: not a NIfTI file: the magic string is not "n+1"',
    'probs/pair.nii: this is the header of a .hdr/.img pair; a single-file .nii is required (convert it, e.g. with nibabel or fslchfiletype)',
  ]);
});

test('negative, zero or out-of-range dimensions are refused', async () => {
  await refuses([
    ['probs/dim_negative.nii', int16(42, -4)(map())],
    ['probs/dim_zero.nii', int16(44, 0)(map())],
    ['probs/rank_zero.nii', int16(40, 0)(map())],
    ['probs/rank_eight.nii', int16(40, 8)(map())],
  ], [
    'probs/dim_negative.nii: dim[1] is -4; every dimension must be at least 1',
    'probs/dim_zero.nii: dim[2] is 0; every dimension must be at least 1',
    'probs/rank_zero.nii: dim[0] is 0, but a NIfTI image has 1 to 7 dimensions',
    'probs/rank_eight.nii: dim[0] is 8, but a NIfTI image has 1 to 7 dimensions',
  ]);
});

test('a header declaring 10^12 voxels is refused before anything is allocated', async () => {
  // A wasm32 heap cannot hold 4 TB: had the page tried, it would have aborted, not answered.
  // The reader sees from the header that the data is missing, as the CLI does.
  const heap = await page.evaluate(() => window.cls.heapBytes());
  const huge = int16(40, 3, 10000, 10000, 10000)(map());
  const widest = patched(int16(40, 7, ...new Array(7).fill(32767))(map()), 70, (v) => {
    v.setInt16(70, 64, true);
    v.setInt16(72, 64, true);
  });
  const message = ': truncated: header declares 10000x10000x10000 float32 voxels \\(4000000000000 bytes\\) from offset 352 but the file has \\d+ bytes of data$';
  await refuses([['probs/huge.nii', huge], ['probs/huge.nii.gz', gzipSync(huge)], ['probs/widest.nii', widest]], [
    new RegExp(`^probs/huge\\.nii${message}`),
    new RegExp(`^probs/huge\\.nii\\.gz${message}`),
    `probs/widest.nii: header declares ${new Array(7).fill('32767').join('x')} float64 voxels, more than any file holds`,
  ]);
  assert.ok(await page.evaluate(() => window.cls.heapBytes()) - heap <= 16 << 20, 'the heap did not grow');
});

test('an unsupported datatype is refused by name', async () => {
  const type = (code, bits) => (bytes) => patched(bytes, 70, (v) => {
    v.setInt16(70, code, true);
    v.setInt16(72, bits, true);
  });
  await refuses([['probs/complex.nii', type(32, 64)(map())], ['probs/unknown_type.nii', type(1234, 8)(map())]], [
    `probs/complex.nii: unsupported datatype complex64 (code 32); supported are ${SUPPORTED} (convert the file, e.g. with nibabel)`,
    `probs/unknown_type.nii: unsupported datatype code 1234; supported are ${SUPPORTED} (convert the file, e.g. with nibabel)`,
  ]);
});

// ---- gzip --------------------------------------------------------------------------------

test('a gzip bomb stops inflating at what its header allows', async () => {
  // 8 MiB of zeros after a header declaring 256 bytes: the page stops at the header's size
  // (352 + 256 bytes) plus 1 MiB of slack.
  const bomb = gzipSync(Buffer.concat([map(), Buffer.alloc(8 << 20)]));
  assert.ok(bomb.length < 20000);
  await refuses([['probs/bomb.nii.gz', bomb]], [
    `probs/bomb.nii.gz: gzip stream inflates past ${352 + 256 + (1 << 20)} bytes, more than its header declares; refusing it`,
  ]);
});

// The text after "gzip stream is corrupt: " is the browser's own (DecompressionStream's).
test('a truncated gzip stream is refused', async () => {
  const packed = gzipSync(map());
  await refuses([['probs/cut.nii.gz', packed.subarray(0, packed.length - 12)]], [
    /^probs\/cut\.nii\.gz: gzip stream is corrupt: .*truncated/,
  ]);
});

test('a corrupt gzip stream is refused', async () => {
  const crc = gzipSync(map());
  crc[crc.length - 8] ^= 0xff; // the data's CRC-32
  const block = gzipSync(map());
  block[10] = 0x07; // a deflate block type that does not exist
  await refuses([['probs/bad_crc.nii.gz', crc], ['probs/bad_block.nii.gz', block]], [
    /^probs\/bad_crc\.nii\.gz: gzip stream is corrupt: .*incorrect data check/,
    /^probs\/bad_block\.nii\.gz: gzip stream is corrupt: .*invalid block type/,
  ]);
});

// ---- probability maps --------------------------------------------------------------------

test('NaN or infinite probabilities are refused with their count', async () => {
  const values = new Array(64).fill(0.25);
  values.splice(0, 3, NaN, Infinity, -Infinity);
  await refuses([['probs/nan.nii', nifti([4, 4, 4], values)]], [
    'probs/nan.nii: probability map has 3 NaN or infinite values; a probability map must hold finite values in [0, 1]',
  ]);
});

test('probabilities outside [0, 1] are refused with their count, never clamped', async () => {
  const values = new Array(64).fill(0.25);
  values.splice(0, 2, 1.5, -0.25);
  await refuses([['probs/logits.nii', nifti([4, 4, 4], values)]], [
    'probs/logits.nii: probability map has 2 values outside [0, 1]; is it logits, or a map before its activation?',
  ]);
});

// ---- case names, shapes and affines --------------------------------------------------------

test('a second file for a case and role is refused, naming the one loaded', async () => {
  const loaded = initial.cases.find((c) => c.name === 'case_001').files['probability map'];
  await refuses([['probs/case_001.nii', map()]], [
    `probs/case_001.nii: case 'case_001' already has a probability map (${loaded}); remove it first or rename one`,
  ]);
});

test('an unmatched file is kept as a case of its own, outside calibration', async () => {
  const previous = await state();
  await page.evaluate(async (bytes) => {
    await window.cls.loadBytes('labels/lonely.nii', bytes);
    await window.cls.idle();
  }, [...label(new Array(64).fill(0))]);
  const now = await state();
  assert.deepEqual(now.errors, previous.errors);
  // A label alone has no map: nothing to restrict or to check against the calibration set.
  assert.deepEqual(now.cases.find((c) => c.name === 'lonely'),
    { name: 'lonely', files: { label: 'labels/lonely.nii' }, labelled: false, calibrates: false, set_aside: false,
      region_problem: '', exchangeability: null });
  assert.equal(now.n, previous.n);
  assert.equal(now.tau, previous.tau);

  // Removed, it goes alone; a case not loaded is named.
  const removed = await page.evaluate(() => {
    window.cls.removeCase('lonely');
    try {
      window.cls.removeCase('lonely');
    } catch (e) {
      return e.message;
    }
    return null;
  });
  assert.equal(removed, "no case 'lonely' is loaded");
  assert.deepEqual((await state()).cases, previous.cases);
});

test('a shape or affine unlike the case\'s other files is refused', async () => {
  await page.evaluate(async (bytes) => {
    await window.cls.loadBytes('probs/extra.nii', bytes);
    await window.cls.idle();
  }, [...map()]);
  const shifted = [[1, 0, 0, 2], [0, 1, 0, 0], [0, 0, 1, 0]];
  await refuses([
    ['labels/extra.nii', nifti([5, 5, 5], new Array(125).fill(0), { type: UINT8 })],
    ['images/extra.nii', nifti([4, 4, 4], new Array(64).fill(100), { affine: shifted })],
  ], [
    'labels/extra.nii: is 5x5x5 but its case\'s probability map probs/extra.nii is 4x4x4',
    'images/extra.nii: has a different voxel-to-world affine from its case\'s probability map probs/extra.nii',
  ]);
});

// ---- certificates ------------------------------------------------------------------------

function certificate(change) {
  const document = {
    format: 'cls-calibration-certificate', format_version: 1, tool_version: 'test', method: 'cls',
    epsilon: 0.1, alpha: 0.2, n: 4, k: 1, threshold: 0.5, empty_mask_policy: 'satisfied', empty_masks: 0,
    cases: [{ name: 'a', lesion_voxels: 3, critical_threshold: 0.5, excluded: false }],
  };
  change(document);
  return new TextEncoder().encode(JSON.stringify(document));
}

test('a certificate with settings out of range is refused and the calibration kept', async () => {
  await refuses([
    ['certificates/epsilon.json', certificate((d) => { d.epsilon = 1.5; })],
    ['certificates/alpha.json', certificate((d) => { d.alpha = 0; })],
    ['certificates/threshold.json', certificate((d) => { d.threshold = 1.5; })],
    ['certificates/negative.json', certificate((d) => { d.threshold = -0.5; })],
    ['certificates/critical.json', certificate((d) => { d.cases[0].critical_threshold = 7; })],
  ], [
    'certificates/epsilon.json: epsilon must be in [0, 1), got 1.5',
    'certificates/alpha.json: alpha must be in (0, 1) and at least 1e-9, got 0',
    'certificates/threshold.json: field \'threshold\' must be in [0, 1], or null for +inf (predict nothing), got 1.5',
    'certificates/negative.json: field \'threshold\' must be in [0, 1], or null for +inf (predict nothing), got -0.5',
    'certificates/critical.json: case \'a\': field \'critical_threshold\' must be in [0, 1], or null for +inf (predict nothing), got 7',
  ]);
});

test('a .json that is not a certificate is refused', async () => {
  await refuses([
    ['certificates/broken.json', new TextEncoder().encode('{"format": "cls-calibration-certificate", ')],
    ['certificates/other.json', new TextEncoder().encode('{"format": "other"}')],
  ], [
    'certificates/broken.json: not valid JSON',
    'certificates/other.json: not a calibration certificate (field \'format\' is not \'cls-calibration-certificate\')',
  ]);
});

test('after the bad files above the demo is whole, calibrated as before, and the page logged no error', async () => {
  const now = await state();
  for (const c of initial.cases) assert.deepEqual(now.cases.find((d) => d.name === c.name), c);
  assert.equal(now.n, initial.n);
  assert.equal(now.tau, initial.tau);
  assert.deepEqual(messages.filter((m) => m.startsWith('error') || m.startsWith('pageerror')), []);
});

// ---- labels ------------------------------------------------------------------------------

test('a label with several classes asks which are lesion; skipped, it is not loaded', async () => {
  await page.evaluate(async (bytes) => {
    await window.cls.loadBytes('probs/classes.nii', bytes);
    await window.cls.idle();
  }, [...map()]);
  const values = new Array(64).fill(0);
  values.splice(0, 3, 1, 2, 4);
  const previous = await state();
  await page.evaluate(async (bytes) => {
    await window.cls.loadBytes('labels/classes.nii', bytes);
    await window.cls.idle();
  }, [...label(values)]);
  const asked = await state();
  assert.deepEqual(asked.lesion.question,
    { kind: 'labels', file: 'labels/classes.nii', channel_count: 0, label_values: [1, 2, 4] });
  await page.evaluate(() => window.cls.skipLesionQuestion());
  const now = await state();
  assert.equal(now.lesion.question, null);
  assert.deepEqual(now.errors.slice(previous.errors.length),
    ['labels/classes.nii: not loaded (no answer to which of it is lesion)']);
  assert.deepEqual(now.cases, previous.cases, 'the cases already loaded are unchanged');
  assert.equal(now.tau, previous.tau);
  // A label that is not whole numbers (resampled with interpolation) is refused as before.
  const soft = new Array(64).fill(0);
  soft.splice(0, 2, 0.5, 1);
  await refuses([['labels/classes.nii', nifti([4, 4, 4], soft)]], [
    'labels/classes.nii: label is not binary: besides 0 it holds the values 0.5, 1, not all whole numbers; was it resampled with interpolation? Resample labels with nearest neighbour',
  ]);
});

// DICOM slices dropped or opened on the page become NIfTI volumes through dcm2niix's own
// WebAssembly build (npm @niivue/dcm2niix, served from this origin under dcm2niix/ by
// scripts/build_web.sh; nothing is fetched elsewhere and the page's CSP is unchanged), then load
// exactly as a dropped .nii does (cls_bridge.js's loadEach/loadOne).
// [X] DICOM files told apart by the 'DICM' magic at byte 128, or tried when named *.dcm
// [X] one dcm2niix run per folder holding the slices; one .nii per series it finds
// [X] a series picker (an HTML <dialog>) when a folder holds several series
// [X] JPEG-LS and JPEG 2000 compressed slices (the package's jpeg build, its default export)
// [ ] enhanced multi-frame DICOM beyond what dcm2niix itself reads; DICOM SEG as labels
//
// Naming, so that converted series pair into cases like any file: the folder that directly
// holds the slices names the case. One series (or one chosen) from folder `case_001` becomes
// `case_001/case_001_image.nii` (case case_001, role image, so it pairs with
// labels/case_001.nii.gz); several chosen become `case_001/case_001_s<series>_image.nii`, one
// case each. Slices dropped without a folder count as a folder named `dicom`.
//
// Why an HTML <dialog> and not ImGui: the series are known only here, after a conversion in a
// worker, and the question is one modal choice; showModal() gives focus trapping, Escape to
// cancel and real form controls for screen readers and tests, with no C++ state or bridge
// calls for a transient question (the ImGui UI lives in src/app, which this edge stays out of).

const MAGIC_OFFSET = 128;
const MAGIC = [0x44, 0x49, 0x43, 0x4d]; // "DICM"
const NEVER_DICOM = /\.(nii|nii\.gz|gz|json|onnx|txt|md)$/i;
// dcm2niix's arguments: uncompressed .nii (the page reads it as it is), a BIDS sidecar for the
// series' description and number (anonymised), files named by series number.
const ARGS = ['-z', 'n', '-b', 'y', '-ba', 'y', '-f', '%s'];
// dcm2niix's exit codes (its nii_dicom_batch.h) as a user reads them.
const EXIT_MEANINGS = {
  1: 'an unspecified error',
  2: 'no valid DICOM images',
  4: 'a corrupt DICOM file',
  5: 'an invalid input folder',
  8: 'some series converted, others did not',
  10: 'incomplete volumes (missing slices)',
};

let pending = 0; // folders being read, converted or waiting on the picker
export const stats = { conversions: [] }; // {folder, files, series, ms} per folder

export const busy = () => pending > 0;

const pathOf = (file) => file.webkitRelativePath || file.relativePath || file.name;

async function isDicom(file) {
  if (NEVER_DICOM.test(file.name)) return false;
  if (/\.dcm$/i.test(file.name)) return true;
  if (file.size < MAGIC_OFFSET + MAGIC.length) return false;
  const head = new Uint8Array(await file.slice(MAGIC_OFFSET, MAGIC_OFFSET + 4).arrayBuffer());
  return MAGIC.every((byte, i) => head[i] === byte);
}

// Splits `files` into DICOM slices, grouped by the folder holding them, and the rest, which
// the caller loads as before. The DICOM folders are converted in the background: `converting`
// settles once their chosen series are loaded (or reported). `hooks`: load([{path, bytes}])
// (the page's NIfTI path), reject(message) (an error naming the folder), status(text).
export async function splitDicom(files, hooks) {
  const flags = await Promise.all(files.map((file) => isDicom(file).catch(() => false)));
  const others = files.filter((_, i) => !flags[i]);
  const folders = new Map();
  files.forEach((file, i) => {
    if (!flags[i]) return;
    const path = pathOf(file);
    const folder = path.includes('/') ? path.slice(0, path.lastIndexOf('/')) : '';
    if (!folders.has(folder)) folders.set(folder, []);
    folders.get(folder).push(file);
  });
  if (folders.size === 0) return { others, converting: Promise.resolve() };
  pending += 1;
  const converting = (async () => {
    try {
      for (const [folder, list] of folders) await convertFolder(folder, list, hooks);
    } finally {
      pending -= 1;
      hooks.status('');
    }
  })();
  return { others, converting };
}

async function convertFolder(folder, files, hooks) {
  const label = `${folder || 'dicom'}/`;
  const started = performance.now();
  hooks.status(`Converting DICOM ${label}: ${files.length} files…`);
  let reply;
  try {
    reply = await runDcm2niix(files);
  } catch (error) {
    hooks.reject(`${label}: dcm2niix failed: ${error.message}`);
    return;
  }
  const series = await seriesOf(reply.convertedFiles ?? []);
  const ms = performance.now() - started;
  stats.conversions.push({ folder: label, files: files.length, series: series.length, ms });
  if (series.length === 0) {
    const why = EXIT_MEANINGS[reply.exitCode] ?? `exit code ${reply.exitCode}`;
    hooks.reject(`${label}: no DICOM series found in its ${files.length} files (dcm2niix: ${why})`);
    return;
  }
  if (reply.exitCode !== 0) {
    hooks.reject(`${label}: dcm2niix converted ${series.length} series but reported ` +
      `${EXIT_MEANINGS[reply.exitCode] ?? `exit code ${reply.exitCode}`}; check what it loads`);
  }
  hooks.status('');
  const chosen = series.length === 1 ? series : await pickSeries(label, series);
  if (chosen.length === 0) return;
  const name = folder ? folder.slice(folder.lastIndexOf('/') + 1) : 'dicom';
  const prefix = folder ? `${folder}/` : 'dicom/';
  const items = chosen.map((s) => ({
    path: `${prefix}${chosen.length === 1 ? name : `${name}_s${s.tag}`}_image.nii`,
    bytes: s.nifti,
  }));
  await hooks.load(items);
}

// One conversion in a fresh worker (the package's worker makes its input folder once, so a
// worker serves one run), spoken to directly: the package's Processor.run drops every
// converted file when dcm2niix exits with 8 (some series failed), and its init() never
// settles when the wasm cannot load.
async function runDcm2niix(files) {
  const worker = new Worker(new URL('./dcm2niix/worker.jpeg.js', import.meta.url), { type: 'module' });
  try {
    const next = () => new Promise((resolve, reject) => {
      worker.onmessage = (event) => (event.data?.type === 'error'
        ? reject(new Error(event.data.message)) : resolve(event.data));
      worker.onerror = (event) => {
        event.preventDefault();
        reject(new Error(event.message || 'its worker could not start'));
      };
    });
    const ready = await next();
    if (ready?.type !== 'ready') throw new Error('its worker did not start');
    const reply = next();
    worker.postMessage({
      fileList: files.map((file) => ({ file, webkitRelativePath: pathOf(file) })),
      cmd: [...ARGS],
    });
    return await reply;
  } finally {
    worker.terminate();
  }
}

// dcm2niix's outputs grouped by name: each .nii with its sidecar's description and number.
async function seriesOf(outputs) {
  const sidecars = new Map();
  for (const file of outputs) {
    if (file.name.endsWith('.json')) {
      try {
        sidecars.set(file.name.slice(0, -5), JSON.parse(await file.text()));
      } catch {
        // a sidecar that does not parse only costs the picker its description
      }
    }
  }
  const series = [];
  for (const file of outputs) {
    if (!file.name.endsWith('.nii')) continue;
    const stem = file.name.slice(0, -4);
    const nifti = new Uint8Array(await file.arrayBuffer());
    const meta = sidecars.get(stem) ?? {};
    const view = new DataView(nifti.buffer, nifti.byteOffset, Math.min(nifti.length, 348));
    const dims = nifti.length >= 48 ? [1, 2, 3].map((i) => view.getInt16(40 + 2 * i, true)) : [];
    series.push({
      tag: stem.replace(/[^A-Za-z0-9-]+/g, '-'),
      number: meta.SeriesNumber ?? stem,
      description: meta.SeriesDescription ?? meta.ProtocolName ?? '',
      dims,
      nifti,
    });
  }
  const order = (s) => Number.parseFloat(s.number);
  return series.sort((a, b) => order(a) - order(b) || String(a.tag).localeCompare(b.tag));
}

// Asks which series to load: a modal <dialog> with one checkbox per series (the first
// checked). Resolves with the chosen series; none when cancelled.
function pickSeries(label, series) {
  const dialog = document.createElement('dialog');
  dialog.id = 'dicom-picker';
  dialog.setAttribute('aria-labelledby', 'dicom-picker-title');
  const form = document.createElement('form');
  form.method = 'dialog';
  const title = document.createElement('h2');
  title.id = 'dicom-picker-title';
  title.textContent = `${label} holds ${series.length} DICOM series`;
  const hint = document.createElement('p');
  hint.textContent = 'Load which? Each becomes a case of its own.';
  const fieldset = document.createElement('fieldset');
  const legend = document.createElement('legend');
  legend.textContent = 'Series';
  fieldset.append(legend);
  series.forEach((s, i) => {
    const row = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.name = 'series';
    box.value = s.tag;
    box.checked = i === 0;
    const text = [`#${s.number}`, s.description || '(no description)', s.dims.join('×')];
    row.append(box, ` ${text.join(' · ')}`);
    fieldset.append(row);
  });
  const buttons = document.createElement('menu');
  const cancel = Object.assign(document.createElement('button'), { value: 'cancel', textContent: 'Cancel' });
  const load = Object.assign(document.createElement('button'), { value: 'load', textContent: 'Load' });
  cancel.type = 'submit';
  load.type = 'submit';
  buttons.append(cancel, load);
  form.append(title, hint, fieldset, buttons);
  dialog.append(form);
  document.body.append(dialog);
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => {
      const tags = dialog.returnValue === 'load'
        ? [...form.querySelectorAll('input[name=series]:checked')].map((box) => box.value) : [];
      dialog.remove();
      resolve(series.filter((s) => tags.includes(s.tag)));
    });
    dialog.showModal();
    load.focus();
  });
}

// Little-endian NIfTI-1 float32 volumes for the Node tests, written and read without a
// library, so a test can give cls_infer a volume of its own and read back what it returns.
import assert from 'node:assert/strict';

// The float32 voxels and header facts of an uncompressed little-endian NIfTI-1 file.
export function readNifti1(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal(view.getInt32(0, true), 348, 'a little-endian NIfTI-1 header');
  const dims = [1, 2, 3].map((i) => view.getInt16(40 + 2 * i, true));
  const datatype = view.getInt16(70, true);
  const offset = view.getFloat32(108, true);
  const srow = Array.from({ length: 12 }, (_, i) => view.getFloat32(280 + 4 * i, true));
  const count = dims[0] * dims[1] * dims[2];
  const data = datatype === 16
    ? new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + offset + 4 * count))
    : null;
  return { dims, datatype, srow, data };
}

// A little-endian NIfTI-1 float32 volume with pixdim 1 and no sform or qform, as bytes.
export function writeNifti1(dims, data) {
  const bytes = new Uint8Array(352 + 4 * data.length);
  const view = new DataView(bytes.buffer);
  view.setInt32(0, 348, true);
  [3, ...dims, 1, 1, 1, 1].forEach((d, i) => view.setInt16(40 + 2 * i, d, true));
  view.setInt16(70, 16, true); // float32
  view.setInt16(72, 32, true);
  [1, 1, 1, 1].forEach((p, i) => view.setFloat32(76 + 4 * i, p, true));
  view.setFloat32(108, 352, true);
  bytes.set([0x6e, 0x2b, 0x31, 0], 344); // "n+1"
  new Float32Array(bytes.buffer, 352).set(data);
  return bytes;
}

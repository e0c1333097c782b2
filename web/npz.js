// One member of a NumPy .npz archive (a zip file), read in the browser from its bytes: nnU-Net
// v2's `<case>.npz` holds its class probabilities as `probabilities.npy`, written by
// `np.savez_compressed` (deflate). The member's bytes go to the C++ .npy parser as they are.
// The native build reads the same archives with libzip (include/cls/io/npz.hpp).
// [X] the end-of-central-directory record (after an archive comment too) and the central
//     directory; zip64 end records and zip64 extra fields (numpy writes zip64 local headers
//     always; members over 4 GiB, e.g. a 10-class float32 512x512x400 map, need zip64 sizes)
// [X] stored (method 0) and deflated (method 8, through DecompressionStream('deflate-raw'))
//     members, inflated no further than the size they declare, which must not exceed maxBytes
//     and must be what inflating gives; the CRC-32 checked
// [X] a missing member named, with the members present
// [ ] encrypted members, multi-disk archives, other compression methods: refused by name

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;
const ZIP64_EXTRA = 0x0001;

// What a page can hold in one typed array and hand to the wasm heap: 2 GiB. A 4-class float32
// 512x512x400 map is 1.68 GB.
export const DEFAULT_MAX_BYTES = 2 ** 31;

class NpzError extends Error {}

function fail(message) {
  throw new NpzError(`.npz: ${message}`);
}

function u64(view, at) {
  const value = view.getBigUint64(at, true);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) fail(`a size or offset (${value}) is too large`);
  return Number(value);
}

function findEndRecord(view) {
  // The record is 22 bytes plus a comment of at most 65535 bytes, at the very end.
  const last = view.byteLength - 22;
  const first = Math.max(0, last - 0xffff);
  for (let at = last; at >= first; at -= 1) {
    if (view.getUint32(at, true) === EOCD && at + 22 + view.getUint16(at + 20, true) === view.byteLength) {
      return at;
    }
  }
  return fail('not a zip archive (no end-of-central-directory record; truncated?)');
}

function centralDirectory(view) {
  const end = findEndRecord(view);
  let disk = view.getUint16(end + 4, true);
  let directoryDisk = view.getUint16(end + 6, true);
  let count = view.getUint16(end + 10, true);
  let size = view.getUint32(end + 12, true);
  let offset = view.getUint32(end + 16, true);
  if (count === 0xffff || size === 0xffffffff || offset === 0xffffffff) {
    const locator = end - 20;
    if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR) {
      fail('the end record points to zip64 fields but no zip64 locator precedes it');
    }
    const at = u64(view, locator + 8);
    if (at + 56 > locator || view.getUint32(at, true) !== ZIP64_EOCD) {
      fail('the zip64 locator does not point to a zip64 end record');
    }
    disk = view.getUint32(at + 16, true);
    directoryDisk = view.getUint32(at + 20, true);
    count = u64(view, at + 32);
    size = u64(view, at + 40);
    offset = u64(view, at + 48);
  }
  if (disk !== 0 || directoryDisk !== 0) fail('multi-disk archives are not supported');
  if (offset + size > end) fail('the central directory lies outside the archive (truncated?)');
  return { count, offset, size };
}

// The zip64 extra field holds, in this order, only the fields whose 32-bit slot is all ones.
function applyZip64(view, extraStart, extraLength, entry) {
  let at = extraStart;
  const stop = extraStart + extraLength;
  while (at + 4 <= stop) {
    const id = view.getUint16(at, true);
    const length = view.getUint16(at + 2, true);
    const body = at + 4;
    if (body + length > stop) fail(`the extra fields of '${entry.name}' overrun their length`);
    if (id === ZIP64_EXTRA) {
      let field = body;
      const take = () => {
        if (field + 8 > body + length) fail(`the zip64 field of '${entry.name}' is too short`);
        const value = u64(view, field);
        field += 8;
        return value;
      };
      if (entry.size === 0xffffffff) entry.size = take();
      if (entry.compressedSize === 0xffffffff) entry.compressedSize = take();
      if (entry.localOffset === 0xffffffff) entry.localOffset = take();
    }
    at = body + length;
  }
}

function readEntries(view, bytes) {
  const { count, offset, size } = centralDirectory(view);
  const decoder = new TextDecoder();
  const entries = [];
  let at = offset;
  const stop = offset + size;
  for (let i = 0; i < count; i += 1) {
    if (at + 46 > stop || view.getUint32(at, true) !== CENTRAL) {
      fail(`central directory entry ${i + 1} of ${count} is damaged`);
    }
    const nameLength = view.getUint16(at + 28, true);
    const extraLength = view.getUint16(at + 30, true);
    const commentLength = view.getUint16(at + 32, true);
    const next = at + 46 + nameLength + extraLength + commentLength;
    if (next > stop) fail(`central directory entry ${i + 1} of ${count} overruns the directory`);
    const entry = {
      name: decoder.decode(bytes.subarray(at + 46, at + 46 + nameLength)),
      flags: view.getUint16(at + 8, true),
      method: view.getUint16(at + 10, true),
      crc: view.getUint32(at + 16, true),
      compressedSize: view.getUint32(at + 20, true),
      size: view.getUint32(at + 24, true),
      localOffset: view.getUint32(at + 42, true),
    };
    applyZip64(view, at + 46 + nameLength, extraLength, entry);
    entries.push(entry);
    at = next;
  }
  return entries;
}

let crcTable;
function crc32(bytes) {
  if (!crcTable) {
    crcTable = new Uint32Array(256);
    for (let n = 0; n < 256; n += 1) {
      let c = n;
      for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      crcTable[n] = c >>> 0;
    }
  }
  let crc = 0xffffffff;
  for (let i = 0; i < bytes.length; i += 1) crc = crcTable[(crc ^ bytes[i]) & 0xff] ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

// Inflates raw deflate data into exactly `size` bytes, stopping as soon as it would exceed them.
async function inflateRaw(compressed, size, name) {
  const out = new Uint8Array(size);
  let filled = 0;
  const stream = new Blob([compressed]).stream().pipeThrough(new DecompressionStream('deflate-raw'));
  const reader = stream.getReader();
  try {
    for (;;) {
      let chunk;
      try {
        chunk = await reader.read();
      } catch (error) {
        return fail(`the member '${name}' is corrupt (${error.message})`);
      }
      if (chunk.done) break;
      if (filled + chunk.value.length > size) {
        return fail(`the member '${name}' inflates past the ${size} bytes it declares`);
      }
      out.set(chunk.value, filled);
      filled += chunk.value.length;
    }
  } finally {
    reader.cancel().catch(() => {});
  }
  if (filled !== size) fail(`the member '${name}' declares ${size} bytes but holds only ${filled}`);
  return out;
}

/**
 * The uncompressed bytes of member `name` of the .npz (zip) archive held in `bytes`.
 * Refuses, before inflating anything, a member that declares more than `maxBytes`.
 * @param {Uint8Array} bytes the whole .npz file
 * @param {string} name e.g. 'probabilities.npy'
 * @param {number} maxBytes the largest uncompressed member accepted
 * @returns {Promise<Uint8Array>}
 */
export async function readNpzMember(bytes, name = 'probabilities.npy', maxBytes = DEFAULT_MAX_BYTES) {
  if (!(bytes instanceof Uint8Array)) throw new TypeError('readNpzMember: bytes must be a Uint8Array');
  if (bytes.length < 22) fail('not a zip archive (too short)');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const entries = readEntries(view, bytes);
  const entry = entries.find((e) => e.name === name);
  if (!entry) {
    const names = entries.map((e) => e.name).join(', ') || 'none';
    fail(`the archive has no member '${name}'; its members are: ${names}`);
  }
  if (entry.flags & 1) fail(`the member '${name}' is encrypted, which .npz files never are`);
  if (entry.size > maxBytes) {
    fail(`the member '${name}' declares ${entry.size} bytes uncompressed, more than the ` +
         `${maxBytes} it may hold here; refusing it unread (a zip bomb?)`);
  }
  const local = entry.localOffset;
  if (local + 30 > bytes.length || view.getUint32(local, true) !== LOCAL) {
    fail(`the local header of '${name}' is missing or damaged`);
  }
  const start = local + 30 + view.getUint16(local + 26, true) + view.getUint16(local + 28, true);
  if (start + entry.compressedSize > bytes.length) {
    fail(`the member '${name}' runs past the end of the archive (truncated?)`);
  }
  const stored = bytes.subarray(start, start + entry.compressedSize);
  let data;
  if (entry.method === 0) {
    if (entry.compressedSize !== entry.size) {
      fail(`the stored member '${name}' declares ${entry.size} bytes but holds ${entry.compressedSize}`);
    }
    data = stored.slice();
  } else if (entry.method === 8) {
    data = await inflateRaw(stored, entry.size, name);
  } else {
    fail(`the member '${name}' uses compression method ${entry.method}; only stored (0) and ` +
         'deflate (8), which numpy writes, are supported');
  }
  if (crc32(data) !== entry.crc) fail(`the member '${name}' fails its CRC-32 check (corrupt)`);
  return data;
}

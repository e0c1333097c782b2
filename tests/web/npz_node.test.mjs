// web/npz.js in Node (Node 20 has DecompressionStream): the .npz files nnU-Net v2 writes, made
// by tests/reference/make_npz_fixtures.py with numpy's own savez_compressed, read member by
// member; the bytes must equal what Python's zipfile reads (probabilities.npy, written by the
// same script). Zip64 archives, which numpy writes only for members over 4 GiB, are built here
// around the same member bytes, by a small writer that follows the zip specification
// (APPNOTE.TXT 4.3.14-4.3.16, 4.5.3). Builds nothing; needs /usr/bin/python3 with numpy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readNpzMember } from '../../web/npz.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
let dir;
const read = async (name) => new Uint8Array(await readFile(join(dir, name)));

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cls-npz-'));
  execFileSync('/usr/bin/python3', [join(repo, 'tests/reference/make_npz_fixtures.py'), dir]);
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

test('the member of a numpy-written .npz equals what Python zipfile reads', async () => {
  const expected = await read('probabilities.npy');
  const member = await readNpzMember(await read('case.npz'));
  assert.deepEqual(member, expected);
  assert.equal(new TextDecoder().decode(member.subarray(1, 6)), 'NUMPY');
});

test('np.savez (stored) and np.savez_compressed (deflated) give the same member', async () => {
  const stored = await readNpzMember(await read('case_stored.npz'), 'probabilities.npy');
  assert.deepEqual(stored, await read('probabilities.npy'));
});

test('a missing member is refused naming the members present', async () => {
  await assert.rejects(readNpzMember(await read('no_probabilities.npz')), {
    message: ".npz: the archive has no member 'probabilities.npy'; its members are: softmax.npy, seg.npy",
  });
});

test('a member declaring more than maxBytes is refused before inflating', async () => {
  await assert.rejects(readNpzMember(await read('bomb.npz'), 'probabilities.npy', 1 << 20), {
    message: ".npz: the member 'probabilities.npy' declares 8388608 bytes uncompressed, more " +
      'than the 1048576 it may hold here; refusing it unread (a zip bomb?)',
  });
  const case_ = await read('case.npz');
  await assert.rejects(readNpzMember(case_, 'probabilities.npy', 2647), /declares 2648 bytes/);
  assert.equal((await readNpzMember(case_, 'probabilities.npy', 2648)).length, 2648);
});

test('truncated archives and non-zip bytes are refused', async () => {
  const bytes = await read('case.npz');
  for (let n = 0; n < bytes.length; n += 5) {
    await assert.rejects(readNpzMember(bytes.subarray(0, n)), /^Error: \.npz: /, `first ${n} bytes`);
  }
  await assert.rejects(readNpzMember(new TextEncoder().encode('not a zip at all, just text')), {
    message: '.npz: not a zip archive (no end-of-central-directory record; truncated?)',
  });
});

test('corrupt compressed data and a wrong CRC are refused', async () => {
  const bytes = await read('case.npz');
  const corrupt = bytes.slice();
  corrupt[200] ^= 0x55;
  await assert.rejects(readNpzMember(corrupt), /the member 'probabilities.npy' (is corrupt|fails its CRC-32|inflates past|declares)/);
  const stored = (await read('case_stored.npz')).slice();
  stored[300] ^= 0x01; // inside the stored data: only the CRC can tell
  await assert.rejects(readNpzMember(stored), {
    message: ".npz: the member 'probabilities.npy' fails its CRC-32 check (corrupt)",
  });
});

// ---- zip64, written here -------------------------------------------------------------------

function crc32(bytes) {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k += 1) crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

async function deflateRaw(bytes) {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream('deflate-raw'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

// One member in a zip whose central directory entry and end records are all zip64: every
// 32-bit size and offset field is 0xffffffff, the values in the zip64 extra field.
function zip64Archive(name, data, compressed, method) {
  const nameBytes = new TextEncoder().encode(name);
  const parts = [];
  let length = 0;
  const push = (size, fill) => {
    const part = new Uint8Array(size);
    fill(new DataView(part.buffer));
    parts.push(part);
    length += size;
  };
  const append = (bytes) => { parts.push(bytes); length += bytes.length; };
  const crc = crc32(data);
  push(30, (v) => {
    v.setUint32(0, 0x04034b50, true); v.setUint16(4, 45, true); v.setUint16(8, method, true);
    v.setUint32(14, crc, true); v.setUint32(18, compressed.length, true);
    v.setUint32(22, data.length, true); v.setUint16(26, nameBytes.length, true);
  });
  append(nameBytes);
  append(compressed);
  const directory = length;
  push(46, (v) => {
    v.setUint32(0, 0x02014b50, true); v.setUint16(4, 45, true); v.setUint16(6, 45, true);
    v.setUint16(10, method, true); v.setUint32(16, crc, true);
    v.setUint32(20, 0xffffffff, true); v.setUint32(24, 0xffffffff, true);
    v.setUint16(28, nameBytes.length, true); v.setUint16(30, 4 + 24, true);
    v.setUint32(42, 0xffffffff, true);
  });
  append(nameBytes);
  push(28, (v) => {
    v.setUint16(0, 0x0001, true); v.setUint16(2, 24, true);
    v.setBigUint64(4, BigInt(data.length), true); // uncompressed first, then compressed
    v.setBigUint64(12, BigInt(compressed.length), true);
    v.setBigUint64(20, 0n, true); // the local header's offset
  });
  const directorySize = length - directory;
  const zip64End = length;
  push(56, (v) => {
    v.setUint32(0, 0x06064b50, true); v.setBigUint64(4, 44n, true);
    v.setUint16(12, 45, true); v.setUint16(14, 45, true);
    v.setBigUint64(24, 1n, true); v.setBigUint64(32, 1n, true);
    v.setBigUint64(40, BigInt(directorySize), true); v.setBigUint64(48, BigInt(directory), true);
  });
  push(20, (v) => {
    v.setUint32(0, 0x07064b50, true); v.setBigUint64(8, BigInt(zip64End), true);
    v.setUint32(16, 1, true);
  });
  push(22, (v) => {
    v.setUint32(0, 0x06054b50, true); v.setUint16(8, 0xffff, true); v.setUint16(10, 0xffff, true);
    v.setUint32(12, 0xffffffff, true); v.setUint32(16, 0xffffffff, true);
  });
  const out = new Uint8Array(length);
  let at = 0;
  for (const part of parts) { out.set(part, at); at += part.length; }
  return out;
}

test('zip64 central directory and end records (members over 4 GiB need them)', async () => {
  const member = await read('probabilities.npy');
  for (const method of [0, 8]) {
    const compressed = method === 8 ? await deflateRaw(member) : member;
    const archive = zip64Archive('probabilities.npy', member, compressed, method);
    assert.deepEqual(await readNpzMember(archive), member, `method ${method}`);
  }
  const broken = zip64Archive('probabilities.npy', member, member, 0);
  broken[broken.length - 22 - 20] ^= 0xff; // the zip64 locator's signature
  await assert.rejects(readNpzMember(broken), /no zip64 locator precedes it/);
});

test('an archive comment after the end record is allowed', async () => {
  const bytes = await read('case.npz');
  const comment = new TextEncoder().encode('made by numpy');
  const withComment = new Uint8Array(bytes.length + comment.length);
  withComment.set(bytes);
  withComment.set(comment, bytes.length);
  new DataView(withComment.buffer).setUint16(bytes.length - 2, comment.length, true);
  assert.deepEqual(await readNpzMember(withComment), await read('probabilities.npy'));
});

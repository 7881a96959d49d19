import test from 'ava';
import { buildCpio, readCpio, type CpioEntry } from '../src/lib/cpio.js';

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

const ENTRIES: CpioEntry[] = [
  { type: 'dir', path: 'bin' },
  { type: 'symlink', path: 'bin/sh', target: 'busybox' },
  { type: 'file', path: 'bin/busybox', data: Buffer.from('\x7fELF binary bytes\0\x01\x02'), mode: 0o755 },
  { type: 'dir', path: '/gs', mode: 0o700 },
  { type: 'file', path: 'gs/lib.sh', data: Buffer.from('say() {\n\techo "@gs $*"\n}\n') },
  { type: 'file', path: 'gs/empty', data: Buffer.alloc(0) },
  { type: 'file', path: 'init', data: Buffer.from('#!/bin/busybox sh\n'), mode: 0o755 },
];

/** The 13 header fields of the newc record at @off. */
function headerAt(archive: Buffer, off: number) {
  const f = (i: number) => parseInt(archive.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
  return {
    magic: archive.toString('latin1', off, off + 6),
    ino: f(0), mode: f(1), uid: f(2), gid: f(3), nlink: f(4), mtime: f(5),
    size: f(6), nameSize: f(11), check: f(12),
  };
}

/** Offsets of every record, the trailer included, walking the archive. */
function recordOffsets(archive: Buffer): number[] {
  const offsets: number[] = [];
  let off = 0;
  while (off < archive.length) {
    offsets.push(off);
    const h = headerAt(archive, off);
    let next = off + 110 + h.nameSize;
    next += (4 - (next % 4)) % 4;
    next += h.size;
    next += (4 - (next % 4)) % 4;
    off = next;
  }
  return offsets;
}

test('an archive reads back with every path, type, mode and content as built', (t) => {
  const back = readCpio(buildCpio(ENTRIES));
  t.deepEqual(back.map((e) => ({ ...e, data: e.data.toString('latin1') })), [
    { path: 'bin', mode: S_IFDIR | 0o755, data: '' },
    { path: 'bin/sh', mode: S_IFLNK | 0o777, data: 'busybox' },
    { path: 'bin/busybox', mode: S_IFREG | 0o755, data: '\x7fELF binary bytes\0\x01\x02' },
    { path: 'gs', mode: S_IFDIR | 0o700, data: '' },
    { path: 'gs/lib.sh', mode: S_IFREG | 0o644, data: 'say() {\n\techo "@gs $*"\n}\n' },
    { path: 'gs/empty', mode: S_IFREG | 0o644, data: '' },
    { path: 'init', mode: S_IFREG | 0o755, data: '#!/bin/busybox sh\n' },
  ]);
});

test('file contents survive byte for byte, including every byte value', (t) => {
  const data = Buffer.from(Array.from({ length: 256 * 3 + 1 }, (_, i) => i % 256));
  const [entry] = readCpio(buildCpio([{ type: 'file', path: 'blob', data }]));
  t.true(entry!.data.equals(data));
});

test('leading slashes are stripped so the kernel unpacks paths relative to the root', (t) => {
  const back = readCpio(buildCpio([{ type: 'dir', path: '///etc' }, { type: 'file', path: '/etc/hostname', data: Buffer.from('gs\n') }]));
  t.deepEqual(back.map((e) => e.path), ['etc', 'etc/hostname']);
});

test('the archive starts with the newc magic 070701 and every record has it', (t) => {
  const archive = buildCpio(ENTRIES);
  t.is(archive.toString('latin1', 0, 6), '070701');
  const offsets = recordOffsets(archive);
  t.is(offsets.length, ENTRIES.length + 1);
  for (const off of offsets) t.is(headerAt(archive, off).magic, '070701');
});

test('every record starts on a 4-byte boundary and the archive length is a multiple of 4', (t) => {
  // Names and data of lengths 1..8 exercise every padding amount.
  const entries: CpioEntry[] = [];
  for (let n = 1; n <= 8; n++) entries.push({ type: 'file', path: 'f'.repeat(n), data: Buffer.alloc(n, 0x61) });
  const archive = buildCpio(entries);
  t.is(archive.length % 4, 0);
  for (const off of recordOffsets(archive)) {
    t.is(off % 4, 0);
    const h = headerAt(archive, off);
    // The data starts aligned too.
    t.is((off + 110 + h.nameSize + ((4 - ((off + 110 + h.nameSize) % 4)) % 4)) % 4, 0);
  }
  const back = readCpio(archive);
  t.deepEqual(back.map((e) => e.data.length), [1, 2, 3, 4, 5, 6, 7, 8]);
});

test('padding is zero bytes', (t) => {
  const archive = buildCpio([{ type: 'file', path: 'a', data: Buffer.from('x') }]);
  // Header 110 + "a\0" = 112 (aligned), data 1 byte then 3 bytes of padding.
  t.is(archive.toString('latin1', 110, 112), 'a\0');
  t.is(archive.toString('latin1', 112, 113), 'x');
  t.deepEqual([...archive.subarray(113, 116)], [0, 0, 0]);
});

test('the archive ends with a TRAILER!!! record', (t) => {
  const archive = buildCpio(ENTRIES);
  const offsets = recordOffsets(archive);
  const last = offsets.at(-1)!;
  const h = headerAt(archive, last);
  t.is(archive.toString('latin1', last + 110, last + 110 + h.nameSize), 'TRAILER!!!\0');
  t.is(h.size, 0);
  t.is(h.nameSize, 11);
});

test('an empty archive is just the trailer', (t) => {
  const archive = buildCpio([]);
  t.deepEqual(readCpio(archive), []);
  t.is(archive.toString('latin1', 110, 120), 'TRAILER!!!');
  t.is(archive.length, 124);
});

test('headers give each entry its own inode, root ownership, one link and its size', (t) => {
  const archive = buildCpio(ENTRIES);
  const headers = recordOffsets(archive).slice(0, -1).map((off) => headerAt(archive, off));
  t.deepEqual(headers.map((h) => h.ino), [1, 2, 3, 4, 5, 6, 7]);
  for (const h of headers) {
    t.is(h.uid, 0);
    t.is(h.gid, 0);
    t.is(h.nlink, 1);
    t.is(h.check, 0);
  }
  t.is(headers[1]!.size, 'busybox'.length);
  t.is(headers[2]!.size, ENTRIES[2]!.type === 'file' ? ENTRIES[2]!.data.length : -1);
  t.is(headers[0]!.size, 0);
});

test('the name size in each header counts the terminating NUL', (t) => {
  const archive = buildCpio([{ type: 'dir', path: 'proc' }]);
  t.is(headerAt(archive, 0).nameSize, 5);
  t.is(archive[110 + 4], 0);
});

test('reading something that is not a newc archive fails', (t) => {
  t.throws(() => readCpio(Buffer.from('070707' + '0'.repeat(200))), { message: /bad cpio magic at 0/ });
});

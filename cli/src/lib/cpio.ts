/**
 * A writer for the "newc" cpio format the kernel unpacks as an initramfs
 * (Documentation/driver-api/early-userspace/buffer-format.rst).
 */
export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Buffer; mode?: number }
  | { type: 'symlink'; path: string; target: string };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function pad4(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function header(ino: number, mode: number, size: number, name: string): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [
    ino, mode, 0 /* uid */, 0 /* gid */, 1 /* nlink */, 0 /* mtime */, size,
    0, 0 /* dev */, 0, 0 /* rdev */, nameBytes.length, 0 /* check */,
  ];
  return Buffer.concat([Buffer.from(`070701${fields.map(hex8).join('')}`, 'latin1'), nameBytes]);
}

function record(ino: number, mode: number, name: string, data: Buffer): Buffer[] {
  const head = header(ino, mode, data.length, name);
  return [head, pad4(head.length), data, pad4(data.length)];
}

/** The archive for @entries, parents before children as given. */
export function buildCpio(entries: readonly CpioEntry[]): Buffer {
  const chunks: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (e.type === 'dir') chunks.push(...record(ino++, S_IFDIR | (e.mode ?? 0o755), name, Buffer.alloc(0)));
    else if (e.type === 'file') chunks.push(...record(ino++, S_IFREG | (e.mode ?? 0o644), name, e.data));
    else chunks.push(...record(ino++, S_IFLNK | 0o777, name, Buffer.from(e.target)));
  }
  chunks.push(...record(0, 0, 'TRAILER!!!', Buffer.alloc(0)));
  return Buffer.concat(chunks);
}

/** Read back a newc archive: for tests, and to check what was built. */
export function readCpio(archive: Buffer): { path: string; mode: number; data: Buffer }[] {
  const out: { path: string; mode: number; data: Buffer }[] = [];
  let off = 0;
  for (;;) {
    const magic = archive.toString('latin1', off, off + 6);
    if (magic !== '070701') throw new Error(`bad cpio magic at ${off}`);
    const field = (i: number) => parseInt(archive.toString('latin1', off + 6 + i * 8, off + 14 + i * 8), 16);
    const mode = field(1);
    const size = field(6);
    const nameSize = field(11);
    const nameStart = off + 110;
    const path = archive.toString('utf8', nameStart, nameStart + nameSize - 1);
    let dataStart = nameStart + nameSize;
    dataStart += (4 - (dataStart % 4)) % 4;
    if (path === 'TRAILER!!!') return out;
    out.push({ path, mode, data: archive.subarray(dataStart, dataStart + size) });
    off = dataStart + size;
    off += (4 - (off % 4)) % 4;
  }
}

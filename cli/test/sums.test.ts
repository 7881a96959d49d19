import test from 'ava';
import { GsError } from '../src/lib/errors.js';
import { expectedSha256, formatBytes, formatProgress, formatSha256Line, parseSha256Sums } from '../src/lib/sums.js';

const A = 'a'.repeat(64);
const B = '0123456789abcdef'.repeat(4);
const UPPER = 'ABCDEF0123456789'.repeat(4);

// The shape of https://cdn.kernel.org/pub/linux/kernel/v5.x/sha256sums.asc (signature faked).
const CLEARSIGNED = [
  '-----BEGIN PGP SIGNED MESSAGE-----',
  'Hash: SHA256',
  '',
  `${A}  ChangeLog-5.4.1`,
  `${B}  linux-5.4.1.tar.xz`,
  `${UPPER}  linux-5.4.1.tar.gz`,
  '',
  '-----BEGIN PGP SIGNATURE-----',
  '',
  'iQIzBAEBCAAdFiEEZH8oZUiU471FcZm+ONu9yGCSaT4FAl3bXXYACgkQONu9yGCS',
  `${A}  looks-like-a-sum-but-is-in-the-signature`,
  '=abcd',
  '-----END PGP SIGNATURE-----',
  '',
].join('\n');

test('the sums of a clear-signed sha256sums.asc are read into file name -> sum', (t) => {
  const sums = parseSha256Sums(CLEARSIGNED);
  t.is(sums.get('linux-5.4.1.tar.xz'), B);
  t.is(sums.get('ChangeLog-5.4.1'), A);
  t.is(sums.size, 3);
});

test('the PGP armor and signature lines are not taken for sums', (t) => {
  const sums = parseSha256Sums(CLEARSIGNED);
  t.false(sums.has('looks-like-a-sum-but-is-in-the-signature'));
  t.false([...sums.keys()].some((k) => k.includes('PGP') || k.startsWith('Hash')));
});

test('sums are stored in lower case whatever case the file uses', (t) => {
  t.is(parseSha256Sums(CLEARSIGNED).get('linux-5.4.1.tar.gz'), UPPER.toLowerCase());
});

test('CRLF line ends, binary-mode "*name" lines and "./name" are understood', (t) => {
  const sums = parseSha256Sums(`${A}  linux-6.1.tar.xz\r\n${B} *linux-6.1.tar.gz\r\n${A}  ./patch-6.1.xz\r\n`);
  t.is(sums.get('linux-6.1.tar.xz'), A);
  t.is(sums.get('linux-6.1.tar.gz'), B);
  t.is(sums.get('patch-6.1.xz'), A);
});

test('lines that are not "<64 hex>  <file>" are ignored', (t) => {
  const sums = parseSha256Sums([
    'garbage', `${A.slice(1)}  short-sum`, `${A}x  long-sum`, `${A}linux-no-space`, `  ${A}  indented`,
    `${'g'.repeat(64)}  not-hex`, `${A}  `, `${B}  kept.tar.xz`,
  ].join('\n'));
  t.deepEqual([...sums.entries()], [['kept.tar.xz', B]]);
});

test('an empty or unsigned-but-empty text gives no sums', (t) => {
  t.is(parseSha256Sums('').size, 0);
  t.is(parseSha256Sums('-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n-----BEGIN PGP SIGNATURE-----\n').size, 0);
});

test('a file listed twice with the same sum is fine, with two different sums it is a checksum error', (t) => {
  t.is(parseSha256Sums(`${A}  f.tar.xz\n${A}  f.tar.xz\n`).get('f.tar.xz'), A);
  const err = t.throws(() => parseSha256Sums(`${A}  f.tar.xz\n${B}  f.tar.xz\n`, 'sums.asc'), { instanceOf: GsError });
  t.is(err?.exitCode, 5);
  t.regex(err?.message ?? '', /sums\.asc.*f\.tar\.xz/);
});

test('the expected sum of a listed file is returned', (t) => {
  t.is(expectedSha256(parseSha256Sums(CLEARSIGNED), 'linux-5.4.1.tar.xz'), B);
});

test('looking up a file the sums do not list is a checksum error (exit code 5) naming the file', (t) => {
  const err = t.throws(() => expectedSha256(parseSha256Sums(CLEARSIGNED), 'linux-5.4.99.tar.xz', 'https://m/v5.x/sha256sums.asc'),
    { instanceOf: GsError });
  t.is(err?.exitCode, 5);
  t.true(err?.message.includes('linux-5.4.99.tar.xz'));
  t.true(err?.message.includes('https://m/v5.x/sha256sums.asc'));
  t.regex(err?.hint ?? '', /--kernel distro/);
});

test('a written sum line is read back by the parser', (t) => {
  t.is(parseSha256Sums(formatSha256Line(UPPER, 'linux-5.4.1.tar.xz')).get('linux-5.4.1.tar.xz'), UPPER.toLowerCase());
  t.is(formatSha256Line(A, 'x'), `${A}  x\n`);
});

test('byte counts are written in B, KiB, MiB and GiB with one decimal', (t) => {
  t.is(formatBytes(0), '0 B');
  t.is(formatBytes(1023), '1023 B');
  t.is(formatBytes(1024), '1.0 KiB');
  t.is(formatBytes(1536), '1.5 KiB');
  t.is(formatBytes(12.3 * 1024 * 1024), '12.3 MiB');
  t.is(formatBytes(3 * 1024 ** 3), '3.0 GiB');
  t.is(formatBytes(2 * 1024 ** 4), '2.0 TiB');
});

test('a size just under a unit boundary rolls over instead of printing 1024.0', (t) => {
  t.is(formatBytes(1024 * 1024 - 1), '1.0 MiB');
  t.is(formatBytes(1024 * 1024 - 60 * 1024), '964.0 KiB');
});

test('a nonsense byte count prints as unknown instead of NaN', (t) => {
  t.is(formatBytes(Number.NaN), '? B');
  t.is(formatBytes(-1), '? B');
});

test('progress shows the share done when the size is known and only the count otherwise', (t) => {
  t.is(formatProgress(5 * 1024 * 1024, 10 * 1024 * 1024), '5.0 MiB of 10.0 MiB (50%)');
  t.is(formatProgress(512, undefined), '512 B');
  t.is(formatProgress(512, 0), '512 B');
  t.is(formatProgress(20, 10), '20 B of 10 B (100%)');
});

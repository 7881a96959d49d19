import test from 'ava';
import { cacheKey, type KeyPart } from '../src/lib/cache-key.js';

const parts: KeyPart[] = [
  { name: 'kernel/patches/5.4/0001-gs.patch', content: 'diff --git a/mm/oom_kill.c b/mm/oom_kill.c\n' },
  { name: 'kernel/config/qemu.config', content: 'CONFIG_SERIAL_8250=y\n' },
  { name: 'linux-5.4.1.tar.xz', content: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]) },
];

test('a cache key is 16 lowercase hex characters', (t) => {
  t.regex(cacheKey(parts), /^[0-9a-f]{16}$/);
  t.regex(cacheKey([]), /^[0-9a-f]{16}$/);
});

test('the same inputs always give the same key', (t) => {
  t.is(cacheKey(parts), cacheKey(parts.map((p) => ({ ...p }))));
});

test('the order inputs are given in does not change the key', (t) => {
  const key = cacheKey(parts);
  t.is(cacheKey([...parts].reverse()), key);
  t.is(cacheKey([parts[1]!, parts[2]!, parts[0]!]), key);
});

test('ordering the inputs does not reorder the caller\'s array', (t) => {
  const copy = [...parts];
  cacheKey(copy);
  t.deepEqual(copy, parts);
});

test('changing one byte of any input changes the key', (t) => {
  const key = cacheKey(parts);
  const changed = parts.map((p, i) => (i === 1 ? { ...p, content: 'CONFIG_SERIAL_8250=m\n' } : p));
  t.not(cacheKey(changed), key);
  const bin = parts.map((p, i) => (i === 2 ? { ...p, content: Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x01]) } : p));
  t.not(cacheKey(bin), key);
});

test('renaming an input changes the key even with the same content', (t) => {
  const renamed = parts.map((p, i) => (i === 1 ? { ...p, name: 'kernel/config/debug.config' } : p));
  t.not(cacheKey(renamed), cacheKey(parts));
});

test('moving content from one input to another changes the key', (t) => {
  const a = [{ name: 'a', content: 'x' }, { name: 'b', content: 'y' }];
  const b = [{ name: 'a', content: 'y' }, { name: 'b', content: 'x' }];
  t.not(cacheKey(a), cacheKey(b));
});

test('adding or removing an input changes the key', (t) => {
  t.not(cacheKey(parts.slice(0, 2)), cacheKey(parts));
  t.not(cacheKey([...parts, { name: 'extra', content: '' }]), cacheKey(parts));
});

test('a string and the Buffer of its UTF-8 bytes give the same key', (t) => {
  t.is(cacheKey([{ name: 'f', content: 'héllo' }]), cacheKey([{ name: 'f', content: Buffer.from('héllo', 'utf8') }]));
});

test('the boundary between a name and its content cannot be shifted', (t) => {
  t.not(cacheKey([{ name: 'ab', content: 'c' }]), cacheKey([{ name: 'a', content: 'bc' }]));
});

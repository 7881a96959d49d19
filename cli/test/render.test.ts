import test from 'ava';
import { toned, verdictLines } from '../src/ui/render.js';
import type { Style } from '../src/lib/reporter.js';

const plain: Style = { bold: (t) => t, dim: (t) => t, green: (t) => t, yellow: (t) => t, red: (t) => t };
const marked: Style = { bold: (t) => `*${t}*`, dim: (t) => `(${t})`, green: (t) => `<g>${t}`, yellow: (t) => `<y>${t}`, red: (t) => `<r>${t}` };

test('a verdict reads PASS or FAIL, its title and time, then a line per check with a failed one\'s detail', (t) => {
  const lines = verdictLines(plain, {
    label: '6.1', name: 'memcg', title: 'memcg OOM', durationMs: 5250,
    checks: [{ name: 'the handler ran', ok: true }, { name: 'the victim died', ok: false, detail: 'status 0' }],
  });
  t.deepEqual(lines, [
    'FAIL [6.1] memcg: memcg OOM (5.3 s)',
    '    ✓ the handler ran',
    '    ✗ the victim died — status 0',
  ]);
});

test('a verdict with a console shows it dimmed after the checks; a stage has no title', (t) => {
  const lines = verdictLines(marked, { label: '6.12', name: 'system stage 1', durationMs: 1000, checks: [{ name: 'ok', ok: true }], console: 'boot log' });
  t.deepEqual(lines, ['<g>PASS *[6.12] system stage 1* ((1.0 s))', '    <g>✓ ok', '(boot log)']);
});

test('a note reads in its tone: a success with a check mark, a warning in yellow, detail dimmed', (t) => {
  t.is(toned(marked, '2 changes.', 'ok'), '<g>✓ 2 changes.');
  t.is(toned(marked, 'note: x', 'warn'), '<y>note: x');
  t.is(toned(marked, 'waiting', 'dim'), '(waiting)');
  t.is(toned(marked, 'plain'), 'plain');
});

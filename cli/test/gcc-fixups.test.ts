import test from 'ava';
import { fixupsFor, gccMajor, MODERN_GCC_FIXUPS } from '../src/lib/gcc-fixups.js';

const fixup = (id: string) => MODERN_GCC_FIXUPS.find((f) => f.id === id)!;

test('5.4 built with GCC 12 gets all three fixups; with GCC 9 none; 6.x never', (t) => {
  t.deepEqual(fixupsFor(true, 12).map((f) => f.id), ['dtc-yylloc', 'x86-gcc10-stack-protector', 'libsubcmd-realloc']);
  t.deepEqual(fixupsFor(true, 10).map((f) => f.id), ['dtc-yylloc', 'x86-gcc10-stack-protector']);
  t.deepEqual(fixupsFor(true, 9), []);
  t.deepEqual(fixupsFor(false, 12), []);
});

test('gcc -dumpversion output is read as its major version', (t) => {
  t.is(gccMajor('12\n'), 12);
  t.is(gccMajor('9.4.0'), 9);
  t.is(gccMajor('garbage'), 0);
});

test('the dtc fixup turns the second yylloc definition into a declaration, once', (t) => {
  const lexer = '%{\n#include "dtc.h"\nYYLTYPE yylloc;\nextern bool treesource_error;\n%}\n';
  const fixed = fixup('dtc-yylloc').apply('scripts/dtc/dtc-lexer.l', lexer);
  t.is(fixed, '%{\n#include "dtc.h"\nextern YYLTYPE yylloc;\nextern bool treesource_error;\n%}\n');
  t.is(fixup('dtc-yylloc').apply('scripts/dtc/dtc-lexer.l', fixed!), undefined);
});

test('the stack-protector fixup defines the barrier and calls it after cpu_startup_entry, once', (t) => {
  const f = fixup('x86-gcc10-stack-protector');
  const header = '#ifndef __LINUX_COMPILER_H\n#define __LINUX_COMPILER_H\n\n#endif /* __LINUX_COMPILER_H */\n';
  const h = f.apply('include/linux/compiler.h', header)!;
  t.regex(h, /#define prevent_tail_call_optimization\(\)\tmb\(\)\n\n#endif/);
  t.is(f.apply('include/linux/compiler.h', h), undefined);
  const smpboot = 'static void notrace start_secondary(void *unused)\n{\n\twmb();\n\tcpu_startup_entry(CPUHP_AP_ONLINE_IDLE);\n}\n';
  const s = f.apply('arch/x86/kernel/smpboot.c', smpboot)!;
  t.true(s.endsWith('\tcpu_startup_entry(CPUHP_AP_ONLINE_IDLE);\n\tprevent_tail_call_optimization();\n}\n'));
  t.is(f.apply('arch/x86/kernel/smpboot.c', s), undefined);
});

test('the libsubcmd fixup replaces xrealloc and leaves the rest of the header alone', (t) => {
  const header = [
    'static inline void *xrealloc(void *ptr, size_t size)',
    '{',
    '\tvoid *ret = realloc(ptr, size);',
    '\tif (!ret && !size)',
    '\t\tret = realloc(ptr, 1);',
    '\tif (!ret) {',
    '\t\tret = realloc(ptr, size);',
    '\t\tif (!ret && !size)',
    '\t\t\tret = realloc(ptr, 1);',
    '\t\tif (!ret)',
    '\t\t\tdie("Out of memory, realloc failed");',
    '\t}',
    '\treturn ret;',
    '}',
    '',
    '#define astrcatf(out, fmt, ...) x',
    '',
  ].join('\n');
  const fixed = fixup('libsubcmd-realloc').apply('tools/lib/subcmd/subcmd-util.h', header)!;
  t.false(fixed.includes('realloc(ptr, 1)'));
  t.true(fixed.includes('\tif (!size) {\n\t\tfree(ptr);\n\t\treturn NULL;\n\t}'));
  t.true(fixed.endsWith('#define astrcatf(out, fmt, ...) x\n'));
  t.is(fixup('libsubcmd-realloc').apply('tools/lib/subcmd/subcmd-util.h', fixed), undefined);
});

/**
 * Source fixes that let an old kernel (5.4.x) build with a modern GCC,
 * each the text change of a known upstream fix. Pure: given a file's text,
 * return the fixed text, or undefined when the fix is already there or the
 * code it fixes is not.
 */
export interface SourceFixup {
  id: string;
  /** What it fixes, and the upstream commit it follows. */
  description: string;
  /** GCC major version from which it is needed. */
  fromGcc: number;
  /** Files changed, relative to the tree. */
  files: readonly string[];
  apply(file: string, text: string): string | undefined;
}

export const MODERN_GCC_FIXUPS: readonly SourceFixup[] = [
  {
    id: 'dtc-yylloc',
    description: 'dtc: a second yylloc definition breaks linking with GCC >= 10 (-fno-common); upstream e33a814e772c',
    fromGcc: 10,
    files: ['scripts/dtc/dtc-lexer.l'],
    apply: (_file, text) => (/^YYLTYPE yylloc;$/m.test(text) ? text.replace(/^YYLTYPE yylloc;$/m, 'extern YYLTYPE yylloc;') : undefined),
  },
  {
    id: 'x86-gcc10-stack-protector',
    description: 'x86: GCC 10 tail-calls out of start_secondary() and trips the early-boot stack protector; upstream f670269a42bf',
    fromGcc: 10,
    files: ['include/linux/compiler.h', 'arch/x86/kernel/smpboot.c'],
    apply: (file, text) => {
      if (file.endsWith('compiler.h')) {
        if (text.includes('prevent_tail_call_optimization')) return undefined;
        const end = text.lastIndexOf('#endif');
        if (end < 0) return undefined;
        return `${text.slice(0, end)}/*\n * This is needed in functions which generate the stack canary, see\n * arch/x86/kernel/smpboot.c::start_secondary() for an example.\n */\n#define prevent_tail_call_optimization()\tmb()\n\n${text.slice(end)}`;
      }
      const call = '\tcpu_startup_entry(CPUHP_AP_ONLINE_IDLE);\n}';
      if (text.includes('prevent_tail_call_optimization') || !text.includes(call)) return undefined;
      return text.replace(call, '\tcpu_startup_entry(CPUHP_AP_ONLINE_IDLE);\n\tprevent_tail_call_optimization();\n}');
    },
  },
  {
    id: 'libsubcmd-realloc',
    description: 'libsubcmd: xrealloc() uses a pointer after realloc(), an error with GCC >= 12 (-Werror=use-after-free); upstream 52a9dab6d892',
    fromGcc: 12,
    files: ['tools/lib/subcmd/subcmd-util.h'],
    apply: (_file, text) => {
      const fn = /static inline void \*xrealloc\(void \*ptr, size_t size\)\n\{\n[\s\S]*?\n\}\n/;
      const m = fn.exec(text);
      if (!m || !m[0].includes('realloc(ptr, 1)')) return undefined;
      return text.replace(fn, [
        'static inline void *xrealloc(void *ptr, size_t size)',
        '{',
        '\tvoid *ret;',
        '',
        '\tif (!size) {',
        '\t\tfree(ptr);',
        '\t\treturn NULL;',
        '\t}',
        '',
        '\tret = realloc(ptr, size);',
        '\tif (!ret)',
        '\t\tdie("Out of memory, realloc failed");',
        '\treturn ret;',
        '}',
        '',
      ].join('\n'));
    },
  },
];

/** The fixups a build needs: for a series that needs them, with GCC from their version on. */
export function fixupsFor(needsModernGccFixes: boolean, gccMajor: number): SourceFixup[] {
  return needsModernGccFixes ? MODERN_GCC_FIXUPS.filter((f) => gccMajor >= f.fromGcc) : [];
}

/** "gcc -dumpversion" output ("12" or "12.2.0") to its major number. */
export function gccMajor(dumpversion: string): number {
  const n = Number.parseInt(dumpversion.trim(), 10);
  return Number.isNaN(n) ? 0 : n;
}

/**
 * The fact keys a guest script can say, read from its text: each
 * "say KEY ..." (and "echo @gs KEY ...") of the script, of the shell
 * functions it calls (lib.sh's and its own), followed through, and of the
 * scripts it hands over to. A key built from a variable ("lat_$1") is a
 * pattern; a function that says the key its caller gives it (say_file KEY
 * FILE, run_step NAME ...) says the caller's word. Good enough for the
 * scripts under vm/, not a shell parser.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface ShellFunction {
  lines: string[];
  /** The names the function's first argument goes by: 1, and any "name=$1". */
  argNames: string[];
}

/** A shell word (quoted whole, or bare) or an operator. */
const TOKEN = /"(?:[^"\\]|\\.)*"|'[^']*'|[^\s;|&()`'"<>]+/g;
/** A variable in a word: $x, ${x}, $1. */
const VARIABLE = /\$\{?\w+\}?/g;

/** Code lines: no comments, no blank lines, no here-document bodies (a handler script written by cat << 'SCRIPT'). */
function codeLines(lines: readonly string[]): string[] {
  const out: string[] = [];
  let heredoc: string | undefined;
  for (const raw of lines) {
    if (heredoc) {
      if (raw.trim() === heredoc) heredoc = undefined;
      continue;
    }
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    heredoc = /<<-?\s*'?(\w+)'?/.exec(line)?.[1];
    out.push(line);
  }
  return out;
}

/** The functions a script defines ("name() {" to a "}" alone at the left margin), and its other code lines. */
function parse(text: string): { functions: Map<string, ShellFunction>; top: string[] } {
  const functions = new Map<string, ShellFunction>();
  const top: string[] = [];
  let body: string[] | undefined;
  for (const raw of text.split('\n')) {
    const def = /^(\w+)\(\)\s*\{\s*$/.exec(raw);
    if (def) {
      body = [];
      functions.set(def[1]!, { lines: body, argNames: [] });
    } else if (body && raw === '}') {
      body = undefined;
    } else {
      (body ?? top).push(raw);
    }
  }
  for (const f of functions.values()) {
    f.lines.splice(0, f.lines.length, ...codeLines(f.lines));
    f.argNames = ['1', ...f.lines.map((l) => /^(\w+)=\$\{?1\}?$/.exec(l)?.[1]).filter((n): n is string => n !== undefined)];
  }
  return { functions, top: codeLines(top) };
}

const unquote = (word: string) => (/^(["']).*\1$/.test(word) ? word.slice(1, -1) : word);

/** @key with the function's first argument (under any of @argNames) replaced by @value. */
function withArgument(key: string, argNames: readonly string[], value: string): string {
  return key.replace(VARIABLE, (v) => (argNames.includes(v.replace(/[${}]/g, '')) ? value : v));
}

function usesArgument(key: string, argNames: readonly string[]): boolean {
  return (key.match(VARIABLE) ?? []).some((v) => argNames.includes(v.replace(/[${}]/g, '')));
}

export class GuestScripts {
  private readonly library = new Map<string, ShellFunction>();

  /** @libraries: the shell libraries scripts call into (vm/guest/lib.sh), relative to @repo. */
  constructor(private readonly repo: string, private readonly libraries: readonly string[]) {
    for (const lib of libraries) for (const [name, f] of parse(this.read(lib)).functions) this.library.set(name, f);
  }

  private read(path: string): string {
    return readFileSync(join(this.repo, path), 'utf8');
  }

  /** The key templates @lines say, with calls into @functions followed (none twice on one path). */
  private keysOf(lines: readonly string[], functions: ReadonlyMap<string, ShellFunction>, path: readonly string[] = []): string[] {
    const keys: string[] = [];
    for (const line of lines) {
      for (const m of line.matchAll(/@gs ([\w$]+)/g)) keys.push(m[1]!);
      const words = line.match(TOKEN) ?? [];
      words.forEach((name, i) => {
        const arg = words[i + 1] === undefined ? undefined : unquote(words[i + 1]!);
        if (name === 'say') {
          if (arg !== undefined) keys.push(arg);
          return;
        }
        const program = /^(?:\/gs|\$progs|"\$progs)\/(\w+)"?$/.exec(name)?.[1];
        if (program) keys.push(...this.programSays(program));
        const f = functions.get(name);
        if (!f || path.includes(name)) return;
        for (const key of this.keysOf(f.lines, functions, [...path, name])) {
          keys.push(arg !== undefined && usesArgument(key, f.argNames) ? withArgument(key, f.argNames, arg) : key);
        }
      });
    }
    return keys;
  }

  /** The "@gs KEY" facts a test program prints itself (test_programs/NAME.c). */
  private programSays(name: string): string[] {
    try {
      return [...this.read(`test_programs/${name}.c`).matchAll(/@gs (\w+)/g)].map((m) => m[1]!);
    } catch {
      return [];
    }
  }

  /**
   * What the script at @path can say, and what the scripts it hands over to
   * (by a path under vm/) can: a test for a key.
   */
  says(path: string, handedOver: readonly string[] = []): (key: string) => boolean {
    const { functions: own, top } = parse(this.read(path));
    const functions = new Map([...this.library, ...own]);
    // "say" prints the key it is given: only its callers name keys.
    functions.delete('say');
    own.delete('say');
    const keys = [
      ...this.keysOf(top, functions),
      // A function of the script's own says its fixed keys wherever it is called from.
      ...[...own.values()].flatMap((f) => this.keysOf(f.lines, functions).filter((k) => !usesArgument(k, f.argNames))),
    ];
    const patterns = keys
      .filter((k) => k.replace(VARIABLE, '') !== '')
      .map((k) => new RegExp(`^${k.split(VARIABLE).map((part) => part.replace(/[.*+?^{}()|[\]\\]/g, '\\$&')).join('.+')}$`));
    const next = [...new Set(top.flatMap((l) => [...l.matchAll(/vm\/(?:guest|system)\/[\w/.-]+\.sh/g)].map((m) => m[0])))]
      .filter((p) => p !== path && !this.libraries.includes(p) && !handedOver.includes(p))
      .map((p) => this.says(p, [...handedOver, path]));
    return (key) => patterns.some((p) => p.test(key)) || next.some((says) => says(key));
  }
}

import { GsError } from './errors.js';

export interface OptionSpec {
  name: string;
  type: 'string' | 'boolean';
  description: string;
  choices?: readonly string[];
  default?: string | boolean;
  /** Value shown in help, e.g. DIR. */
  value?: string;
}

export interface CommandSpec {
  name: string;
  summary: string;
  usage: string;
  options: readonly OptionSpec[];
  examples: readonly string[];
}

export interface ParsedArgs {
  positional: string[];
  /** Everything after "--", untouched. */
  rest: string[];
  options: Record<string, string | boolean | undefined>;
}

/** Options every command takes. */
export const GLOBAL_OPTIONS: readonly OptionSpec[] = [
  { name: 'help', type: 'boolean', description: 'Show help for this command.' },
  { name: 'debug', type: 'boolean', description: 'Show stack traces and command output on errors.' },
];

/**
 * Parse argv for one command: "--name value", "--name=value", "--flag",
 * "--no-flag"; unknown options and bad choices are usage errors.
 */
export function parseArgs(argv: readonly string[], spec: CommandSpec): ParsedArgs {
  const all = [...GLOBAL_OPTIONS, ...spec.options];
  const options: Record<string, string | boolean | undefined> = {};
  for (const o of all) if (o.default !== undefined) options[o.name] = o.default;
  const positional: string[] = [];
  let rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      rest = argv.slice(i + 1);
      break;
    }
    if (/^-[^-]/.test(arg) && !/^-\d+$/.test(arg)) {
      throw new GsError(`Unknown option ${arg} for "gs-kit ${spec.name}".`,
        `Options are long (--name); run "gs-kit ${spec.name} --help".`, 'usage');
    }
    if (!arg.startsWith('--') || arg === '-') {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    let name = eq > 0 ? arg.slice(2, eq) : arg.slice(2);
    let negated = false;
    if (!all.some((o) => o.name === name) && name.startsWith('no-')) {
      name = name.slice(3);
      negated = true;
    }
    const opt = all.find((o) => o.name === name);
    if (!opt) {
      throw new GsError(`Unknown option --${name} for "gs-kit ${spec.name}".`,
        `Run "gs-kit ${spec.name} --help" for its options.`, 'usage');
    }
    if (opt.type === 'boolean') {
      if (eq > 0) throw new GsError(`--${name} takes no value.`, `Write --${name} or --no-${name}.`, 'usage');
      options[name] = !negated;
      continue;
    }
    // "--name --other" is a missing value, not the value "--other".
    const next = argv[i + 1];
    const value = eq > 0 ? arg.slice(eq + 1) : next !== undefined && !next.startsWith('--') ? argv[++i] : undefined;
    if (value === undefined || negated) {
      throw new GsError(`--${name} needs a value.`, `Write --${name} ${opt.value ?? 'VALUE'}.`, 'usage');
    }
    if (opt.choices && !opt.choices.includes(value)) {
      throw new GsError(`--${name} must be one of ${opt.choices.join(', ')}, not "${value}".`,
        `Run "gs-kit ${spec.name} --help".`, 'usage');
    }
    options[name] = value;
  }
  return { positional, rest, options };
}

export function formatHelp(spec: CommandSpec): string {
  const lines = [`Usage: ${spec.usage}`, '', spec.summary, '', 'Options:'];
  const all = [...spec.options, ...GLOBAL_OPTIONS];
  const left = all.map((o) => `  --${o.name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`);
  const width = Math.max(...left.map((l) => l.length)) + 2;
  all.forEach((o, i) => {
    const extra = o.choices ? ` (${o.choices.join('|')})` : '';
    const def = o.default !== undefined && o.type === 'string' ? ` [default: ${o.default}]` : '';
    lines.push(`${left[i]!.padEnd(width)}${o.description}${extra}${def}`);
  });
  if (spec.examples.length) lines.push('', 'Examples:', ...spec.examples.map((e) => `  ${e}`));
  return lines.join('\n');
}

/**
 * A comma-separated --@option value whose every item must be one of
 * @allowed (e.g. --parts trials,global); a usage error otherwise.
 */
export function listOption<T extends string>(value: unknown, option: string, allowed: readonly T[]): Set<T> {
  const names = String(value ?? '').split(',').map((p) => p.trim()).filter(Boolean);
  const bad = names.filter((p) => !(allowed as readonly string[]).includes(p));
  if (bad.length || !names.length) {
    throw new GsError(`--${option} takes a comma-separated list of ${allowed.join(', ')}, not "${String(value)}".`,
      `Give e.g. --${option} ${allowed.join(',')}.`, 'usage');
  }
  return new Set(names as T[]);
}

/** A --@option value that must be a whole number of at least @min; a usage error otherwise. */
export function countOption(value: unknown, option: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) {
    throw new GsError(`--${option} must be a whole number of at least ${min}, not "${String(value)}".`,
      `Give e.g. --${option} ${Math.max(min, 20)}.`, 'usage');
  }
  return n;
}

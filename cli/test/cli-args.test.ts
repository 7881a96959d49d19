import test from 'ava';
import { GsError } from '../src/lib/errors.js';
import { GLOBAL_OPTIONS, countOption, formatHelp, listOption, parseArgs, type CommandSpec } from '../src/lib/cli-args.js';

const RUN: CommandSpec = {
  name: 'run',
  summary: 'Build the kernel and module, then run the guest scenarios.',
  usage: 'gs-kit run [options] [SCENARIO...]',
  options: [
    { name: 'kernel', type: 'string', description: 'Kernel version to build, or "distro".', value: 'VERSION', default: '5.4.1' },
    { name: 'profile', type: 'string', description: 'Kernel config profile.', choices: ['qemu', 'host', 'debug'], default: 'qemu' },
    { name: 'cache-dir', type: 'string', description: 'Where builds are cached.', value: 'DIR' },
    { name: 'keep', type: 'boolean', description: 'Keep the work directory.' },
    { name: 'color', type: 'boolean', description: 'Colour the output.', default: true },
  ],
  examples: ['gs-kit run --kernel 6.1 memcg', 'gs-kit run --profile debug -- -append quiet'],
};

test('"--name value" sets a string option', (t) => {
  t.is(parseArgs(['--kernel', '6.1.0'], RUN).options.kernel, '6.1.0');
});

test('"--name=value" sets a string option, keeping any further "=" in the value', (t) => {
  t.is(parseArgs(['--kernel=6.12'], RUN).options.kernel, '6.12');
  t.is(parseArgs(['--cache-dir=/tmp/a=b'], RUN).options['cache-dir'], '/tmp/a=b');
  t.is(parseArgs(['--cache-dir='], RUN).options['cache-dir'], '');
});

test('a bare boolean flag sets it true and --no-flag sets it false', (t) => {
  t.is(parseArgs(['--keep'], RUN).options.keep, true);
  t.is(parseArgs(['--no-keep'], RUN).options.keep, false);
  t.is(parseArgs(['--no-color'], RUN).options.color, false);
  t.is(parseArgs(['--no-color', '--color'], RUN).options.color, true);
});

test('global options --help and --debug are accepted by every command', (t) => {
  const opts = parseArgs(['--help', '--debug'], RUN).options;
  t.is(opts.help, true);
  t.is(opts.debug, true);
  t.deepEqual(GLOBAL_OPTIONS.map((o) => o.name), ['help', 'debug']);
});

test('defaults apply when an option is not given, and booleans without a default stay unset', (t) => {
  const { options, positional, rest } = parseArgs([], RUN);
  t.deepEqual(options, { kernel: '5.4.1', profile: 'qemu', color: true });
  t.false('keep' in options);
  t.deepEqual(positional, []);
  t.deepEqual(rest, []);
});

test('a later option overrides an earlier one and the default', (t) => {
  t.is(parseArgs(['--kernel', '6.1', '--kernel=6.12'], RUN).options.kernel, '6.12');
});

test('positional arguments are kept in order between options', (t) => {
  const parsed = parseArgs(['memcg', '--keep', 'hang', '-', '--profile', 'debug', 'perms'], RUN);
  t.deepEqual(parsed.positional, ['memcg', 'hang', '-', 'perms']);
  t.is(parsed.options.profile, 'debug');
});

test('everything after "--" is passed through untouched, even option-like words', (t) => {
  const parsed = parseArgs(['memcg', '--', '--kernel', 'x', '--bogus', '-append'], RUN);
  t.deepEqual(parsed.rest, ['--kernel', 'x', '--bogus', '-append']);
  t.deepEqual(parsed.positional, ['memcg']);
  t.is(parsed.options.kernel, '5.4.1');
});

test('an unknown option is a usage error (exit code 2) that names the option and the command', (t) => {
  const err = t.throws(() => parseArgs(['--kernal', '6.1'], RUN), { instanceOf: GsError });
  t.is(err?.exitCode, 2);
  t.true(err?.message.includes('--kernal'));
  t.true(err?.message.includes('gs-kit run'));
  t.is(err?.hint, 'Run "gs-kit run --help" for its options.');
});

test('an unknown --no-option is refused by its base name', (t) => {
  const err = t.throws(() => parseArgs(['--no-such'], RUN), { instanceOf: GsError });
  t.is(err?.exitCode, 2);
  t.true(err?.message.includes('--such'));
});

test('a value outside the choices is a usage error listing the choices', (t) => {
  const err = t.throws(() => parseArgs(['--profile', 'fast'], RUN), { instanceOf: GsError });
  t.is(err?.exitCode, 2);
  t.is(err?.message, '--profile must be one of qemu, host, debug, not "fast".');
  t.throws(() => parseArgs(['--profile=QEMU'], RUN), { instanceOf: GsError });
});

test('every listed choice is accepted', (t) => {
  for (const p of ['qemu', 'host', 'debug']) t.is(parseArgs([`--profile=${p}`], RUN).options.profile, p);
});

test('a string option at the end of the line without a value is a usage error showing its value name', (t) => {
  const err = t.throws(() => parseArgs(['memcg', '--kernel'], RUN), { instanceOf: GsError });
  t.is(err?.exitCode, 2);
  t.is(err?.message, '--kernel needs a value.');
  t.is(err?.hint, 'Write --kernel VERSION.');
  const noValueName = t.throws(() => parseArgs(['--profile'], RUN), { instanceOf: GsError });
  t.is(noValueName?.hint, 'Write --profile VALUE.');
});

test('--no- on a string option is refused as needing a value', (t) => {
  const err = t.throws(() => parseArgs(['--no-kernel'], RUN), { instanceOf: GsError });
  t.is(err?.exitCode, 2);
  t.is(err?.message, '--kernel needs a value.');
});

test('a boolean flag given a value is a usage error', (t) => {
  const err = t.throws(() => parseArgs(['--keep=yes'], RUN), { instanceOf: GsError });
  t.is(err?.exitCode, 2);
  t.is(err?.message, '--keep takes no value.');
  t.is(err?.hint, 'Write --keep or --no-keep.');
});

test('help starts with the usage line and summary', (t) => {
  const lines = formatHelp(RUN).split('\n');
  t.is(lines[0], 'Usage: gs-kit run [options] [SCENARIO...]');
  t.is(lines[2], 'Build the kernel and module, then run the guest scenarios.');
  t.is(lines[4], 'Options:');
});

test('help lists every option with its value name, choices and string default, then the global options', (t) => {
  const help = formatHelp(RUN);
  const optionLines = help.split('\n').filter((l) => l.startsWith('  --'));
  t.is(optionLines.length, RUN.options.length + GLOBAL_OPTIONS.length);
  t.regex(optionLines[0]!, /^ {2}--kernel VERSION +Kernel version to build, or "distro"\. \[default: 5\.4\.1\]$/);
  t.regex(optionLines[1]!, /^ {2}--profile VALUE +Kernel config profile\. \(qemu\|host\|debug\) \[default: qemu\]$/);
  t.regex(optionLines[2]!, /^ {2}--cache-dir DIR +Where builds are cached\.$/);
  t.regex(optionLines[3]!, /^ {2}--keep +Keep the work directory\.$/);
  t.false(optionLines[4]!.includes('default'));
  t.regex(optionLines[5]!, /^ {2}--help +Show help for this command\.$/);
  t.regex(optionLines[6]!, /^ {2}--debug +/);
});

test('help descriptions line up in one column', (t) => {
  const optionLines = formatHelp(RUN).split('\n').filter((l) => l.startsWith('  --'));
  const columns = new Set(optionLines.map((l) => l.search(/ {2}[A-Z]/) + 2));
  t.is(columns.size, 1);
  t.is([...columns][0], '  --kernel VERSION'.length + 2);
});

test('help ends with the examples, indented', (t) => {
  const help = formatHelp(RUN);
  t.true(help.endsWith('Examples:\n  gs-kit run --kernel 6.1 memcg\n  gs-kit run --profile debug -- -append quiet'));
});

test('help for a command without examples has no Examples section', (t) => {
  t.false(formatHelp({ ...RUN, examples: [] }).includes('Examples:'));
});

test('listOption takes known items, trims them, and refuses unknown or empty lists', (t) => {
  t.deepEqual([...listOption(' trials, global ', 'parts', ['trials', 'lifecycle', 'global'])], ['trials', 'global']);
  const bad = t.throws(() => listOption('trials,soak', 'parts', ['trials', 'global']));
  t.regex(bad!.message, /--parts takes a comma-separated list of trials, global, not "trials,soak"/);
  t.throws(() => listOption('', 'parts', ['trials']));
  t.throws(() => listOption(',', 'parts', ['trials']));
});

test('countOption takes whole numbers from its minimum up', (t) => {
  t.is(countOption('20', 'global-runs'), 20);
  t.is(countOption('0', 'repeats', 0), 0);
  for (const v of ['0', '-1', '1.5', 'x', '']) t.throws(() => countOption(v, 'count'), undefined, v);
  t.regex(t.throws(() => countOption('x', 'count'))!.message, /--count must be a whole number of at least 1, not "x"/);
});

import test from 'ava';
import { PROFILES, mergeFragments, parseFragment, profilePlan, unmetOptions } from '../src/lib/kconfig.js';

const FRAGMENT = `# Graceful shutdown support
CONFIG_GRACEFUL_SHUTDOWN=y
CONFIG_MEMCG=y
CONFIG_MODULES=m
CONFIG_LOG_BUF_SHIFT=17
CONFIG_CMDLINE="console=ttyS0 gs.scenario=memcg"
# CONFIG_SWAP is not set
  CONFIG_PRINTK_TIME=y  
# A comment that mentions CONFIG_FOO=y is ignored
#CONFIG_BAR is not set

CONFIG_lower_Case_1=y
`;

test('a fragment sets =y, =m, numbers and quoted strings verbatim', (t) => {
  const opts = parseFragment(FRAGMENT);
  t.is(opts.get('CONFIG_GRACEFUL_SHUTDOWN'), 'y');
  t.is(opts.get('CONFIG_MODULES'), 'm');
  t.is(opts.get('CONFIG_LOG_BUF_SHIFT'), '17');
  t.is(opts.get('CONFIG_CMDLINE'), '"console=ttyS0 gs.scenario=memcg"');
});

test('"# CONFIG_X is not set" reads as n', (t) => {
  t.is(parseFragment(FRAGMENT).get('CONFIG_SWAP'), 'n');
});

test('comments, blank lines and malformed "not set" lines set nothing', (t) => {
  const opts = parseFragment(FRAGMENT);
  t.false(opts.has('CONFIG_FOO'));
  t.false(opts.has('CONFIG_BAR'));
  t.deepEqual([...opts.keys()].sort(), [
    'CONFIG_CMDLINE', 'CONFIG_GRACEFUL_SHUTDOWN', 'CONFIG_LOG_BUF_SHIFT', 'CONFIG_MEMCG',
    'CONFIG_MODULES', 'CONFIG_PRINTK_TIME', 'CONFIG_SWAP', 'CONFIG_lower_Case_1',
  ]);
});

test('leading and trailing whitespace around an option line is ignored', (t) => {
  t.is(parseFragment(FRAGMENT).get('CONFIG_PRINTK_TIME'), 'y');
});

test('CRLF line endings in a fragment do not leak into values', (t) => {
  t.is(parseFragment('CONFIG_A=y\r\n# CONFIG_B is not set\r\n').get('CONFIG_A'), 'y');
  t.is(parseFragment('CONFIG_A=y\r\n# CONFIG_B is not set\r\n').get('CONFIG_B'), 'n');
});

test('within one fragment the last setting of an option wins', (t) => {
  t.is(parseFragment('CONFIG_A=y\n# CONFIG_A is not set\n').get('CONFIG_A'), 'n');
});

test('an empty fragment sets nothing', (t) => {
  t.is(parseFragment('').size, 0);
});

test('when fragments disagree the later fragment wins', (t) => {
  const merged = mergeFragments([
    'CONFIG_A=y\nCONFIG_B=y\n# CONFIG_C is not set\n',
    '# CONFIG_A is not set\nCONFIG_C=m\nCONFIG_D=y\n',
  ]);
  t.is(merged.get('CONFIG_A'), 'n');
  t.is(merged.get('CONFIG_B'), 'y');
  t.is(merged.get('CONFIG_C'), 'm');
  t.is(merged.get('CONFIG_D'), 'y');
  t.is(merged.size, 4);
});

test('merging is order-sensitive: the same fragments reversed give the other value', (t) => {
  const a = 'CONFIG_X=y\n';
  const b = '# CONFIG_X is not set\n';
  t.is(mergeFragments([a, b]).get('CONFIG_X'), 'n');
  t.is(mergeFragments([b, a]).get('CONFIG_X'), 'y');
});

test('merging no fragments gives an empty set', (t) => {
  t.is(mergeFragments([]).size, 0);
});

const FINAL_CONFIG = `#
# Automatically generated file; DO NOT EDIT.
# Linux/x86 5.4.1 Kernel Configuration
#
CONFIG_GRACEFUL_SHUTDOWN=y
CONFIG_MEMCG=y
# CONFIG_SWAP is not set
CONFIG_LOG_BUF_SHIFT=17
CONFIG_MODULES=y
`;

test('a final .config that has every requested option as requested has no unmet options', (t) => {
  const requested = parseFragment('CONFIG_GRACEFUL_SHUTDOWN=y\nCONFIG_MEMCG=y\n# CONFIG_SWAP is not set\nCONFIG_LOG_BUF_SHIFT=17\n');
  t.deepEqual(unmetOptions(requested, FINAL_CONFIG), []);
});

test('an option Kconfig silently dropped counts as n and is reported as unmet', (t) => {
  const requested = parseFragment('CONFIG_MEMCG=y\nCONFIG_KASAN=y\n');
  t.deepEqual(unmetOptions(requested, FINAL_CONFIG), [{ option: 'CONFIG_KASAN', wanted: 'y', got: 'n' }]);
});

test('a requested n that is absent from the final .config is met', (t) => {
  const requested = parseFragment('# CONFIG_DEBUG_INFO is not set\n');
  t.deepEqual(unmetOptions(requested, FINAL_CONFIG), []);
});

test('a requested module built in, or a different number, is unmet with what was got', (t) => {
  const requested = parseFragment('CONFIG_MODULES=m\nCONFIG_LOG_BUF_SHIFT=18\nCONFIG_SWAP=y\n');
  t.deepEqual(unmetOptions(requested, FINAL_CONFIG), [
    { option: 'CONFIG_MODULES', wanted: 'm', got: 'y' },
    { option: 'CONFIG_LOG_BUF_SHIFT', wanted: '18', got: '17' },
    { option: 'CONFIG_SWAP', wanted: 'y', got: 'n' },
  ]);
});

test('the qemu profile starts from tinyconfig and applies qemu.config then gs.config', (t) => {
  t.deepEqual(profilePlan('qemu'), { base: 'tinyconfig', fragments: ['qemu.config', 'gs.config'] });
});

test('the debug profile adds debug.config between qemu.config and gs.config', (t) => {
  t.deepEqual(profilePlan('debug'), { base: 'tinyconfig', fragments: ['qemu.config', 'debug.config', 'gs.config'] });
});

test('the host profile starts from the running kernel\'s config and adds only gs.config', (t) => {
  t.deepEqual(profilePlan('host'), { base: 'running', fragments: ['gs.config'] });
});

test('every profile ends with gs.config so the feature options win', (t) => {
  t.deepEqual([...PROFILES], ['qemu', 'host', 'debug', 'system']);
  for (const p of PROFILES) t.is(profilePlan(p).fragments.at(-1), 'gs.config');
});

import { fact, facts, type GuestReport } from './guest-protocol.js';
import type { Check } from './checks.js';
import type { Scenario } from './scenario.js';

/**
 * The proc fuzzer (test_programs/proc_fuzz.c, vm/guest/scenarios/fuzz.sh):
 * random and mutated writes to the proc file, each result and the
 * registry after each batch compared with a model of the contract. The guest
 * reports counts; these checks decide.
 */

/** How many writes a run must make to count (the issue asks for 10,000). */
export const FUZZ_MIN_WRITES = 10_000;

/** Results every run must have seen at least once: success and each documented errno. */
export const FUZZ_CLASSES: readonly string[] = [
  'OK', 'EINVAL', 'ESRCH', 'ENOENT', 'EACCES', 'EPERM', 'ENAMETOOLONG', 'EILSEQ', 'E2BIG', 'ENOSPC',
];

function count(report: GuestReport, key: string): number | undefined {
  const v = fact(report, key);
  return v !== undefined && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** "@gs fuzz_class NAME N" lines, as a map. */
export function fuzzClasses(report: GuestReport): Map<string, number> {
  const classes = new Map<string, number>();
  for (const line of facts(report, 'fuzz_class')) {
    const m = /^(\S+) (\d+)$/.exec(line);
    if (m) classes.set(m[1]!, Number(m[2]));
  }
  return classes;
}

export function fuzzChecks(report: GuestReport, minWrites = FUZZ_MIN_WRITES): Check[] {
  const writes = count(report, 'fuzz_writes');
  const batches = count(report, 'fuzz_batches');
  const mismatches = count(report, 'fuzz_mismatches');
  const errnoMismatches = count(report, 'fuzz_errno_mismatches');
  const details = facts(report, 'fuzz_mismatch').join('\n');
  const classes = fuzzClasses(report);
  const unseen = FUZZ_CLASSES.filter((c) => !(classes.get(c)! > 0));
  const check = (name: string, ok: boolean, detail?: string): Check =>
    ok || detail === undefined ? { name, ok } : { name, ok, detail };
  return [
    check('the fuzzer ran to the end', fact(report, 'fuzz_status') === '0',
      `exit status ${fact(report, 'fuzz_status')}${fact(report, 'fuzz_error') ? `: ${fact(report, 'fuzz_error')}` : ''}`),
    check(`the fuzzer made at least ${minWrites.toLocaleString('en')} writes`,
      writes !== undefined && writes >= minWrites, `made ${writes ?? 'no report of'} writes`),
    check('the registry was read back after every batch',
      batches !== undefined && batches > 0, `${batches ?? 'no report of'} batches`),
    check('the registry always equalled the model',
      mismatches === 0, `${mismatches ?? 'no report of'} mismatches${details ? `\n${details}` : ''}`),
    check('every write succeeded or failed with the errno the model predicted',
      errnoMismatches === 0, `${errnoMismatches ?? 'no report of'} errno mismatches${details ? `\n${details}` : ''}`),
    check('success and every documented errno were exercised',
      unseen.length === 0, `never seen: ${unseen.join(', ')}`),
  ];
}

export const FUZZ_SCENARIO: Scenario = {
  name: 'fuzz',
  title: `proc fuzzer: ${FUZZ_MIN_WRITES.toLocaleString('en')}+ random and mutated writes match the model`,
  memoryMb: 256,
  timeoutMs: 600_000,
  checks: (r) => fuzzChecks(r),
};

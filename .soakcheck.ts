import { readFileSync } from 'node:fs';
import { parseGuestOutput } from './cli/src/lib/guest-protocol.js';
import { soakChecks, soakSummary, lifecycleChecks, lifecycleSummary, soakVictims } from './cli/src/lib/soak.js';
const [kind, file] = process.argv.slice(2);
const r = parseGuestOutput(readFileSync(file!, 'utf8'));
if (kind === 'soak') {
  console.log(JSON.stringify(soakSummary(r, 1000), null, 1));
  for (const c of soakChecks(r)) console.log(c.ok ? 'ok ' : 'FAIL', c.name, c.detail ?? '');
  const v = soakVictims(r).filter((x) => x.kind === 'global');
  for (const x of v.slice(0, 400)) if (x.outcome !== 'reason' || x.reason !== 'timeout') console.log(x.trial, x.pid, x.handler, x.outcome, x.reason, x.start?.fields.reserve_kb, x.killDelayS?.toFixed(3));
} else {
  console.log(JSON.stringify(lifecycleSummary(r), null, 1));
  for (const c of lifecycleChecks(r)) console.log(c.ok ? 'ok ' : 'FAIL', c.name, c.detail ?? '');
}

import { runScenario } from './cli/src/adapters/guest.js';
import { buildInitramfs } from './cli/src/adapters/initramfs.js';
import { scenarioNamed } from './cli/src/lib/scenarios.js';
const [kernel, mod, ...names] = process.argv.slice(2);
const initrd = await buildInitramfs(mod!, '/tmp/dev-initrd.cpio.gz');
for (const n of names) {
  const run = await runScenario(scenarioNamed(n)!, kernel!, initrd);
  console.log(`== ${n} ${(run.boot.durationMs/1000).toFixed(1)}s timedOut=${run.boot.timedOut}`);
  for (const c of run.checks) console.log(`  ${c.ok ? 'ok ' : 'FAIL'} ${c.name} ${c.ok ? '' : c.detail ?? ''}`);
  if (!run.checks.every(c => c.ok)) console.log(run.boot.console.split('\n').filter(l => !l.startsWith('[')).slice(-60).join('\n'));
}

import { writeFileSync } from 'node:fs';
import { runScenario } from './cli/src/adapters/guest.js';
import { prepareGuest } from './cli/src/commands/vm.js';
const [name = 'soak', count = '8', mem = '128', tmo = '600'] = process.argv.slice(2);
const { artifacts, initrd } = await prepareGuest('6.1', 'qemu');
const t0 = Date.now();
const run = await runScenario({ name, title: name, memoryMb: Number(mem), checks: () => [] }, artifacts.bzImage, initrd,
  { timeoutMs: Number(tmo) * 1000, append: name === "soak" ? `gs.count=${count}` : `gs.cycles=${count}` });
writeFileSync(`/tmp/soak-${name}-${count}.console`, run.boot.console);
console.log('wall', (Date.now() - t0) / 1000, 'timedOut', run.boot.timedOut, run.checks.filter((c) => !c.ok));

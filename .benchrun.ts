import { writeFileSync } from 'node:fs';
import { runScenario } from './cli/src/adapters/guest.js';
import { prepareGuest } from './cli/src/commands/vm.js';
const which = process.argv[2]!;
const append = process.argv[3] ?? '';
const mem = Number(process.argv[4] ?? 256);
let g;
for (;;) { try { g = await prepareGuest('6.1', 'qemu'); break; } catch (e) { if (!/Another gs-kit/.test(String(e))) throw e; await new Promise((r) => setTimeout(r, 5000)); } }
const { artifacts, initrd } = g;
const t0 = Date.now();
const run = await runScenario({ name: which, title: which, memoryMb: mem, hostRoot: which === 'bench_save', checks: () => [] },
  artifacts.bzImage, initrd, { timeoutMs: 1_200_000, append });
writeFileSync(`/tmp/bench-${which}.console`, run.boot.console);
console.log(which, (Date.now() - t0) / 1000, 's', run.checks);

/** `gs-kit bench`: the table printed from bench/results.json. Pure. */
import type { BenchResults } from './bench.js';
import { REGISTRY_OPS } from './bench-parse.js';
import { ratio } from './stats.js';

// ---- rendering ----

export function fmt(n: number | null | undefined, digits = 1): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  return n.toFixed(digits);
}

function fmtRatio(n: number | null | undefined): string {
  return n === null || n === undefined || !Number.isFinite(n) ? '—' : `${n.toFixed(2)}x`;
}

/** A plain text table: first row is the header; numbers right-aligned. */
export function textTable(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  const isNum = (s: string) => /^[-+]?[\d.,]+(x| ?%)?$|^—$/.test(s);
  const line = (r: readonly string[]) => r.map((c, i) =>
    (i > 0 && isNum(c) ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

export function rateLabel(rate: number): string {
  return rate === 0 ? 'unlimited' : `${rate} MB/s`;
}

function saveTables(save: NonNullable<BenchResults['save']>): string[] {
  const out = [textTable([
    ['contender', 'rate', 'saved', 'fraction', 'left MiB', 'reached MB/s', 'signal→saved ms'],
    ...save.cells.map((c) => [
      c.contender, rateLabel(c.rate), `${c.saved}/${c.trials}`, `${(c.fraction * 100).toFixed(0)} %`,
      fmt(c.leftKbMedian === null ? null : c.leftKbMedian / 1024), fmt(c.achievedMbSMedian, 0), fmt(c.signalToSavedMsMedian, 2),
    ]),
  ])];
  const holds = Object.entries(save.holdMs ?? {});
  if (holds.length) {
    out.push('', 'How long one OOM held the OOM killer (module start line → kill), all rates');
    out.push(textTable([
      ['contender', 'n', 'median ms', 'p95 ms', 'max ms'],
      ...holds.map(([c, h]) => [c, String(h.n), fmt(h.median, 1), fmt(h.p95, 1), fmt(h.max, 1)]),
    ]));
  }
  return out;
}

export function renderResults(r: BenchResults): string {
  const out: string[] = [];
  const h = r.host;
  out.push(`gs-kit bench — ${r.generatedAt}`);
  out.push(`host: ${h.nproc} CPU(s), ${h.cpuModel}, ${(h.memTotalKb / 1024 / 1024).toFixed(1)} GiB RAM, Linux ${h.kernelRelease}`);
  out.push(`guest: Linux ${r.guest.kernelRelease} (series ${r.guest.series}), QEMU ${r.guest.accel}, ${r.guest.smp} vCPU, clocksource ${r.guest.clocksource ?? '?'}`);
  out.push('TCG timings are relative: compare the ratios, not the absolute numbers across machines.');

  if (r.latency) {
    const l = r.latency;
    out.push('', `1. Handler start latency (victim chosen → handler's first instruction), ${l.trials} memcg OOM trials`);
    out.push(textTable([
      ['', 'n', 'median µs', 'p95 µs'],
      ['gs-kit handler (GS_CHOSEN_NS → started_ns)', String(l.handlerStartUs.n), fmt(l.handlerStartUs.median), fmt(l.handlerStartUs.p95)],
      ...(l.waiterStartUs ? [['a waiter\'s handler (woken, moved, exec)', String(l.waiterStartUs.n), fmt(l.waiterStartUs.median), fmt(l.waiterStartUs.p95)]] : []),
      ['plain fork+exec, same binary', String(l.forkExecUs.n), fmt(l.forkExecUs.median), fmt(l.forkExecUs.p95)],
      ['ratio gs-kit / fork+exec', '', fmtRatio(l.ratioMedian), fmtRatio(l.ratioP95)],
      ...(l.waiterStartUs ? [['ratio waiter / fork+exec', '', fmtRatio(l.waiterRatioMedian ?? null), '']] : []),
    ]));
  }
  if (r.killDelay) {
    const k = r.killDelay;
    out.push('', '2. Kill delay (printk clock), memcg OOM');
    out.push(textTable([
      ['', 'n', 'median ms', 'p95 ms'],
      ['gs-kit: chosen → killed', String(k.gsChosenToKilledMs.n), fmt(k.gsChosenToKilledMs.median, 2), fmt(k.gsChosenToKilledMs.p95, 2)],
      ['gs-kit: handler run (start → exit line)', String(k.gsHandlerRunMs.n), fmt(k.gsHandlerRunMs.median, 2), fmt(k.gsHandlerRunMs.p95, 2)],
      ['gs-kit: chosen → killed minus handler run', String(k.gsResidualMs.n), fmt(k.gsResidualMs.median, 2), fmt(k.gsResidualMs.p95, 2)],
      ['no module: chosen → killed', String(k.stockChosenToKilledMs.n), fmt(k.stockChosenToKilledMs.median, 2), fmt(k.stockChosenToKilledMs.p95, 2)],
      ['added by gs-kit (median difference)', '', fmt(k.addedMs, 2), ''],
      ['ratio residual / no module', '', fmtRatio(k.ratio), ''],
    ]));
  }
  if (r.save) {
    out.push('', `3. Graceful save before the kill (state saved / trials; memory left when the contender acted)`);
    out.push(...saveTables(r.save));
  }
  if (r.registry) {
    const g = r.registry;
    out.push('', '4. Registry cost by entries (median µs per operation; p95 in brackets)');
    out.push(textTable([
      ['entries', ...REGISTRY_OPS.map((op) => `${op} µs`)],
      ...g.rows.map((row) => [String(row.entries), ...REGISTRY_OPS.map((op) => `${fmt(row.ops[op].median)} [${fmt(row.ops[op].p95)}]`)]),
      [`ratio ${g.rows.at(-1)?.entries ?? '?'} / ${g.rows[0]?.entries ?? '?'}`, ...REGISTRY_OPS.map((op) => fmtRatio(g.scaling[op]))],
    ]));
    out.push('add_reading: a registration on one vCPU while another process reads the whole file in a loop on the other; a reader that held the lock the OOM path takes would make it as slow as a read.');
  }
  if (r.build) {
    const b = r.build;
    out.push('', `5. Build and test turnaround (make -j${b.jobs})`);
    out.push(textTable([
      ['', 'seconds', 'ratio'],
      ['plain tinyconfig build of the same tree', fmt(b.plainTinyconfigBuildS), '1.00x'],
      ['cold gs-kit qemu-profile kernel + module', fmt(b.coldQemuBuildS), fmtRatio(ratio(b.coldQemuBuildS, b.plainTinyconfigBuildS))],
      ['rebuild after a module-only change', fmt(b.moduleRebuildS), fmtRatio(ratio(b.moduleRebuildS, b.plainTinyconfigBuildS))],
      [`guest suite, ${b.suiteScenarios ?? '?'} scenarios, one series`, fmt(b.suiteWallS), fmtRatio(ratio(b.suiteWallS, b.plainTinyconfigBuildS))],
    ]));
  }
  if (r.stock) {
    const st = r.stock;
    out.push('', `6. Stock mode: Debian's own ${st.kernelRelease}, unmodified, the module's own hook (next to the patched ${r.guest.kernelRelease})`);
    const lat = (l: BenchResults['latency']) => l ? [String(l.handlerStartUs.n), fmt(l.handlerStartUs.median), fmt(l.handlerStartUs.p95), fmtRatio(l.ratioMedian)] : ['—', '—', '—', '—'];
    out.push(textTable([
      ['handler start latency', 'n', 'median µs', 'p95 µs', 'vs fork+exec'],
      ['patched kernel', ...lat(r.latency)],
      ['stock mode', ...lat(st.latency)],
    ]));
    if (st.save) out.push('', ...saveTables(st.save));
  }
  if (r.savesize) {
    const z = r.savesize;
    const kinds = ['memcg', 'global1', 'global4'];
    const cell = (target: string, kind: string) => {
      const c = z.cells.find((x) => x.target === target && x.kind === kind);
      if (!c) return '—';
      const bound = c.firstFailedMb === null ? `, every size to ${Math.max(...z.sizesMb)}` : `, not ${c.firstFailedMb}`;
      return `${c.largestSavedMb} MiB${c.msAtLargest === null ? '' : ` in ${c.msAtLargest} ms`}${bound}`;
    };
    out.push('', '7. The largest checkpoint a handler saved before its victim was killed');
    out.push(textTable([
      ['target', ...kinds],
      ...[['tmpfs', 'tmpfs'], ['disk', 'ext4, a new file (O_DIRECT, fsync)'], ['disk-ahead', 'ext4, a file written ahead (O_DIRECT, fdatasync)']]
        .map(([t, label]) => [label!, ...kinds.map((k) => cell(t!, k))]),
    ]));
  }
  if (r.notDone.length) {
    out.push('', 'Not done:');
    for (const n of r.notDone) out.push(`  - ${n.part}: ${n.why}`);
  }
  if (r.notes.length) {
    out.push('', 'Notes:');
    for (const n of r.notes) out.push(`  - ${n}`);
  }
  return out.join('\n');
}

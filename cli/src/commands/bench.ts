import { join, resolve } from 'node:path';
import { cacheRoot } from '../adapters/paths.js';
import { BENCH_FILES, BENCH_PARTS, benchFiles, partResults, type BenchResults } from '../lib/bench.js';
import { renderResults } from '../lib/bench-render.js';
import { countOption, listOption, type CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { SUPPORTED_SERIES } from '../lib/kernels.js';
import { FLAVOURS, type Flavour } from '../lib/stock.js';
import { runBench } from '../services/bench.js';
import type { Command } from './types.js';

/** The series bench builds from Debian's source (patched) and boots Debian's own kernel of (stock part). */
const BENCH_SERIES = SUPPORTED_SERIES.filter((s) => s.distroPackage).map((s) => s.series);

const spec: CommandSpec = {
  name: 'bench',
  summary: `Measure gs-kit in QEMU (TCG) guests: handler start latency against a plain fork+exec, the delay added to the kill, graceful-save success against allocation rate next to earlyoom, nohang and a stock kernel, registry cost by size, and build and test turnaround; print a table and write the results as JSON: bench/results.json for every part, and the files that hold some of them (${BENCH_FILES.slice(1).map((f) => `bench/${f.name('SERIES')}: ${f.parts.join(', ')}`).join('; ')}), each written when its parts ran.`,
  usage: `gs-kit bench [--series ${BENCH_SERIES.join('|')}] [--flavour generic|cloud|rt] [--parts ${BENCH_PARTS.join(',')}] [--trials N] [--skip-build-timing] [--dir DIR | --out FILE]`,
  options: [
    { name: 'parts', type: 'string', value: 'LIST', description: 'Which parts to run: latency (start latency, kill delay), registry, save (graceful save, hold time), savesize (the largest checkpoint a handler saves before its kill, to tmpfs and to a disk), stock (latency and save on the distribution\'s own kernel, stock mode), build (build timing), suite (guest suite timing).', default: BENCH_PARTS.join(',') },
    { name: 'series', type: 'string', value: 'SERIES', description: 'Kernel series (Debian\'s source, patched; its own kernel for the stock part).', choices: BENCH_SERIES, default: '6.1' },
    { name: 'flavour', type: 'string', value: 'FLAVOUR', description: 'Which of Debian\'s kernels of the series the stock part boots (rt: PREEMPT_RT). With a flavour other than generic, give --parts stock and --out.', choices: [...FLAVOURS], default: 'generic' },
    { name: 'trials', type: 'string', value: 'N', description: 'memcg OOM trials and fork+exec trials for the latency part (at least 50 for the published numbers).', default: '50' },
    { name: 'save-trials', type: 'string', value: 'N', description: 'Trials per contender and allocation rate in the graceful-save part.', default: '5' },
    { name: 'rates', type: 'string', value: 'R,R,...', description: 'Allocation rates for the graceful-save part, MB/s (0: no limit).', default: '10,50,200,0' },
    { name: 'repeats', type: 'string', value: 'N', description: 'Repeats of each registry operation per size.', default: '51' },
    { name: 'skip-build-timing', type: 'boolean', description: 'Do not time the kernel builds (they take minutes and need the machine to themselves); the same as leaving build out of --parts.' },
    { name: 'skip-suite-timing', type: 'boolean', description: 'Do not time the guest suite; the same as leaving suite out of --parts.' },
    { name: 'scratch', type: 'string', value: 'DIR', description: 'Where the timed kernel builds go (never the build cache).', default: join(cacheRoot(), 'bench-builds') },
    { name: 'dir', type: 'string', value: 'DIR', description: 'Where the results files go.', default: 'bench' },
    { name: 'out', type: 'string', value: 'FILE', description: 'Instead, write the results of the parts run to this one file.' },
  ],
  examples: ['gs-kit bench --skip-build-timing', 'gs-kit bench --series 7.3 --parts latency,save,stock', 'gs-kit bench --series 7.3 --flavour rt --parts stock --out bench/stock-7.3-rt.json', 'gs-kit bench --series 6.12 --trials 100 --out /tmp/results.json', 'gs-kit bench --parts registry --out /tmp/registry.json'],
};

export const bench: Command = {
  spec,
  async run({ options }, { ui, host: open }) {
    const series = String(options.series);
    const trials = countOption(options.trials, 'trials');
    const saveTrials = countOption(options['save-trials'], 'save-trials');
    const repeats = countOption(options.repeats, 'repeats');
    const parts = listOption(options.parts, 'parts', BENCH_PARTS);
    if (options['skip-build-timing']) parts.delete('build');
    if (options['skip-suite-timing']) parts.delete('suite');
    const rates = String(options.rates).split(',').map((r) => Number(r.trim()));
    if (rates.some((r) => !Number.isInteger(r) || r < 0)) {
      throw new GsError(`--rates must be whole MB/s values (0 for no limit), not "${String(options.rates)}".`, 'Give e.g. --rates 10,50,200,0.', 'usage');
    }
    const flavour = options.flavour as Flavour;
    if (flavour !== 'generic' && (typeof options.out !== 'string' || [...parts].some((p) => p !== 'stock'))) {
      throw new GsError(`--flavour ${flavour} is for the stock part alone, whose figures bench/ does not keep per flavour.`,
        `Give --parts stock --out bench/stock-${series}-${flavour}.json.`, 'usage');
    }
    const files = typeof options.out === 'string'
      ? [{ path: resolve(options.out), parts: BENCH_PARTS }]
      : benchFiles(series, parts).map((f) => ({ path: resolve(String(options.dir), f.name), parts: f.parts }));
    if (files.length === 0) {
      throw new GsError(`No file under ${String(options.dir)}/ holds just ${[...parts].join(', ')}.`,
        `Give --out FILE, or run the parts of one of ${BENCH_FILES.map((f) => f.name(series)).join(', ')}.`, 'usage');
    }
    const host = open('/', false);
    const results = await runBench({
      series, flavour, parts, trials, saveTrials, repeats, rates, scratch: resolve(String(options.scratch)),
    }, host, ui);

    const json = (r: BenchResults) => `${JSON.stringify(r, null, 2)}\n`;
    for (const f of files) await host.writeFile(f.path, json(partResults(results, f.parts)));
    ui.print(`\n${renderResults(results)}\n\nresults: ${files.map((f) => f.path).join(', ')}`);
    return 0;
  },
};

import { cpus } from 'node:os';
import { locateSource } from '../adapters/kernel-source.js';
import { handCacheBack } from '../adapters/paths.js';
import type { CommandSpec, ParsedArgs } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { PROFILES, type Profile } from '../lib/kconfig.js';
import type { SourceRequest } from '../lib/kernels.js';
import { MODULE_NAME } from '../lib/module.js';
import { buildDebPackages, buildPatched } from '../services/build.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'build-kernel',
  summary: `Patch a kernel source with the gs-kit OOM hook, build it for a profile, and build ${MODULE_NAME} against it. Builds are cached under ~/.cache/gs-kit keyed by source, patch and config.`,
  usage: 'gs-kit build-kernel [--kernel X.Y.Z|distro] [--series 6.1|6.12] [--source TARBALL] [--profile qemu|host|debug|system] [--package deb]',
  options: [
    { name: 'kernel', type: 'string', value: 'X.Y.Z|distro', description: 'A kernel.org release fetched by gs-kit setup-vm, or the distribution\'s linux-source package (the default).' },
    { name: 'series', type: 'string', value: 'SERIES', description: 'Kernel series of the distribution source.', choices: ['6.1', '6.12'] },
    { name: 'source', type: 'string', value: 'TARBALL', description: 'A Linux source tarball (.tar.xz, .tar.gz).' },
    { name: 'profile', type: 'string', value: 'PROFILE', description: 'What to build for.', choices: PROFILES, default: 'qemu' },
    { name: 'jobs', type: 'string', value: 'N', description: 'Parallel make jobs.', default: String(cpus().length) },
    { name: 'package', type: 'string', value: 'deb', description: 'Also build installable packages (make bindeb-pkg), for fleets.', choices: ['deb'] },
    { name: 'dry-run', type: 'boolean', description: 'Print what would be built and where, build nothing.' },
  ],
  examples: [
    'gs-kit build-kernel --kernel distro --series 6.1',
    'gs-kit build-kernel --source ~/Downloads/linux-5.4.1.tar.xz --profile host',
    'gs-kit build-kernel --kernel 5.4.1 --profile host --package deb',
  ],
};

/** The source --source, --kernel and --series name. */
export function sourceRequest(options: ParsedArgs['options']): SourceRequest {
  if (options.source && options.kernel) {
    throw new GsError('Give either --source or --kernel, not both.', 'Drop one of them.', 'usage');
  }
  if (typeof options.source === 'string') return { from: 'file', tarball: options.source };
  if (options.kernel === 'distro' || options.kernel === undefined) {
    return { from: 'distro', ...(typeof options.series === 'string' ? { series: options.series } : {}) };
  }
  return { from: 'release', version: String(options.kernel) };
}

export const buildKernel: Command = {
  spec,
  async run({ options }, { ui, host }) {
    const tarball = locateSource(sourceRequest(options));
    const profile = options.profile as Profile;
    const jobs = Number(options.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new GsError(`--jobs must be a positive number, not "${options.jobs}".`, 'Write e.g. --jobs 2.', 'usage');
    const a = await host('/', Boolean(options['dry-run'])).change(
      `build ${tarball} for profile ${profile} with make -j${jobs} under ~/.cache/gs-kit/builds, then ${MODULE_NAME} against it`,
      () => buildPatched(tarball, profile, 'patched', ui, { jobs }));
    if (!a) return 0;
    const { bold, yellow } = ui.style;
    if (options.package === 'deb') {
      const debs = await buildDebPackages(a, jobs, ui);
      ui.print(`${bold('packages')}\n${debs.map((d) => `  ${d}`).join('\n')}`);
    }
    await handCacheBack();
    ui.print(`${bold('kernel')}  ${a.bzImage}\n${bold('module')}  ${a.module}\n${bold('release')} ${a.release}\n${bold('log')}     ${a.buildLog}`);
    if (a.moduleWarnings.length) ui.print(yellow(`module warnings:\n${a.moduleWarnings.join('\n')}`));
    return 0;
  },
};

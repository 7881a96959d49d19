import { release as runningRelease } from 'node:os';
import { changesLine } from '../adapters/host.js';
import { dkmsSources as readDkmsSources } from '../adapters/paths.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { hostChangeOptions } from '../lib/common-options.js';
import { GsError } from '../lib/errors.js';
import {
  DKMS_VERSION, hookModeFor, MODULE_NAME, moduleBuildPrograms, moduleInstallPlan, RELEASE_PATTERN, secureBootEnabled,
} from '../lib/install-plans.js';
import { MODULE_SYSFS } from '../lib/module.js';
import { patchedList, stockRange } from '../lib/support.js';
import type { Command } from './types.js';

const SECURE_BOOT_VAR = '/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c';

const spec: CommandSpec = {
  name: 'install-module',
  summary: `Install ${MODULE_NAME} alone for a kernel already installed, built by DKMS against its headers, loaded at boot and (for the running kernel) now: no new kernel, no reboot. On a kernel without the gs-kit patch the module runs in stock mode (an ftrace direct call on oom_kill_process(); Linux ${stockRange()}, x86-64). Idempotent.`,
  usage: 'gs-kit install-module [--kernel RELEASE] [--dry-run] [--root DIR]',
  options: [
    { name: 'kernel', type: 'string', value: 'RELEASE', description: 'The kernel to build for, as uname -r prints it (default: the running one; required with --root).' },
    ...hostChangeOptions,
  ],
  examples: [
    'sudo gs-kit install-module',
    'gs-kit install-module --dry-run',
    'sudo gs-kit install-module --kernel 6.1.0-57-amd64',
  ],
};

export const installModule: Command = {
  spec,
  async run({ options }, { ui, host: open }) {
    const log = (line: string) => ui.note(line);
    const dryRun = Boolean(options['dry-run']);
    const host = open(String(options.root ?? '/'), dryRun);
    const live = host.root === '/';
    if (typeof options.kernel !== 'string' && !live) {
      throw new GsError('With --root, install-module needs the kernel to build for.', 'Add --kernel RELEASE (a directory name under DIR/lib/modules).', 'usage');
    }
    const release = typeof options.kernel === 'string' ? options.kernel : runningRelease();
    if (!RELEASE_PATTERN.test(release)) {
      throw new GsError(`"${release}" is not a kernel release.`, 'Give it as uname -r prints it, e.g. 6.1.0-57-amd64.', 'usage');
    }
    const build = `/lib/modules/${release}/build`;
    if (!(await host.exists(`${build}/Makefile`))) {
      throw new GsError(`The headers of ${release} are not installed (${build} is missing); DKMS builds the module against them.`,
        `Install them: sudo apt-get install linux-headers-${release} (Fedora: sudo dnf install kernel-devel-${release}).`, 'dependency');
    }
    if (!(await host.hasProgram('dkms'))) {
      throw new GsError('dkms is not installed; it builds the module now and again for each kernel update.', 'Install it: sudo apt-get install dkms (Fedora: sudo dnf install dkms).', 'dependency');
    }
    const config = await host.readFile(`/boot/config-${release}`) ?? await host.readFile(`${build}/.config`);
    for (const need of moduleBuildPrograms(config, await host.exists(`${build}/vmlinux`))) {
      if (!(await host.hasProgram(need.program))) {
        throw new GsError(`${need.program} is not installed; the headers of ${release} generate BTF for modules, and the build fails without it.`,
          `Install it: sudo apt-get install ${need.debian} (Fedora: sudo dnf install ${need.fedora}).`, 'dependency');
      }
    }
    const mode = hookModeFor(release, config, await host.readFile(`${build}/include/linux/oom.h`));
    if (mode.mode === 'none') {
      throw new GsError(`The module cannot hook this kernel: ${mode.reason}.`,
        `Boot a kernel stock mode hooks (Linux ${stockRange()}), or build and install a patched one (series ${patchedList()}): gs-kit build-kernel --profile host, then sudo gs-kit install-kernel --build latest, and reboot into it.`, 'patch');
    }
    const dkmsSources = await readDkmsSources();
    const loaded = live && await host.exists(MODULE_SYSFS);
    const plan = moduleInstallPlan({
      release,
      dkmsSources,
      dkmsAdded: await host.exists(`/var/lib/dkms/${MODULE_NAME}/${DKMS_VERSION}`),
      loadNow: live && release === runningRelease() && !loaded,
    });
    log(`${MODULE_NAME} for ${release} (${mode.mode === 'stock' ? 'stock mode: no gs-kit patch in this kernel' : 'the kernel carries the gs-kit patch'}) into ${host.root}, built with DKMS`);
    const sb = live ? secureBootEnabled(await host.readBytes(SECURE_BOOT_VAR)) : undefined;
    if (sb) {
      ui.note('Secure Boot is on: the kernel loads only modules signed with a key it trusts. DKMS signs with /var/lib/dkms/mok.key; '
        + 'enrol that key once (sudo mokutil --import /var/lib/dkms/mok.pub, reboot, confirm in MokManager), or modprobe fails with "Key was rejected".', 'warn');
    }
    const n = await host.apply(plan);
    ui.note(changesLine(n, dryRun), 'ok');
    if (loaded && n > 0) log(`The module loaded now is the old one: sudo rmmod ${MODULE_NAME} && sudo modprobe ${MODULE_NAME} (no registration survives that).`);
    log('Next: sudo gs-kit configure (the handler cgroup the module needs), then gs-kit status.');
    return 0;
  },
};

import type { OptionSpec } from './cli-args.js';
import { PROC_FILE } from './registry.js';

/** --proc FILE: the registry file, for the commands that read or write it. */
export const procOption: OptionSpec = {
  name: 'proc', type: 'string', value: 'FILE', description: 'The registry file.', default: PROC_FILE,
};

/** --dry-run and --root DIR, which every host-changing command takes. */
export const hostChangeOptions: readonly OptionSpec[] = [
  { name: 'dry-run', type: 'boolean', description: 'Print each change; change nothing.' },
  { name: 'root', type: 'string', value: 'DIR', description: 'Act on the system under DIR (a sysroot) instead of this one.', default: '/' },
];

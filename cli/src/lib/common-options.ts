import type { OptionSpec } from './cli-args.js';
import { PROC_FILE } from './registry.js';

/** --proc FILE: the registry file, for the commands that read or write it. */
export const procOption: OptionSpec = {
  name: 'proc', type: 'string', value: 'FILE', description: 'The registry file.', default: PROC_FILE,
};

import { parseJson, protectBundle, readStdin, splitContainerCgroup } from '../adapters/oci.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { createdBundle, OCI_HOOK, OCI_INIT, protectSpec, type OciSpec, type OciState } from '../lib/oci.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'oci-hook',
  summary: 'What container runtimes run (installed by gs-kit configure): protect a container that has the io.gs-kit.handler annotation. precreate: Podman\'s hook, spec on stdin, the protected spec on stdout; prepare-bundle: the runtime wrapper\'s, protects BUNDLE/config.json in place before runc creates the container; create-runtime: the createRuntime hook, state on stdin, splits the container\'s cgroup so that its handler has memory when its workload has none.',
  usage: 'gs-kit oci-hook precreate | create-runtime | prepare-bundle -- RUNC-ARGS...',
  options: [],
  examples: [
    'gs-kit oci-hook precreate < config.json > protected.json',
    'gs-kit oci-hook prepare-bundle -- --root /run/runc create --bundle /run/bundle/c1 c1',
  ],
};

const install = { init: OCI_INIT, hook: OCI_HOOK };

export const ociHook: Command = {
  spec,
  async run({ positional, rest }, { ui }) {
    const stage = positional[0];
    if (stage === 'precreate') {
      const config = parseJson<OciSpec>(readStdin(), 'The spec on stdin');
      ui.print(JSON.stringify(protectSpec(config, install)));
      return 0;
    }
    if (stage === 'create-runtime') {
      const state = parseJson<OciState>(readStdin(), 'The state on stdin');
      if (!Number.isInteger(state.pid) || state.pid! <= 0) {
        throw new GsError('The state on stdin names no container process (pid).', 'Run this as a createRuntime hook, which gets the container\'s state.', 'usage');
      }
      await splitContainerCgroup(state.pid!, state.annotations);
      return 0;
    }
    if (stage === 'prepare-bundle') {
      const bundle = createdBundle(rest, process.cwd());
      if (bundle) await protectBundle(bundle, install);
      return 0;
    }
    throw new GsError(`oci-hook needs a stage: precreate, create-runtime or prepare-bundle${stage ? `, not "${stage}"` : ''}.`, `Usage: ${spec.usage}`, 'usage');
  },
};

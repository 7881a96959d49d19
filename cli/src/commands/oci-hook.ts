import { finishSplit, finishStarted, logRuntimeError, parseJson, protectBundle, readStdin, splitContainerCgroup } from '../adapters/oci.js';
import type { CommandSpec } from '../lib/cli-args.js';
import { GsError } from '../lib/errors.js';
import { createdBundle, protectSpec, reserveOf, startedContainer, type OciSpec, type OciState } from '../lib/oci.js';
import { OCI_HOOK, OCI_INIT } from '../lib/oci-install.js';
import type { Command } from './types.js';

const spec: CommandSpec = {
  name: 'oci-hook',
  summary: 'What container runtimes run (installed by gs-kit configure): protect a container that has the io.gs-kit.handler annotation. precreate: Podman\'s hook, spec on stdin, the protected spec on stdout; prepare-bundle: the runtime wrapper\'s, protects BUNDLE/config.json in place before runc creates the container; create-runtime: the createRuntime hook, state on stdin, splits the container\'s cgroup so that its handler has memory when its workload has none; poststart: sets the handler\'s reserve beside the container\'s limit and moves the container\'s waiter to the handler\'s side; started: the same after the wrapper\'s runc start (runc before 1.2 runs poststart hooks too early).',
  usage: 'gs-kit oci-hook precreate | create-runtime | poststart | prepare-bundle -- RUNC-ARGS... | started --runc PATH -- RUNC-ARGS...',
  options: [{ name: 'runc', type: 'string', value: 'PATH', description: 'started: the runc the wrapper ran, to ask for the container\'s state.' }],
  examples: [
    'gs-kit oci-hook precreate < config.json > protected.json',
    'gs-kit oci-hook prepare-bundle -- --root /run/runc create --bundle /run/bundle/c1 c1',
  ],
};

const install = { init: OCI_INIT, hook: OCI_HOOK };

export const ociHook: Command = {
  spec,
  async run({ positional, rest, options }, { ui }) {
    const stage = positional[0];
    if (stage === 'precreate') {
      const config = parseJson<OciSpec>(readStdin(), 'The spec on stdin');
      ui.print(JSON.stringify(protectSpec(config, install)));
      return 0;
    }
    if (stage === 'create-runtime' || stage === 'poststart') {
      const state = parseJson<OciState>(readStdin(), 'The state on stdin');
      if (!Number.isInteger(state.pid) || state.pid! <= 0) {
        throw new GsError('The state on stdin names no container process (pid).', `Run this as a ${stage} hook, which gets the container\'s state.`, 'usage');
      }
      // The annotations are checked before the runtime starts anything: a bad reserve fails the create.
      reserveOf(state.annotations);
      if (stage === 'create-runtime') await splitContainerCgroup(state.pid!);
      else await finishSplit(state.pid!, state.annotations);
      return 0;
    }
    if (stage === 'started') {
      const started = startedContainer(rest);
      if (!started || typeof options.runc !== 'string') return 0;
      const problem = await finishStarted(options.runc, started.id, started.globals);
      if (problem) ui.printError(`gs-kit oci-hook: container ${started.id} runs without its handler's reserve: ${problem}`);
      return 0;
    }
    if (stage === 'prepare-bundle') {
      const bundle = createdBundle(rest, process.cwd());
      try {
        if (bundle) await protectBundle(bundle, install);
      } catch (err) {
        await logRuntimeError(rest, err instanceof GsError ? `gs-kit: ${err.message} ${err.hint}` : `gs-kit: ${String(err)}`);
        throw err;
      }
      return 0;
    }
    throw new GsError(`oci-hook needs a stage: precreate, create-runtime, poststart, prepare-bundle or started${stage ? `, not "${stage}"` : ''}.`, `Usage: ${spec.usage}`, 'usage');
  },
};

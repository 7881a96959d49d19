/**
 * The OCI hook's reach into the world: a bundle's config.json, a
 * container's cgroup, and gs-init built from oci/gs-init.c. What to change
 * is decided in lib/oci.ts.
 */
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { cacheKey } from '../lib/cache-key.js';
import { GsError } from '../lib/errors.js';
import { cgroupSplit, type CgroupStep, type OciInstall, type OciSpec, protectSpec, reserveOf, unifiedCgroup } from '../lib/oci.js';
import { run } from './exec.js';
import { cacheRoot, repoRoot } from './paths.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** Parse a spec (or state) a runtime handed over. */
export function parseJson<T>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new GsError(`${what} is not JSON (${(err as Error).message}).`, 'The runtime that ran this hook handed it something else; report it.', 'usage');
  }
}

/** Protect the container of the bundle at @bundle in place (its config.json), if it asks; true when changed. */
export async function protectBundle(bundle: string, install: OciInstall): Promise<boolean> {
  const file = join(bundle, 'config.json');
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new GsError(`Cannot read ${file}: ${(err as Error).message}.`, 'The runtime was given a bundle without a spec; run it without gs-kit to see why.', 'failure');
  }
  const spec = parseJson<OciSpec>(text, file);
  const protectedSpec = protectSpec(spec, install);
  if (protectedSpec === spec) return false;
  // Written whole or not at all: runc must never read half a spec.
  const tmp = `${file}.gs-kit.tmp`;
  await writeFile(tmp, JSON.stringify(protectedSpec));
  await rename(tmp, file);
  return true;
}

/** Read a cgroup file, undefined when it is not there. */
async function readControl(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * Split the cgroup of the container whose init is @pid (the createRuntime
 * hook: its init waits to exec, alone in the cgroup). Every process there
 * moves to the handler side; the limits follow lib/oci.ts's cgroupSplit.
 */
export async function splitContainerCgroup(pid: number, annotations: Record<string, string> | undefined): Promise<CgroupStep[]> {
  const reserve = reserveOf(annotations);
  const own = unifiedCgroup(await readControl(`/proc/${pid}/cgroup`) ?? '');
  if (own === undefined) {
    throw new GsError(`The container's init (pid ${pid}) is in no cgroup v2 hierarchy.`, 'gs-kit protects containers on cgroup v2 only: boot with systemd.unified_cgroup_hierarchy=1 (gs-kit configure --cgroup v2).', 'failure');
  }
  const dir = join(CGROUP_ROOT, own);
  const steps = cgroupSplit({
    controllers: await readControl(join(dir, 'cgroup.controllers')) ?? '',
    memoryMax: await readControl(join(dir, 'memory.max')),
    swapMax: await readControl(join(dir, 'memory.swap.max')),
  }, pid, reserve);
  // Anything else already in the cgroup moves with the init, or the controllers cannot be enabled.
  const others = (await readControl(join(dir, 'cgroup.procs')) ?? '').split('\n').map((l) => l.trim()).filter((l) => l && l !== String(pid));
  const all = steps.flatMap((s) => (s.kind === 'write' && s.path.endsWith('/cgroup.procs')
    ? [s, ...others.map((p) => ({ ...s, content: p }))] : [s]));
  for (const step of all) {
    const path = join(dir, step.path);
    try {
      if (step.kind === 'mkdir') await mkdir(path, { recursive: true });
      else await writeFile(path, step.content);
    } catch (err) {
      throw new GsError(`Cannot ${step.kind === 'mkdir' ? 'make' : `write ${step.content} to`} ${path}: ${(err as Error).message}.`,
        'The container\'s cgroup must be delegated to its runtime (systemd\'s Delegate=yes, as runc and crun ask for).', 'permission');
    }
  }
  return all;
}

/**
 * gs-init, built static from oci/gs-init.c into the cache (keyed by its
 * source and the header it includes), or the cached one.
 */
export async function buildInit(): Promise<string> {
  const source = join(repoRoot(), 'oci', 'gs-init.c');
  const header = join(repoRoot(), 'lkm', 'graceful_shutdown.h');
  const key = await cacheKey([
    { name: 'gs-init.c', content: await readFile(source) },
    { name: 'graceful_shutdown.h', content: await readFile(header) },
  ]);
  const dir = join(cacheRoot(), 'oci', key);
  const out = join(dir, 'gs-init');
  if (existsSync(out)) return out;
  await mkdir(dir, { recursive: true });
  const r = await run(['make', '-s', '-C', join(repoRoot(), 'oci'), `OUT=${dir}`]);
  if (r.exitCode !== 0) {
    throw new GsError(`Building gs-init failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' ')}`,
      'It needs a C compiler and the static C library: sudo apt-get install build-essential.', 'dependency');
  }
  return out;
}

/** gs-init's bytes, built if need be (what configure installs). */
export async function initBytes(): Promise<Uint8Array> {
  return readFile(await buildInit());
}

/** What a runtime handed the hook on stdin: a spec, or a container's state. */
export function readStdin(): string {
  return readFileSync(0, 'utf8');
}

/** node and the CLI entry point this process runs, as the launchers configure writes must name them. */
export function runningCli(): { node: string; cli: string } {
  return { node: process.execPath, cli: realpathSync(process.argv[1]!) };
}

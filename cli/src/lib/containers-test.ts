/**
 * `gs-kit vm containers`: a container protected with no change to its
 * image, on each engine, in a Debian system in QEMU (vm/system/
 * stage-containers.sh). What the image holds besides the system test's,
 * and what each engine's run must show. Pure: no I/O.
 */
import { check, equal, type Check } from './checks.js';
import { median } from './stats.js';
import { fact, facts, moduleEvents, oomKills, parseRecord, printkTime, type GuestReport, type ModuleEvent } from './guest-protocol.js';

/**
 * Podman (with crun, as Debian runs it, its network stack and rootless
 * helpers), Docker, containerd and runc, all from the release's archive;
 * busybox for the container image made in the guest.
 */
export const CONTAINER_PACKAGES: readonly string[] = [
  'podman', 'crun', 'conmon', 'netavark', 'aardvark-dns', 'passt', 'uidmap', 'fuse-overlayfs', 'catatonit', 'containers-storage',
  'nftables', 'iproute2', 'docker.io', 'docker-cli', 'containerd', 'runc', 'iptables', 'busybox-static',
];

/** An engine's run: its name in the stage's facts, and what it is. */
export interface EngineRun {
  key: string;
  title: string;
  /** The uid that owns, on the host, what the container's root writes to its volume. */
  hostUid: string;
  /** The OOM it is: the container's own limit, or the whole machine. */
  constraint: 'memcg' | 'global';
  /** Its handler probes the host and compares its confinement with its victim's (/app/save), or only records. */
  probes: boolean;
  /** The container shares the host's network (a pod on the node's network, as cri-pod.mjs runs it). */
  hostNetwork?: boolean;
}

export const ENGINE_RUNS: readonly EngineRun[] = [
  { key: 'podman', probes: true, title: 'rootful Podman (its hooks.d entry)', hostUid: '0', constraint: 'memcg' },
  { key: 'rootless', probes: true, title: 'rootless Podman as a normal user', hostUid: '1000', constraint: 'memcg' },
  { key: 'docker', probes: true, title: 'Docker (--runtime gs-kit)', hostUid: '0', constraint: 'memcg' },
  { key: 'ctr', probes: true, title: 'containerd (ctr run, the runc wrapper)', hostUid: '0', constraint: 'memcg' },
  { key: 'cri', probes: true, hostNetwork: true, title: 'a Kubernetes pod through containerd\'s CRI (RuntimeClass handler gs-kit, a pod annotation)', hostUid: '0', constraint: 'memcg' },
  { key: 'global', probes: false, title: 'rootless Podman in a global OOM (no limit of its own)', hostUid: '1000', constraint: 'global' },
];

/** The module's events and the OOM kills between the stage's "gs-test: run=KEY" mark and the next. */
export function runWindow(dmesg: string, key: string): { events: ModuleEvent[]; kills: ReturnType<typeof oomKills> } {
  const lines = dmesg.split('\n');
  const start = lines.findIndex((l) => new RegExp(`gs-test: run=${key}(\\s|$)`).test(l));
  if (start < 0) return { events: [], kills: [] };
  const next = lines.findIndex((l, i) => i > start && /gs-test: run=/.test(l));
  const text = lines.slice(start, next < 0 ? undefined : next).join('\n');
  return { events: moduleEvents(text), kills: oomKills(text) };
}

/** What one engine's run must show: the handler ran inside the container, as it, before the kill. */
export function engineChecks(r: GuestReport, run: EngineRun): Check[] {
  const t = run.title;
  const rec = parseRecord((fact(r, `${run.key}_rec`) ?? '').trim().split(/\s+/).join('\n'));
  const probe = parseRecord((fact(r, `${run.key}_probe`) ?? '').trim().split(/\s+/).join('\n'));
  const { events, kills } = runWindow(r.dmesg, run.key);
  const start = events.find((e) => e.event === 'start' && e.fields.spawn === 'waiter');
  const exit = events.find((e) => e.event === 'exit' && e.fields.victim === start?.fields.victim);
  const kill = kills.find((k) => String(k.pid) === start?.fields.victim);
  return [
    check(`${t}: the container's handler wrote its record in the container's volume`, rec.GS_PID !== undefined,
      `${run.key} rc ${fact(r, `${run.key}_rc`)}: ${facts(r, run.key).slice(-3).join(' | ')}`),
    equal(`${t}: while its victim lived`, rec.victim_alive, '1'),
    check(`${t}: its victim is the workload, by the pid the container sees`,
      rec.GS_PID !== undefined && rec.GS_PID === fact(r, `${run.key}_workload_pid`), `GS_PID ${rec.GS_PID}, workload ${fact(r, `${run.key}_workload_pid`)}`),
    equal(`${t}: as the container's root`, rec.uid, '0'),
    equal(`${t}: which is uid ${run.hostUid} on the host`, fact(r, `${run.key}_rec_owner`), run.hostUid),
    equal(`${t}: a ${run.constraint} OOM`, rec.GS_CONSTRAINT, run.constraint),
    check(`${t}: the module ran it from the container's waiter, start and exit before the kill`,
      !!start && !!exit && !!kill && start.fields.handler === '@wait' && exit.time <= kill.time,
      `start ${JSON.stringify(start?.fields)} exit ${JSON.stringify(exit?.fields)} kill ${JSON.stringify(kill)}`),
    ...(run.probes ? probeChecks(t, probe, fact(r, `${run.key}_workload_net`), run.hostNetwork === true) : []),
  ];
}

/** What a probing handler found of the host, and its confinement against its victim's. */
function probeChecks(t: string, probe: Record<string, string>, containerNet: string | undefined, hostNetwork: boolean): Check[] {
  return [
    check(`${t}: the handler cannot read the host's files through /proc/1/root`,
      probe.host_root !== undefined && probe.host_root !== 'host-only', probe.host_root),
    equal(`${t}: nor find them by their path`, probe.host_path, 'absent'),
    hostNetwork
      ? check(`${t}: and reaches the host's loopback as its container does (the pod is on the node's network), no more`,
        !!probe.host_net && probe.host_net === containerNet, `handler ${probe.host_net}, container ${containerNet}`)
      : check(`${t}: nor reach the host's loopback, which its container cannot either`,
        probe.host_net === 'refused' && containerNet === 'refused', `handler ${probe.host_net}, container ${containerNet}`),
    check(`${t}: with its victim's confinement: the same capability bounding set, seccomp mode and open-files limit`,
      !!probe.victim_capbnd && probe.self_capbnd === probe.victim_capbnd && !!probe.victim_seccomp && probe.self_seccomp === probe.victim_seccomp &&
        !!probe.victim_nofile && probe.self_nofile === probe.victim_nofile,
      `bounding ${probe.self_capbnd}/${probe.victim_capbnd} seccomp ${probe.self_seccomp}/${probe.victim_seccomp} nofile ${probe.self_nofile}/${probe.victim_nofile}`),
  ];
}

/**
 * A container that outlives its victim (its program starts the workload
 * and lists what runs 3 s after the kill): the handler's daemon is gone.
 */
export function escapeChecks(r: GuestReport): Check[] {
  const rec = parseRecord((fact(r, 'escape_rec') ?? '').trim().split(/\s+/).join('\n'));
  const after = fact(r, 'escape_after') ?? '';
  return [
    equal('a container that outlives its victim: the handler ran while the victim lived', rec.victim_alive, '1'),
    check('and the daemon its handler started did not outlive the run', /^0 .*PID/.test(after), after),
  ];
}

/** The whole stage: gs-kit installed, the hook in place, each engine's run, the host-only handler. */
export function containersChecks(r: GuestReport): Check[] {
  const hostpath = runWindow(r.dmesg, 'hostpath');
  const hostpathKill = hostpath.kills[0];
  const hostpathExit = hostpath.events.find((e) => e.event === 'exit');
  return [
    equal('gs-kit install-module succeeded', fact(r, 'install_rc'), '0'),
    equal('gs-kit configure succeeded', fact(r, 'configure_rc'), '0'),
    check('configure installed the hook for Podman, Docker and containerd',
      /container hook for podman, docker, containerd/.test(facts(r, 'configure').join('\n')) &&
        /"gs-kit":\{"path":"\/usr\/local\/lib\/gs-kit\/gs-kit-runc"\}/.test(fact(r, 'daemon_json') ?? ''),
      `${facts(r, 'configure').filter((l) => /container/.test(l)).join(' | ')}; daemon.json ${fact(r, 'daemon_json')}`),
    check('containerd reads the Kubernetes runtime gs-kit: runc through the wrapper, the io.gs-kit.* pod annotations passed on',
      /BinaryName = "\/usr\/local\/lib\/gs-kit\/gs-kit-runc"/.test(fact(r, 'containerd_runtime') ?? '') &&
        /pod_annotations = \["io\.gs-kit\.\*"\]/.test(fact(r, 'containerd_runtime') ?? ''), fact(r, 'containerd_runtime')),
    equal('the host\'s loopback service answers the host (the probe below can fail)', fact(r, 'host_net_control'), 'reached'),
    ...ENGINE_RUNS.flatMap((run) => engineChecks(r, run)),
    check('a handler path that exists only on the host is not found in the container, and the victim is still killed',
      !!hostpathKill && (facts(r, 'hostpath').some((l) => /\/srv\/host-only\/save: No such file or directory/.test(l))),
      `${facts(r, 'hostpath').slice(-3).join(' | ')}; exit ${JSON.stringify(hostpathExit?.fields)}`),
    equal('the host\'s file of that name never ran', fact(r, 'hostpath_host_ran'), 'no'),
    ...escapeChecks(r),
    check('a bad annotation (a relative handler path) refuses the container, with the reason',
      fact(r, 'badannotation_rc') !== '0' && facts(r, 'badannotation').some((l) => /does not name a handler by its absolute path/.test(l)),
      `rc ${fact(r, 'badannotation_rc')}: ${facts(r, 'badannotation').slice(-2).join(' | ')}`),
    equal('the stage ran to its end', fact(r, 'stage_status'), '0'),
  ];
}

/** When the stage began each run, seconds since boot (for the durations the README gives). */
export function runTimes(dmesg: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const line of dmesg.split('\n')) {
    const m = /gs-test: run=(\S+)/.exec(line);
    if (m) out[m[1]!] = printkTime(line);
  }
  return out;
}

/** What the run measured: each engine's container start without and with the hook, and each handler's run. */
export interface ContainerTimings {
  /** Milliseconds of `podman run --rm IMAGE true` (and docker's), per engine, without ("plain") and with the hook. */
  startMs: Record<string, { plain: number[]; hook: number[] }>;
  /** Medians of the above. */
  startMedianMs: Record<string, { plain: number; hook: number; added: number }>;
  /** Each engine run's handler, as the module logged it: woken to exit, in ms. */
  handlerMs: Record<string, number | undefined>;
  /** `node -e 0` in the same machine, ms (the hook's stages each start node). */
  nodeStartMs: number[];
}

/** The timings the stage said ("start_ms ENGINE plain|hook MS") and the module logged. */
export function containerTimings(r: GuestReport): ContainerTimings {
  const startMs: ContainerTimings['startMs'] = {};
  for (const line of facts(r, 'start_ms')) {
    const [engine, how, ms] = line.trim().split(/\s+/);
    if (!engine || (how !== 'plain' && how !== 'hook') || !/^\d+$/.test(ms ?? '')) continue;
    (startMs[engine] ??= { plain: [], hook: [] })[how].push(Number(ms));
  }
  const startMedianMs: ContainerTimings['startMedianMs'] = {};
  for (const [engine, t] of Object.entries(startMs)) {
    if (!t.plain.length || !t.hook.length) continue;
    const plain = median(t.plain);
    const hook = median(t.hook);
    startMedianMs[engine] = { plain, hook, added: hook - plain };
  }
  const handlerMs: ContainerTimings['handlerMs'] = {};
  for (const run of ENGINE_RUNS) {
    const exit = runWindow(r.dmesg, run.key).events.find((e) => e.event === 'exit');
    handlerMs[run.key] = exit?.fields.duration_ms === undefined ? undefined : Number(exit.fields.duration_ms);
  }
  const nodeStartMs = facts(r, 'node_start_ms').filter((v) => /^\d+$/.test(v.trim())).map(Number);
  return { startMs, startMedianMs, handlerMs, nodeStartMs };
}

/**
 * `gs-kit vm containers`: a container protected with no change to its
 * image, on each engine, in a Debian system in QEMU (vm/system/
 * stage-containers.sh). What the image holds besides the system test's,
 * and what each engine's run must show. Pure: no I/O.
 */
import { check, equal, type Check } from './checks.js';
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
}

export const ENGINE_RUNS: readonly EngineRun[] = [
  { key: 'podman', title: 'rootful Podman (its hooks.d entry)', hostUid: '0', constraint: 'memcg' },
  { key: 'rootless', title: 'rootless Podman as a normal user', hostUid: '1000', constraint: 'memcg' },
  { key: 'docker', title: 'Docker (--runtime gs-kit)', hostUid: '0', constraint: 'memcg' },
  { key: 'ctr', title: 'containerd (ctr run, the runc wrapper)', hostUid: '0', constraint: 'memcg' },
  { key: 'global', title: 'rootful Podman in a global OOM (no limit of its own)', hostUid: '0', constraint: 'global' },
];

/** The module's events and the OOM kills between the stage's "gs-test: run=KEY" mark and the next. */
export function runWindow(dmesg: string, key: string): { events: ModuleEvent[]; kills: ReturnType<typeof oomKills> } {
  const lines = dmesg.split('\n');
  const start = lines.findIndex((l) => l.includes(`gs-test: run=${key}`));
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
    check(`${t}: the handler cannot read the host's files through /proc/1/root`,
      probe.host_root !== undefined && probe.host_root !== 'host-only', probe.host_root),
    equal(`${t}: nor find them by their path`, probe.host_path, 'absent'),
    equal(`${t}: nor reach the host's loopback`, probe.host_net, 'refused'),
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

/**
 * The killers besides the kernel's OOM killer that `gs-kit configure`
 * makes wait for a registration's handler: systemd-oomd (its pre-kill
 * varlink hook, from systemd 260) and earlyoom (its -P program, from 1.9).
 * Both reach the module through killers/gs-kit-killer, which writes
 * "<pid> <killer>" to the module's request file (FIRE_FILE). Pure: the plan is data
 * (host-plan.ts), adapters/host.ts applies it.
 */
import { posix } from 'node:path';
import type { Plan } from './host-plan.js';
import { OCI_DIR } from './oci-install.js';

/** gs-kit-killer, installed beside the container pieces. */
export const KILLER_BIN = `${OCI_DIR}/gs-kit-killer`;
/** earlyoom's -P program: gs-kit-killer under the name that makes it the client. */
export const EARLYOOM_PROGRAM = `${OCI_DIR}/gs-kit-earlyoom`;

/** Where systemd-oomd looks for pre-kill hooks (oomd.conf(5), PrekillHookTimeoutSec=). */
export const PREKILL_DIR = '/run/systemd/oomd.prekill.hook';
export const PREKILL_SOCKET = `${PREKILL_DIR}/gs-kit`;
export const OOMD_SOCKET_UNIT = 'gs-kit-oomd-prekill.socket';
export const OOMD_SERVICE_UNIT = 'gs-kit-oomd-prekill@.service';
export const OOMD_DROPIN = '/etc/systemd/oomd.conf.d/gs-kit.conf';
/** The first systemd whose systemd-oomd calls pre-kill hooks. */
export const OOMD_PREKILL_SINCE = '260';

/** earlyoom's requests: a socket its unprivileged user reaches through a group of its own. */
export const EARLYOOM_SOCKET = '/run/gs-kit/earlyoom.sock';
export const EARLYOOM_SOCKET_UNIT = 'gs-kit-earlyoom.socket';
export const EARLYOOM_SERVICE_UNIT = 'gs-kit-earlyoom.service';
export const EARLYOOM_DROPIN = '/etc/systemd/system/earlyoom.service.d/gs-kit.conf';
export const KILLER_GROUP = 'gs-kit-killer';
export const SYSUSERS_FILE = '/etc/sysusers.d/gs-kit.conf';
/** The first earlyoom with -P (a program run before each kill): 1.8.2 (Debian 13) has none. */
export const EARLYOOM_PREKILL_SINCE = '1.9';
/** How long earlyoom waits for -P to exit before it kills anyway (earlyoom(1)). */
export const EARLYOOM_PREKILL_MS = 200;

const UNIT_DIR = '/etc/systemd/system';
export const unitPath = (unit: string) => `${UNIT_DIR}/${unit}`;

/** A package's version as dpkg's status database has it (installed only); undefined otherwise. */
export function dpkgVersion(status: string | undefined, pkg: string): string | undefined {
  for (const stanza of (status ?? '').split(/\n\s*\n/)) {
    if (!new RegExp(`^Package: ${pkg.replace(/[.+]/g, '\\$&')}$`, 'm').test(stanza)) continue;
    if (!/^Status: .* installed$/m.test(stanza)) continue;
    return /^Version: (?:\d+:)?(\S+)$/m.exec(stanza)?.[1];
  }
  return undefined;
}

/** Whether Debian-style version @v (upstream part) is at least @min, comparing dotted numbers. */
export function versionAtLeast(v: string, min: string): boolean {
  const nums = (s: string) => s.replace(/[-~+].*$/, '').split('.').map((x) => Number.parseInt(x, 10) || 0);
  const a = nums(v);
  const b = nums(min);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d) return d > 0;
  }
  return true;
}

/** A user-space killer on this machine, as configure and status find it. */
export interface KillerFound {
  /** Its program is installed. */
  present: boolean;
  /** Its version, when the package database says it. */
  version?: string | undefined;
}

/** Whether gs-kit can hook @k: present, and a version with the hook (or one nobody can tell). */
function hookable(k: KillerFound, since: string): boolean {
  return k.present && (k.version === undefined || versionAtLeast(k.version, since));
}

/** Which of systemd-oomd and earlyoom, as found, gs-kit can hook. */
export function hookableKillers(k: { oomd: KillerFound; earlyoom: KillerFound }): { oomd: boolean; earlyoom: boolean } {
  return { oomd: hookable(k.oomd, OOMD_PREKILL_SINCE), earlyoom: hookable(k.earlyoom, EARLYOOM_PREKILL_SINCE) };
}

/**
 * systemd-oomd's PrekillHookTimeoutSec=, in seconds: the longest a handler
 * may run (timeout_ms for root's registrations, user_timeout_ms for a
 * user's), a second for gs-kit-killer and the kill passes, rounded up; at
 * least 1 s, oomd's minimum. Several registrations in one cgroup run one
 * after another: those after the time is up meet a killed process.
 */
export function prekillTimeoutSec(timeoutMs: number, userTimeoutMs: number): number {
  return Math.max(1, Math.ceil((Math.max(timeoutMs, userTimeoutMs) + 1000) / 1000));
}

/**
 * A request socket, reached by @access only: with @accept, one
 * gs-kit-killer started for each connection; else one resident that
 * takes them all.
 */
function renderRequestSocket(what: string, path: string, access: readonly string[], accept: boolean): string {
  return [
    `# Written by gs-kit configure: ${what}.`,
    '[Unit]',
    `Description=gs-kit: ${what}`,
    '',
    '[Socket]',
    `ListenStream=${path}`,
    ...access,
    `Accept=${accept ? 'yes' : 'no'}`,
    '',
    '[Install]',
    'WantedBy=sockets.target',
    '',
  ].join('\n');
}

/** systemd-oomd's pre-kill hook: root's only, as oomd reaches it with the CAP_DAC_OVERRIDE its unit grants. */
export const renderOomdSocket = () => renderRequestSocket('systemd-oomd\'s pre-kill hook (io.systemd.oom.Prekill)', PREKILL_SOCKET, ['SocketMode=0600'], true);

/**
 * The service behind a request socket: gs-kit-killer in @mode, never the
 * next victim while memory is short. @perConnection: a template unit that
 * the socket (Accept=yes) starts for each connection, which is its stdin
 * and stdout; else resident from boot, taking the socket's connections.
 */
function renderRequestService(what: string, mode: string, perConnection: boolean): string {
  return [
    `# Written by gs-kit configure: ${what}.`,
    '[Unit]',
    `Description=gs-kit: ${what}`,
    ...(perConnection ? ['CollectMode=inactive-or-failed'] : ['Requires=%N.socket', 'After=%N.socket']),
    '',
    '[Service]',
    `ExecStart=${KILLER_BIN} ${mode}`,
    ...(perConnection ? ['StandardInput=socket', 'StandardOutput=socket'] : ['Restart=on-failure']),
    'StandardError=journal',
    'OOMScoreAdjust=-1000',
    ...(perConnection ? [] : ['', '[Install]', 'WantedBy=multi-user.target']),
    '',
  ].join('\n');
}

/** One per call: systemd-oomd waits seconds for it, and a connection is its own. */
export const renderOomdService = () => renderRequestService('handlers before systemd-oomd kills a cgroup', 'oomd', true);

export function renderOomdDropIn(timeoutSec: number): string {
  return [
    '# Written by gs-kit configure: systemd-oomd waits for gs-kit\'s pre-kill hook,',
    '# as long as the longest handler may run (the module\'s timeout_ms and',
    '# user_timeout_ms) and a second more.',
    '[OOM]',
    `PrekillHookTimeoutSec=${timeoutSec}s`,
    '',
  ].join('\n');
}

/** earlyoom's -P hands its victim here; earlyoom runs as a user of its own (DynamicUser=): it gets the group, nobody else. */
export const renderEarlyoomSocket = () => renderRequestSocket('earlyoom\'s requests, from its -P program', EARLYOOM_SOCKET,
  ['SocketMode=0660', 'SocketUser=root', `SocketGroup=${KILLER_GROUP}`], false);

/** Resident: earlyoom waits 200 ms, and starting a service per request took most of that under emulation. */
export const renderEarlyoomService = () => renderRequestService('a handler before earlyoom kills a process', 'earlyoom-listen', false);

/**
 * earlyoom's unit with -P: its ExecStart as Debian's unit has it, and the
 * group that reaches the socket. earlyoom runs -P with its own sandbox
 * (an unprivileged dynamic user, CAP_KILL only), which is why -P asks
 * root's gs-kit-earlyoom.service rather than the module itself.
 */
export function renderEarlyoomDropIn(earlyoom: string): string {
  return [
    '# Written by gs-kit configure: earlyoom runs gs-kit\'s -P program before each kill.',
    '[Service]',
    `SupplementaryGroups=${KILLER_GROUP}`,
    'ExecStart=',
    `ExecStart=${earlyoom} $EARLYOOM_ARGS -P ${EARLYOOM_PROGRAM}`,
    '',
  ].join('\n');
}

export function renderSysusers(): string {
  return [
    '# Written by gs-kit configure: who may ask gs-kit to run a handler before a kill (earlyoom).',
    `g ${KILLER_GROUP} -`,
    '',
  ].join('\n');
}

/** What the killers part of configure installs, given what the host has. */
export interface KillersPlanInput {
  oomd: KillerFound;
  earlyoom: KillerFound & { path?: string | undefined };
  /** gs-kit-killer, built. */
  killer: Uint8Array;
  /** The module's timeout_ms and user_timeout_ms (as loaded, or its defaults). */
  timeoutMs: number;
  userTimeoutMs: number;
}

/**
 * The hooks for the killers the host has: gs-kit-killer; for systemd-oomd
 * the socket, its service and oomd.conf's PrekillHookTimeoutSec= (oomd
 * reloaded); for earlyoom the group, the socket, its service and -P
 * (earlyoom restarted if it runs). Sockets are enabled the way systemctl
 * enable does it, and started on a live system.
 */
export function killersPlan(input: KillersPlanInput): Plan {
  const { oomd, earlyoom } = hookableKillers(input);
  if (!oomd && !earlyoom) return [];
  const plan: Plan = [
    { kind: 'dir', path: OCI_DIR },
    { kind: 'file', path: KILLER_BIN, content: input.killer, mode: 0o755 },
  ];
  const units: string[] = [];
  const socket = (name: string, text: string, service: string, serviceText: string) => {
    units.push(unitPath(name), unitPath(service));
    plan.push(
      { kind: 'file', path: unitPath(name), content: text, mode: 0o644 },
      { kind: 'file', path: unitPath(service), content: serviceText, mode: 0o644 },
      { kind: 'dir', path: `${UNIT_DIR}/sockets.target.wants` },
      { kind: 'symlink', path: `${UNIT_DIR}/sockets.target.wants/${name}`, target: unitPath(name) },
    );
  };
  if (earlyoom) {
    plan.push(
      { kind: 'dir', path: posix.dirname(SYSUSERS_FILE) },
      { kind: 'file', path: SYSUSERS_FILE, content: renderSysusers(), mode: 0o644 },
      { kind: 'command', argv: ['systemd-sysusers', SYSUSERS_FILE], why: `the group ${KILLER_GROUP}, which earlyoom's socket is for`, id: 'sysusers', after: [SYSUSERS_FILE] },
      { kind: 'symlink', path: EARLYOOM_PROGRAM, target: posix.basename(KILLER_BIN) },
    );
    socket(EARLYOOM_SOCKET_UNIT, renderEarlyoomSocket(), EARLYOOM_SERVICE_UNIT, renderEarlyoomService());
    plan.push(
      { kind: 'dir', path: `${UNIT_DIR}/multi-user.target.wants` },
      { kind: 'symlink', path: `${UNIT_DIR}/multi-user.target.wants/${EARLYOOM_SERVICE_UNIT}`, target: unitPath(EARLYOOM_SERVICE_UNIT) },
    );
    plan.push(
      { kind: 'dir', path: posix.dirname(EARLYOOM_DROPIN) },
      { kind: 'file', path: EARLYOOM_DROPIN, content: renderEarlyoomDropIn(input.earlyoom.path ?? '/usr/bin/earlyoom'), mode: 0o644 },
    );
    units.push(EARLYOOM_DROPIN);
  }
  if (oomd) {
    socket(OOMD_SOCKET_UNIT, renderOomdSocket(), OOMD_SERVICE_UNIT, renderOomdService());
    plan.push(
      { kind: 'dir', path: posix.dirname(OOMD_DROPIN) },
      { kind: 'file', path: OOMD_DROPIN, content: renderOomdDropIn(prekillTimeoutSec(input.timeoutMs, input.userTimeoutMs)), mode: 0o644 },
    );
  }
  plan.push({ kind: 'command', argv: ['systemctl', 'daemon-reload'], why: 'systemd reads gs-kit\'s units', id: 'killers-reload', after: units });
  if (earlyoom) {
    plan.push(
      { kind: 'command', argv: ['systemctl', 'restart', EARLYOOM_SOCKET_UNIT, EARLYOOM_SERVICE_UNIT], why: 'earlyoom\'s requests are heard, by gs-kit-killer resident', after: [unitPath(EARLYOOM_SOCKET_UNIT), unitPath(EARLYOOM_SERVICE_UNIT), KILLER_BIN, 'sysusers', 'killers-reload'] },
      { kind: 'command', argv: ['systemctl', 'try-restart', 'earlyoom.service'], why: 'earlyoom runs gs-kit\'s -P program before each kill', after: [EARLYOOM_DROPIN] },
    );
  }
  if (oomd) {
    plan.push(
      { kind: 'command', argv: ['systemctl', 'restart', OOMD_SOCKET_UNIT], why: 'systemd-oomd finds gs-kit\'s pre-kill hook', after: [unitPath(OOMD_SOCKET_UNIT), 'killers-reload'] },
      { kind: 'command', argv: ['systemctl', 'try-reload-or-restart', 'systemd-oomd.service'], why: 'systemd-oomd waits for pre-kill hooks (PrekillHookTimeoutSec=)', after: [OOMD_DROPIN] },
    );
  }
  return plan;
}

/** What status found of the user-space killers and gs-kit's hooks for them. */
export interface KillersSnapshot {
  oomd: KillerFound & { hooked: boolean; timeoutSec?: number | undefined };
  earlyoom: KillerFound & { hooked: boolean };
}

/** PrekillHookTimeoutSec= from gs-kit's drop-in, in seconds. */
export function parsePrekillTimeout(dropIn: string | undefined): number | undefined {
  const m = /^PrekillHookTimeoutSec=(\d+)s?$/m.exec(dropIn ?? '');
  return m ? Number(m[1]) : undefined;
}

/** One status line: which killers hear a registration, and which do not yet. */
export function killersLine(k: KillersSnapshot, hook: string | undefined): { ok: boolean; value: string } {
  const covered: string[] = [`the kernel's OOM killer${hook ? ` (${hook})` : ''}`];
  const missing: string[] = [];
  const name = (n: string, f: KillerFound) => `${n}${f.version ? ` ${f.version}` : ''}`;
  const can = hookableKillers(k);
  if (k.oomd.present) {
    if (!can.oomd) missing.push(`${name('systemd-oomd', k.oomd)} (no pre-kill hook before ${OOMD_PREKILL_SINCE}: it kills unheard)`);
    else if (k.oomd.hooked) covered.push(`${name('systemd-oomd', k.oomd)} (pre-kill hook${k.oomd.timeoutSec ? `, waits up to ${k.oomd.timeoutSec} s` : ''})`);
    else missing.push(name('systemd-oomd', k.oomd));
  }
  if (k.earlyoom.present) {
    if (!can.earlyoom) missing.push(`${name('earlyoom', k.earlyoom)} (no -P before ${EARLYOOM_PREKILL_SINCE}: it kills unheard)`);
    else if (k.earlyoom.hooked) covered.push(`${name('earlyoom', k.earlyoom)} (-P; it waits at most ${EARLYOOM_PREKILL_MS} ms)`);
    else missing.push(name('earlyoom', k.earlyoom));
  }
  return {
    ok: missing.length === 0,
    value: `covered: ${covered.join(', ')}${missing.length ? `; not covered: ${missing.join(', ')}` : ''}`,
  };
}

/**
 * The user-space OOM killers a host has (systemd-oomd, earlyoom) and what
 * of gs-kit's hooks for them is installed, for configure and status.
 */
import type { Host } from './host.js';
import {
  dpkgVersion, EARLYOOM_DROPIN, EARLYOOM_SOCKET_UNIT, OOMD_DROPIN, OOMD_SOCKET_UNIT, parsePrekillTimeout, unitPath,
  type KillerFound, type KillersSnapshot,
} from '../lib/killers.js';

/** systemd-oomd and earlyoom under @host, with their versions from dpkg's database when it has them. */
export async function findKillers(host: Host): Promise<{ oomd: KillerFound; earlyoom: KillerFound & { path?: string } }> {
  const status = await host.readFile('/var/lib/dpkg/status');
  const oomdPath = ['/usr/lib/systemd/systemd-oomd', '/lib/systemd/systemd-oomd'];
  let oomdPresent = false;
  for (const p of oomdPath) oomdPresent ||= await host.exists(p);
  let earlyoomPath: string | undefined;
  for (const p of ['/usr/bin/earlyoom', '/usr/local/bin/earlyoom', '/usr/sbin/earlyoom']) if (!earlyoomPath && await host.exists(p)) earlyoomPath = p;
  const oomdVersion = dpkgVersion(status, 'systemd-oomd') ?? dpkgVersion(status, 'systemd');
  return {
    oomd: { present: oomdPresent, version: oomdPresent ? oomdVersion?.replace(/-.*$/, '') : undefined },
    earlyoom: { present: earlyoomPath !== undefined, version: earlyoomPath ? dpkgVersion(status, 'earlyoom')?.replace(/-.*$/, '') : undefined, ...(earlyoomPath ? { path: earlyoomPath } : {}) },
  };
}

const wanted = (unit: string) => `/etc/systemd/system/sockets.target.wants/${unit}`;

/** The killers under @host and whether gs-kit's hooks for them are in place (status). */
export async function killersSnapshot(host: Host): Promise<KillersSnapshot> {
  const { oomd, earlyoom } = await findKillers(host);
  const dropIn = await host.readFile(OOMD_DROPIN);
  return {
    oomd: {
      ...oomd,
      hooked: dropIn !== undefined && await host.exists(unitPath(OOMD_SOCKET_UNIT)) && await host.exists(wanted(OOMD_SOCKET_UNIT)),
      timeoutSec: parsePrekillTimeout(dropIn),
    },
    earlyoom: {
      ...earlyoom,
      hooked: await host.exists(EARLYOOM_DROPIN) && await host.exists(wanted(EARLYOOM_SOCKET_UNIT)),
    },
  };
}

/**
 * Kernel config fragments as data: "CONFIG_X=y" sets, "# CONFIG_X is not
 * set" clears. Fragments are applied in order over a base config; the
 * result is checked so that an option Kconfig silently dropped (a missing
 * dependency) is an error instead of a surprise in the guest.
 */
export type KconfigValue = string; // "y", "m", "n", a number or a quoted string

export function parseFragment(text: string): Map<string, KconfigValue> {
  const options = new Map<string, KconfigValue>();
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const set = /^(CONFIG_[A-Za-z0-9_]+)=(.*)$/.exec(line);
    if (set) {
      options.set(set[1]!, set[2]!);
      continue;
    }
    const unset = /^# (CONFIG_[A-Za-z0-9_]+) is not set$/.exec(line);
    if (unset) options.set(unset[1]!, 'n');
  }
  return options;
}

/** Later fragments win, as scripts/kconfig/merge_config.sh does. */
export function mergeFragments(fragments: readonly string[]): Map<string, KconfigValue> {
  const merged = new Map<string, KconfigValue>();
  for (const f of fragments) for (const [k, v] of parseFragment(f)) merged.set(k, v);
  return merged;
}

export interface UnmetOption {
  option: string;
  wanted: KconfigValue;
  got: KconfigValue;
}

/** Requested options the final .config does not have as requested. */
export function unmetOptions(
  requested: Map<string, KconfigValue>,
  finalConfig: string,
): UnmetOption[] {
  const final = parseFragment(finalConfig);
  const unmet: UnmetOption[] = [];
  for (const [option, wanted] of requested) {
    const got = final.get(option) ?? 'n';
    if (got !== wanted) unmet.push({ option, wanted, got });
  }
  return unmet;
}

export type Profile = 'qemu' | 'host' | 'debug' | 'system';
export const PROFILES: readonly Profile[] = ['qemu', 'host', 'debug', 'system'];

export interface ProfilePlan {
  /** "tinyconfig", or "running" for the running kernel's config. */
  base: 'tinyconfig' | 'running';
  /** Fragment files under kernel/config/, applied in order. */
  fragments: string[];
}

export function profilePlan(profile: Profile): ProfilePlan {
  switch (profile) {
    case 'qemu':
      return { base: 'tinyconfig', fragments: ['qemu.config', 'gs.config'] };
    case 'debug':
      return { base: 'tinyconfig', fragments: ['qemu.config', 'debug.config', 'gs.config'] };
    case 'system':
      return { base: 'tinyconfig', fragments: ['qemu.config', 'system.config', 'gs.config'] };
    case 'host':
      return { base: 'running', fragments: ['gs.config'] };
  }
}

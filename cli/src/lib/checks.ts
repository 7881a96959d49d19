/** One verdict about a guest run: what must hold, whether it did, and why not. */
export interface Check {
  name: string;
  ok: boolean;
  detail?: string;
}

/** A verdict; @detail is kept only when it failed. */
export function check(name: string, ok: boolean, detail?: string): Check {
  return detail === undefined || ok ? { name, ok } : { name, ok, detail };
}

/** A verdict that @got is exactly @want. */
export function equal(name: string, got: string | undefined, want: string): Check {
  return check(name, got === want, `expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
}

/** Whether a run (a scenario, a system stage, a soak boot) passed every one of its checks. */
export function passed(run: { checks: readonly Check[] }): boolean {
  return run.checks.every((c) => c.ok);
}

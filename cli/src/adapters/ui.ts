import chalk from 'chalk';
import { Listr, type ListrTask } from 'listr2';

/** chalk already honours NO_COLOR, FORCE_COLOR and a non-TTY stdout. */
export const color = chalk;

export function isInteractive(): boolean {
  return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env.CI;
}

/** A task list: redrawn on a TTY, one line per step elsewhere (CI, logs). */
export function taskList<Ctx>(tasks: ListrTask<Ctx>[]): Listr<Ctx> {
  const tty = Boolean(process.stdout.isTTY) && !process.env.CI;
  return new Listr<Ctx>(tasks, {
    renderer: tty ? 'default' : 'simple',
    fallbackRenderer: 'simple',
    rendererOptions: { collapseSubtasks: false },
    exitOnError: true,
  } as never);
}

export function passFail(ok: boolean): string {
  return ok ? color.green('PASS') : color.red('FAIL');
}

/** One verdict line per check under a PASS/FAIL title; a failed check's detail dimmed beside it. */
export function printVerdicts(title: string, checks: readonly { name: string; ok: boolean; detail?: string }[], durationMs: number): void {
  const ok = checks.every((c) => c.ok);
  console.log(`${passFail(ok)} ${title} ${color.dim(`(${(durationMs / 1000).toFixed(1)} s)`)}`);
  for (const c of checks) {
    console.log(`    ${c.ok ? color.green('✓') : color.red('✗')} ${c.name}${c.ok || !c.detail ? '' : color.dim(` — ${c.detail}`)}`);
  }
}

/**
 * The terminal side of gs-kit: the one place that draws. It turns the
 * events services emit (lib/reporter.ts) into listr task lists on a
 * terminal and plain lines elsewhere, colours with chalk (off when not a
 * terminal or with NO_COLOR), and asks questions with inquirer. Commands
 * and bin talk to the user through the Ui it makes; nothing else under
 * cli/src touches the console, chalk, listr or inquirer.
 */
import chalk from 'chalk';
import type { Check } from '../lib/checks.js';
import type { Style, Tone, Ui, Verdict } from '../lib/reporter.js';

/** Counted progress (files compiled) shows at most every this many: the plain renderer prints every update. */
const COUNT_STEP = 50;

/** The live task a reporter's steps and progress go to, and the notes kept until it ends. */
interface LiveTask {
  output(text: string): void;
  held: { text: string; tone: Tone }[];
  lastCount: number;
}

function terminal(): boolean {
  return Boolean(process.stdout.isTTY) && !process.env.CI;
}

const style: Style = {
  bold: (t) => chalk.bold(t),
  dim: (t) => chalk.dim(t),
  green: (t) => chalk.green(t),
  yellow: (t) => chalk.yellow(t),
  red: (t) => chalk.red(t),
};

/** "PASS" or "FAIL", coloured. */
export function passFail(s: Style, ok: boolean): string {
  return ok ? s.green('PASS') : s.red('FAIL');
}

/** A verdict as lines: PASS/FAIL and its title, one line per check, a failed check's detail dimmed beside it. */
export function verdictLines(s: Style, v: Verdict): string[] {
  const ok = v.checks.every((c) => c.ok);
  const head = `${s.bold(`[${v.label}] ${v.name}`)}${v.title ? `: ${v.title}` : ''}`;
  return [
    `${passFail(s, ok)} ${head} ${s.dim(`(${(v.durationMs / 1000).toFixed(1)} s)`)}`,
    ...v.checks.map((c: Check) => `    ${c.ok ? s.green('✓') : s.red('✗')} ${c.name}${c.ok || !c.detail ? '' : s.dim(` — ${c.detail}`)}`),
    ...(v.console !== undefined ? [s.dim(v.console)] : []),
  ];
}

/** A note as a line in its tone. */
export function toned(s: Style, text: string, tone: Tone = 'plain'): string {
  switch (tone) {
    case 'ok': return `${s.green('✓')} ${text}`;
    case 'warn': return s.yellow(text);
    case 'dim': return s.dim(text);
    default: return text;
  }
}

class ConsoleUi implements Ui {
  readonly style = style;
  private live: LiveTask | undefined;

  get interactive(): boolean {
    return Boolean(process.stdin.isTTY && process.stdout.isTTY) && !process.env.CI;
  }

  print(text: string): void {
    console.log(text);
  }

  printError(text: string): void {
    console.error(text);
  }

  async confirm(message: string, initial: boolean): Promise<boolean> {
    const { default: inquirer } = await import('inquirer');
    const { go } = await inquirer.prompt([{ type: 'confirm', name: 'go', message, default: initial }]);
    return Boolean(go);
  }

  step(title: string): void {
    if (this.live) this.live.output(title);
    else this.print(style.dim(`… ${title}`));
  }

  progress(text: string, count?: number): void {
    const live = this.live;
    if (!live) return;
    if (count !== undefined) {
      if (count - live.lastCount < COUNT_STEP) return;
      live.lastCount = count;
    }
    live.output(text);
  }

  note(text: string, tone: Tone = 'plain'): void {
    if (this.live) this.live.held.push({ text, tone });
    else this.print(toned(style, text, tone));
  }

  verdict(v: Verdict): void {
    if (this.live) {
      for (const line of verdictLines(style, v)) this.live.held.push({ text: line, tone: 'plain' });
    } else {
      for (const line of verdictLines(style, v)) this.print(line);
    }
  }

  async task<T>(title: string, work: () => Promise<T>, done?: (value: T) => string): Promise<T> {
    if (this.live) {
      this.step(title);
      return work();
    }
    const held: LiveTask['held'] = [];
    let value!: T;
    const { Listr } = await import('listr2');
    try {
      await new Listr([{
        title,
        task: async (_ctx, task) => {
          this.live = { output: (text) => { task.output = text; }, held, lastCount: 0 };
          try {
            value = await work();
          } finally {
            this.live = undefined;
          }
          if (done) task.title = done(value);
        },
      }], {
        renderer: terminal() ? 'default' : 'simple',
        fallbackRenderer: 'simple',
        rendererOptions: { collapseSubtasks: false },
        exitOnError: true,
      } as never).run();
    } finally {
      for (const h of held) this.print(toned(style, h.text, h.tone));
    }
    return value;
  }
}

/** The Ui of a gs-kit run on this terminal (or log). */
export function consoleUi(): Ui {
  return new ConsoleUi();
}

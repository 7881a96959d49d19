/**
 * The one way services tell what they are doing: a step begins, progress
 * within it, a note the user must read, a verdict on a judged run, and a
 * task that groups the events of a longer piece of work. Services emit
 * these and return data; how they show (listr on a terminal, lines in a
 * log, nothing in a test) is the renderer's business (ui/render.ts).
 */
import type { Check } from './checks.js';

/** How a note reads: plain, a success, a warning, or dimmed detail. */
export type Tone = 'plain' | 'ok' | 'warn' | 'dim';

/** A judged run, as a reporter is told of it. */
export interface Verdict {
  /** What it ran on, e.g. "6.1", "6.12 debug stock". */
  label: string;
  /** The scenario or stage, e.g. "memcg", "system stage 1". */
  name: string;
  /** What it shows, after the name. */
  title?: string;
  checks: readonly Check[];
  durationMs: number;
  /** The guest's console, to show after the checks (a failed run, when it is wanted). */
  console?: string;
}

export interface Reporter {
  /** A step of the work begins: a phase of the current task, or a line of its own. */
  step(title: string): void;
  /**
   * Progress of the current step (a count of compiled files, bytes, a line
   * of a command's output): shown live while a task runs, else dropped.
   * With @count, a renderer may show only every so many.
   */
  progress(text: string, count?: number): void;
  /** A line the user must see; inside a task it is kept until the task ends. */
  note(text: string, tone?: Tone): void;
  /** A run and its checks. */
  verdict(v: Verdict): void;
  /**
   * Run @work as one task titled @title: its steps and progress show under
   * it; @done titles it once finished. A task inside a task is a step.
   */
  task<T>(title: string, work: () => Promise<T>, done?: (value: T) => string): Promise<T>;
}

/** A reporter that shows nothing: for work whose progress nobody reads (the bench's timed builds). */
export const SILENT: Reporter = {
  step: () => undefined,
  progress: () => undefined,
  note: () => undefined,
  verdict: () => undefined,
  task: (_title, work) => work(),
};

/** Text styles a command may use in what it prints; plain text where colour is off. */
export interface Style {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  yellow(text: string): string;
  red(text: string): string;
}

/**
 * What a command talks to the user through: the reporter the services it
 * calls emit to, its own output, and questions (asked only where someone
 * can answer).
 */
export interface Ui extends Reporter {
  readonly style: Style;
  /** A line of the command's output (stdout). */
  print(text: string): void;
  /** A line of the command's own diagnostics (stderr), apart from a program's output. */
  printError(text: string): void;
  /** Whether someone can answer a question (a terminal, not CI). */
  readonly interactive: boolean;
  /** Ask a yes/no question; only when interactive. */
  confirm(message: string, initial: boolean): Promise<boolean>;
}

import { openHost, type Host, type HostRunOptions } from '../../src/adapters/host.js';
import type { RunResult } from '../../src/adapters/exec.js';
import type { CommandEnv } from '../../src/commands/types.js';
import type { Plan } from '../../src/lib/host-plan.js';
import type { Style, Tone, Ui, Verdict } from '../../src/lib/reporter.js';

/** One thing a command or service told the user, in order. */
export type UiEvent =
  | { kind: 'print' | 'printError'; text: string }
  | { kind: 'step'; title: string }
  | { kind: 'progress'; text: string }
  | { kind: 'note'; text: string; tone: Tone }
  | { kind: 'verdict'; verdict: Verdict }
  | { kind: 'task'; title: string; done?: string };

const plain: Style = { bold: (t) => t, dim: (t) => t, green: (t) => t, yellow: (t) => t, red: (t) => t };

/** A Ui that records everything, uncoloured, and answers every question with @answer. */
export class RecordingUi implements Ui {
  readonly style = plain;
  readonly events: UiEvent[] = [];
  constructor(readonly interactive = false, private readonly answer = true) {}
  print(text: string) { this.events.push({ kind: 'print', text }); }
  printError(text: string) { this.events.push({ kind: 'printError', text }); }
  async confirm() { return this.answer; }
  step(title: string) { this.events.push({ kind: 'step', title }); }
  progress(text: string) { this.events.push({ kind: 'progress', text }); }
  note(text: string, tone: Tone = 'plain') { this.events.push({ kind: 'note', text, tone }); }
  verdict(verdict: Verdict) { this.events.push({ kind: 'verdict', verdict }); }
  async task<T>(title: string, work: () => Promise<T>, done?: (value: T) => string): Promise<T> {
    const event: UiEvent & { kind: 'task' } = { kind: 'task', title };
    this.events.push(event);
    const value = await work();
    if (done) event.done = done(value);
    return value;
  }

  /** What a user reads: the printed lines and the notes (an ok note with its check mark), in order. */
  get out(): string {
    return this.events.flatMap((e) => (e.kind === 'print' ? [e.text] : e.kind === 'note' ? [e.tone === 'ok' ? `✓ ${e.text}` : e.text] : [])).join('\n');
  }
}

/** A command's env: the recording ui, and real Hosts (a sysroot for the tests that need one). */
export function recordingEnv(ui = new RecordingUi()): CommandEnv & { ui: RecordingUi } {
  return { ui, host: (root, dryRun) => openHost(root, dryRun, ui) };
}

/** A command a stub host expects, and what it answers. */
export interface Expected {
  argv: readonly string[];
  write?: boolean;
  result?: Partial<RunResult>;
}

/**
 * A Host that reads files from @files, expects exactly the commands of
 * @expected in order (a write marked as such), and records what it ran.
 */
export class StubHost implements Host {
  readonly ran: { argv: string[]; write: boolean }[] = [];
  readonly written = new Map<string, string>();
  private next = 0;
  constructor(
    readonly root: string, readonly dryRun: boolean, private readonly ui: Ui,
    private readonly files: Record<string, string> = {}, private readonly expected: readonly Expected[] = [],
  ) {}

  async readFile(path: string) { return this.files[path]; }
  async readBytes(path: string) { return this.files[path] === undefined ? undefined : Buffer.from(this.files[path]!); }
  async exists(path: string) { return path in this.files || Object.keys(this.files).some((f) => f.startsWith(`${path}/`)); }
  async list(path: string) {
    const names = Object.keys(this.files).filter((f) => f.startsWith(`${path}/`)).map((f) => f.slice(path.length + 1).split('/')[0]!);
    return names.length ? [...new Set(names)] : undefined;
  }
  async hasProgram(name: string) { return this.exists(`/usr/bin/${name}`); }
  async grubTools() { return { updateGrub: false, grubMkconfig: false, grub2Mkconfig: false }; }

  async run(argv: readonly string[], opts: HostRunOptions = {}): Promise<RunResult> {
    const write = Boolean(opts.write);
    if (write && this.dryRun) {
      this.ui.note(`would run: ${argv.join(' ')}`);
      return { exitCode: 0, stdout: '', stderr: '', timedOut: false };
    }
    const want = this.expected[this.next++];
    const got = JSON.stringify({ argv, write });
    if (!want || JSON.stringify({ argv: want.argv, write: Boolean(want.write) }) !== got) {
      throw new Error(`unexpected command ${got}; expected ${JSON.stringify(want ?? 'none')}`);
    }
    this.ran.push({ argv: [...argv], write });
    return { exitCode: 0, stdout: '', stderr: '', timedOut: false, ...want.result };
  }

  /** Every expected command ran. */
  get done(): boolean {
    return this.next === this.expected.length;
  }

  async writeFile(path: string, content: string | Uint8Array) {
    if (this.dryRun) this.ui.note(`would write ${path}`);
    else this.written.set(path, String(content));
  }

  async change<T>(what: string, work: () => Promise<T>) {
    if (!this.dryRun) return work();
    this.ui.note(`would ${what}`);
    return undefined;
  }

  async apply(_plan: Plan): Promise<number> {
    throw new Error('StubHost applies no plan: use a sysroot');
  }
}

/** Exit codes, one per class of failure; README.md lists them. */
export const ExitCode = {
  ok: 0,
  failure: 1,
  usage: 2,
  dependency: 3,
  source: 4,
  checksum: 5,
  patch: 6,
  build: 7,
  vm: 8,
  permission: 9,
  registry: 10,
  network: 11,
  /** gs-kit status: something on the host needs doing (a row not ok). */
  attention: 12,
} as const;

export type ExitCodeName = keyof typeof ExitCode;

/**
 * An error a user can act on: what went wrong, what to do, and the exit
 * code the top level ends with. No stack trace is shown unless --debug.
 */
export class GsError extends Error {
  readonly exitCode: number;
  constructor(
    message: string,
    readonly hint: string,
    code: ExitCodeName = 'failure',
  ) {
    super(message);
    this.name = 'GsError';
    this.exitCode = ExitCode[code];
  }
}

/**
 * The CLI's exit codes, documented in the README and in `--help`. A script can tell "nothing was done on purpose"
 * (3) from "something broke" (1) and "could not ask" (4).
 */
export const EXIT = {
  /** Done; for `doctor`, every check passed. */
  ok: 0,
  /** A rotation failed or timed out, `doctor` found a problem, `status` could not read or parse a secret. */
  failed: 1,
  /** An unknown command or option, a missing or bad value. */
  usage: 2,
  /** `put` or `rotate` refused and changed nothing (file or key refused, older pair, rotation in progress). */
  refused: 3,
  /** An AWS or Momento call failed (credentials, permissions, network, not found). */
  unreachable: 4,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error the CLI reports as one line, with its exit code. The message never holds secret material. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

export const EXIT_CODES_HELP = `
Exit codes:
  0  done; for doctor: every check passed
  1  failed: a rotation failed or timed out, doctor found a problem, status could not read a secret
  2  usage: unknown command or option, missing or bad value
  3  refused: put or rotate changed nothing (file or key refused, older pair, rotation in progress)
  4  unreachable: an AWS or Momento call failed (credentials, permissions, network, not found)`;

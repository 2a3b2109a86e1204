import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { describeError, MomentoCallError, RotatorError } from '../errors';
import { doctor } from './doctor';
import { CliError, EXIT, EXIT_CODES_HELP, type ExitCode } from './exit-codes';
import { put } from './put';
import { rotate } from './rotate';
import { createServices, type Services } from './services';
import { status } from './status';

export interface Io {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function positiveSeconds(value: string): number {
  const seconds = Number(value);
  if (!Number.isInteger(seconds) || seconds <= 0)
    throw new InvalidArgumentError('must be a whole number of seconds above 0');
  return seconds;
}

const selectionOptions = (command: Command): Command =>
  command
    .option('--stack-name <name>', "the deployment's secrets: those its function <name>-rotator manages")
    .option('--tag <key[=value]>', 'the secrets carrying this tag')
    .option('--secret-id <id>', 'a secret by name or ARN (repeatable)', collect, [] as string[])
    .option('--json', 'print JSON instead of text');

/**
 * The operator CLI. Returns the exit code; every error is one line on stderr (with its stack and causes only
 * under --verbose), and nothing printed ever holds key material: keys appear as sha256 fingerprints.
 */
export async function runCli(
  argv: readonly string[],
  io: Io,
  makeServices = createServices,
): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  let services: Services | undefined;
  const program = new Command('momento-token-rotator');
  const servicesFor = (): Services => {
    services ??= makeServices(program.opts<{ region?: string }>().region, (line) => io.stdout(`${line}\n`));
    return services;
  };
  program
    .description(
      'Operator commands for momento-token-rotator: put a key in, see where keys stand, rotate, check the wiring.',
    )
    .option('--region <region>', 'AWS region (default: from AWS_REGION or your profile)')
    .option('--verbose', 'print the stack and causes of an error')
    .addHelpText('after', EXIT_CODES_HELP)
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr });

  program
    .command('put')
    .description(
      "validate the Momento console's JSON, check the key at Momento, and store it as the new AWSCURRENT",
    )
    .requiredOption('--secret-id <id>', 'the secret, by name or ARN')
    .requiredOption('--file <path>', 'the JSON the Momento console gave with the key')
    .option(
      '--force',
      'write even an older pair, or while a rotation is in progress (says what it overwrites)',
    )
    .action(async (options: { secretId: string; file: string; force?: boolean }) => {
      exitCode = await put(options, servicesFor());
    });
  selectionOptions(
    program
      .command('status')
      .description(
        "each secret's state, key fingerprint, expiry, time left, last rotation and leftover schedule",
      ),
  ).action(async (options: { stackName?: string; tag?: string; secretId: string[]; json?: boolean }) => {
    exitCode = await status(options, servicesFor());
  });
  program
    .command('rotate')
    .description(
      'start a rotation (RotateSecret) and follow it step by step until AWSCURRENT moves or it fails',
    )
    .requiredOption('--secret-id <id>', 'the secret, by name or ARN')
    .addOption(
      new Option('--timeout <seconds>', 'how long to follow the rotation')
        .default(300)
        .argParser(positiveSeconds),
    )
    .action(async (options: { secretId: string; timeout: number }) => {
      exitCode = await rotate(
        { secretId: options.secretId, timeoutSeconds: options.timeout, pollIntervalMs: 1_000 },
        servicesFor(),
      );
    });
  selectionOptions(
    program
      .command('doctor')
      .description(
        "check each secret's rotation wiring, its key at Momento, its expiry and what blocks rotation, with fixes",
      ),
  ).action(async (options: { stackName?: string; tag?: string; secretId: string[]; json?: boolean }) => {
    exitCode = await doctor(options, servicesFor());
  });

  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has printed its one line already; help and version are not errors.
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const { message, code } = classify(error);
    io.stderr(`error: ${message}\n`);
    if (program.opts<{ verbose?: boolean }>().verbose) io.stderr(`${details(error)}\n`);
    return code;
  } finally {
    services?.destroy();
  }
}

/** One line and an exit code for anything a command threw. */
function classify(error: unknown): { message: string; code: ExitCode } {
  if (error instanceof CliError) return { message: error.message, code: error.exitCode };
  const { errorName, errorMessage } = describeError(error);
  if (error instanceof MomentoCallError) {
    return { message: errorMessage, code: error.kind === 'unavailable' ? EXIT.unreachable : EXIT.refused };
  }
  if (error instanceof RotatorError) return { message: errorMessage, code: EXIT.failed };
  // AWS SDK service and network errors: credentials, permissions, not found, throttling, no route.
  if (error instanceof Error && ('$metadata' in error || 'code' in error)) {
    return { message: `${errorName}: ${errorMessage}`, code: EXIT.unreachable };
  }
  return { message: `${errorName}: ${errorMessage}`, code: EXIT.failed };
}

/** The stack and the chain of causes: our errors and the SDKs' hold no secret values. */
function details(error: unknown): string {
  const lines: string[] = [];
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 5; depth += 1) {
    lines.push(depth === 0 ? String(current.stack) : `caused by: ${current.stack}`);
    current = current.cause;
  }
  return lines.join('\n');
}

import { describeError } from '../errors';
import { EXIT, type ExitCode } from './exit-codes';
import { isoSeconds, table, timeLeft } from './format';
import { type KeyFacts, readKeyFacts } from './key-facts';
import { type SelectOptions, selectSecrets } from './selection';
import type { Services } from './services';

export interface StatusRow extends Omit<KeyFacts, 'state'> {
  readonly state: KeyFacts['state'] | 'unreadable';
  /** ISO date of the last rotation Secrets Manager saw succeed. */
  readonly lastRotated: string | null;
  /** A Secrets Manager rotation schedule left on the secret (the stack sets none). */
  readonly leftoverSchedule: string | null;
  readonly rotationFunction: string | null;
}

/** Every selected secret's row; a secret that cannot be read is a row saying why, not the end of the command. */
export async function statusRows(options: SelectOptions, services: Services): Promise<StatusRow[]> {
  const selection = await selectSecrets(options, services);
  const noRotation = { lastRotated: null, leftoverSchedule: null, rotationFunction: null };
  const rows: StatusRow[] = selection.unreadable.map(({ secretId, error }) =>
    unreadable(secretId, secretId, error, noRotation),
  );
  for (const meta of selection.secrets) {
    const rotation = {
      lastRotated: meta.lastRotatedDate === undefined ? null : new Date(meta.lastRotatedDate).toISOString(),
      leftoverSchedule: meta.rotationSchedule ?? null,
      rotationFunction: meta.rotationLambdaArn ?? null,
    };
    try {
      rows.push({ ...(await readKeyFacts(meta, services, selection.dueRule)).facts, ...rotation });
    } catch (error) {
      const { errorName, errorMessage } = describeError(error);
      rows.push(unreadable(meta.name, meta.arn, `${errorName}: ${errorMessage}`, rotation));
    }
  }
  return rows;
}

export async function status(
  options: SelectOptions & { json?: boolean },
  services: Services,
): Promise<ExitCode> {
  const rows = await statusRows(options, services);
  const exitCode = rows.some((row) => row.state === 'malformed' || row.state === 'unreadable')
    ? EXIT.failed
    : EXIT.ok;
  if (options.json) {
    services.out(JSON.stringify({ secrets: rows }, null, 2));
    return exitCode;
  }
  if (rows.length === 0) {
    services.out('no secrets found');
    return exitCode;
  }
  services.out(
    table(
      ['SECRET', 'STATE', 'KEY', 'VALID UNTIL', 'LEFT', 'LAST ROTATED', 'SCHEDULE'],
      rows.map((row) => [
        row.secretId,
        row.state,
        row.fingerprint === null ? '-' : `${row.keyKind} ${row.fingerprint}`,
        row.validUntil === null ? '-' : isoSeconds(row.validUntil),
        row.secondsUntilExpiry === null ? '-' : timeLeft(row.secondsUntilExpiry),
        row.lastRotated === null ? '-' : row.lastRotated.replace(/\.\d{3}Z$/, 'Z'),
        row.leftoverSchedule ?? 'none',
      ]),
    ),
  );
  for (const row of rows) if (row.problem) services.out(`${row.secretId}: ${row.problem}`);
  return exitCode;
}

function unreadable(
  secretId: string,
  arn: string,
  problem: string,
  rotation: Pick<StatusRow, 'lastRotated' | 'leftoverSchedule' | 'rotationFunction'>,
): StatusRow {
  return {
    secretId,
    arn,
    versionId: null,
    state: 'unreadable',
    keyKind: null,
    fingerprint: null,
    validUntil: null,
    expiresAt: null,
    secondsUntilExpiry: null,
    problem,
    ...rotation,
  };
}

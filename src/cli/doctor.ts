import { describeError, MomentoCallError } from '../errors';
import { unfinishedPendingVersion } from '../rotation/policy';
import type { SecretMetadata } from '../rotation/ports';
import { EMPTY_PENDING_GRACE_SECONDS } from '../rotation/sweep';
import { EXIT, type ExitCode } from './exit-codes';
import { isoSeconds, timeLeft } from './format';
import { readKeyFacts } from './key-facts';
import { type Deployment, type SelectOptions, selectSecrets } from './selection';
import type { Services } from './services';

export interface Check {
  readonly check: 'rotation wiring' | 'schedule' | 'key' | 'expiry' | 'rotation state';
  readonly result: 'pass' | 'warn' | 'fail';
  readonly detail: string;
  readonly fix?: string;
}

const CHECK_TIMEOUT_MS = 10_000;

/** Each selected secret's checks, with the fix for each one that did not pass. */
export async function doctor(
  options: SelectOptions & { json?: boolean },
  services: Services,
): Promise<ExitCode> {
  const selection = await selectSecrets(options, services);
  const report: Array<{ secretId: string; checks: Check[] }> = selection.unreadable.map(
    ({ secretId, error }) => ({
      secretId,
      checks: [
        {
          check: 'key',
          result: 'fail',
          detail: `cannot be read: ${error}`,
          fix: 'check the id, the region and your permissions',
        },
      ],
    }),
  );
  for (const meta of selection.secrets) {
    report.push({ secretId: meta.name, checks: await checkSecret(meta, selection.deployment, services) });
  }
  const ok = report.every(({ checks }) => checks.every((check) => check.result !== 'fail'));
  if (options.json) {
    services.out(JSON.stringify({ ok, secrets: report }, null, 2));
  } else {
    for (const { secretId, checks } of report) {
      services.out(secretId);
      for (const check of checks) {
        const mark = { pass: '✓', warn: '!', fail: '✗' }[check.result];
        services.out(`  ${mark} ${check.check.padEnd(14)}  ${check.detail}`);
        if (check.fix) services.out(`    fix: ${check.fix}`);
      }
    }
    if (report.length === 0) services.out('no secrets found');
  }
  return ok ? EXIT.ok : EXIT.failed;
}

async function checkSecret(
  meta: SecretMetadata,
  deployment: Deployment | undefined,
  services: Services,
): Promise<Check[]> {
  const checks: Check[] = [wiring(meta, deployment)];
  checks.push(
    meta.rotationSchedule === undefined
      ? {
          check: 'schedule',
          result: 'pass',
          detail: 'no Secrets Manager schedule: the sweep decides when to rotate',
        }
      : {
          check: 'schedule',
          result: 'fail',
          detail: `a Secrets Manager schedule (${meta.rotationSchedule}) rotates the secret besides the sweep`,
          fix: 'redeploy the stack that manages the secret: it configures rotation without a schedule',
        },
  );
  let read: Awaited<ReturnType<typeof readKeyFacts>>;
  try {
    read = await readKeyFacts(
      meta,
      services,
      deployment?.dueRule ?? { rotateAtRemainingFraction: 0.5, rotateWithinSeconds: 0 },
    );
  } catch (error) {
    const { errorName, errorMessage } = describeError(error);
    checks.push({
      check: 'key',
      result: 'fail',
      detail: `AWSCURRENT cannot be read: ${errorName}: ${errorMessage}`,
      fix: 'check your permissions (secretsmanager:GetSecretValue, kms:Decrypt)',
    });
    return checks;
  }
  const { facts, key } = read;
  const putFix = `npx momento-token-rotator put --secret-id ${meta.name} --file <the key's JSON from the Momento console>`;
  if (key === undefined) {
    checks.push({
      check: 'key',
      result: 'fail',
      detail:
        facts.state === 'malformed'
          ? `AWSCURRENT cannot be used: ${facts.problem}`
          : 'AWSCURRENT holds no key (uninitialised)',
      fix: putFix,
    });
  } else {
    checks.push(await keyCheck(key, facts.fingerprint ?? '', services, putFix));
    checks.push(expiryCheck(facts.keyKind, facts.validUntil, facts.secondsUntilExpiry, putFix));
  }
  const pending = unfinishedPendingVersion(meta);
  checks.push(
    pending === undefined
      ? { check: 'rotation state', result: 'pass', detail: 'nothing blocks rotation' }
      : {
          check: 'rotation state',
          result: 'fail',
          detail: `an unfinished rotation holds AWSPENDING on version ${pending}: no new rotation can start`,
          fix:
            'a scheduled sweep finishes it (a newer pair Momento accepts) or clears it (empty, once it is ' +
            `${EMPTY_PENDING_GRACE_SECONDS / 60} minutes old); to heal now: ` +
            `aws lambda invoke --function-name ${deployment?.functionName ?? '<the rotator function>'} ` +
            `--cli-binary-format raw-in-base64-out --cli-read-timeout 210 --payload '{"action":"rotate","force":true,"secretId":"${meta.name}"}' out.json`,
        },
  );
  return checks;
}

function wiring(meta: SecretMetadata, deployment: Deployment | undefined): Check {
  const redeploy =
    'deploy the stack that manages the secret (npx cdk deploy): it wires rotation to its function';
  if (meta.rotationEnabled !== true || meta.rotationLambdaArn === undefined) {
    return {
      check: 'rotation wiring',
      result: 'fail',
      detail: 'rotation is not enabled on the secret',
      fix: redeploy,
    };
  }
  if (deployment !== undefined && meta.rotationLambdaArn !== deployment.functionArn) {
    return {
      check: 'rotation wiring',
      result: 'fail',
      detail: `rotation calls ${meta.rotationLambdaArn}, not this deployment's function ${deployment.functionArn}`,
      fix: redeploy,
    };
  }
  return { check: 'rotation wiring', result: 'pass', detail: `rotation calls ${meta.rotationLambdaArn}` };
}

/** Momento's answer to the key alone (the function's own check): a PERMISSION_ERROR still proves the key. */
async function keyCheck(
  key: Parameters<Services['momento']['verifyKey']>[0],
  shown: string,
  services: Services,
  putFix: string,
): Promise<Check> {
  const what = `${key.version} key ${shown}`;
  try {
    await services.momento.verifyKey(key, CHECK_TIMEOUT_MS);
    return { check: 'key', result: 'pass', detail: `${what} accepted by Momento` };
  } catch (error) {
    if (!(error instanceof MomentoCallError)) throw error;
    if (error.kind === 'forbidden') {
      return {
        check: 'key',
        result: 'pass',
        detail: `${what} accepted by Momento (${error.code}: scoped to data calls)`,
      };
    }
    if (error.kind === 'unavailable') {
      return {
        check: 'key',
        result: 'fail',
        detail: `Momento could not be asked about ${what} (${error.code})`,
        fix: 'check the network path to Momento and run doctor again',
      };
    }
    return {
      check: 'key',
      result: 'fail',
      detail: `Momento rejects ${what} (${error.code})`,
      fix: `create a new key in the Momento console and put it: ${putFix}`,
    };
  }
}

function expiryCheck(
  kind: 'v1' | 'v2' | null,
  validUntil: number | null,
  left: number | null,
  putFix: string,
): Check {
  if (validUntil === null || left === null)
    return { check: 'expiry', result: 'pass', detail: 'the key never expires' };
  const when = `${isoSeconds(validUntil)} (${timeLeft(left)}${left > 0 ? ' left' : ''})`;
  if (left <= 0)
    return {
      check: 'expiry',
      result: 'fail',
      detail: `the key expired at ${when}`,
      fix: `create a new key in the Momento console and put it: ${putFix}`,
    };
  if (kind === 'v2') {
    return {
      check: 'expiry',
      result: 'warn',
      detail: `v2 key, renewed by hand (manual-renewal): valid until ${when}`,
      fix: `before then, create a new key in the Momento console and put it: ${putFix}`,
    };
  }
  return {
    check: 'expiry',
    result: 'pass',
    detail: `valid until ${when}; the rotator refreshes it before then`,
  };
}

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Fleet, startFleet } from '../support/fleet';
import { FUNCTION_ARN } from '../support/local-aws';

/**
 * The tag-selection proof on the emulators: 1,000 secrets tagged team=platform, none named in the stack and none
 * wired for rotation. Calls are counted here; the time is printed, and measured with `npm run bench:fleet`
 * (README, "Many secrets: select them by tag").
 */
const SIZE = 1000;
let fleet: Fleet;
const functionOutput: string[] = [];

beforeAll(async () => {
  fleet = await startFleet(SIZE, { functionOutput: (chunk) => functionOutput.push(chunk) });
}, 120_000);

afterAll(async () => {
  await fleet.stop();
});

const emfLines = (metric: string) =>
  functionOutput
    .flatMap((chunk) => chunk.split('\n'))
    .filter((line) => line.includes('"_aws"') && line.includes(`"Name":"${metric}"`));

describe(`a fleet of ${SIZE} secrets selected by tag`, () => {
  it('is swept with nothing due in one ListSecrets page per 100 secrets and one batch read per 20, nothing else', async () => {
    const quiet = await fleet.sweep();

    expect(quiet.summary).toMatchObject({ checked: SIZE, rotationsStarted: 0, healed: 0 });
    expect(quiet.calls).toEqual({ ListSecrets: SIZE / 100, BatchGetSecretValue: SIZE / 20 });
    expect(emfLines('SecondsUntilExpiry')).toHaveLength(SIZE);
    console.info(
      `${SIZE} tagged secrets, nothing due: ${quiet.totalCalls} Secrets Manager calls, ${Math.round(quiet.ms)} ms`,
    );
  });

  it('has the tenth that is due rotated by the rotation steps, each wired to the function by its first rotation', async () => {
    fleet.advance(fleet.dueAfterSeconds);
    const before = new Map(fleet.short.map((s) => [s.arn, fleet.aws.versionIdWith(s.arn, 'AWSCURRENT')]));

    const due = await fleet.sweep();
    await fleet.aws.sm.whenRotationsIdle();

    expect(due.summary).toMatchObject({ checked: SIZE, rotationsStarted: SIZE / 10 });
    expect(due.calls.RotateSecret).toBe(SIZE / 10);
    const rotated = new Set(
      due.summary.secrets.filter((s) => s.state === 'rotation-started').map((s) => s.secretId),
    );
    expect([...rotated].sort()).toEqual(fleet.short.map((s) => s.name).sort());
    for (const secret of fleet.short) {
      const rotations = fleet.aws.sm.rotationLog.filter((r) => r.secretArn === secret.arn);
      expect(rotations, secret.name).toEqual([
        expect.objectContaining({ mode: 'rotate', outcome: 'succeeded', attempts: 1 }),
      ]);
      expect(rotations[0]?.steps.map((s) => s.step)).toEqual([
        'createSecret',
        'setSecret',
        'testSecret',
        'finishSecret',
      ]);
      const after = fleet.aws.sm.inspect(secret.arn);
      expect(after).toMatchObject({ rotationEnabled: true, rotationLambdaArn: FUNCTION_ARN });
      expect(after.rotationRules).toBeUndefined();
      expect(fleet.aws.versionIdWith(secret.arn, 'AWSCURRENT')).not.toBe(before.get(secret.arn));
      expect(fleet.aws.chainIntact(secret), secret.name).toBe(true);
    }
    const untouched = fleet.secrets.filter((s) => !before.has(s.arn));
    expect(untouched.filter((s) => fleet.aws.sm.inspect(s.arn).versions.length !== 1)).toEqual([]);
    console.info(
      `${SIZE} tagged secrets, ${SIZE / 10} due: ${due.totalCalls} Secrets Manager calls until the sweep returned, ` +
        `${Math.round(due.ms)} ms; all ${SIZE / 10} rotated by the four steps`,
    );
  }, 120_000);
});

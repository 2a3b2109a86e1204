import type { SecretVersion } from './ports';

/**
 * Values of Secrets Manager versions this container has already read or written, so that the later steps of a
 * rotation that land on the same warm container do not read them again.
 *
 * Sound because a version's value never changes: PutSecretValue refuses another value under an existing version
 * id (ResourceExistsException), and a version that holds a value never loses it while a staging label is on it.
 * What does change is which version a label points at, so callers look values up only by the version id that
 * DescribeSecret named in the same invocation. "No value yet" is never remembered: an empty version (the stub
 * RotateSecret creates) can be written at any moment. Keyed by secret ARN and version id, bounded, least
 * recently used first out.
 */
export class VersionValues {
  readonly #entries = new Map<string, SecretVersion>();

  constructor(readonly capacity = 16) {}

  get(secretArn: string, versionId: string): SecretVersion | undefined {
    const key = keyOf(secretArn, versionId);
    const version = this.#entries.get(key);
    if (version !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, version);
    }
    return version;
  }

  remember(version: SecretVersion): void {
    if (version.secretString === undefined) return;
    const key = keyOf(version.arn, version.versionId);
    this.#entries.delete(key);
    this.#entries.set(key, version);
    while (this.#entries.size > this.capacity) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  get size(): number {
    return this.#entries.size;
  }
}

function keyOf(secretArn: string, versionId: string): string {
  return `${secretArn}\n${versionId}`;
}

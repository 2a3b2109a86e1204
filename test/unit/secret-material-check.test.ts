import { describe, expect, it } from 'vitest';
import { leaksIn, secretMaterial } from '../support/secret-material';

// The no-secret check guards every other test file; these tests make sure it can fail.
describe('the secret-material detector', () => {
  it('finds any 8-character piece of a registered secret', () => {
    const secret = secretMaterial('key');
    const random = secret.slice(4);

    expect(leaksIn(`prefix ${random.slice(5, 13)} suffix`)).toHaveLength(1);
    expect(leaksIn(`whole value: ${secret}`)).toHaveLength(1);
  });

  it('does not flag text that shares fewer than 8 characters with a secret', () => {
    const secret = secretMaterial('rt');
    const random = secret.slice(3);

    expect(leaksIn(`${random.slice(0, 7)} and ${random.slice(10, 17)}`)).toEqual([]);
  });
});

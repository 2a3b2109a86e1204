/**
 * `momento-token-rotator/client`: the application's end of the chain. Reads the Momento key the rotator keeps
 * fresh in Secrets Manager and hands back credentials and a CacheClient that follow every rotation.
 * Imports the SDKs, the secret's parser and the shared Momento credentials only: no CDK, no CLI, no engine.
 */
export {
  MalformedSecretError,
  SecretUnavailableError,
  UninitialisedSecretError,
} from '../errors';
export type { MomentoKey } from '../rotation/ports';
export {
  type CacheClientOptions,
  type CurrentKey,
  MomentoKeySource,
  type MomentoKeySourceOptions,
} from './key-source';

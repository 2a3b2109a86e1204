import { invalidParameter } from './errors';

/** A parsed JSON request body. Field access is checked here so the store can trust the types. */
export type JsonObject = Record<string, unknown>;

export function optString(input: JsonObject, key: string): string | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') throw invalidParameter(`${key} must be a string.`);
  return value;
}

export function reqString(input: JsonObject, key: string): string {
  const value = optString(input, key);
  if (value === undefined || value === '') throw invalidParameter(`You must provide a value for ${key}.`);
  return value;
}

export function optNumber(input: JsonObject, key: string): number | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value))
    throw invalidParameter(`${key} must be a number.`);
  return value;
}

export function optBoolean(input: JsonObject, key: string): boolean | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'boolean') throw invalidParameter(`${key} must be a boolean.`);
  return value;
}

export function optStringList(input: JsonObject, key: string): string[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'string')) {
    throw invalidParameter(`${key} must be a list of strings.`);
  }
  return value as string[];
}

export function optObject(input: JsonObject, key: string): JsonObject | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidParameter(`${key} must be an object.`);
  return value as JsonObject;
}

export function optObjectList(input: JsonObject, key: string): JsonObject[] | undefined {
  const value = input[key];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((item) => typeof item !== 'object' || item === null)) {
    throw invalidParameter(`${key} must be a list of objects.`);
  }
  return value as JsonObject[];
}

/** Integer within the model's range, or the error the service gives for a value out of range. */
export function optRange(input: JsonObject, key: string, min: number, max: number): number | undefined {
  const value = optNumber(input, key);
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw invalidParameter(`${key} must be an integer between ${min} and ${max}; got ${value}.`);
  }
  return value;
}

/** Length constraint of the Smithy model (for example ClientRequestTokenType: 32 to 64 characters). */
export function checkLength(key: string, value: string | undefined, min: number, max: number): void {
  if (value === undefined) return;
  if (value.length < min || value.length > max) {
    throw invalidParameter(`${key} must be ${min} to ${max} characters long; got ${value.length}.`);
  }
}

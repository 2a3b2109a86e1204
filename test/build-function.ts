import type { TestProject } from 'vitest/node';
import { buildFunction } from '../scripts/build';

declare module 'vitest' {
  export interface ProvidedContext {
    /** The chunk of dist/function that holds the Momento SDK (its name carries a content hash). */
    momentoChunk: string;
  }
}

/**
 * vitest globalSetup: the function as the stack deploys it (dist/function), built once per test run, so that
 * the stack tests synthesize today's code and the end-to-end test of the built function runs it.
 */
export async function setup(project: TestProject): Promise<void> {
  const built = await buildFunction();
  project.provide('momentoChunk', built.momentoChunk);
}

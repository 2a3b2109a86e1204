// INTERIM: replaced by the real entry point (engine work in progress). Exists so that bundling can be tested.
import type { Context } from 'aws-lambda';

export async function handler(_event: unknown, _context: Context): Promise<unknown> {
  throw new Error('not built yet');
}

import { CacheGet, Configurations } from '@gomomento/sdk';
import { MomentoKeySource } from 'momento-token-rotator/client';

// Once per process (per Lambda container): the key is read on first use, then followed through every rotation.
const momentoKey = new MomentoKeySource({ secretId: 'momento/api-key' });
const cache = await momentoKey.cacheClient({
  configuration: Configurations.Lambda.latest(),
  defaultTtlSeconds: 60,
});

export async function handler(event: { userId: string }): Promise<{ greeting: string }> {
  const cached = await cache.get('greetings', event.userId);
  if (cached instanceof CacheGet.Hit) return { greeting: cached.valueString() };
  const greeting = `hello ${event.userId}`;
  await cache.set('greetings', event.userId, greeting);
  return { greeting };
}

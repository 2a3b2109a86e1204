import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // The README's example imports the package's ./client export; in this repository it is the source itself.
    alias: {
      'momento-token-rotator/client': fileURLToPath(new URL('./src/client/index.ts', import.meta.url)),
    },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/build-function.ts'],
    environment: 'node',
    pool: 'forks',
    // Vitest's default is one worker fewer than the cores, which on a 2-core machine runs every file one after
    // the other; the chaos run spends part of its time waiting on timers and sockets, so the rest runs beside it.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});

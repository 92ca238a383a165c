import { defineConfig } from 'vitest/config';

export default defineConfig({
  ssr: { resolve: { conditions: ['source', 'node', 'module', 'development|production'] } },
  test: {
    include: ['src/**/*.test.ts', 'test-d/**/*.test.ts'],
    globalSetup: ['./src/test-support/data-root.setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});

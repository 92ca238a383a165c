import { defineConfig } from 'vitest/config';

// One vitest run covers every Node-side package; each project has its own config.
export default defineConfig({
  test: {
    projects: ['shared', 'server', 'test'],
  },
});

import { defineConfig } from 'vitest/config';

// `pnpm vitest` at the root runs every package as one vitest project.
export default defineConfig({
  test: { projects: ['packages/*/vitest.config.ts', 'apps/*/vitest.config.ts'] },
});

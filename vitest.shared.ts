import { defineProject } from 'vitest/config';

/**
 * One vitest setup for every package: workspace packages resolve to their TypeScript
 * sources (the `source` export condition), so tests never need a build first.
 */
export function gradflowProject(name: string) {
  return defineProject({
    resolve: { conditions: ['source'] },
    ssr: { resolve: { conditions: ['source'] } },
    test: {
      name,
      environment: 'node',
      include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
      testTimeout: 120_000,
      hookTimeout: 120_000,
      pool: 'forks',
    },
  });
}

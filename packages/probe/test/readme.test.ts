import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_THRESHOLDS, THRESHOLD_SOURCES } from '../src/index.js';

describe('README thresholds table', () => {
  const readme = readFileSync(join(import.meta.dirname, '..', 'README.md'), 'utf8');
  it('lists every threshold with its default value', () => {
    for (const [key, value] of Object.entries(DEFAULT_THRESHOLDS)) {
      const row = readme.split('\n').find((l) => new RegExp(`^\\| \`${key}\` +\\|`).test(l));
      expect(row, key).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect(Number(cells[2]), key).toBe(value);
      expect(THRESHOLD_SOURCES[key as keyof typeof THRESHOLD_SOURCES].length).toBeGreaterThan(0);
    }
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DATASETS, listDatasets } from './index.js';

describe('README', () => {
  it('has a row for every registered dataset, with its reference', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    for (const name of listDatasets()) {
      const row = readme
        .split('\n')
        .find((line) => line.replace(/\s+\|/g, ' |').startsWith(`| \`${name}\` |`));
      expect(row, name).toBeDefined();
      expect(row).toContain(
        DATASETS[name as keyof typeof DATASETS].reference.split(';')[0]!.replace('make_blobs', '').trim(),
      );
    }
  });
});

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { initializerTable } from './registry.js';

/** A Markdown table up to the padding Prettier adds (cells trimmed, separator dashes collapsed). */
function normalize(table: string): string {
  return table
    .split('\n')
    .filter((line) => line.trim().startsWith('|'))
    .map((line) =>
      line
        .trim()
        .split(/(?<!\\)\|/)
        .map((cell) => cell.trim().replace(/^-+$/, '-'))
        .join('|'),
    )
    .join('\n');
}

describe('README', () => {
  it('holds the table generated from the registry (regenerate: npx tsx --conditions=source scripts/readme-table.ts)', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(normalize(readme)).toContain(normalize(initializerTable()));
  });
});

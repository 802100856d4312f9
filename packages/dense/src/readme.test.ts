import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { denseNetsMarkdownTable } from './index.js';

/** Markdown table rows with cell padding and separator widths normalized (prettier aligns them). */
function normalizeTables(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) =>
      line.trim().startsWith('|')
        ? line
            .trim()
            .split('|')
            .map((cell) => (/^\s*:?-+:?\s*$/.test(cell) ? '---' : cell.trim()))
            .join('|')
        : line,
    )
    .join('\n');
}

describe('README tables are the registries', () => {
  it('contains the generated tables', () => {
    const readme = normalizeTables(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));
    for (const table of denseNetsMarkdownTable().split('\n\n'))
      expect(readme).toContain(normalizeTables(table));
  });
});

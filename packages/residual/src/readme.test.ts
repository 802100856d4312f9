import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { residualBlocksMarkdownTable, residualInitsMarkdownTable, shortcutsMarkdownTable } from './index.js';

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

const readme = normalizeTables(readFileSync(new URL('../README.md', import.meta.url), 'utf8'));

describe('README tables are the registries', () => {
  it('contains the generated init-scheme and shortcut tables', () => {
    expect(readme).toContain(normalizeTables(residualInitsMarkdownTable()));
    expect(readme).toContain(normalizeTables(shortcutsMarkdownTable()));
  });

  it('contains the generated block-type table', () => {
    expect(readme).toContain(normalizeTables(residualBlocksMarkdownTable()));
  });
});

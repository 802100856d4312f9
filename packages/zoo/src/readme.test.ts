import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelsMarkdownTable } from './index.js';

/** Markdown table rows without the alignment padding prettier adds. */
function normalize(markdown: string): string {
  return markdown
    .split('\n')
    .map((line) =>
      line.startsWith('|')
        ? line
            .split('|')
            .map((cell) => cell.trim().replace(/^-+(:?)$/, '-$1'))
            .join('|')
        : line,
    )
    .join('\n');
}

describe('README', () => {
  it('contains the model table derived from the registry', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(normalize(readme)).toContain(normalize(modelsMarkdownTable()));
  });
});

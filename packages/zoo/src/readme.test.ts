import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { modelsMarkdownTable } from './index.js';

describe('README', () => {
  it('contains the model table derived from the registry', () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    expect(readme).toContain(modelsMarkdownTable());
  });
});

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { activationTable } from '@gradflow/activations';
import { initializerTable } from '@gradflow/initializers';
import { normsMarkdownTable } from '@gradflow/normalization';
import { marked } from 'marked';

export const GUIDES_DIR = fileURLToPath(new URL('../guides/', import.meta.url));

export interface Guide {
  /** `why-gradients-vanish` from `01-why-gradients-vanish.md`; the order comes from the prefix. */
  slug: string;
  title: string;
  html: string;
}

/**
 * Tables the guides embed with `<!-- table:NAME -->`, generated from the packages' registries
 * at build time, so the docs cannot drift from the code.
 */
export const REGISTRY_TABLES: Record<string, () => string> = {
  activations: activationTable,
  initializers: initializerTable,
  norms: normsMarkdownTable,
};

function expandTables(markdown: string): string {
  return markdown.replace(
    /<!-- table:(\w+) -->/g,
    (marker, name: string) => REGISTRY_TABLES[name]?.() ?? marker,
  );
}

/** The guides, in file-name order, rendered from Markdown; the title is the first `# ` heading. */
export function loadGuides(dir = GUIDES_DIR): Guide[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((file) => {
      const markdown = readFileSync(join(dir, file), 'utf8');
      const title = /^#\s+(.+)$/m.exec(markdown)?.[1]?.trim() ?? file;
      return {
        slug: file.replace(/^\d+-/, '').replace(/\.md$/, ''),
        title,
        html: marked.parse(expandTables(markdown), { async: false }) as string,
      };
    });
}

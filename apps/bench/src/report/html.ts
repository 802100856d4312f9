import { marked } from 'marked';
import { escapeHtml } from './format.js';

const STYLE = `
body { font: 15px/1.5 system-ui, sans-serif; max-width: 980px; margin: 2em auto; padding: 0 1em; color: #1d2329; }
table { border-collapse: collapse; margin: 1em 0; font-size: 13px; }
th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
code { background: #f6f8fa; padding: 0 3px; border-radius: 3px; }
h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .2em; margin-top: 2em; }
figure.chart svg { max-width: 100%; height: auto; }
`;

/**
 * The HTML report is the Markdown report rendered, with every chart inlined as SVG, so the
 * file is self-contained (no external requests, opens from disk) and says exactly what the
 * Markdown says.
 */
export function renderHtml(markdown: string, svgs: ReadonlyMap<string, string>): string {
  const body = (marked.parse(markdown, { async: false }) as string).replace(
    /<img src="charts\/([\w-]+)\.svg" alt="([^"]*)">/g,
    (_match, id: string, alt: string) =>
      `<figure class="chart" aria-label="${alt}">${svgs.get(id) ?? escapeHtml(`missing chart ${id}`)}</figure>`,
  );
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>gradflow benchmark report</title><style>${STYLE}</style></head><body>\n${body}\n</body></html>\n`;
}

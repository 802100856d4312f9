import { existsSync, mkdirSync, readdirSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderSvg, type Chart } from './charts.js';
import type { RunDocument } from './document.js';
import { renderHtml } from './html.js';
import { renderMarkdown } from './markdown.js';

/**
 * Moves an existing non-empty `dir` aside to `<dir>.<its mtime>` so a re-run never overwrites a
 * previous report; returns where it went (for the caller to say so) or undefined.
 */
export function keepPrevious(dir: string): string | undefined {
  if (!existsSync(dir) || readdirSync(dir).length === 0) return undefined;
  const stamp = statSync(dir).mtime.toISOString().replace(/[:.]/g, '-');
  let target = `${dir}.${stamp}`;
  for (let i = 2; existsSync(target); i++) target = `${dir}.${stamp}-${i}`;
  renameSync(dir, target);
  return target;
}

/** Writes report.md, report.html (self-contained), charts/*.svg and results.json into `dir`. */
export async function writeReport(dir: string, doc: RunDocument): Promise<string[]> {
  mkdirSync(join(dir, 'charts'), { recursive: true });
  const charts: Chart[] = [...doc.experiments.flatMap((e) => e.result?.charts ?? []), ...doc.charts];
  const svgs = new Map<string, string>();
  for (const chart of charts) {
    const svg = await renderSvg(chart);
    svgs.set(chart.id, svg);
    writeFileSync(join(dir, 'charts', `${chart.id}.svg`), svg);
  }
  const markdown = renderMarkdown(doc);
  writeFileSync(join(dir, 'report.md'), markdown);
  writeFileSync(join(dir, 'report.html'), renderHtml(markdown, svgs));
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(doc, null, 1)}\n`);
  return ['report.md', 'report.html', 'results.json', ...charts.map((c) => `charts/${c.id}.svg`)];
}

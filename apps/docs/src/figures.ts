/**
 * `pnpm --filter @gradflow/docs figures`: regenerates the guides' figures from a real run of the
 * bench app (never drawn by hand). Runs the experiments the guides cite and copies their SVG
 * charts into apps/docs/figures/, which is committed and copied into the site by build.ts.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIGURES = fileURLToPath(new URL('../figures/', import.meta.url));
const BENCH = fileURLToPath(new URL('../../bench/', import.meta.url));
/** Experiments whose charts the guides show. */
export const FIGURE_EXPERIMENTS = ['activations', 'initialization', 'residual_init', 'recurrent'];

const out = join(mkdtempSync(join(tmpdir(), 'gradflow-figures-')), 'report');
execFileSync('pnpm', ['start', '--only', FIGURE_EXPERIMENTS.join(','), '--out', out], {
  cwd: BENCH,
  stdio: 'inherit',
});
mkdirSync(FIGURES, { recursive: true });
for (const file of readdirSync(join(out, 'charts')))
  copyFileSync(join(out, 'charts', file), join(FIGURES, file));
process.stdout.write(`figures written to ${FIGURES}\n`);

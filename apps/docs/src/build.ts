/**
 * `pnpm docs`: builds the static site into apps/docs/site/ —
 * the API reference (typedoc, packages mode), the guides (Markdown), the figures (SVGs made by
 * the bench app, see figures.ts) and the playground (bundled with esbuild, tfjs wasm binaries
 * copied next to it).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBuiltinsUnavailable } from '@gradflow/browser-harness';
import * as esbuild from 'esbuild';
import * as tf from '@tensorflow/tfjs';
import { mnist } from '@gradflow/data';
import { loadGuides } from './guides.js';
import { page, type NavLink } from './layout.js';
import { SITE_DIR } from './serve.js';

const APP_DIR = fileURLToPath(new URL('../', import.meta.url));
const require = createRequire(import.meta.url);

function buildApi(): void {
  const typedoc = join(dirname(require.resolve('typedoc/package.json')), 'bin', 'typedoc');
  execFileSync(
    process.execPath,
    [typedoc, '--options', join(APP_DIR, 'typedoc.json'), '--out', join(SITE_DIR, 'api')],
    { cwd: APP_DIR, stdio: 'inherit' },
  );
}

function buildGuides(nav: NavLink[]): void {
  mkdirSync(join(SITE_DIR, 'guides'), { recursive: true });
  for (const guide of loadGuides()) {
    writeFileSync(
      join(SITE_DIR, 'guides', `${guide.slug}.html`),
      page(guide.title, guide.html, nav, `guides/${guide.slug}.html`, 1),
    );
  }
  const figures = join(APP_DIR, 'figures');
  if (existsSync(figures)) cpSync(figures, join(SITE_DIR, 'figures'), { recursive: true });
}

async function buildPlayground(nav: NavLink[]): Promise<void> {
  const out = join(SITE_DIR, 'playground');
  mkdirSync(out, { recursive: true });
  await esbuild.build({
    entryPoints: [join(APP_DIR, 'src', 'playground', 'app.ts')],
    outfile: join(out, 'app.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source'],
    minify: true,
    logLevel: 'warning',
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [nodeBuiltinsUnavailable],
  });
  writeFileSync(join(out, 'mnist-1000.json'), mnistSubset(1000));
  const wasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of readdirSync(wasmDist).filter((f) => f.endsWith('.wasm')))
    cpSync(join(wasmDist, file), join(out, file));
  const { playgroundBody } = await import('./playground/page.js');
  writeFileSync(
    join(out, 'index.html'),
    page('Gradient-flow playground', playgroundBody(), nav, 'playground/index.html', 1).replace(
      '</body>',
      '<script type="module" src="app.js"></script></body>',
    ),
  );
}

/** The first `n` training digits of @gradflow/data's MNIST as base64 bytes, for the playground. */
function mnistSubset(n: number): string {
  const set = mnist({
    seed: 1,
    normalize: false,
    labels: 'int',
    flatten: true,
    limit: Math.max(n + 20, Math.ceil(n / 0.8)),
  });
  const [x, y] = tf.tidy(() => [set.train.x.slice(0, n).dataSync(), set.train.y.slice(0, n).dataSync()]);
  set.dispose();
  const pixels = Uint8Array.from(x!, (v) => Math.round(v * 255));
  const labels = Array.from(y!);
  return JSON.stringify({ pixels: Buffer.from(pixels).toString('base64'), labels });
}

function buildIndex(nav: NavLink[]): void {
  const guides = nav.filter((l) => l.href.startsWith('guides/'));
  const body = `<h1>gradflow</h1>
<p>Build deep networks in TypeScript that <strong>train</strong> — and see <strong>why</strong> one doesn't.
Activations, initializers and normalizations done right, residual / dense / U-Net blocks, recurrent cells,
a gradient probe that diagnoses vanishing and exploding gradients, a model zoo, and the kernels that let
TensorFlow.js's WASM SIMD backend train conv nets.</p>
<h2>Guides</h2><ul>${guides.map((g) => `<li><a href="${g.href}">${g.title}</a></li>`).join('')}</ul>
<h2>Reference</h2><p><a href="api/index.html">API reference</a> for every package.</p>
<h2>Playground</h2><p><a href="playground/index.html">Watch gradients vanish, explode and flow</a> in your browser.</p>`;
  writeFileSync(join(SITE_DIR, 'index.html'), page('gradflow', body, nav, 'index.html', 0));
}

export async function buildSite(): Promise<void> {
  rmSync(SITE_DIR, { recursive: true, force: true });
  mkdirSync(SITE_DIR, { recursive: true });
  const nav: NavLink[] = loadGuides().map((g) => ({ href: `guides/${g.slug}.html`, title: g.title }));
  buildApi();
  buildGuides(nav);
  await buildPlayground(nav);
  buildIndex(nav);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await buildSite();
  process.stdout.write(`site built in ${SITE_DIR}\n`);
}

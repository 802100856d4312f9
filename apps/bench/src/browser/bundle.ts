import { cpSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { nodeBuiltinsUnavailable } from '@gradflow/browser-harness';
import * as esbuild from 'esbuild';

const ENTRY = fileURLToPath(new URL('./entry.ts', import.meta.url));
const require = createRequire(import.meta.url);

/**
 * Bundles entry.ts for the browser into `outDir` (speed.js, index.html) and copies the tfjs wasm
 * binaries next to it (entry.ts points setWasmPaths at its own directory).
 */
export async function buildBrowserBundle(outDir: string): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  await esbuild.build({
    entryPoints: [ENTRY],
    outfile: join(outDir, 'speed.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['source'],
    minify: true,
    logLevel: 'warning',
    // zoo/src/register.ts imports the layer packages bare; esbuild drops those imports (the
    // packages' sideEffects list only their register.ts), which the bundle does not need: the
    // builders it calls import those packages by name, so their register.ts is bundled anyway.
    logOverride: { 'ignored-bare-import': 'silent' },
    define: { 'process.env.NODE_ENV': '"production"' },
    plugins: [nodeBuiltinsUnavailable],
  });
  const wasmDist = join(dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json')), 'dist');
  for (const file of readdirSync(wasmDist).filter((f) => f.endsWith('.wasm')))
    cpSync(join(wasmDist, file), join(outDir, file));
  writeFileSync(
    join(outDir, 'index.html'),
    '<!doctype html><html><head><meta charset="utf-8"><title>gradflow speed</title></head><body><script type="module" src="speed.js"></script></body></html>\n',
  );
}

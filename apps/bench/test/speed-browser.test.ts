import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumPath, serveIsolated } from '@gradflow/browser-harness';
import { runBrowserSuite } from '../src/browser/run.js';
import { speedModel } from '../src/speed/measure.js';

const CHROMIUM = chromiumPath();

describe('speed suite, browser path', () => {
  it('trains the mlp in headless Chromium, cross-origin isolated, with 1 and 2 wasm threads', async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} not found: apt-get install chromium (or set CHROMIUM_PATH)`);
    const suite = await runBrowserSuite({
      models: [speedModel('mlp')],
      repeats: 1,
      warmup: 1,
      timeoutMs: 90_000,
    });
    const cells = suite.results.get('mlp')!;
    expect(cells.browser_wasm?.note).toBeUndefined();
    expect(cells.browser_wasm?.examplesPerSecond).toBeGreaterThan(0);
    expect(cells.browser_wasm_2t?.note).toBeUndefined();
    expect(cells.browser_wasm_2t?.examplesPerSecond).toBeGreaterThan(0);
    // Chromium has relaxed SIMD: the fused-multiply-add builds run, and with 2 threads gradflow's
    // kernel pool (a browser Worker on the shared heap) splits the kernels; the stock XNNPACK pool
    // stays at 1 thread (see useWasmBackend's stockThreads).
    expect(suite.backends.browser_wasm).toMatchObject({
      crossOriginIsolated: true,
      threads: false,
      threadCount: 1,
      kernelVariant: 'relaxed-simd',
      kernelThreads: 1,
    });
    expect(suite.backends.browser_wasm_2t).toMatchObject({
      crossOriginIsolated: true,
      threads: true,
      threadCount: 1,
      kernelVariant: 'shared-relaxed-simd',
      kernelThreads: 2,
    });
    expect(suite.chromium).toMatch(/^\d+\./);
    expect(suite.notes.join(' ')).toMatch(/headless Chromium/);
  });

  it('a runner whose wasm set-up fails in the page becomes a note on every model, and the suite goes on', async () => {
    const measured: string[] = [];
    const suite = await runBrowserSuite({
      models: [speedModel('mlp'), speedModel('gru')],
      repeats: 1,
      warmup: 0,
      runners: [{ runner: 'browser_wasm_2t', threads: 9 }],
      onMeasured: (id) => measured.push(id),
    });
    expect(measured.sort()).toEqual(['gru', 'mlp']);
    for (const id of ['mlp', 'gru']) {
      expect(suite.results.get(id)?.browser_wasm_2t?.note).toMatch(/options\.threads/);
      expect(suite.results.get(id)?.browser_wasm_2t?.examplesPerSecond).toBeUndefined();
    }
    expect(suite.notes.join(' ')).toMatch(/with 9 thread\(s\) not measured/);
  });

  it('a missing Chromium becomes a note saying how to install it, not a failure', async () => {
    const suite = await runBrowserSuite({
      models: [speedModel('mlp')],
      repeats: 1,
      warmup: 0,
      chromium: '/nonexistent/chromium',
    });
    expect(suite.notes.join(' ')).toMatch(/apt-get install chromium/);
    expect(suite.results.get('mlp')).toEqual({
      browser_wasm: { note: 'no Chromium' },
      browser_wasm_2t: { note: 'no Chromium' },
    });
  });
});

describe('static server', () => {
  let root: string;
  let close: () => void;
  let url: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'gradflow-serve-'));
    writeFileSync(join(root, 'index.html'), '<p>hi</p>');
    writeFileSync(join(root, 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
    const served = await serveIsolated(root);
    url = served.url;
    close = () => served.server.close();
  });
  afterAll(() => {
    close();
    rmSync(root, { recursive: true, force: true });
  });

  it('serves files from 127.0.0.1 with the cross-origin isolation headers', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(page.headers.get('cross-origin-embedder-policy')).toBe('require-corp');
    expect(await page.text()).toBe('<p>hi</p>');
    const wasm = await fetch(`${url}x.wasm`);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect((await fetch(`${url}missing.js`)).status).toBe(404);
    expect((await fetch(`${url}..%2F..%2Fetc%2Fpasswd`)).status).toBe(403);
  });
});

/**
 * The speed suite in headless Chromium: bundle entry.ts, serve it cross-origin isolated from
 * 127.0.0.1, open one fresh page per runner × model (as the Node suite uses one process per
 * measurement) and run the same measurement as the Node worker.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromiumPath as defaultChromium, launchChromium, serveIsolated } from '@gradflow/browser-harness';
import type { Browser, Page } from 'playwright-core';
import type { ModelMeasurement } from '../speed/measure.js';
import type { SpeedModel } from '../speed/models.js';
import type { Measurement, RunnerId } from '../speed/types.js';
import { buildBrowserBundle } from './bundle.js';
import { API_GLOBAL, type BrowserBackendInfo, type BrowserSpeedApi } from './protocol.js';

/** The browser runners and the wasm thread count each asks for. */
export const BROWSER_RUNNERS: readonly { runner: RunnerId; threads: number }[] = [
  { runner: 'browser_wasm', threads: 1 },
  { runner: 'browser_wasm_2t', threads: 2 },
];

export interface BrowserSuiteOptions {
  models: SpeedModel[];
  repeats: number;
  warmup: number;
  /** Default /usr/bin/chromium (or $CHROMIUM_PATH). */
  chromium?: string;
  /** Default both BROWSER_RUNNERS. */
  runners?: readonly { runner: RunnerId; threads: number }[];
  /** Per measurement; default 15 minutes (the Node worker's limit). */
  timeoutMs?: number;
  /** Called after each measurement (progress bars). */
  onMeasured?: (modelId: string, runner: RunnerId) => void;
}

export interface BrowserSuiteResult {
  /** Per model id: one measurement (or a note) per browser runner. */
  results: Map<string, Partial<Record<RunnerId, ModelMeasurement | Measurement>>>;
  notes: string[];
  /** Chromium's version, when it started. */
  chromium?: string;
  /** What each runner's first page reported about its wasm backend. */
  backends: Partial<Record<RunnerId, BrowserBackendInfo>>;
}

type PageWindow = Record<typeof API_GLOBAL, BrowserSpeedApi>;

function message(error: unknown): string {
  return (error instanceof Error ? error.message : String(error)).split('\n')[0]!.slice(0, 200);
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${Math.round(ms / 1000)} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

async function openPage(browser: Browser, url: string, errors: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (error) => errors.push(message(error)));
  await page.goto(url);
  await page.waitForFunction((name) => name in globalThis, API_GLOBAL, { timeout: 60_000 });
  return page;
}

/**
 * Runs `models` for each browser runner in Chromium. Never throws for a missing browser or a
 * runner that cannot start: those become notes (and notes on the runner's cells).
 */
export async function runBrowserSuite(options: BrowserSuiteOptions): Promise<BrowserSuiteResult> {
  const chromiumPath = options.chromium ?? defaultChromium();
  const runners = options.runners ?? BROWSER_RUNNERS;
  const timeoutMs = options.timeoutMs ?? 15 * 60_000;
  const results: BrowserSuiteResult['results'] = new Map(options.models.map((m) => [m.id, {}]));
  const notes: string[] = [];
  const fill = (runner: RunnerId, note: string) => {
    for (const cells of results.values()) cells[runner] = { note };
  };
  if (!existsSync(chromiumPath)) {
    for (const { runner } of runners) fill(runner, 'no Chromium');
    notes.push(
      `Browser columns skipped: ${chromiumPath} not found (apt-get install chromium, or set CHROMIUM_PATH).`,
    );
    return { results, notes, backends: {} };
  }

  const dir = mkdtempSync(join(tmpdir(), 'gradflow-speed-'));
  let browser: Browser | undefined;
  let server: Awaited<ReturnType<typeof serveIsolated>>['server'] | undefined;
  let version: string | undefined;
  const backends: BrowserSuiteResult['backends'] = {};
  try {
    await buildBrowserBundle(dir);
    const served = await serveIsolated(dir);
    server = served.server;
    browser = await launchChromium(chromiumPath);
    version = browser.version();
    for (const { runner, threads } of runners) {
      for (const model of options.models) {
        const errors: string[] = [];
        let page: Page | undefined;
        let stage = 'set-up';
        try {
          page = await openPage(browser, served.url, errors);
          const info = await withTimeout(
            page.evaluate(([name, n]) => (globalThis as unknown as PageWindow)[name].setUp(n), [
              API_GLOBAL,
              threads,
            ] as const),
            120_000,
            'wasm set-up',
          );
          backends[runner] ??= info;
          if (!info.crossOriginIsolated)
            throw new Error('the page is not cross-origin isolated (COOP/COEP headers missing)');
          if (threads > 1 && !info.threads) throw new Error(`threads unavailable: ${JSON.stringify(info)}`);
          stage = 'measure';
          const measured = await withTimeout(
            page.evaluate(
              ([name, id, r, w]) => (globalThis as unknown as PageWindow)[name].measure(id, r, w),
              [API_GLOBAL, model.id, options.repeats, options.warmup] as const,
            ),
            timeoutMs,
            `${model.id} in Chromium`,
          );
          results.get(model.id)![runner] = measured;
        } catch (error) {
          const note = `failed: ${message(error)}${errors.length > 0 ? ` (page error: ${errors[0]})` : ''}`;
          results.get(model.id)![runner] = { note };
          // A runner that cannot start (threads unavailable, no isolation) fails alike for every model.
          if (stage === 'set-up') {
            for (const other of options.models) {
              if (results.get(other.id)![runner]) continue;
              results.get(other.id)![runner] = { note };
              options.onMeasured?.(other.id, runner);
            }
            notes.push(`Chromium wasm with ${threads} thread(s) not measured (set-up ${note}).`);
            break;
          }
        } finally {
          await page?.close();
          options.onMeasured?.(model.id, runner);
        }
      }
    }
    const described = Object.entries(backends).map(
      ([runner, b]) =>
        `${runner}: ${b.threads ? `threaded build, ${b.threadCount} thread(s)` : 'single-threaded build'}, simd ${b.simd}, kernels ${b.kernelVariant ?? 'stock'} on ${b.kernelThreads} thread(s), crossOriginIsolated ${b.crossOriginIsolated}, hardwareConcurrency ${b.hardwareConcurrency}`,
    );
    if (described.length > 0) {
      notes.push(
        `Browser: headless Chromium ${version} (${chromiumPath}, via playwright-core), page served from 127.0.0.1 with COOP/COEP, the same measurement as Node (apps/bench/src/speed/measure.ts), one fresh page per runner and model; ${described.join('; ')}.`,
      );
    }
  } catch (error) {
    const note = `failed: ${message(error)}`;
    for (const { runner } of runners) for (const cells of results.values()) cells[runner] ??= { note };
    notes.push(`Browser columns not measured: ${note}`);
  } finally {
    await browser?.close();
    server?.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return { results, notes, backends, ...(version ? { chromium: version } : {}) };
}

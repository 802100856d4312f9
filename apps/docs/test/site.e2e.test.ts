import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '@gradflow/browser-harness';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildSite } from '../src/build.js';
import { loadGuides } from '../src/guides.js';
import { serveSite } from '../src/serve.js';

// The docs tested as a person would use them: build the site, serve it with the COOP/COEP
// headers, open it in Debian's headless Chromium, follow every internal link, drive the
// playground. Screenshots land in apps/docs/test-artifacts/.
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));

let server: Server;
let base: string;
let browser: Browser;
let page: Page;

beforeAll(async () => {
  await buildSite();
  mkdirSync(ARTIFACTS, { recursive: true });
  ({ server, url: base } = await serveSite(0));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
}, 900_000);

afterAll(async () => {
  await browser?.close();
  server?.close();
});

describe('docs site', () => {
  it('renders the home page, every guide and the API reference, and every internal link resolves', async () => {
    const visited = new Set<string>();
    const queue = [base];
    const broken: string[] = [];
    while (queue.length > 0) {
      const url = queue.shift()!;
      if (visited.has(url)) continue;
      visited.add(url);
      const response = await page.goto(url);
      if (!response || response.status() !== 200) {
        broken.push(`${url} → ${response?.status()}`);
        continue;
      }
      if (!(response.headers()['content-type'] ?? '').startsWith('text/html')) continue;
      const links = await page.$$eval('a[href], img[src]', (els) =>
        els.map((e) => (e as HTMLAnchorElement).href || (e as HTMLImageElement).src),
      );
      for (const link of links) {
        const clean = link.split('#')[0]!;
        if (clean.startsWith(base) && !visited.has(clean)) queue.push(clean);
      }
    }
    expect(broken).toEqual([]);
    for (const guide of loadGuides()) expect(visited.has(`${base}guides/${guide.slug}.html`)).toBe(true);
    expect([...visited].filter((u) => u.includes('/api/')).length).toBeGreaterThan(20);
    await page.goto(`${base}guides/why-gradients-vanish.html`);
    await page.screenshot({ path: join(ARTIFACTS, 'guide.png'), fullPage: true });
    await page.goto(`${base}api/index.html`);
    await expect(page.title()).resolves.toMatch(/gradflow/i);
  }, 600_000);

  it('runs the playground: sigmoid at depth 20 vanishes, ReLU + He + residual is healthy', async () => {
    await page.goto(`${base}playground/index.html`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 120_000 });
    expect(await page.evaluate(() => crossOriginIsolated)).toBe(true);
    const verdictFor = async (config: string) => {
      await page.waitForFunction(
        (c) => document.querySelector('#verdict')?.getAttribute('data-config') === c,
        config,
        { timeout: 120_000 },
      );
      return page.locator('#verdict').getAttribute('data-status');
    };

    await page.$eval('#depth', (el) => {
      (el as HTMLInputElement).value = '20';
      el.dispatchEvent(new Event('change', { bubbles: true }));
    });
    await page.selectOption('#activation', 'sigmoid');
    await page.selectOption('#initializer', 'glorot_uniform');
    expect(await verdictFor('sigmoid/glorot_uniform/none/20')).toBe('vanishing');
    await page.screenshot({ path: join(ARTIFACTS, 'playground-sigmoid.png'), fullPage: true });

    await page.selectOption('#activation', 'relu');
    await page.selectOption('#initializer', 'he_normal');
    await page.selectOption('#shortcut', 'residual');
    expect(await verdictFor('relu/he_normal/residual/20')).toBe('healthy');
    expect(await page.locator('#grad-chart rect').count()).toBeGreaterThan(20);

    await page.click('#train');
    await page.waitForFunction(
      () => /step 300\/300/.test(document.querySelector('#train-status')?.textContent ?? ''),
      undefined,
      { timeout: 300_000 },
    );
    expect(await page.locator('#loss-chart polyline').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'playground-trained.png'), fullPage: true });
  }, 600_000);
});

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISOLATION_HEADERS, serveIsolated } from './serve.js';

let root: string;
let server: Server;
let url: string;

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'gradflow-harness-'));
  mkdirSync(join(root, 'sub'));
  writeFileSync(join(root, 'index.html'), '<p>home</p>');
  writeFileSync(join(root, 'sub', 'index.html'), '<p>sub</p>');
  writeFileSync(join(root, 'k.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(root.replace(/\/?$/, '') + '-secret.txt'), 'outside');
  ({ server, url } = await serveIsolated(root));
});

afterAll(() => {
  server.close();
  rmSync(root, { recursive: true, force: true });
  rmSync(`${root}-secret.txt`, { force: true });
});

describe('serveIsolated', () => {
  it('serves files and directory index pages with the isolation headers and the right types', async () => {
    const home = await fetch(url);
    expect(home.status).toBe(200);
    expect(await home.text()).toBe('<p>home</p>');
    for (const [name, value] of Object.entries(ISOLATION_HEADERS)) expect(home.headers.get(name)).toBe(value);
    expect(await (await fetch(`${url}sub/`)).text()).toBe('<p>sub</p>');
    const wasm = await fetch(`${url}k.wasm`);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(wasm.headers.get('cache-control')).toBe('no-store');
  });

  it('answers 404 for a missing file and 403 for a path outside the root', async () => {
    expect((await fetch(`${url}missing.js`)).status).toBe(404);
    const name = `${root.split('/').pop()}-secret.txt`;
    expect((await fetch(`${url}..%2F${name}`)).status).toBe(403);
  });

  it('rejects when the port is taken', async () => {
    const port = Number(new URL(url).port);
    await expect(serveIsolated(root, port)).rejects.toThrow(/EADDRINUSE/);
  });
});

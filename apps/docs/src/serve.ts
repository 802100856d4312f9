import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveIsolated } from '@gradflow/browser-harness';

export const SITE_DIR = fileURLToPath(new URL('../site/', import.meta.url));

/**
 * Serves the built site cross-origin isolated (COOP same-origin + COEP require-corp), which
 * SharedArrayBuffer, and so the playground's wasm threads, need in every current browser.
 */
export function serveSite(port = 0, root = SITE_DIR): Promise<{ server: Server; url: string }> {
  return serveIsolated(root, port);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  if (!existsSync(join(SITE_DIR, 'index.html'))) {
    process.stderr.write('no site built yet: run `pnpm docs` first\n');
    process.exit(1);
  }
  const port = Number(process.env.PORT ?? 4173);
  void serveSite(port).then(({ url }) =>
    process.stdout.write(`gradflow docs on ${url} (cross-origin isolated)\n`),
  );
}

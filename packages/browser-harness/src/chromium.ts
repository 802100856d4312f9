import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium (`apt-get install chromium`); `playwright install` needs a download we do not have. */
export const DEFAULT_CHROMIUM = '/usr/bin/chromium';

/** Headless, no sandbox (containers run as root), no GPU, and nothing that reaches the network. */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** The Chromium to run: $CHROMIUM_PATH, else Debian's. */
export function chromiumPath(): string {
  return process.env.CHROMIUM_PATH ?? DEFAULT_CHROMIUM;
}

/** Launches headless Chromium at `path` with CHROMIUM_ARGS; a clear error when it is not installed. */
export async function launchChromium(path = chromiumPath()): Promise<Browser> {
  if (!existsSync(path))
    throw new Error(`${path} not found: apt-get install chromium (or set CHROMIUM_PATH)`);
  return chromium.launch({ executablePath: path, args: CHROMIUM_ARGS });
}

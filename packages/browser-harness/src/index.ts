export { serveIsolated, ISOLATION_HEADERS } from './serve.js';
export { CHROMIUM_ARGS, DEFAULT_CHROMIUM, chromiumPath, launchChromium } from './chromium.js';
export { nodeBuiltinsUnavailable } from './esbuild.js';

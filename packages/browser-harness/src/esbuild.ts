import type { Plugin } from 'esbuild';

/** The names workspace code imports from node: modules (only on code paths a page never runs). */
const NAMES = ['existsSync', 'readFileSync', 'createRequire', 'join', 'gunzipSync', 'cpus'];

/**
 * An esbuild plugin that replaces every `node:` module with a stand-in whose functions throw when
 * called. Workspace packages import node: modules in code a browser never runs (backend-wasm's
 * Node worker patch, data's MNIST file reader), so a page bundle needs them to resolve, not work.
 */
export const nodeBuiltinsUnavailable: Plugin = {
  name: 'node-builtins-unavailable',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({ path: args.path, namespace: 'node-unavailable' }));
    build.onLoad({ filter: /.*/, namespace: 'node-unavailable' }, (args) => ({
      contents: `const unavailable = () => { throw new Error(${JSON.stringify(`${args.path} is not available in the browser`)}); };
export const ${NAMES.map((n) => `${n} = unavailable`).join(', ')};
export default {};`,
      loader: 'js',
    }));
  },
};

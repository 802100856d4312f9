import { mergeConfig } from 'vitest/config';
import { gradflowProject } from '../../vitest.shared.js';

// Node 20 validates relaxed SIMD only behind a flag (on by default from Node 22 and in Chromium):
// run the tests with it so the default build under test is the fused relaxed-simd one; the simd
// and scalar builds are tested through forceKernelVariant.
export default mergeConfig(gradflowProject('backend-wasm'), {
  test: { execArgv: ['--experimental-wasm-relaxed-simd'] },
});

// Runs in its own process (vitest forks pool): what importing the package does to tfjs.
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import * as gradflowWasm from '../src/index.js';

describe('importing @gradflow/backend-wasm', () => {
  it('registers no backend: tfjs keeps its default until useWasmBackend() runs', async () => {
    // tfjs-backend-wasm registers 'wasm' above 'cpu' when imported; packages that import this one
    // for an optional fast path (@gradflow/recurrent) must not change which backend users get.
    expect(tf.findBackendFactory('wasm')).toBeFalsy();
    await tf.ready();
    expect(tf.getBackend()).toBe('cpu');
    expect(gradflowWasm.recurrentSequenceKernels()).toBeNull();
    await gradflowWasm.useWasmBackend();
    expect(tf.getBackend()).toBe('wasm');
    expect(gradflowWasm.recurrentSequenceKernels()).not.toBeNull();
  });
});

import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '@gradflow/backend-wasm';

export type BackendName = 'cpu' | 'wasm';

/**
 * Backends a test suite runs on: `GRADFLOW_BACKENDS=cpu` narrows it (e.g. while debugging);
 * the default is both, because wasm/cpu parity is part of every contract.
 */
export function backendsUnderTest(): BackendName[] {
  const fromEnv = process.env.GRADFLOW_BACKENDS?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const names = fromEnv && fromEnv.length > 0 ? fromEnv : ['cpu', 'wasm'];
  return names.filter((n): n is BackendName => n === 'cpu' || n === 'wasm');
}

let wasmReady: Promise<unknown> | undefined;

/** Activates `backend` (setting up gradflow's wasm backend once), returning the previous one. */
export async function setBackend(backend: BackendName): Promise<string> {
  const previous = tf.getBackend();
  if (backend === 'wasm') {
    wasmReady ??= useWasmBackend();
    await wasmReady;
  }
  await tf.setBackend(backend);
  await tf.ready();
  return previous;
}

/** Runs `fn` with `backend` active and restores the previous backend afterwards. */
export async function withBackend<T>(backend: BackendName, fn: () => T | Promise<T>): Promise<T> {
  const previous = await setBackend(backend);
  try {
    return await fn();
  } finally {
    if (previous && previous !== backend) await tf.setBackend(previous);
  }
}

import { StateError } from '@gradflow/core';

const guarded = new WeakSet<object>();

/**
 * Makes a heap allocation the wasm backend cannot satisfy a `StateError`. tfjs-backend-wasm 4.22
 * does not check `_malloc`: when the heap (at most 4 GiB) is full, a new tensor gets address 0, its
 * data is written over the start of the heap, and the damage surfaces much later as "memory access
 * out of bounds" or as wrong numbers. Every tensor the backend allocates from JavaScript (kernel
 * outputs, uploads) and gradflow's scratch go through `module._malloc`; this checks what it
 * returns before anything is written.
 */
export function guardHeapAllocations(backend: unknown): void {
  const wasm = (backend as { wasm: { _malloc(bytes: number): number } }).wasm;
  if (guarded.has(wasm)) return;
  const malloc = wasm._malloc.bind(wasm);
  wasm._malloc = (bytes: number): number => {
    const ptr = malloc(bytes);
    if (ptr === 0 && bytes > 0) {
      throw new StateError(
        `the wasm heap is full: no room for ${bytes} more bytes (tfjs-wasm's heap stops at 4 GiB); train with a smaller batch`,
      );
    }
    return ptr;
  };
  guarded.add(wasm);
}

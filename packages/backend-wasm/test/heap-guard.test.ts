import { StateError } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { guardHeapAllocations } from '../src/heap-guard.js';

describe('guardHeapAllocations', () => {
  it('turns a failed _malloc (address 0) into a StateError before anything is written', () => {
    const calls: number[] = [];
    const fake = { wasm: { _malloc: (bytes: number) => (calls.push(bytes), bytes > 1000 ? 0 : 64) } };
    guardHeapAllocations(fake);
    guardHeapAllocations(fake); // idempotent: wrapped once
    expect(fake.wasm._malloc(16)).toBe(64);
    expect(() => fake.wasm._malloc(4096)).toThrow(StateError);
    expect(() => fake.wasm._malloc(4096)).toThrow(/wasm heap is full: no room for 4096 more bytes/);
    expect(calls).toEqual([16, 4096, 4096]);
  });

  it('lets a zero-byte request return 0', () => {
    const fake = { wasm: { _malloc: (_bytes: number) => 0 } };
    guardHeapAllocations(fake);
    expect(fake.wasm._malloc(0)).toBe(0);
  });
});

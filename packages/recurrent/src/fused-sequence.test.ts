import { withBackend } from '@gradflow/testing';
import { describe, expect, it } from 'vitest';
import { fusedSequence } from './fused-sequence.js';

// The torch-parity suite runs every GRU/LSTM case on wasm too; this pins down that those runs take
// the fused path (and that the JavaScript loops keep the cases the kernels do not cover).
describe('fusedSequence', () => {
  it('is used for GRU (reset after) and LSTM on wasm, and nowhere else', async () => {
    await withBackend('wasm', () => {
      expect(fusedSequence('gru', false)).not.toBeNull();
      expect(fusedSequence('lstm', false)).not.toBeNull();
      expect(fusedSequence('gru', true)).toBeNull();
      expect(fusedSequence('gru_cho', false)).toBeNull();
      expect(fusedSequence('tanh', false)).toBeNull();
    });
    await withBackend('cpu', () => {
      expect(fusedSequence('gru', false)).toBeNull();
    });
  });
});

import { withBackend } from '@gradflow/testing';
import { describe, expect, it } from 'vitest';
import { fusedGates } from './fused-gates.js';

// The torch-parity suite runs every GRU/LSTM case on wasm too; this pins down that those runs take
// the fused path (and that the JavaScript loops keep the cases the kernels do not cover).
describe('fusedGates', () => {
  it('is used for GRU (reset after) and LSTM on wasm, and nowhere else', async () => {
    await withBackend('wasm', () => {
      expect(fusedGates('gru', false)).not.toBeNull();
      expect(fusedGates('lstm', false)).not.toBeNull();
      expect(fusedGates('gru', true)).toBeNull();
      expect(fusedGates('gru_cho', false)).toBeNull();
      expect(fusedGates('tanh', false)).toBeNull();
    });
    await withBackend('cpu', () => {
      expect(fusedGates('gru', false)).toBeNull();
    });
  });
});

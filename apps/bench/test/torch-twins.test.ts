import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel } from '@gradflow/zoo';
import { forwardMacs } from '../src/speed/flops.js';
import { SPEED_MODELS } from '../src/speed/models.js';

/**
 * The PyTorch column compares each zoo model with its twin in torch/speed_reference.py; a twin
 * that is a different network makes that column meaningless (the DenseNet-BC twin once had the
 * ImageNet stem: its first dense block saw 8x8 instead of 32x32, a fifteenth of the work). The
 * trainable parameter counts and the forward multiply-adds of one example (conv, linear and
 * recurrent layers, counted as src/speed/flops.ts counts ours) catch that: the parameters miss a
 * changed stride or pooling, the multiply-adds a changed width that keeps the work. The fixture
 * comes from `speed_reference.py --twins`.
 */
const TWINS = JSON.parse(readFileSync(new URL('../torch/twins.json', import.meta.url), 'utf8')) as Record<
  string,
  { params: number; forward_macs: number }
>;

/** Parameter counts that differ by design, and why. */
const EXTRA_TWIN_PARAMS: Record<string, number> = {
  // PyTorch's LSTM has two bias vectors (b_ih, b_hh: 4H more); Keras' and the zoo's have one. Same work.
  lstm: 4 * 128,
};

describe('PyTorch twins of the speed suite models', () => {
  for (const spec of SPEED_MODELS.filter((m) => m.torch)) {
    it(`${spec.id}: the twin has the zoo model's trainable parameters and forward multiply-adds`, async () => {
      await tf.setBackend('cpu');
      const model = createModel(spec.zoo, { ...spec.options, inputShape: spec.inputShape, numClasses: 10 });
      const params = model.trainableWeights.reduce((n, w) => n + w.read().size, 0);
      const macs = model.layers.reduce((n, layer) => n + forwardMacs(layer), 0);
      model.dispose();
      const twin = TWINS[spec.torch!];
      expect(twin, `no entry for ${spec.torch} in torch/twins.json`).toBeDefined();
      expect(twin!.params).toBe(params + (EXTRA_TWIN_PARAMS[spec.id] ?? 0));
      expect(twin!.forward_macs).toBe(macs);
    });
  }
});

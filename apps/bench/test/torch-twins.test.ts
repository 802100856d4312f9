import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { createModel } from '@gradflow/zoo';
import { SPEED_MODELS } from '../src/speed/models.js';

/**
 * The PyTorch column compares each zoo model with its twin in torch/speed_reference.py; a twin
 * that is a different network makes that column meaningless (the DenseNet-BC twin once had the
 * ImageNet stem: its first dense block saw 8x8 instead of 32x32, a sixteenth of the work). The
 * trainable parameter counts catch that. The fixture comes from `speed_reference.py --params`.
 */
const TWIN_PARAMS = JSON.parse(
  readFileSync(new URL('../torch/twin-params.json', import.meta.url), 'utf8'),
) as Record<string, number>;

/** Counts that differ by design, and why. */
const KNOWN_DIFFERENCES: Record<string, { extra: number; why: string }> = {
  // PyTorch's LSTM has two bias vectors (b_ih, b_hh: 4H more); Keras' and the zoo's have one. Same FLOPs.
  lstm: { extra: 4 * 128, why: 'second LSTM bias' },
};

describe('PyTorch twins of the speed suite models', () => {
  for (const spec of SPEED_MODELS.filter((m) => m.torch)) {
    it(`${spec.id}: the twin has the zoo model's trainable parameter count`, async () => {
      await tf.setBackend('cpu');
      const model = createModel(spec.zoo, { ...spec.options, inputShape: spec.inputShape, numClasses: 10 });
      const ours = model.trainableWeights.reduce((n, w) => n + w.read().size, 0);
      model.dispose();
      const twin = TWIN_PARAMS[spec.torch!];
      expect(twin, `no count for ${spec.torch} in torch/twin-params.json`).toBeDefined();
      expect(twin).toBe(ours + (KNOWN_DIFFERENCES[spec.id]?.extra ?? 0));
    });
  }
});

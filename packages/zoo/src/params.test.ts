import * as tf from '@tensorflow/tfjs';
import { loadFixture } from '@gradflow/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { MODELS, createModel, getModelInfo, listModels } from './index.js';

/** Written by scripts/gen_param_counts.py from torchvision and the paper-equivalent torch modules. */
const FIXTURE = loadFixture<Record<string, { trainable: number; source: string }>>(
  import.meta.url,
  '../fixtures/param_counts.json',
);

function trainableCount(model: tf.LayersModel): number {
  return model.trainableWeights.reduce((n, w) => n + w.shape.reduce((a: number, b) => a * (b ?? 1), 1), 0);
}

describe('parameter counts', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('the registry states the PyTorch reference count for every CNN', () => {
    for (const name of listModels()) {
      const family = getModelInfo(name).family;
      if (family === 'mlp' || family === 'sequence') continue;
      expect(FIXTURE[name], `${name} has a torch reference`).toBeDefined();
      expect(getModelInfo(name).params, name).toBe(FIXTURE[name]!.trainable);
    }
  });

  it('every built model has exactly the registry count of trainable parameters', () => {
    // Counts do not depend on the input size (global pooling) or on the init: build at 32x32 with
    // zero kernels, which is ~10x faster than He-normal sampling for the 60M-parameter ResNets.
    for (const name of listModels()) {
      const info = getModelInfo(name);
      const small =
        info.family === 'resnet' ? { inputShape: [32, 32, 3], kernelInitializer: 'zeros' as const } : {};
      const model = createModel(name, small);
      expect(trainableCount(model), name).toBe(info.params);
      // tfjs' countParams() also counts the BatchNorm moving mean/variance (2 per channel).
      expect(model.countParams()).toBeGreaterThanOrEqual(info.params);
      model.dispose();
    }
  });

  it('the head follows numClasses and includeTop', () => {
    const info = getModelInfo('resnet18');
    const features = createModel('resnet18', {
      includeTop: false,
      inputShape: [32, 32, 3],
      kernelInitializer: 'zeros',
    });
    expect(trainableCount(features)).toBe(info.params - (512 * 1000 + 1000));
    features.dispose();
    const mlp = createModel('mlp', { numClasses: 3 });
    expect(trainableCount(mlp)).toBe(MODELS.mlp.params - (256 * 10 + 10) + (256 * 3 + 3));
    mlp.dispose();
  });
});

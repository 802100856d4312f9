import * as tf from '@tensorflow/tfjs';
import { withBackend } from '@gradflow/testing';
import type { BackendName } from '@gradflow/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, getModelInfo, listModels } from './index.js';

/**
 * What the zoo-wide test does with each model. `train`: built at `inputShape` and one SGD step
 * on a batch of 2 (loss finite, a gradient for every trainable weight, weights move, no tensor
 * leak) on the listed backends. `count`: too large to train inside the test budget; built (at
 * 32x32, zero kernels) and its parameters counted in params.test.ts only — its blocks are the
 * same code as a trained sibling's (`sibling`).
 */
type Plan =
  | { run: 'train'; inputShape: number[]; backends: BackendName[]; options?: Record<string, unknown> }
  | { run: 'count'; sibling: string };

const CIFAR = [4, 4, 3];
const SMALL = [8, 8, 3];
const cpu: BackendName[] = ['cpu'];
const wasm: BackendName[] = ['wasm'];
const both: BackendName[] = ['cpu', 'wasm'];

/**
 * The ImageNet-width ResNets (11-67M parameters) train on wasm only, except resnet18 which
 * trains on both: tfjs-cpu's conv backprop takes seconds per step for them even at 8x8, which
 * would blow the test budget; @gradflow/backend-wasm's kernels take a fraction of that.
 */
export const ZOO_TEST_PLAN: Record<string, Plan> = {
  resnet20: { run: 'train', inputShape: CIFAR, backends: both },
  resnet32: { run: 'count', sibling: 'resnet20' },
  resnet44: { run: 'count', sibling: 'resnet20' },
  resnet56: { run: 'train', inputShape: CIFAR, backends: cpu },
  resnet110: { run: 'count', sibling: 'resnet56' },
  resnet1202: { run: 'count', sibling: 'resnet56' },
  plain20: { run: 'train', inputShape: CIFAR, backends: both },
  plain32: { run: 'count', sibling: 'plain20' },
  plain44: { run: 'count', sibling: 'plain20' },
  plain56: { run: 'train', inputShape: CIFAR, backends: cpu },
  plain110: { run: 'count', sibling: 'plain56' },
  plain1202: { run: 'count', sibling: 'plain56' },
  resnet18: { run: 'train', inputShape: SMALL, backends: both },
  resnet34: { run: 'count', sibling: 'resnet18' },
  resnet50: { run: 'train', inputShape: SMALL, backends: wasm },
  resnet101: { run: 'count', sibling: 'resnet50' },
  resnet152: { run: 'count', sibling: 'resnet50' },
  preact_resnet18: { run: 'train', inputShape: SMALL, backends: wasm },
  preact_resnet34: { run: 'count', sibling: 'preact_resnet18' },
  preact_resnet50: { run: 'train', inputShape: SMALL, backends: wasm },
  preact_resnet101: { run: 'count', sibling: 'preact_resnet50' },
  preact_resnet152: { run: 'count', sibling: 'preact_resnet50' },
  preact_resnet110: { run: 'train', inputShape: CIFAR, backends: cpu },
  preact_resnet164: { run: 'train', inputShape: CIFAR, backends: cpu },
  resnet18d: { run: 'train', inputShape: SMALL, backends: wasm },
  resnet34d: { run: 'count', sibling: 'resnet18d' },
  resnet50d: { run: 'train', inputShape: SMALL, backends: wasm },
  resnet101d: { run: 'count', sibling: 'resnet50d' },
  resnet152d: { run: 'count', sibling: 'resnet50d' },
  seresnet18: { run: 'train', inputShape: SMALL, backends: wasm },
  seresnet34: { run: 'count', sibling: 'seresnet18' },
  seresnet50: { run: 'train', inputShape: SMALL, backends: wasm },
  seresnet101: { run: 'count', sibling: 'seresnet50' },
  seresnet152: { run: 'count', sibling: 'seresnet50' },
  densenet121: { run: 'train', inputShape: [32, 32, 3], backends: wasm },
  densenet161: { run: 'count', sibling: 'densenet121' },
  densenet169: { run: 'count', sibling: 'densenet121' },
  densenet201: { run: 'count', sibling: 'densenet121' },
  densenet_bc_100: { run: 'train', inputShape: CIFAR, backends: both },
  // The U-Nets train at 1/8 width (baseFilters 8 instead of 64: 0.5M instead of 31M parameters),
  // the same layers and code paths; their full-width counts are checked in params.test.ts.
  unet: { run: 'train', inputShape: [16, 16, 1], backends: both, options: { baseFilters: 8 } },
  unet_bn: { run: 'train', inputShape: [16, 16, 1], backends: cpu, options: { baseFilters: 8 } },
  unet_bilinear: { run: 'train', inputShape: [16, 16, 1], backends: cpu, options: { baseFilters: 8 } },
  mlp: { run: 'train', inputShape: [784], backends: both },
  mlp_sigmoid: { run: 'train', inputShape: [784], backends: cpu },
  mlp_tanh: { run: 'train', inputShape: [784], backends: cpu },
  mlp_relu: { run: 'train', inputShape: [784], backends: cpu },
  mlp_selu: { run: 'train', inputShape: [784], backends: cpu },
  mlp_sigmoid_bn: { run: 'train', inputShape: [784], backends: both },
  rnn_classifier: { run: 'train', inputShape: [6, 1], backends: cpu },
  irnn_classifier: { run: 'train', inputShape: [6, 1], backends: cpu },
  gru_classifier: { run: 'train', inputShape: [6, 1], backends: both },
  lstm_classifier: { run: 'train', inputShape: [6, 1], backends: both },
  rnn_regressor: { run: 'train', inputShape: [6, 2], backends: cpu },
  irnn_regressor: { run: 'train', inputShape: [6, 2], backends: cpu },
  gru_regressor: { run: 'train', inputShape: [6, 2], backends: cpu },
  lstm_regressor: { run: 'train', inputShape: [6, 2], backends: cpu },
};

/** One SGD step; returns the loss and whether every trainable weight got a finite, non-zero gradient. */
function trainStep(model: tf.LayersModel, x: tf.Tensor, y: tf.Tensor, regression: boolean) {
  const optimizer = tf.train.sgd(0.01);
  const weights = model.trainableWeights.map((w) => w.read() as tf.Variable);
  const before = weights.map((w) => w.dataSync().slice());
  const { value, grads } = tf.variableGrads(() => {
    const out = model.apply(x, { training: true }) as tf.Tensor;
    return (
      regression ? tf.losses.meanSquaredError(y, out) : tf.losses.softmaxCrossEntropy(y, out)
    ) as tf.Scalar;
  }, weights);
  const loss = value.dataSync()[0]!;
  const missing: string[] = [];
  for (const w of weights) {
    const g = grads[w.name];
    const data = g?.dataSync();
    if (!data || !data.every(Number.isFinite) || !data.some((v) => v !== 0)) missing.push(w.name);
  }
  optimizer.applyGradients(grads);
  const moved = weights.filter((w, i) => w.dataSync().some((v, j) => v !== before[i]![j])).length;
  tf.dispose([value, ...Object.values(grads)]);
  optimizer.dispose();
  return { loss, missing, moved, total: weights.length };
}

describe('zoo-wide: every model builds and trains one step', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  it('the plan covers every registered model', () => {
    expect(Object.keys(ZOO_TEST_PLAN).sort()).toEqual(listModels().sort());
    for (const plan of Object.values(ZOO_TEST_PLAN))
      if (plan.run === 'count') expect(ZOO_TEST_PLAN[plan.sibling]?.run).toBe('train');
  });

  for (const [name, plan] of Object.entries(ZOO_TEST_PLAN)) {
    if (plan.run !== 'train') continue;
    for (const backend of plan.backends) {
      it(`${name} on ${backend} at ${JSON.stringify(plan.inputShape)}`, async () => {
        await withBackend(backend, () => {
          const info = getModelInfo(name);
          const regression = info.family === 'sequence' && name.endsWith('_regressor');
          const segmentation = info.family === 'unet';
          // Logits for the loss (softmaxCrossEntropy applies the softmax itself).
          const model = createModel(name, {
            inputShape: plan.inputShape,
            classifierActivation: 'linear',
            numClasses: regression ? 1 : 3,
            ...plan.options,
          });
          const x = tf.randomUniform([2, ...plan.inputShape], 0, 1, 'float32', 1);
          const [h, w] = plan.inputShape as [number, number];
          const y = regression
            ? tf.tensor2d([[1], [0.5]])
            : segmentation
              ? tf.tidy(() => tf.oneHot(tf.randomUniform([2, h, w], 0, 3, 'int32', 2), 3).toFloat())
              : tf.oneHot(tf.tensor1d([0, 2], 'int32'), 3).toFloat();
          const tensorsBefore = tf.memory().numTensors;
          const { loss, missing, moved, total } = trainStep(model, x, y, regression);
          expect(Number.isFinite(loss), `${name} loss ${loss}`).toBe(true);
          expect(missing, `${name}: weights without a finite non-zero gradient`).toEqual([]);
          // Every weight gets a gradient; in the vanishing-gradient models (mlp_sigmoid) the first
          // layers' SGD updates can be below float32 resolution, so only "something moved" is required.
          expect(moved).toBeGreaterThan(0);
          expect(moved).toBeLessThanOrEqual(total);
          expect(tf.memory().numTensors).toBe(tensorsBefore);
          tf.dispose([x, y]);
          model.dispose();
        });
      });
    }
  }
});

import * as tf from '@tensorflow/tfjs';
import { expectAllClose } from '@gradflow/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { createModel, getModelInfo, listModels } from './index.js';

/** Layer classes that tfjs-layers (and Keras) provide; everything else is a gradflow custom class. */
const BUILT_IN = new Set([
  'InputLayer',
  'Conv2D',
  'Conv2DTranspose',
  'Dense',
  'Add',
  'Multiply',
  'Concatenate',
  'Activation',
  'Flatten',
  'Reshape',
  'Dropout',
  'ZeroPadding2D',
  'Cropping2D',
  'MaxPooling2D',
  'AveragePooling2D',
  'GlobalAveragePooling2D',
  'GlobalMaxPooling2D',
]);

/** Models saved and reloaded here: one of each family and block kind, at small inputs. */
const ROUND_TRIP: Record<string, Record<string, unknown>> = {
  resnet20: { inputShape: [8, 8, 3] },
  plain20: { inputShape: [8, 8, 3] },
  // One ImageNet-width model (avg-pool shortcuts, deep stem); SE and pre-activation blocks are
  // checked on CIFAR-width models to keep the weights (and the test) small.
  resnet18d: { inputShape: [8, 8, 3] },
  resnet32: { inputShape: [8, 8, 3], se: { ratio: 4 } },
  preact_resnet110: { inputShape: [4, 4, 3] },
  densenet_bc_100: { inputShape: [8, 8, 3] },
  resnet44: { inputShape: [8, 8, 3], init: 'skipinit', dropPath: 0.1 },
  unet_bilinear: { inputShape: [16, 16, 1], baseFilters: 4 },
  unet_bn: { inputShape: [16, 16, 1], baseFilters: 4 },
  mlp: { inputShape: [20], width: 8 },
  mlp_sigmoid_bn: { inputShape: [20], width: 8, depth: 3 },
  gru_classifier: { inputShape: [5, 2], units: 4 },
  lstm_regressor: { inputShape: [5, 2], units: 4 },
  irnn_classifier: { inputShape: [5, 2], units: 4 },
};

/**
 * The custom classes each family's models need to reload (import '@gradflow/zoo' registers
 * them); the README lists these. A model without custom classes would be Keras-loadable as is.
 */
export const CUSTOM_CLASSES: Record<string, string[]> = {
  resnet20: ['GradflowBatchNorm', 'GradflowActivation', 'OptionAShortcut'],
  plain20: ['GradflowBatchNorm', 'GradflowActivation'],
  resnet18d: ['GradflowBatchNorm', 'GradflowActivation'],
  resnet32: ['GradflowBatchNorm', 'GradflowActivation', 'OptionAShortcut'],
  preact_resnet110: ['GradflowBatchNorm', 'GradflowActivation', 'OptionAShortcut'],
  densenet_bc_100: ['GradflowBatchNorm', 'GradflowActivation'],
  resnet44: ['DropPath', 'GradflowActivation', 'OptionAShortcut', 'ScalarScale'],
  unet_bilinear: ['BilinearUpsample2D', 'GradflowActivation'],
  unet_bn: ['GradflowActivation', 'GradflowBatchNorm'],
  mlp: ['GradflowActivation'],
  mlp_sigmoid_bn: ['GradflowBatchNorm', 'GradflowActivation'],
  gru_classifier: ['GradflowRecurrent'],
  lstm_regressor: ['GradflowRecurrent'],
  irnn_classifier: ['GradflowRecurrent'],
};

async function roundTrip(model: tf.LayersModel): Promise<{ loaded: tf.LayersModel; classes: string[] }> {
  let saved: tf.io.ModelArtifacts | undefined;
  await model.save(
    tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  const topology = JSON.stringify(saved!.modelTopology);
  const classes = [...new Set([...topology.matchAll(/"class_name":"([A-Za-z0-9_]+)"/g)].map((m) => m[1]!))];
  const loaded = await tf.loadLayersModel(tf.io.fromMemory(saved!));
  return { loaded, classes };
}

describe('save → tf.loadLayersModel round trip', () => {
  beforeAll(async () => {
    await tf.setBackend('cpu');
  });

  for (const [name, options] of Object.entries(ROUND_TRIP)) {
    it(`${name} reloads with the same weights and outputs`, async () => {
      const model = createModel(name, options);
      const { loaded, classes } = await roundTrip(model);
      const layerClasses = classes.filter((c) => model.layers.some((l) => l.getClassName() === c));
      expect(layerClasses.filter((c) => !BUILT_IN.has(c)).sort()).toEqual([...CUSTOM_CLASSES[name]!].sort());
      expect(loaded.layers.map((l) => l.name)).toEqual(model.layers.map((l) => l.name));
      const shape = (options.inputShape as number[]) ?? getModelInfo(name).defaultInputShape;
      const x = tf.randomUniform([2, ...shape], 0, 1, 'float32', 3);
      const a = model.predict(x) as tf.Tensor;
      const b = loaded.predict(x) as tf.Tensor;
      expectAllClose(b, a, { rtol: 1e-5, atol: 1e-6 }, `${name} outputs after reload`);
      tf.dispose([x, a, b]);
      model.dispose();
      loaded.dispose();
    });
  }

  it('covers every family', () => {
    const families = new Set(Object.keys(ROUND_TRIP).map((n) => getModelInfo(n).family));
    const all = new Set(listModels().map((n) => getModelInfo(n).family));
    expect([...families].sort()).toEqual([...all].sort());
  });
});

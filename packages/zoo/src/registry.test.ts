import * as tf from '@tensorflow/tfjs';
import { DuplicateNameError, InvalidArgumentError, ShapeError, UnknownNameError } from '@gradflow/core';
import { describe, expect, it } from 'vitest';
import { MODELS, createModel, getModelInfo, listModels, registerModel } from './index.js';

function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a throw');
}

describe('model registry', () => {
  it('lists models from one table, by glob or family', () => {
    expect(listModels()).toEqual(Object.keys(MODELS));
    expect(listModels('resnet*d')).toEqual([
      'resnet18d',
      'resnet34d',
      'resnet50d',
      'resnet101d',
      'resnet152d',
    ]);
    expect(listModels('plain*')).toHaveLength(6);
    expect(listModels({ family: 'sequence' })).toHaveLength(8);
    expect(listModels({ family: 'mlp', pattern: '*_bn' })).toEqual(['mlp_sigmoid_bn']);
    expect(listModels('nothing*')).toEqual([]);
  });

  it('describes a model: paper, params, default input, parts', () => {
    const info = getModelInfo('resnet20');
    expect(info).toMatchObject({
      name: 'resnet20',
      family: 'resnet',
      params: 269_722,
      defaultInputShape: [32, 32, 3],
      numClasses: 10,
    });
    expect(info.paper).toContain('Deep Residual Learning');
    expect(info.blocks).toContain('basic');
    expect(info.blocks).toContain('shortcut: option_a');
    expect(getModelInfo('seresnet50').activations).toContain('sigmoid');
    expect(getModelInfo('mlp_selu')).toMatchObject({
      activations: ['selu', 'softmax (head)'],
      initializers: ['lecun_normal', 'zeros (biases)'],
    });
    expect(getModelInfo('lstm_regressor')).toMatchObject({ defaultInputShape: [100, 2], numClasses: 1 });
    expect(getModelInfo('resnet18d').variant).toMatchObject({ avgDown: true, stem: { deep: true } });
  });

  it('suggests names for unknown models and refuses duplicates', () => {
    const e = thrown(() => createModel('resnet21'));
    expect(e).toBeInstanceOf(UnknownNameError);
    expect(e.message).toBe("unknown model 'resnet21'; did you mean 'resnet20'? see listModels()");
    expect(thrown(() => getModelInfo('ResNet-50')).message).toContain("did you mean 'resnet50'?");
    expect(thrown(() => getModelInfo('vgg16')).message).toContain('see listModels()');
    expect(() => registerModel('resnet20', MODELS.resnet20)).toThrow(DuplicateNameError);
  });

  it('rejects inputs a model cannot take, saying the constraint, without leaking', () => {
    const before = tf.memory().numTensors;
    const odd = thrown(() => createModel('resnet20', { inputShape: [30, 30, 3] }));
    expect(odd).toBeInstanceOf(ShapeError);
    expect(odd.message).toBe(
      "input of 'resnet20' has shape [30, 30, 3], expected height and width divisible by 4 (option-A shortcuts subsample by exactly 2 in 2 stages); got 30x30",
    );
    expect(thrown(() => createModel('resnet18', { inputShape: [224, 224] })).message).toBe(
      "input of 'resnet18' has shape [224, 224], expected [height, width, channels]: 3 positive integers (no batch axis)",
    );
    expect(thrown(() => createModel('lstm_classifier', { inputShape: [28, 28, 1] }))).toBeInstanceOf(
      ShapeError,
    );
    expect(thrown(() => createModel('mlp', { inputShape: [0] }))).toBeInstanceOf(ShapeError);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('takes any input size the architecture allows', () => {
    const cases: [string, number[], (number | null)[]][] = [
      ['resnet18', [33, 47, 5], [null, 2, 2, 512]],
      ['resnet20', [12, 20, 1], [null, 3, 5, 64]],
      ['densenet_bc_100', [9, 4, 3], [null, 2, 1, 342]],
      ['densenet121', [32, 40, 3], [null, 1, 1, 1024]],
      ['unet', [48, 32, 3], [null, 48, 32, 2]],
    ];
    for (const [name, inputShape, features] of cases) {
      const options =
        name === 'unet'
          ? { inputShape, baseFilters: 4 }
          : { inputShape, includeTop: false, kernelInitializer: 'zeros' as const };
      const model = createModel(name, options);
      expect(model.outputs[0]!.shape, name).toEqual(features);
      model.dispose();
    }
    expect(() => createModel('densenet121', { inputShape: [31, 64, 3] })).toThrow(
      "input of 'densenet121' has shape [31, 64, 3], expected height and width >= 32; the imagenet stem and 3 transitions halve the size 5 times",
    );
    expect(() => createModel('unet', { inputShape: [40, 40, 1] })).toThrow(
      'expected height and width divisible by 2^depth = 16',
    );
    expect(() =>
      createModel('unet', { inputShape: [40, 40, 1], depth: 3, baseFilters: 4 }).dispose(),
    ).not.toThrow();
    expect(() => createModel('unet', { includeTop: false })).toThrow("a U-Net's head is its 1x1 conv");
  });

  it('rejects unknown and contradictory options with typed errors', () => {
    const before = tf.memory().numTensors;
    const typo = thrown(() => createModel('resnet20', { activaton: 'relu' } as never));
    expect(typo).toBeInstanceOf(InvalidArgumentError);
    expect(typo.message).toContain("did you mean 'activation'?");
    expect(() => createModel('resnet20', { pooling: 'avg' })).toThrow('null when includeTop is true');
    expect(() => createModel('resnet20', { includeTop: false, pooling: 'mean' as 'avg' })).toThrow(
      "expected 'avg', 'max' or null",
    );
    expect(() => createModel('resnet20', { activation: 'relux' as 'relu' })).toThrow(UnknownNameError);
    expect(() => createModel('resnet20', { norm: 'batchnorm' as 'batch_norm' })).toThrow(UnknownNameError);
    expect(() => createModel('resnet20', { numClasses: 0 })).toThrow('invalid numClasses');
    expect(() => createModel('resnet20', { dropPath: 1 })).toThrow('invalid dropPath');
    expect(() => createModel('resnet20', { init: 'fixup', norm: 'batch_norm' })).toThrow(
      "'none' with init 'fixup'",
    );
    expect(() => createModel('gru_classifier', { activation: 'relu' })).toThrow(
      "only 'simple_rnn' models take",
    );
    expect(() => createModel('lstm_classifier', { resetAfter: false })).toThrow('only GRU cells have it');
    expect(() => createModel('mlp', { width: [] })).toThrow('invalid width');
    expect(() => createModel('mlp', { depth: 2, width: [8, 8, 8] })).toThrow('invalid depth');
    expect(() => createModel('mlp', { dropout: 1 })).toThrow('invalid dropout');
    expect(() => createModel('mlp', { kernelInitializer: 'he_normall' as 'he_normal' })).toThrow(
      UnknownNameError,
    );
    expect(() => createModel('mlp', 5 as never)).toThrow(InvalidArgumentError);
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('options pass through to the blocks', () => {
  it('plain, includeTop / pooling, numClasses, norm, init scheme, activation', () => {
    const plain = createModel('resnet20', { plain: true, inputShape: [8, 8, 3] });
    expect(plain.layers.some((l) => l.name.endsWith('_add'))).toBe(false);
    const residual = createModel('resnet20', { inputShape: [8, 8, 3] });
    expect(residual.layers.filter((l) => l.name.endsWith('_add'))).toHaveLength(9);
    expect(residual.getLayer('stage2_block1_conv1')).toBeDefined();
    const features = createModel('resnet20', { includeTop: false, inputShape: [16, 16, 3] });
    expect(features.outputs[0]!.shape).toEqual([null, 4, 4, 64]);
    const pooled = createModel('resnet20', { includeTop: false, pooling: 'max', inputShape: [16, 16, 3] });
    expect(pooled.outputs[0]!.shape).toEqual([null, 64]);
    const hundred = createModel('resnet20', {
      numClasses: 100,
      inputShape: [8, 8, 3],
      classifierActivation: 'linear',
    });
    expect(hundred.outputs[0]!.shape).toEqual([null, 100]);
    expect(hundred.getLayer('logits')).toBeDefined();
    const gn = createModel('resnet20', { norm: { name: 'group_norm', groups: 4 }, inputShape: [8, 8, 3] });
    expect(gn.getLayer('stage1_block1_norm1').getClassName()).not.toBe(
      residual.getLayer('stage1_block1_norm1').getClassName(),
    );
    const fixup = createModel('resnet20', { init: 'fixup', inputShape: [8, 8, 3] });
    expect(fixup.layers.some((l) => l.name.includes('norm'))).toBe(false);
    const gelu = createModel('resnet20', { activation: 'gelu', inputShape: [8, 8, 3] });
    expect(JSON.stringify(gelu.getLayer('stage1_block1_act1').getConfig())).toContain('gelu');
    const mlp = createModel('mlp_sigmoid', { depth: 4, width: 16, inputShape: [28, 28, 1] });
    expect(mlp.getLayer('flatten')).toBeDefined();
    expect(mlp.layers.filter((l) => l.name.startsWith('dense'))).toHaveLength(4);
    const seq = createModel('lstm_classifier', {
      inputShape: [12, 3],
      units: 8,
      perStep: true,
      numClasses: 5,
    });
    expect(seq.outputs[0]!.shape).toEqual([null, 12, 5]);
    for (const m of [plain, residual, features, pooled, hundred, gn, fixup, gelu, mlp, seq]) m.dispose();
  });
});

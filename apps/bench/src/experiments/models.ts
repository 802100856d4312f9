import * as tf from '@tensorflow/tfjs';
import { resolveInitializer } from '@gradflow/initializers';
import { residualStage, stem, type ResidualBlockOptions } from '@gradflow/residual';

export interface SmallResNetOptions extends Pick<
  ResidualBlockOptions,
  'plain' | 'norm' | 'init' | 'activation'
> {
  inputShape: number[];
  /** Channels of the first stage (16 in He et al.; the quick mode narrows it). */
  width: number;
  /** Constant factor on every identity shortcut (He et al. 2016, Table 1); default 1. */
  shortcutScale?: number;
  numClasses: number;
}

/**
 * He et al. (2015)'s CIFAR ResNet-(6n+2), built from @gradflow/residual's stem and stages, with a
 * configurable width: the zoo's `resnet20`…`resnet110` at width 16 are the same graph. Option-A
 * shortcuts, as in the paper; `plain: true` gives the plain twin.
 */
export function smallResNet(depth: number, options: SmallResNetOptions): tf.LayersModel {
  const n = (depth - 2) / 6;
  const input = tf.input({ shape: options.inputShape });
  const block = {
    norm: options.norm ?? 'batch_norm',
    activation: options.activation ?? 'relu',
    plain: options.plain ?? false,
    init: options.init ?? 'default',
    totalBlocks: 3 * n,
    ...(options.shortcutScale === undefined ? {} : { shortcutScale: options.shortcutScale }),
  };
  let x = stem(input, {
    filters: options.width,
    kernelSize: 3,
    stride: 1,
    pool: false,
    norm: block.norm,
    activation: block.activation,
    name: 'stem',
  });
  [1, 2, 4].forEach((multiple, i) => {
    x = residualStage(x, {
      ...block,
      block: 'basic',
      blocks: n,
      filters: options.width * multiple,
      stride: i === 0 ? 1 : 2,
      shortcut: 'option_a',
      name: `stage${i + 1}`,
    });
  });
  x = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  const logits = tf.layers
    .dense({ units: options.numClasses, kernelInitializer: resolveInitializer('glorot_uniform'), name: 'fc' })
    .apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: `${options.plain ? 'plain' : 'resnet'}${depth}` });
}

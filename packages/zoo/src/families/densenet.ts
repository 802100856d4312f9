import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';
import { denseNetFeatures, getDenseNetConfig } from '@gradflow/dense';
import type { DenseNetName } from '@gradflow/dense';
import {
  buildGuarded,
  checkInputShape,
  checkOptionKeys,
  headOptions,
  imageHead,
  requireShape,
} from '../options.js';
import type { ModelOptions } from '../options.js';

/** A DenseNet variant: a row of @gradflow/dense's `DENSENET_CONFIGS` (growth rate, blocks, stem). */
export interface DenseNetVariant {
  readonly family: 'densenet';
  readonly config: DenseNetName;
}

/** Options of the DenseNet family, on top of the common ones. */
export interface DenseNetOptions extends ModelOptions {
  /** Dropout after every 3x3 conv, in [0, 1) (default 0; the paper used 0.2 without augmentation). */
  dropout?: number;
  /** Conv biases (default: only without a norm, as torchvision). */
  useBias?: boolean;
}

export const DENSENET_OPTIONS = ['dropout', 'useBias'] as const;

/** The smallest input side a DenseNet config takes: the stem divides by 4 (ImageNet) and each transition by 2. */
export function denseNetMinSide(config: DenseNetName): number {
  const c = getDenseNetConfig(config);
  return (c.stem === 'imagenet' ? 4 : 1) * 2 ** (c.blockConfig.length - 1);
}

/**
 * DenseNet (Huang et al. 2017): @gradflow/dense's features, global average pooling, dense classifier.
 *
 * @example
 * ```ts
 * const model = buildDenseNet('tiny_densenet', DENSENETS.densenet_bc_100, { inputShape: [8, 8, 3], numClasses: 2 }, {
 *   inputShape: [32, 32, 3],
 *   numClasses: 10,
 * });
 * if (model.name !== 'tiny_densenet' || model.outputs[0]!.shape.join() !== ',2') throw new Error('head');
 * model.dispose();
 * ```
 */
export function buildDenseNet(
  name: string,
  v: DenseNetVariant,
  options: DenseNetOptions,
  defaults: { inputShape: readonly number[]; numClasses: number },
): tf.LayersModel {
  checkOptionKeys(name, options, DENSENET_OPTIONS);
  const inputShape = checkInputShape(
    name,
    options.inputShape ?? defaults.inputShape,
    3,
    '[height, width, channels]',
  );
  const min = denseNetMinSide(v.config);
  const config = getDenseNetConfig(v.config);
  requireShape(
    inputShape[0]! >= min && inputShape[1]! >= min,
    name,
    inputShape,
    `height and width >= ${min}`,
    `the ${config.stem} stem and ${config.blockConfig.length - 1} transitions halve the size ${Math.log2(min)} times`,
  );
  const head = headOptions(options, defaults);
  if (options.useBias !== undefined && typeof options.useBias !== 'boolean')
    throw new InvalidArgumentError('useBias', options.useBias, 'true or false');
  const input = tf.input({ shape: inputShape, name: 'input' });
  return buildGuarded(input, () => {
    const features = denseNetFeatures(input, v.config, {
      ...(options.activation === undefined ? {} : { activation: options.activation }),
      ...(options.norm === undefined ? {} : { norm: options.norm }),
      ...(options.kernelInitializer === undefined ? {} : { kernelInitializer: options.kernelInitializer }),
      ...(options.useBias === undefined ? {} : { useBias: options.useBias }),
      ...(options.dropout === undefined ? {} : { dropout: options.dropout }),
    });
    const output = imageHead(features, head);
    return tf.model({ inputs: input, outputs: output, name: options.name ?? name });
  });
}

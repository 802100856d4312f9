import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, checkInteger } from '@gradflow/core';
import { unetGraph } from '@gradflow/unet';
import type { Downsampling, Match, Upsampling } from '@gradflow/unet';
import {
  buildGuarded,
  checkClassifierActivation,
  checkInputShape,
  checkOptionKeys,
  requireShape,
} from '../options.js';
import type { ModelOptions } from '../options.js';

/** A U-Net variant as data: the options of @gradflow/unet that define it. */
export interface UNetVariant {
  readonly family: 'unet';
  readonly depth: number;
  readonly baseFilters: number;
  readonly upsample: Upsampling;
  readonly norm: 'none' | 'batch_norm';
}

/** Options of the U-Net family, on top of the common ones. */
export interface UNetModelOptions extends ModelOptions {
  /** Down/up levels (default: the variant's, 4). */
  depth?: number;
  /** Channels of the first level, doubled at each level (default 64). */
  baseFilters?: number;
  /** `'transposed'` (the paper), `'bilinear'` or `'nearest'` (then a 3x3 conv). */
  upsample?: Upsampling;
  /** `'max_pool'` (the paper) or `'strided_conv'`. */
  down?: Downsampling;
  /** How a skip is matched to the up-sampled features (see @gradflow/unet). */
  match?: Match;
  /** Attention gates on the skips (Oktay et al. 2018). */
  attention?: boolean | { interChannels?: number };
  /** Dropout after the bottleneck (default 0). */
  dropout?: number;
  /** Conv biases (default: only without a norm). */
  useBias?: boolean;
}

export const UNET_OPTIONS = [
  'depth',
  'baseFilters',
  'upsample',
  'down',
  'match',
  'attention',
  'dropout',
  'useBias',
] as const;

/**
 * U-Net (Ronneberger et al. 2015) through @gradflow/unet with 'same' convolutions: output
 * `[H, W, numClasses]` logits (or probabilities with `classifierActivation`). The input sides
 * must be divisible by 2^depth.
 *
 * @example
 * ```ts
 * const model = buildUNet('tiny_unet', UNETS.unet_bn, { depth: 2, baseFilters: 4 }, { inputShape: [8, 8, 1], numClasses: 2 });
 * const y = model.predict(tf.zeros([1, 8, 8, 1])) as tf.Tensor;
 * if (y.shape.join() !== '1,8,8,2') throw new Error(`got [${y.shape}]`);
 * y.dispose();
 * model.dispose();
 * ```
 */
export function buildUNet(
  name: string,
  v: UNetVariant,
  options: UNetModelOptions,
  defaults: { inputShape: readonly number[]; numClasses: number },
): tf.LayersModel {
  checkOptionKeys(name, options, UNET_OPTIONS);
  const inputShape = checkInputShape(
    name,
    options.inputShape ?? defaults.inputShape,
    3,
    '[height, width, channels]',
  );
  const depth = checkInteger('depth', options.depth ?? v.depth);
  const unit = 2 ** depth;
  requireShape(
    inputShape[0]! % unit === 0 && inputShape[1]! % unit === 0,
    name,
    inputShape,
    `height and width divisible by 2^depth = ${unit}`,
    'each of the depth levels halves the size and the decoder doubles it back',
  );
  if (options.includeTop === false) {
    throw new InvalidArgumentError(
      'includeTop',
      false,
      `true for '${name}'`,
      "a U-Net's head is its 1x1 conv; build the parts with @gradflow/unet's encoderStage/decoderStage instead",
    );
  }
  if (options.pooling !== undefined && options.pooling !== null) {
    throw new InvalidArgumentError(
      'pooling',
      options.pooling,
      `null for '${name}'`,
      'a U-Net predicts per pixel',
    );
  }
  const numClasses = checkInteger('numClasses', options.numClasses ?? defaults.numClasses);
  const classifierActivation = checkClassifierActivation(options.classifierActivation, 'linear');
  const input = tf.input({ shape: inputShape, name: 'input' });
  return buildGuarded(input, () => {
    let out = unetGraph(input, {
      depth,
      baseFilters: options.baseFilters ?? v.baseFilters,
      upsample: options.upsample ?? v.upsample,
      norm: options.norm ?? v.norm,
      numClasses,
      outputActivation: null,
      ...(options.activation === undefined ? {} : { activation: options.activation }),
      ...(options.kernelInitializer === undefined ? {} : { kernelInitializer: options.kernelInitializer }),
      ...(options.down === undefined ? {} : { down: options.down }),
      ...(options.match === undefined ? {} : { match: options.match }),
      ...(options.attention === undefined ? {} : { attention: options.attention }),
      ...(options.dropout === undefined ? {} : { dropout: options.dropout }),
      ...(options.useBias === undefined ? {} : { useBias: options.useBias }),
    });
    if (classifierActivation !== 'linear') {
      out = tf.layers
        .activation({ activation: classifierActivation, name: 'probabilities' })
        .apply(out) as tf.SymbolicTensor;
    }
    return tf.model({ inputs: input, outputs: out, name: options.name ?? name });
  });
}

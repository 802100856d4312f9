import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, checkInteger } from '@gradflow/core';
import { activationLayer } from '@gradflow/activations';
import type { ActivationLike } from '@gradflow/activations';
import { resolveInitializer } from '@gradflow/initializers';
import type { InitializerLike } from '@gradflow/initializers';
import { normLayer } from '@gradflow/normalization';
import type { NormLike } from '@gradflow/normalization';
import {
  buildGuarded,
  checkBoolean,
  checkOptionKeys,
  denseHead,
  headOptions,
  requireShape,
} from '../options.js';
import type { ModelOptions } from '../options.js';

/** A deep MLP as data: the vanishing-gradient teaching models differ only in these fields. */
export interface MlpVariant {
  readonly family: 'mlp';
  /** Hidden layers. */
  readonly depth: number;
  /** Units of every hidden layer. */
  readonly width: number;
  readonly activation: ActivationLike;
  readonly kernelInitializer: InitializerLike;
  readonly norm: NormLike;
}

/** Options of the MLP family, on top of the common ones. */
export interface MlpOptions extends ModelOptions {
  /** Number of hidden layers (default: the variant's). */
  depth?: number;
  /** Units per hidden layer: one number, or one per layer (then `depth` is its length). */
  width?: number | readonly number[];
  /** Biases in the hidden layers (default: true without a norm, false with one). */
  useBias?: boolean;
  /** Bias initializer of the hidden layers (default `'zeros'`). */
  biasInitializer?: InitializerLike;
  /** Dropout rate after each hidden activation (default 0). */
  dropout?: number;
}

export const MLP_OPTIONS = ['depth', 'width', 'useBias', 'biasInitializer', 'dropout'] as const;

function isNoNorm(n: NormLike | undefined): boolean {
  return n === null || n === 'none';
}

/** The hidden widths an MLP will have, validated. */
export function mlpWidths(v: MlpVariant, options: MlpOptions): number[] {
  if (Array.isArray(options.width)) {
    if (options.width.length === 0)
      throw new InvalidArgumentError(
        'width',
        options.width,
        'a positive integer or a non-empty list of them',
      );
    if (options.depth !== undefined && options.depth !== options.width.length) {
      throw new InvalidArgumentError(
        'depth',
        options.depth,
        `${options.width.length} (the length of width) or undefined`,
      );
    }
    return options.width.map((w, i) => checkInteger(`width[${i}]`, w));
  }
  const depth = checkInteger('depth', options.depth ?? v.depth, 0);
  const width = checkInteger('width', options.width ?? v.width);
  return Array.from({ length: depth }, () => width);
}

/**
 * A deep multilayer perceptron: `[flatten] → (dense → [norm] → activation → [dropout]) × depth →
 * dense head`. Layer names `dense1`, `norm1`, `act1`, ... so probe reports read by depth.
 *
 * @example
 * ```ts
 * const variant = { ...MLPS.mlp, activation: 'tanh' as const, kernelInitializer: 'glorot_uniform' as const };
 * const model = buildMlp('tanh_mlp', variant, { inputShape: [6], depth: 2, width: 5 }, { inputShape: [784], numClasses: 3 });
 * const y = model.predict(tf.ones([4, 6])) as tf.Tensor;
 * if (y.shape.join() !== '4,3') throw new Error(`got [${y.shape}]`);
 * y.dispose();
 * model.dispose();
 * ```
 */
export function buildMlp(
  name: string,
  v: MlpVariant,
  options: MlpOptions,
  defaults: { inputShape: readonly number[]; numClasses: number },
): tf.LayersModel {
  checkOptionKeys(name, options, MLP_OPTIONS);
  const shape = options.inputShape ?? defaults.inputShape;
  requireShape(
    Array.isArray(shape) && shape.length >= 1 && shape.every((d) => Number.isInteger(d) && d > 0),
    name,
    shape as number[],
    'one or more positive integers (inputs of rank > 1 are flattened)',
  );
  const head = headOptions(options, defaults);
  if (head.pooling !== null)
    throw new InvalidArgumentError(
      'pooling',
      head.pooling,
      `null for '${name}'`,
      'an MLP has no spatial axes to pool',
    );
  const widths = mlpWidths(v, options);
  const activation = options.activation ?? v.activation;
  const norm = options.norm ?? v.norm;
  const useBias = checkBoolean('useBias', options.useBias, isNoNorm(norm));
  const dropout = options.dropout ?? 0;
  if (typeof dropout !== 'number' || !(dropout >= 0 && dropout < 1))
    throw new InvalidArgumentError('dropout', dropout, 'a number in [0, 1)');
  const kernelInitializer = resolveInitializer(options.kernelInitializer ?? v.kernelInitializer);
  const biasInitializer = resolveInitializer(options.biasInitializer ?? 'zeros');
  // Resolve every part before creating a layer, so a bad name leaves nothing half built.
  activationLayer(activation, { name: '__zoo_probe_act' });
  normLayer(norm, { name: '__zoo_probe_norm' });

  const input = tf.input({ shape: [...shape], name: 'input' });
  return buildGuarded(input, () => {
    let x: tf.SymbolicTensor =
      shape.length > 1 ? (tf.layers.flatten({ name: 'flatten' }).apply(input) as tf.SymbolicTensor) : input;
    widths.forEach((units, i) => {
      const k = i + 1;
      x = tf.layers
        .dense({ units, useBias, kernelInitializer, biasInitializer, name: `dense${k}` })
        .apply(x) as tf.SymbolicTensor;
      const n = normLayer(norm, { name: `norm${k}` });
      if (n) x = n.apply(x) as tf.SymbolicTensor;
      x = activationLayer(activation, { name: `act${k}` }).apply(x) as tf.SymbolicTensor;
      if (dropout > 0)
        x = tf.layers.dropout({ rate: dropout, name: `dropout${k}` }).apply(x) as tf.SymbolicTensor;
    });
    const output = head.includeTop ? denseHead(x, { ...head, kernelInitializer }) : x;
    return tf.model({ inputs: input, outputs: output, name: options.name ?? name });
  });
}

/** Trainable parameters of an MLP variant at its defaults (norms with γ and β, 2 per unit). */
export function mlpParams(v: MlpVariant, inputSize: number, numClasses: number): number {
  let total = 0;
  let fanIn = inputSize;
  const bias = isNoNorm(v.norm) ? 1 : 0;
  for (let i = 0; i < v.depth; i++) {
    total += fanIn * v.width + bias * v.width + (isNoNorm(v.norm) ? 0 : 2 * v.width);
    fanIn = v.width;
  }
  return total + fanIn * numClasses + numClasses;
}

import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError, checkInteger, formatValue, suggestNames } from '@gradflow/core';
import type { ActivationLike } from '@gradflow/activations';
import { resolveInitializer, type InitializerLike } from '@gradflow/initializers';
import type { NormLike } from '@gradflow/normalization';

/** What the classifier head applies to its logits (Keras applications' `classifier_activation`). */
export type ClassifierActivation = 'softmax' | 'sigmoid' | 'linear';

/** Global pooling of the features when `includeTop` is false (Keras applications' `pooling`). */
export type Pooling = 'avg' | 'max' | null;

/** Options every model accepts. */
export interface ModelOptions {
  /** Shape of one example without the batch axis (default: the model's, e.g. [32, 32, 3]). */
  inputShape?: readonly number[];
  /** Classes (or outputs of a regressor) of the head (default: the model's, e.g. 10 or 1000). */
  numClasses?: number;
  /** Add the classifier / regressor head (default true). */
  includeTop?: boolean;
  /** Without the top: `'avg'` or `'max'` global pooling to a vector, or `null` (default) for the feature map. */
  pooling?: Pooling;
  /** Head activation: `'softmax'` (default for classifiers), `'sigmoid'`, or `'linear'` (logits). */
  classifierActivation?: ClassifierActivation;
  /** Activation of every block, by name or `{ name, ...params }` (default: the model's, usually `'relu'`). */
  activation?: ActivationLike;
  /** Norm of every block (`'batch_norm'`, `'group_norm'`, `'none'`, ...; default: the model's). */
  norm?: NormLike;
  /** Kernel initializer of every conv / dense layer (default: the model's, usually `'he_normal'`). */
  kernelInitializer?: InitializerLike;
  /** Model name (default: the registry name). */
  name?: string;
}

const COMMON_OPTIONS = [
  'inputShape',
  'numClasses',
  'includeTop',
  'pooling',
  'classifierActivation',
  'activation',
  'norm',
  'kernelInitializer',
  'name',
] as const;

/** Throws `InvalidArgumentError` (with a suggestion) for option keys the model does not take. */
export function checkOptionKeys(model: string, options: object, extra: readonly string[]): void {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new InvalidArgumentError(`options of '${model}'`, options, 'an object (or nothing)');
  }
  const known = [...COMMON_OPTIONS, ...extra];
  for (const [key, value] of Object.entries(options)) {
    if (value === undefined) continue;
    if (!known.includes(key)) {
      const close = suggestNames(key, known);
      throw new InvalidArgumentError(
        `option of '${model}'`,
        key,
        `one of ${known.join(', ')}`,
        close.length > 0 ? `did you mean ${close.map((c) => `'${c}'`).join(' or ')}?` : undefined,
      );
    }
  }
}

export function checkBoolean(argument: string, value: unknown, fallback: boolean): boolean {
  const v = value ?? fallback;
  if (typeof v !== 'boolean') throw new InvalidArgumentError(argument, value, 'true or false');
  return v;
}

/** An input shape of positive integers with the given rank; the error names the model and the rule. */
export function checkInputShape(model: string, shape: unknown, rank: number, layout: string): number[] {
  if (!Array.isArray(shape) || shape.length !== rank || shape.some((d) => !Number.isInteger(d) || d <= 0)) {
    throw new ShapeError(
      `input of '${model}'`,
      shape,
      `${layout}: ${rank} positive integers (no batch axis)`,
    );
  }
  return [...shape] as number[];
}

/** Throws `ShapeError` saying what `model` needs when `ok` is false. */
export function requireShape(
  ok: boolean,
  model: string,
  shape: readonly number[],
  constraint: string,
  extra?: string,
): void {
  if (!ok) throw new ShapeError(`input of '${model}'`, [...shape], constraint, extra);
}

export function checkPooling(value: unknown): Pooling {
  const v = value ?? null;
  if (v !== null && v !== 'avg' && v !== 'max')
    throw new InvalidArgumentError('pooling', value, "'avg', 'max' or null");
  return v;
}

export function checkClassifierActivation(
  value: unknown,
  fallback: ClassifierActivation,
): ClassifierActivation {
  const v = value ?? fallback;
  if (v !== 'softmax' && v !== 'sigmoid' && v !== 'linear') {
    throw new InvalidArgumentError('classifierActivation', value, "'softmax', 'sigmoid' or 'linear'");
  }
  return v;
}

export interface HeadOptions {
  includeTop: boolean;
  pooling: Pooling;
  numClasses: number;
  classifierActivation: ClassifierActivation;
  kernelInitializer?: ReturnType<typeof tf.initializers.ones> | undefined;
}

/** Resolves the head options common to the image models. */
export function headOptions(
  options: ModelOptions,
  defaults: { numClasses: number; classifierActivation?: ClassifierActivation },
): HeadOptions {
  const includeTop = checkBoolean('includeTop', options.includeTop, true);
  const numClasses = checkInteger('numClasses', options.numClasses ?? defaults.numClasses);
  const pooling = checkPooling(options.pooling);
  if (includeTop && options.pooling !== undefined && options.pooling !== null) {
    throw new InvalidArgumentError(
      'pooling',
      options.pooling,
      'null when includeTop is true',
      'the head always global-average-pools; set includeTop: false to choose',
    );
  }
  return {
    includeTop,
    pooling,
    numClasses,
    classifierActivation: checkClassifierActivation(
      options.classifierActivation,
      defaults.classifierActivation ?? 'softmax',
    ),
  };
}

/**
 * The head of an image model: global average pooling + dense(numClasses) with the top, or the
 * chosen pooling (or the raw feature map) without it. Layer names: `pool`, `logits`/`predictions`.
 */
export function imageHead(x: tf.SymbolicTensor, head: HeadOptions): tf.SymbolicTensor {
  if (!head.includeTop) {
    if (head.pooling === 'avg')
      return tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
    if (head.pooling === 'max')
      return tf.layers.globalMaxPooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
    return x;
  }
  const pooled = tf.layers.globalAveragePooling2d({ name: 'pool' }).apply(x) as tf.SymbolicTensor;
  return denseHead(pooled, head);
}

/**
 * `dense(numClasses)` with the classifier activation; PyTorch's default Linear init is replaced by
 * Glorot uniform (Keras), drawn from gradflow's seeded stream so a model is reproducible after
 * `setInitializerSeed` (tfjs's own `glorotUniform` is seeded from Math.random).
 */
export function denseHead(x: tf.SymbolicTensor, head: HeadOptions): tf.SymbolicTensor {
  return tf.layers
    .dense({
      units: head.numClasses,
      activation: head.classifierActivation,
      name: head.classifierActivation === 'linear' ? 'logits' : 'predictions',
      kernelInitializer: head.kernelInitializer ?? resolveInitializer('glorot_uniform'),
    })
    .apply(x) as tf.SymbolicTensor;
}

export function describeShape(shape: readonly (number | null)[]): string {
  return formatValue([...shape]);
}

/**
 * Runs `build` on a fresh input and, if it throws, disposes the weights of every layer already
 * applied downstream of that input, so a failed `createModel` leaves tfjs memory as it was.
 */
export function buildGuarded(input: tf.SymbolicTensor, build: () => tf.LayersModel): tf.LayersModel {
  try {
    return build();
  } catch (error) {
    const seen = new Set<tf.layers.Layer>();
    const queue: tf.layers.Layer[] = [input.sourceLayer as tf.layers.Layer];
    while (queue.length > 0) {
      const layer = queue.pop()!;
      if (seen.has(layer)) continue;
      seen.add(layer);
      for (const node of layer.outboundNodes) queue.push(node.outboundLayer as tf.layers.Layer);
    }
    for (const layer of seen) {
      try {
        layer.dispose();
      } catch {
        // A layer that was never built holds no weights.
      }
    }
    throw error;
  }
}

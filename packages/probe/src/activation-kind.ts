import * as tf from '@tensorflow/tfjs';
import { Registry } from '@gradflow/core';
import { resolveActivation } from '@gradflow/activations';
import type { ActivationKind } from './types.js';

/**
 * What the probe knows about a nonlinearity, read from a layer's output `y`: its kind and, for
 * bounded (saturating) ones, which elements are saturated, i.e. f'(x) / sup f' < ratio,
 * written as a function of the output (so no pre-activation is needed).
 */
export interface OutputActivationSpec {
  kind: ActivationKind;
  /** Boolean tensor: true where the unit is saturated. Only for sigmoid/tanh kinds. */
  saturated?: (y: tf.Tensor, ratio: number) => tf.Tensor;
  /** The same test on one output value (used when statistics are reduced on the host). */
  saturatedValue?: (y: number, ratio: number) => boolean;
  /**
   * For elementwise activation layers known only by their metadata (`@gradflow/activations`):
   * sup |f'|, so saturation is judged from the layer's input x by f'(x) < ratio * sup |f'|.
   */
  supDerivative?: number;
}

const sigmoidLike: OutputActivationSpec = {
  kind: 'sigmoid',
  // sigma' = y (1 - y), sup = 1/4.
  saturated: (y, ratio) => tf.less(tf.mul(y, tf.sub(1, y)), 0.25 * ratio),
  saturatedValue: (y, ratio) => y * (1 - y) < 0.25 * ratio,
};
const hardSigmoidLike: OutputActivationSpec = {
  kind: 'sigmoid',
  // f' is 0 outside the linear piece, where the output is clipped to 0 or 1.
  saturated: (y) => tf.logicalOr(tf.lessEqual(y, 0), tf.greaterEqual(y, 1)),
  saturatedValue: (y) => y <= 0 || y >= 1,
};
const tanhLike: OutputActivationSpec = {
  kind: 'tanh',
  // tanh' = 1 - y^2, sup = 1.
  saturated: (y, ratio) => tf.less(tf.sub(1, tf.square(y)), ratio),
  saturatedValue: (y, ratio) => 1 - y * y < ratio,
};
const softsignLike: OutputActivationSpec = {
  kind: 'tanh',
  // softsign' = (1 - |y|)^2, sup = 1.
  saturated: (y, ratio) => tf.less(tf.square(tf.sub(1, tf.abs(y))), ratio),
  saturatedValue: (y, ratio) => (1 - Math.abs(y)) ** 2 < ratio,
};
const hardTanhLike: OutputActivationSpec = {
  kind: 'tanh',
  saturated: (y) => tf.greaterEqual(tf.abs(y), 1),
  saturatedValue: (y) => Math.abs(y) >= 1,
};
const reluLike: OutputActivationSpec = { kind: 'relu' };

/**
 * Nonlinearities by normalised name (lower case, no `_`/`-`): tfjs-layers activation strings,
 * layer class names and gradflow's activation names. Users add their own with
 * `OUTPUT_ACTIVATIONS.register(name, spec)`.
 *
 * @example
 * ```ts
 * const tanh = OUTPUT_ACTIVATIONS.get('tanh');
 * // tanh' = 1 - y^2: at y = 0.999 it is 0.002, below 5% of its maximum 1, so the unit is saturated.
 * if (tanh.kind !== 'tanh' || !tanh.saturatedValue!(0.999, 0.05) || tanh.saturatedValue!(0.5, 0.05))
 *   throw new Error('tanh saturation');
 * if (OUTPUT_ACTIVATIONS.get('relu6').kind !== 'relu') throw new Error('relu6 can die');
 * ```
 */
export const OUTPUT_ACTIVATIONS = new Registry<OutputActivationSpec>(
  'output activation',
  {
    sigmoid: sigmoidLike,
    hardsigmoid: hardSigmoidLike,
    tanh: tanhLike,
    softsign: softsignLike,
    hardtanh: hardTanhLike,
    relu: reluLike,
    relu6: reluLike,
    thresholdedrelu: reluLike,
  },
  { hint: 'register custom nonlinearities with OUTPUT_ACTIVATIONS.register()' },
);

export function normaliseActivationName(name: string): string {
  return name.toLowerCase().replace(/[_-]/g, '');
}

/** Classes whose output is not their `activation`'s output (gated cells). */
const GATED = new Set(['LSTM', 'GRU', 'ConvLSTM2D']);

/**
 * The nonlinearity at a layer's output, from its class name and config: `Dense({activation})`,
 * `Activation`, `ReLU`, `ThresholdedReLU`, `SimpleRNN`, or any layer whose config has a string
 * `activation` (or `{name}`) that is registered in `OUTPUT_ACTIVATIONS`.
 *
 * @example
 * ```ts
 * const dense = outputActivationOf(tf.layers.dense({ units: 2, activation: 'sigmoid' }));
 * if (dense.name !== 'sigmoid' || dense.spec.kind !== 'sigmoid') throw new Error(JSON.stringify(dense));
 * const relu = outputActivationOf(tf.layers.reLU());
 * if (relu.spec.kind !== 'relu') throw new Error('ReLU layer');
 * const gated = outputActivationOf(tf.layers.lstm({ units: 2 })); // the output is not tanh(.) alone
 * if (gated.spec.kind !== 'other') throw new Error('LSTM');
 * ```
 */
export function outputActivationOf(layer: tf.layers.Layer): {
  name: string | null;
  spec: OutputActivationSpec;
} {
  const hit = kindCache.get(layer);
  if (hit) return hit;
  const found = classify(layer);
  kindCache.set(layer, found);
  return found;
}

const kindCache = new WeakMap<tf.layers.Layer, { name: string | null; spec: OutputActivationSpec }>();

function classify(layer: tf.layers.Layer): { name: string | null; spec: OutputActivationSpec } {
  const className = layer.getClassName();
  const other = { name: null, spec: { kind: 'other' as const } };
  if (GATED.has(className)) return other;
  let config: Record<string, unknown> = {};
  try {
    config = layer.getConfig() as Record<string, unknown>;
  } catch {
    config = {};
  }
  const byClass = normaliseActivationName(className);
  if (className !== 'Activation' && OUTPUT_ACTIVATIONS.has(byClass)) {
    return { name: className, spec: OUTPUT_ACTIVATIONS.get(byClass) };
  }
  const raw = config.activation;
  const name =
    typeof raw === 'string'
      ? raw
      : raw && typeof raw === 'object' && typeof (raw as { name?: unknown }).name === 'string'
        ? (raw as { name: string }).name
        : null;
  if (name === null) return other;
  const key = normaliseActivationName(name);
  if (OUTPUT_ACTIVATIONS.has(key)) return { name, spec: OUTPUT_ACTIVATIONS.get(key) };
  const params =
    config.params && typeof config.params === 'object' ? (config.params as Record<string, unknown>) : {};
  return { name, spec: fromActivationRegistry(name, params) ?? { kind: 'other' } };
}

const registryCache = new Map<string, OutputActivationSpec | null>();

/**
 * What `@gradflow/activations` metadata says about `name`: ReLU-like when f is exactly 0 on the
 * negative half line (it can die), sigmoid/tanh-like when f' vanishes on both sides
 * (`saturates: 'both'`), with sup |f'| for the saturation test.
 */
export function fromActivationRegistry(
  name: string,
  params: Record<string, unknown> = {},
): OutputActivationSpec | null {
  const cacheKey = `${name}|${JSON.stringify(params)}`;
  const hit = registryCache.get(cacheKey);
  if (hit !== undefined) return hit;
  let result: OutputActivationSpec | null = null;
  try {
    const { spec, params: p } = resolveActivation({ ...params, name } as Parameters<
      typeof resolveActivation
    >[0]);
    const f = (x: number) => spec.f64(x, p);
    if (f(-1) === 0 && f(-100) === 0 && f(1) > 0) {
      result = { kind: 'relu' };
    } else if (spec.saturates === 'both') {
      const sup =
        typeof spec.supDerivative === 'number'
          ? spec.supDerivative
          : typeof spec.supDerivative === 'function'
            ? spec.supDerivative(p)
            : numericSup((x) => spec.df64(x, p));
      result = { kind: f(-100) >= -1e-6 ? 'sigmoid' : 'tanh', supDerivative: sup };
    } else {
      result = { kind: 'other' };
    }
  } catch {
    result = null;
  }
  registryCache.set(cacheKey, result);
  return result;
}

function numericSup(df: (x: number) => number): number {
  let best = 0;
  for (let x = -20; x <= 20; x += 0.01) best = Math.max(best, Math.abs(df(x)));
  return best;
}

import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError } from '@gradflow/core';
import { activationLayer, type ActivationLike } from '@gradflow/activations';
import { resolveInitializer, type Initializer, type InitializerLike } from '@gradflow/initializers';
import { isNoNorm, normChecker, normLayer, type NormLike } from '@gradflow/normalization';

export type { ActivationLike, Initializer, InitializerLike, NormLike };

/** `layer.apply(x)` for the single-output layers the builders use. */
export function applyLayer(
  layer: tf.layers.Layer,
  x: tf.SymbolicTensor | tf.SymbolicTensor[],
): tf.SymbolicTensor {
  return layer.apply(x) as tf.SymbolicTensor;
}

// Validation lives with the registries and in core; the builders use it under their own names.
export { resolveActivation as checkActivation } from '@gradflow/activations';
export { checkLayerName as checkName, checkRate } from '@gradflow/core';
export { isNoNorm, normChecker as checkNorm };
export type { NormChannelCheck as ChannelCheck } from '@gradflow/normalization';

/** Norm then activation (the pre-activation order of DenseNet), skipping the norm for `'none'`. */
export function normAct(
  x: tf.SymbolicTensor,
  parts: { norm: NormLike; activation: ActivationLike },
  name: string,
  suffix = '',
): tf.SymbolicTensor {
  const n = isNoNorm(parts.norm) ? null : normLayer(parts.norm, { name: `${name}_norm${suffix}` });
  const h = n ? applyLayer(n, x) : x;
  return applyLayer(activationLayer(parts.activation, { name: `${name}_act${suffix}` }), h);
}

export function initializer(spec: InitializerLike): Initializer {
  return resolveInitializer(spec);
}

/** The static shape of a builder input, checked to be NHWC with known channels. */
export function nhwc(
  x: tf.SymbolicTensor,
  what: string,
): { height: number | null; width: number | null; channels: number } {
  if (!(x instanceof tf.SymbolicTensor)) {
    throw new InvalidArgumentError(
      `${what} input`,
      typeof x,
      'a tf.SymbolicTensor (from tf.input or a layer)',
    );
  }
  const [, h, w, c] = x.shape;
  if (x.shape.length !== 4 || c == null) {
    throw new ShapeError(`${what} input`, x.shape, '[batch, height, width, channels] with known channels');
  }
  return { height: h ?? null, width: w ?? null, channels: c };
}

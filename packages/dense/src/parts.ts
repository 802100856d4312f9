import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError } from '@gradflow/core';
import { activationLayer, getActivation, type ActivationLike } from '@gradflow/activations';
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

/** Throws `UnknownNameError` (with suggestions) for an activation the registry does not have. */
export function checkActivation(spec: ActivationLike): void {
  if (spec === null || spec === undefined) {
    throw new InvalidArgumentError('activation', spec, 'an activation name or { name, ...params }');
  }
  getActivation(typeof spec === 'string' ? spec : spec.name);
}

// Norm validation lives with the norm registry; the builders use it under their own names.
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

let anonymous = 0;
/** Validates an optional name prefix; a fresh one when none is given. */
export function checkName(name: unknown, kind: string): string {
  if (name === undefined) {
    anonymous += 1;
    return `${kind}${anonymous}`;
  }
  if (typeof name !== 'string' || !/^[A-Za-z0-9_.-]+$/.test(name)) {
    throw new InvalidArgumentError('name', name, 'a non-empty string of letters, digits, _ . -');
  }
  return name;
}

/** Rejects a rate outside [0, 1). */
export function checkRate(argument: string, rate: unknown): number {
  if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate >= 1) {
    throw new InvalidArgumentError(argument, rate, 'a finite number in [0, 1)');
  }
  return rate;
}

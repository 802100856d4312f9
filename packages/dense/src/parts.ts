import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError, ShapeError } from '@gradflow/core';
import { activationLayer, getActivation, type ActivationLike } from '@gradflow/activations';
import { resolveInitializer, type Initializer, type InitializerLike } from '@gradflow/initializers';
import { getNorm, normLayer, type NormLike, type NormName } from '@gradflow/normalization';

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

export function isNoNorm(spec: NormLike | undefined): boolean {
  return spec === null || spec === 'none';
}

/** Checks that a norm accepts a channel count (GroupNorm's groups must divide it). */
export type ChannelCheck = (channels: number, where: string) => void;

/**
 * Validates a norm spec before any layer is applied: the name through the registry (with its
 * did-you-mean error), the options by constructing a probe layer that is never applied (so it
 * has no weights), and returns a check of the channel counts the norm will see.
 */
export function checkNorm(spec: NormLike, gammaInitializer?: InitializerLike): ChannelCheck {
  if (isNoNorm(spec)) return () => undefined;
  if (typeof spec === 'string') getNorm(spec as NormName);
  else if (spec !== null && typeof spec === 'object' && typeof spec.name === 'string')
    getNorm(spec.name as NormName);
  const probe = normLayer(
    spec,
    gammaInitializer === undefined
      ? { name: '__gradflow_probe_norm' }
      : { name: '__gradflow_probe_norm', gammaInitializer },
  );
  const config = probe?.getConfig() ?? {};
  const groupSize = typeof config['groupSize'] === 'number' ? config['groupSize'] : null;
  const groups = typeof config['groups'] === 'number' ? config['groups'] : null;
  return (channels, where) => {
    const g = groupSize ?? groups;
    if (g !== null && channels % g !== 0) {
      throw new InvalidArgumentError(
        groupSize !== null ? 'norm groupSize' : 'norm groups',
        g,
        `a divisor of the ${channels} channels of ${where}`,
        `pass a norm whose groups divide every normalized channel count`,
      );
    }
  };
}

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

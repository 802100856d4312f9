import type * as tf from '@tensorflow/tfjs';
import { DEFAULT_SEED, InvalidArgumentError } from '@gradflow/core';

export { checkRate } from '@gradflow/core';
/** The constructor argument type of `tf.layers.Layer` (tfjs-layers does not export `LayerArgs`). */
export type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;

/** tfjs passes one tensor or a list; every layer here takes exactly one. */
export function oneTensor(inputs: tf.Tensor | tf.Tensor[], layer: string): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (!x || (Array.isArray(inputs) && inputs.length !== 1)) {
    throw new InvalidArgumentError(
      `${layer} inputs`,
      Array.isArray(inputs) ? inputs.length : inputs,
      'exactly one tensor',
    );
  }
  return x;
}

/** The single shape of a layer input (tfjs hands over `Shape | Shape[]`). */
export function oneShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
  return Array.isArray(inputShape[0]) ? (inputShape[0] as tf.Shape) : (inputShape as tf.Shape);
}

/**
 * A deterministic seed for a layer that was given none: FNV-1a of its name mixed with
 * `DEFAULT_SEED`, so two drop layers in one model draw independent masks and a rebuilt model
 * draws the same ones.
 */
export function seedFromName(name: string): number {
  let h = 0x811c9dc5 ^ DEFAULT_SEED;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** Whether `kwargs.training` asks for training behaviour (tfjs passes `true`, `false` or nothing). */
export function isTraining(kwargs: Record<string, unknown> | undefined): boolean {
  return kwargs?.['training'] === true;
}

/** Validates an optional seed argument. */
export function checkSeed(seed: unknown): number | undefined {
  if (seed === undefined || seed === null) return undefined;
  if (typeof seed !== 'number' || !Number.isInteger(seed) || seed < 0) {
    throw new InvalidArgumentError('seed', seed, 'a non-negative integer or undefined');
  }
  return seed;
}

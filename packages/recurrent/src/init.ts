import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';

/** What a tfjs initializer instance offers (tfjs does not export the class as a type). */
export interface InitializerInstance {
  apply(shape: number[], dtype?: tf.DataType): tf.Tensor;
  getClassName?(): string;
  getConfig?(): unknown;
}

/** An initializer by name (`'orthogonal'`), by name with parameters, or as an instance. */
export type InitializerSpec = string | { name: string; [param: string]: unknown } | InitializerInstance;

type Init = { apply(shape: number[], dtype?: tf.DataType): tf.Tensor };

const TEMPORARY: Record<string, (p: Record<string, unknown>) => Init> = {
  orthogonal: (p) => tf.initializers.orthogonal({ gain: (p.gain as number | undefined) ?? 1 }),
  identity: (p) => tf.initializers.identity({ gain: (p.gain as number | undefined) ?? 1 }),
  zeros: () => tf.initializers.zeros(),
  ones: () => tf.initializers.ones(),
  constant: (p) => tf.initializers.constant({ value: (p.value as number | undefined) ?? 0 }),
  glorot_uniform: () => tf.initializers.glorotUniform({}),
  random_normal: (p) =>
    tf.initializers.randomNormal({
      mean: (p.mean as number | undefined) ?? 0,
      stddev: (p.stddev as number | undefined) ?? 1,
    }),
};

/** Resolves an initializer spec to something with `apply(shape)`. */
export function resolveInit(spec: InitializerSpec): Init {
  if (typeof spec === 'object' && spec !== null && typeof (spec as Init).apply === 'function')
    return spec as Init;
  const { name, ...params } = typeof spec === 'string' ? { name: spec } : (spec as { name: string });
  const make = TEMPORARY[name];
  if (!make)
    throw new InvalidArgumentError('initializer', spec, `one of ${Object.keys(TEMPORARY).join(', ')}`);
  return make(params);
}

/**
 * An initializer spec as JSON for a layer config: names and `{ name, ...params }` as they are,
 * tfjs initializer instances in tfjs's `{ className, config }` form.
 */
export function initializerToJson(spec: InitializerSpec): unknown {
  if (typeof spec === 'string') return spec;
  const maybe = spec as { getClassName?: () => string; getConfig?: () => unknown };
  if (typeof maybe.getClassName === 'function' && typeof maybe.getConfig === 'function') {
    return { className: maybe.getClassName(), config: maybe.getConfig() };
  }
  return spec;
}

/** Inverse of `initializerToJson`. */
export function initializerFromJson(json: unknown): InitializerSpec {
  if (json !== null && typeof json === 'object' && 'className' in json) {
    const { className, config } = json as { className: string; config: tf.serialization.ConfigDict };
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
    if (!entry) throw new InvalidArgumentError('initializer', json, 'a registered tfjs initializer class');
    const [cls, fromConfig] = entry;
    return fromConfig(cls, config) as unknown as InitializerInstance;
  }
  return json as InitializerSpec;
}

/**
 * Applies `spec` to every `[rows, units]` gate block of a `[rows, gates*units]` kernel, so that
 * an orthogonal or identity recurrent kernel is orthogonal per gate (as in PyTorch's and Keras's
 * per-gate recurrent matrices), not merely row-orthonormal over all gates.
 */
export function perGateInitializer(
  spec: InitializerSpec,
  gates: number,
  fixups: (t: tf.Tensor) => tf.Tensor = (t) => t,
): Init {
  const inner = resolveInit(spec);
  return {
    apply(shape: number[], dtype?: tf.DataType) {
      return tf.tidy(() => {
        const [rows, cols] = shape as [number, number];
        const units = cols / gates;
        const blocks = Array.from({ length: gates }, () => inner.apply([rows, units], dtype));
        return fixups(gates === 1 ? blocks[0]! : tf.concat(blocks, 1));
      });
    },
  };
}

import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';
import { resolveInitializer, type InitializerLike } from '@gradflow/initializers';

/** An initializer by name (`'orthogonal'`), by name with options, or as an instance. */
export type InitializerSpec = InitializerLike;

type Init = { apply(shape: number[], dtype?: tf.DataType): tf.Tensor };

/** Resolves an initializer spec through `@gradflow/initializers`. */
export function resolveInit(spec: InitializerSpec): Init {
  return resolveInitializer(spec);
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
    return fromConfig(cls, config) as unknown as InitializerSpec;
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

import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';
import { resolveInitializer, type Initializer, type InitializerLike } from '@gradflow/initializers';

export type { Initializer, InitializerLike };

/** An initializer as it appears in a layer config: `{ className, config }`. */
export interface SerializedInitializer {
  className: string;
  config: tf.serialization.ConfigDict;
}

/** What the layers accept for an initializer option: a gradflow spec or a serialized one. */
export type InitializerOption = InitializerLike | SerializedInitializer;

function isSerialized(spec: unknown): spec is SerializedInitializer {
  return (
    typeof spec === 'object' &&
    spec !== null &&
    typeof (spec as { className?: unknown }).className === 'string' &&
    !(spec instanceof tf.serialization.Serializable)
  );
}

/**
 * Resolves an initializer option (a gradflow name or spec, an `Initializer` instance, or the
 * `{ className, config }` form a saved config holds) to an `Initializer`.
 */
export function toInitializer(
  argument: string,
  spec: InitializerOption | undefined,
  fallback: InitializerLike,
): Initializer {
  const value = spec ?? fallback;
  if (isSerialized(value)) {
    const entry = tf.serialization.SerializationMap.getMap().classNameMap[value.className];
    if (!entry) {
      throw new InvalidArgumentError(
        argument,
        value,
        'a registered initializer class',
        'import the package that registers it before loading the model',
      );
    }
    const [cls, fromConfig] = entry;
    return fromConfig(cls, { ...(value.config ?? {}) }) as Initializer;
  }
  return resolveInitializer(value);
}

/** The `{ className, config }` form of an initializer, for `getConfig()`. */
export function serializeInitializer(init: Initializer): SerializedInitializer {
  return { className: init.getClassName(), config: init.getConfig() };
}

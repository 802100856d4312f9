import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';

/**
 * Until `@gradflow/initializers` lands `resolveInitializer`, initializers are given as
 * `Initializer` instances or by tfjs name (`'ones'`, `'zeros'`, `'heNormal'`).
 */
/** tfjs-layers' `Initializer` (its class is not exported from `@tensorflow/tfjs`). */
export type Initializer = ReturnType<typeof tf.initializers.ones>;

/** True for a tfjs-layers initializer instance. */
export function isInitializer(value: unknown): value is Initializer {
  return (
    value instanceof tf.serialization.Serializable &&
    typeof (value as { apply?: unknown }).apply === 'function'
  );
}

export type InitializerLike = string | { name: string; [param: string]: unknown } | Initializer;

const TFJS_NAMES: Record<string, () => Initializer> = {
  ones: () => tf.initializers.ones(),
  zeros: () => tf.initializers.zeros(),
  glorotUniform: () => tf.initializers.glorotUniform({}),
  glorot_uniform: () => tf.initializers.glorotUniform({}),
  glorotNormal: () => tf.initializers.glorotNormal({}),
  heNormal: () => tf.initializers.heNormal({}),
  he_normal: () => tf.initializers.heNormal({}),
  heUniform: () => tf.initializers.heUniform({}),
};

function resolveInitializer(spec: InitializerLike): Initializer {
  if (isInitializer(spec)) return spec;
  const name = typeof spec === 'string' ? spec : spec.name;
  if (typeof spec === 'object' && name === 'constant')
    return tf.initializers.constant({ value: Number(spec.value ?? 0) });
  const make = TFJS_NAMES[name];
  if (!make)
    throw new InvalidArgumentError(
      'initializer',
      spec,
      `an Initializer or one of ${Object.keys(TFJS_NAMES).join(', ')}`,
    );
  return make();
}

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

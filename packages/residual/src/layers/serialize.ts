import * as tf from '@tensorflow/tfjs';
import { InvalidArgumentError } from '@gradflow/core';
import type { Initializer } from '@gradflow/initializers';

/** `{ className, config }` of an initializer, the form tfjs-layers writes into layer configs. */
export function serializeInitializer(init: Initializer): tf.serialization.ConfigDict {
  return { className: init.getClassName(), config: init.getConfig() };
}

/**
 * Inverse of {@link serializeInitializer}: looks the class up in tfjs's serialization map, so
 * built-in initializers and every registered custom one (gradflow's included) come back.
 */
export function deserializeInitializer(value: unknown): Initializer {
  if (value !== null && typeof value === 'object' && 'className' in value) {
    const { className, config } = value as { className: unknown; config?: tf.serialization.ConfigDict };
    const entry =
      typeof className === 'string'
        ? tf.serialization.SerializationMap.getMap().classNameMap[className]
        : undefined;
    if (!entry) {
      throw new InvalidArgumentError(
        'initializer className',
        className,
        'a class registered with tf.serialization.registerClass',
      );
    }
    const [cls, fromConfig] = entry;
    return fromConfig(cls, { ...(config ?? {}) }) as Initializer;
  }
  throw new InvalidArgumentError('initializer', value, '{ className, config }');
}

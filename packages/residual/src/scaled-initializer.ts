import * as tf from '@tensorflow/tfjs';
import { checkFinite } from '@gradflow/core';
import { InitializerBase, isInitializer, type Initializer } from '@gradflow/initializers';
import { deserializeInitializer, serializeInitializer } from './layers/serialize.js';

/** Constructor arguments of {@link ScaledInitializer}. */
export interface ScaledInitializerArgs {
  /** The initializer whose draws are scaled (an object, or its `{ className, config }`). */
  initializer: Initializer | tf.serialization.ConfigDict;
  /** Factor applied to every draw (the standard deviation scales by the same factor). */
  scale: number;
}

/**
 * `scale * base()`: how Fixup (Zhang et al. 2019) rescales the standard initialization of the
 * weight layers inside a residual branch by `L^(-1/(2m-2))`. Serializable, so a model built
 * with it re-initializes the same way after `fromConfig`.
 *
 * @example
 * ```ts
 * const init = new ScaledInitializer({ initializer: tf.initializers.ones(), scale: 0.25 });
 * const w = init.apply([2, 2]);
 * if (Array.from(w.dataSync()).some((v) => v !== 0.25)) throw new Error(String(w.dataSync()));
 * w.dispose();
 * ```
 */
export class ScaledInitializer extends InitializerBase {
  static className = 'ScaledInitializer';
  readonly base: Initializer;
  readonly scale: number;

  constructor(args: ScaledInitializerArgs) {
    super();
    this.base = isInitializer(args.initializer) ? args.initializer : deserializeInitializer(args.initializer);
    this.scale = checkFinite('ScaledInitializer scale', args.scale);
  }

  static fromConfig<T extends tf.serialization.Serializable>(
    cls: tf.serialization.SerializableConstructor<T>,
    config: tf.serialization.ConfigDict,
  ): T {
    return new cls(config);
  }

  override apply(shape: tf.Shape, dtype?: tf.DataType): tf.Tensor {
    return tf.tidy(() => tf.mul(this.base.apply(shape as number[], dtype), this.scale));
  }

  override getConfig(): tf.serialization.ConfigDict {
    return { initializer: serializeInitializer(this.base), scale: this.scale };
  }
}

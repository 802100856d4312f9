import * as tf from '@tensorflow/tfjs';
import { Constant, Normal, Ones, TruncNormal, Uniform, Zeros } from './basic.js';
import { Dirac, Identity, Orthogonal } from './structured.js';
import {
  GlorotNormal,
  GlorotTruncatedNormal,
  GlorotUniform,
  HeNormal,
  HeTruncatedNormal,
  HeUniform,
  LecunNormal,
  LecunTruncatedNormal,
  LecunUniform,
  VarianceScaling,
} from './variance-scaling.js';

/**
 * Every initializer class, registered once with tfjs's serialization map under its
 * `Gradflow...` class name (distinct from tfjs's own `VarianceScaling`, `Orthogonal`, ..., which
 * stay untouched), so layers using them save and load.
 *
 * @example
 * ```ts
 * INITIALIZER_CLASSES.map((c) => c.className); // ['GradflowZeros', 'GradflowOnes', ...]
 * // A model using them serializes and loads back:
 * const model = tf.sequential({
 *   layers: [tf.layers.dense({ units: 2, inputShape: [3], kernelInitializer: new HeNormal({ seed: 1 }) })],
 * });
 * const copy = await tf.models.modelFromJSON({ modelTopology: model.toJSON(null, false) });
 * const { kernelInitializer } = copy.layers[0]!.getConfig() as { kernelInitializer: { className: string } };
 * if (kernelInitializer.className !== 'GradflowHeNormal') throw new Error('did not round-trip');
 * model.dispose();
 * copy.dispose();
 * ```
 */
export const INITIALIZER_CLASSES = [
  Zeros,
  Ones,
  Constant,
  Normal,
  Uniform,
  TruncNormal,
  VarianceScaling,
  GlorotNormal,
  GlorotTruncatedNormal,
  GlorotUniform,
  HeNormal,
  HeTruncatedNormal,
  HeUniform,
  LecunNormal,
  LecunTruncatedNormal,
  LecunUniform,
  Orthogonal,
  Identity,
  Dirac,
] as const;

for (const cls of INITIALIZER_CLASSES) {
  tf.serialization.registerClass(
    cls as unknown as tf.serialization.SerializableConstructor<tf.serialization.Serializable>,
  );
}

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

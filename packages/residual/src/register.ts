import * as tf from '@tensorflow/tfjs';
import { DropBlock2D } from './layers/drop-block.js';
import { DropConnectDense } from './layers/drop-connect.js';
import { DropPath } from './layers/drop-path.js';
import { OptionAShortcut } from './layers/option-a.js';
import { ScalarBias, ScalarScale } from './layers/scalar.js';
import { ScaledInitializer } from './scaled-initializer.js';

/** Every serializable class of @gradflow/residual, registered once on import. */
export const RESIDUAL_CLASSES = [
  DropPath,
  DropConnectDense,
  DropBlock2D,
  ScalarScale,
  ScalarBias,
  OptionAShortcut,
  ScaledInitializer,
] as const;

for (const cls of RESIDUAL_CLASSES) tf.serialization.registerClass(cls);

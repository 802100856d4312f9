import * as tf from '@tensorflow/tfjs';
import { DropBlock2D } from './layers/drop-block.js';
import { DropConnectDense } from './layers/drop-connect.js';
import { DropPath } from './layers/drop-path.js';
import { OptionAShortcut } from './layers/option-a.js';
import { ScalarBias, ScalarScale } from './layers/scalar.js';
import { ScaledInitializer } from './scaled-initializer.js';

/**
 * Every serializable class of @gradflow/residual, registered once on import (so a saved model
 * that uses them loads with `tf.loadLayersModel` once the package is imported).
 *
 * @example
 * ```ts
 * const names = RESIDUAL_CLASSES.map((c) => c.className);
 * if (!names.includes('DropPath') || !names.includes('ScaledInitializer')) throw new Error(names.join());
 * ```
 */
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

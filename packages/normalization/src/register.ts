import * as tf from '@tensorflow/tfjs';
import { BatchNorm } from './batch-norm.js';
import { GroupNorm, InstanceNorm } from './group-norm.js';
import { LayerNorm, RMSNorm } from './layer-norm.js';
import { WeightStandardizedConv2d } from './ws-conv.js';

/**
 * Every custom layer of this package, registered once for `tf.loadLayersModel` (importing the
 * package registers them; their class names start with `Gradflow`).
 *
 * @example
 * ```ts
 * const names = LAYER_CLASSES.map((cls) => cls.className);
 * if (!names.includes('GradflowBatchNorm')) throw new Error(names.join());
 * // Registered, so a saved model that uses them loads back:
 * const registered = tf.serialization.SerializationMap.getMap().classNameMap;
 * if (!names.every((n) => n in registered)) throw new Error('not registered');
 * ```
 */
export const LAYER_CLASSES = [
  BatchNorm,
  LayerNorm,
  GroupNorm,
  InstanceNorm,
  RMSNorm,
  WeightStandardizedConv2d,
] as const;

for (const cls of LAYER_CLASSES) tf.serialization.registerClass(cls);

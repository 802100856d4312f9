import * as tf from '@tensorflow/tfjs';
import { BatchNorm } from './batch-norm.js';
import { GroupNorm, InstanceNorm } from './group-norm.js';
import { LayerNorm, RMSNorm } from './layer-norm.js';
import { WeightStandardizedConv2d } from './ws-conv.js';

/** Every custom layer of this package, registered once for `tf.loadLayersModel`. */
export const LAYER_CLASSES = [
  BatchNorm,
  LayerNorm,
  GroupNorm,
  InstanceNorm,
  RMSNorm,
  WeightStandardizedConv2d,
] as const;

for (const cls of LAYER_CLASSES) tf.serialization.registerClass(cls);

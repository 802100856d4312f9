import * as tf from '@tensorflow/tfjs';
import { BilinearUpsample2D } from './layers/bilinear-upsample.js';
import { NearestUpsample2D } from './layers/nearest-upsample.js';

/**
 * Every serializable class of @gradflow/unet, registered once on import (so a saved U-Net
 * loads with `tf.loadLayersModel` once the package is imported).
 *
 * @example
 * ```ts
 * const names = UNET_CLASSES.map((c) => c.className);
 * if (names.join() !== 'BilinearUpsample2D,NearestUpsample2D') throw new Error(names.join());
 * ```
 */
export const UNET_CLASSES = [BilinearUpsample2D, NearestUpsample2D] as const;

for (const cls of UNET_CLASSES) tf.serialization.registerClass(cls);

import * as tf from '@tensorflow/tfjs';
import { BilinearUpsample2D } from './layers/bilinear-upsample.js';
import { NearestUpsample2D } from './layers/nearest-upsample.js';

/** Every serializable class of @gradflow/unet, registered once on import. */
export const UNET_CLASSES = [BilinearUpsample2D, NearestUpsample2D] as const;

for (const cls of UNET_CLASSES) tf.serialization.registerClass(cls);

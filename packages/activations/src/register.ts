import * as tf from '@tensorflow/tfjs';
import { GradflowActivation } from './layer.js';

// Makes saved models with activation layers loadable (`tf.loadLayersModel`).
tf.serialization.registerClass(GradflowActivation);

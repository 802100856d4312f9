import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from './src/index.js';
await useWasmBackend({ threads: 2 });
const a = tf.randomNormal([32, 32, 32, 16]);
const w = tf.randomNormal([3, 3, 16, 16]);
tf.conv2d(a as tf.Tensor4D, w as tf.Tensor4D, 1, 'same').dataSync();
console.log('done');

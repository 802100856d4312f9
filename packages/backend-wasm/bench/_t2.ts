import * as tf from '@tensorflow/tfjs';
import { useWasmBackend } from '../src/index.js';
import { resnetCifar } from '../test/models.js';
const threads = Number(process.argv[2] ?? 2);
await useWasmBackend({ threads });
const model = resnetCifar(3);
model.compile({ optimizer: tf.train.sgd(0.01), loss: 'categoricalCrossentropy' });
const x = tf.randomUniform([32, 32, 32, 3]);
const y = tf.oneHot(tf.randomUniform([32], 0, 10, 'int32'), 10);
for (let i = 0; i < 3; i++) await model.trainOnBatch(x, y);
const ts: number[] = [];
for (let i = 0; i < 6; i++) {
  const t0 = performance.now();
  await model.trainOnBatch(x, y);
  ts.push(performance.now() - t0);
}
console.log(threads, 'T steps ms', ts.map((t) => t.toFixed(0)).join(' '));
